//! What the imitated server does with a message that arrives where it is not the
//! expected one: consume it, answer UNIMPLEMENTED, close without a word, or send a
//! DISCONNECT with its text. Pure functions of (family, phase, message type),
//! measured against Debian 12's OpenSSH 9.2p1 and Dropbear 2022.83.

use super::msg;
use super::version::Family;

/// Where in the connection a message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// During a key exchange (the first, or a re-key); `strict` only in the first
    /// one with strict KEX agreed (or not yet known: before the client's KEXINIT).
    Kex { strict: bool, before_client_kexinit: bool },
    /// After the first key exchange, before authentication succeeded.
    PreAuth,
    /// After authentication.
    Authenticated,
}

/// What to do with a message nobody above the transport expects here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Drop it silently.
    Ignore,
    /// Answer SSH_MSG_UNIMPLEMENTED with its sequence number and go on.
    Unimplemented,
    /// Close the connection, sending nothing.
    Close,
    /// Send this DISCONNECT text (reason 2, protocol error), then close.
    Disconnect(String),
}

/// Messages any phase may carry that only the transport cares about.
pub fn is_transport_noise(t: u8) -> bool {
    matches!(t, msg::IGNORE | msg::DEBUG | msg::UNIMPLEMENTED)
}

/// The disposition of message type `t` (sequence number `seq`) that is not one the
/// current phase expects.
pub fn unexpected(family: Family, phase: Phase, t: u8, seq: u32) -> Disposition {
    match family {
        Family::Openssh => openssh(phase, t, seq),
        Family::Dropbear => dropbear(phase, t),
    }
}

fn openssh(phase: Phase, t: u8, seq: u32) -> Disposition {
    if t == 0 || t >= 192 {
        return Disposition::Disconnect(format!("Invalid ssh2 packet type: {t}"));
    }
    match phase {
        Phase::Kex { strict, before_client_kexinit } => {
            if strict && !before_client_kexinit && t < 50 {
                return Disposition::Disconnect(format!("strict KEX violation: unexpected packet type {t} (seqnr {seq})"));
            }
            if is_transport_noise(t) {
                Disposition::Ignore
            } else if t >= 50 {
                Disposition::Close
            } else {
                Disposition::Unimplemented
            }
        }
        Phase::PreAuth | Phase::Authenticated if is_transport_noise(t) => Disposition::Ignore,
        Phase::PreAuth | Phase::Authenticated => Disposition::Unimplemented,
    }
}

fn dropbear(phase: Phase, t: u8) -> Disposition {
    match phase {
        Phase::Kex { strict, before_client_kexinit } => {
            if is_transport_noise(t) && (!strict || before_client_kexinit) {
                return Disposition::Ignore;
            }
            if (1..50).contains(&t) && !matches!(t, msg::SERVICE_REQUEST | msg::SERVICE_ACCEPT | msg::KEXINIT) && !is_transport_noise(t) {
                Disposition::Unimplemented
            } else {
                Disposition::Close
            }
        }
        Phase::PreAuth if t > 60 => Disposition::Close,
        _ if is_transport_noise(t) => Disposition::Ignore,
        _ => Disposition::Unimplemented,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEX: Phase = Phase::Kex { strict: false, before_client_kexinit: false };
    const STRICT: Phase = Phase::Kex { strict: true, before_client_kexinit: false };

    #[test]
    fn openssh_as_measured() {
        let f = Family::Openssh;
        assert_eq!(unexpected(f, KEX, msg::IGNORE, 1), Disposition::Ignore);
        assert_eq!(unexpected(f, KEX, msg::SERVICE_REQUEST, 0), Disposition::Unimplemented);
        assert_eq!(unexpected(f, KEX, msg::USERAUTH_REQUEST, 1), Disposition::Close);
        assert_eq!(unexpected(f, KEX, 0, 1), Disposition::Disconnect("Invalid ssh2 packet type: 0".into()));
        assert_eq!(unexpected(f, KEX, 200, 1), Disposition::Disconnect("Invalid ssh2 packet type: 200".into()));
        assert_eq!(unexpected(f, STRICT, msg::IGNORE, 1), Disposition::Disconnect("strict KEX violation: unexpected packet type 2 (seqnr 1)".into()));
        assert_eq!(unexpected(f, STRICT, msg::USERAUTH_REQUEST, 1), Disposition::Close);
        assert_eq!(unexpected(f, Phase::PreAuth, msg::GLOBAL_REQUEST, 5), Disposition::Unimplemented);
        assert_eq!(unexpected(f, Phase::PreAuth, msg::KEXINIT, 5), Disposition::Unimplemented);
        assert_eq!(unexpected(f, Phase::Authenticated, 150, 9), Disposition::Unimplemented);
    }

    #[test]
    fn dropbear_as_measured() {
        let f = Family::Dropbear;
        assert_eq!(unexpected(f, KEX, 40, 0), Disposition::Unimplemented);
        assert_eq!(unexpected(f, KEX, msg::SERVICE_REQUEST, 0), Disposition::Close);
        assert_eq!(unexpected(f, KEX, msg::USERAUTH_REQUEST, 0), Disposition::Close);
        assert_eq!(unexpected(f, KEX, 200, 0), Disposition::Close);
        assert_eq!(unexpected(f, KEX, msg::IGNORE, 0), Disposition::Ignore);
        assert_eq!(unexpected(f, STRICT, msg::IGNORE, 1), Disposition::Close);
        assert_eq!(unexpected(f, Phase::PreAuth, msg::GLOBAL_REQUEST, 3), Disposition::Close);
        assert_eq!(unexpected(f, Phase::PreAuth, 55, 3), Disposition::Unimplemented);
        assert_eq!(unexpected(f, Phase::Authenticated, 150, 3), Disposition::Unimplemented);
    }
}
