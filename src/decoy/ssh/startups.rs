//! The imitated server's limit on connections that have not authenticated yet,
//! counted per decoy: OpenSSH's MaxStartups random early drop (begin:rate:full) or
//! Dropbear's per-address and total caps.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

/// A personality's limit on unauthenticated connections.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UnauthLimit {
    /// sshd's `MaxStartups begin:rate_percent:full`.
    MaxStartups { begin: u32, rate_percent: u32, full: u32 },
    /// Dropbear's MAX_UNAUTH_PER_IP and MAX_UNAUTH_CLIENTS.
    PerSource { per_source: u32, total: u32 },
}

#[derive(Default)]
struct Counts {
    total: u32,
    per_source: HashMap<IpAddr, u32>,
}

/// Counts one decoy's unauthenticated connections.
#[derive(Clone)]
pub struct Startups {
    limit: UnauthLimit,
    counts: Arc<Mutex<Counts>>,
}

/// One unauthenticated connection's slot, released at authentication or on drop.
pub struct Startup {
    counts: Option<Arc<Mutex<Counts>>>,
    source: IpAddr,
}

impl Startups {
    pub fn new(limit: UnauthLimit) -> Self {
        Startups { limit, counts: Arc::default() }
    }

    /// Admits a new connection from `source`, or says it is dropped. `roll` is a
    /// number in 0..100 (random in service, fixed in tests).
    pub fn admit_with(&self, source: IpAddr, roll: u32) -> Option<Startup> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let from_source = c.per_source.get(&source).copied().unwrap_or(0);
        let drop = match self.limit {
            UnauthLimit::MaxStartups { begin, rate_percent, full } => {
                if c.total >= full {
                    true
                } else if c.total >= begin {
                    let p = rate_percent + (100 - rate_percent.min(100)) * (c.total - begin) / (full - begin).max(1);
                    roll < p
                } else {
                    false
                }
            }
            UnauthLimit::PerSource { per_source, total } => from_source >= per_source || c.total >= total,
        };
        if drop {
            return None;
        }
        c.total += 1;
        *c.per_source.entry(source).or_insert(0) += 1;
        Some(Startup { counts: Some(Arc::clone(&self.counts)), source })
    }

    /// Admits with a random roll.
    pub fn admit(&self, source: IpAddr) -> Option<Startup> {
        self.admit_with(source, rand::random_range(0..100))
    }
}

impl Startup {
    /// The connection authenticated: it no longer counts.
    pub fn release(&mut self) {
        if let Some(counts) = self.counts.take() {
            let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_source.get_mut(&self.source) {
                *n -= 1;
                if *n == 0 {
                    c.per_source.remove(&self.source);
                }
            }
        }
    }
}

impl Drop for Startup {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_startups_drops_at_the_openssh_rate() {
        let s = Startups::new(UnauthLimit::MaxStartups { begin: 10, rate_percent: 30, full: 100 });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let held: Vec<Startup> = (0..10).map(|_| s.admit_with(ip, 0).unwrap()).collect();
        // At 10 held: drop probability 30 %.
        assert!(s.admit_with(ip, 29).is_none());
        let eleventh = s.admit_with(ip, 30).unwrap();
        // At 11 held: 30 + 70 * 1 / 90 = 30 (integer arithmetic).
        assert!(s.admit_with(ip, 30).is_some());
        drop(eleventh);
        drop(held);
        assert!(s.admit_with(ip, 0).is_some(), "released slots admit again");
    }

    #[test]
    fn dropbear_caps_each_source_and_the_total() {
        let s = Startups::new(UnauthLimit::PerSource { per_source: 5, total: 30 });
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let mut held: Vec<Startup> = (0..5).map(|_| s.admit(a).unwrap()).collect();
        assert!(s.admit(a).is_none(), "the 6th from one address");
        let mut one = s.admit(b).unwrap();
        one.release();
        held.truncate(4);
        assert!(s.admit(a).is_some());
    }
}
