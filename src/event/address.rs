//! The two ends of a connection, typed so that the attacker's address and ours cannot
//! be swapped: [`Remote`] is the peer as the decoy saw it, [`Local`] the address it
//! connected to. Both are written as `IP:PORT`, like a plain socket address.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// The remote peer: the attacker's address as seen by the decoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Remote(pub SocketAddr);

/// Our side: the local address the peer connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Local(pub SocketAddr);

macro_rules! socket_address {
    ($t:ident) => {
        impl Deref for $t {
            type Target = SocketAddr;
            fn deref(&self) -> &SocketAddr {
                &self.0
            }
        }

        impl From<SocketAddr> for $t {
            fn from(a: SocketAddr) -> Self {
                $t(a)
            }
        }

        impl std::str::FromStr for $t {
            type Err = std::net::AddrParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($t)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

socket_address!(Remote);
socket_address!(Local);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_are_written_as_a_plain_socket_address() {
        let remote = Remote("203.0.113.9:4022".parse().unwrap());
        let local = Local("[2001:db8::1]:22".parse().unwrap());
        assert_eq!(serde_json::to_string(&remote).unwrap(), "\"203.0.113.9:4022\"");
        assert_eq!(serde_json::to_string(&local).unwrap(), "\"[2001:db8::1]:22\"");
        assert_eq!(serde_json::from_str::<Remote>("\"203.0.113.9:4022\"").unwrap(), remote);
        assert_eq!(remote.to_string(), "203.0.113.9:4022");
        assert_eq!(remote.ip().to_string(), "203.0.113.9");
    }
}
