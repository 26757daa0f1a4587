//! What anyone may make the console do before signing in, bounded: password checks
//! (argon2id is deliberately slow) run on the blocking pool one at a time,
//! never on the threads that serve the decoys; an unknown account costs the same check
//! as a known one (against a dummy hash); and each source address waits longer after
//! each failed password, so a password flood from one address runs dry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Password checks running at once: one, so that on a two-core sensor a password
/// flood leaves a core to the decoys (BENCHMARKS.md, console password flood).
const ARGON2_AT_ONCE: usize = 1;
/// Failures after which a source must wait before each next try.
const FREE_FAILURES: u32 = 3;
/// Longest wait after failures.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A source's failures are forgotten this long after its last one.
const FORGET_AFTER: Duration = Duration::from_secs(900);
/// Sources remembered at once (the oldest are forgotten first when full).
const MAX_SOURCES: usize = 10_000;

struct Failures {
    count: u32,
    until: Instant,
    last: Instant,
}

/// The console's limits for people not yet signed in.
pub struct Guard {
    argon2: tokio::sync::Semaphore,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard { argon2: tokio::sync::Semaphore::new(ARGON2_AT_ONCE), failures: Mutex::new(HashMap::new()) }
    }
}

/// The wait after `count` failures: none before the third, then 2 s, doubling.
pub fn backoff(count: u32) -> Duration {
    match count.checked_sub(FREE_FAILURES) {
        None => Duration::ZERO,
        Some(n) => Duration::from_secs(2u64 << n.min(20)).min(MAX_WAIT),
    }
}

impl Guard {
    /// How long `ip` must still wait before its next password (None: it may try).
    pub fn waiting(&self, ip: IpAddr) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let f = failures.get(&ip)?;
        f.until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Notes a failed password from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_SOURCES && !failures.contains_key(&ip) {
            failures.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if failures.len() >= MAX_SOURCES {
                if let Some(oldest) = failures.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| *k) {
                    failures.remove(&oldest);
                }
            }
        }
        let f = failures.entry(ip).or_insert(Failures { count: 0, until: now, last: now });
        if now.duration_since(f.last) >= FORGET_AFTER {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        f.until = now + backoff(f.count);
    }

    /// Forgets `ip`'s failures after it signed in.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
    }

    /// Whether `password` matches `hash`; without a hash (no such account) the same
    /// work is done against a dummy, so the answer's timing does not tell.
    pub async fn password_matches(&self, hash: Option<String>, password: String) -> bool {
        let Ok(_permit) = self.argon2.acquire().await else { return false };
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            super::pages::password_matches(&hash, &password) && known
        })
        .await
        .unwrap_or(false)
    }
}

/// An argon2id hash of a random password, made once: what unknown accounts are
/// checked against.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| super::pages::password_hash(&super::accounts::random_secret()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_waits_longer_after_each_failure_from_the_third() {
        let waits: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        let g = Guard::default();
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..2 {
            g.failed(ip);
        }
        assert_eq!(g.waiting(ip), None, "two wrong tries cost no wait");
        g.failed(ip);
        assert!(g.waiting(ip).is_some_and(|d| d <= Duration::from_secs(2)));
        assert_eq!(g.waiting("192.0.2.10".parse().unwrap()), None, "another source is not held back");
        g.succeeded(ip);
        assert_eq!(g.waiting(ip), None);
    }
}
