//! How long the imitated server takes to answer a failed authentication attempt,
//! as measured on Debian 12 (see README "Fingerprint"):
//!
//! - OpenSSH with PAM: pam_unix asks for a 2 s delay, which Linux-PAM stretches to
//!   0.5–1.5 times that with a generator seeded by the wall-clock second; sshd then
//!   rounds the time it spent up to d(user)·2^k, where d(user) is 5–9.3 ms derived
//!   from a secret and the user name. So each user gets a few exact, stable values.
//! - Dropbear: a uniformly random 250–350 ms for counted failures, none otherwise.
//!
//! The delay is computed here and slept by the connection task (no thread held).

use std::time::Duration;

use serde::Deserialize;

/// A personality's failure-delay model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FailureDelay {
    /// sshd with PAM: `pam_ms` is pam_unix's requested delay (2000 on Debian).
    OpensshPam { pam_ms: u64 },
    /// A uniformly random delay in [min_ms, max_ms] for counted failures.
    Uniform { min_ms: u64, max_ms: u64 },
    /// The same delay for every failure (a decoy's `failure_delay_ms` override).
    Fixed { ms: u64 },
}

/// What kind of failure is being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A password checked by PAM (sshd) or crypt (Dropbear).
    Password,
    /// A password sshd refuses before PAM: empty, over 1024 bytes, or a user name
    /// starting with `-` or `+`.
    PasswordWithoutPam,
    /// A keyboard-interactive answer (PAM's own delay, not rounded by sshd).
    InfoResponse,
    /// Anything else that failed: none, publickey, unknown methods.
    Other,
    /// A failure the server does not count and does not delay (Dropbear's none and
    /// publickey).
    Uncounted,
}

/// A failure-delay model with this process's secret for d(user).
pub struct DelayModel {
    model: FailureDelay,
    secret: u64,
}

/// Linux-PAM's delay for a failure whose check started at unix second `seed`.
pub fn pam_delay(seed: u32, base: Duration) -> Duration {
    let mut s = seed;
    let mut sum = 0.0;
    for _ in 0..3 {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        sum += f64::from((s / 10) % 1_000_000);
    }
    let factor = 1.0 + (sum / 3.0) / 1e6 - 0.5;
    Duration::from_micros((base.as_micros() as f64 * factor) as u64)
}

/// sshd's rounding: the smallest d·2^k that is at least `elapsed` (none past 5 s).
pub fn round_up(d: Duration, elapsed: Duration) -> Duration {
    if elapsed > Duration::from_secs(5) {
        return elapsed;
    }
    let mut t = d;
    while t < elapsed {
        t *= 2;
    }
    t
}

impl DelayModel {
    /// The model with a fresh secret (sshd derives its own once per start).
    pub fn new(model: FailureDelay) -> Self {
        let mut b = [0u8; 8];
        rand::fill(&mut b);
        DelayModel { model, secret: u64::from_be_bytes(b) }
    }

    /// The model with a given secret (tests).
    pub fn with_secret(model: FailureDelay, secret: u64) -> Self {
        DelayModel { model, secret }
    }

    /// d(user): 5 ms plus the first four bytes of SHA-512(secret, user) as
    /// picoseconds (0–4.3 ms), as sshd's per-user minimum failure time.
    pub fn per_user(&self, user: &[u8]) -> Duration {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA512);
        ctx.update(self.secret.to_string().as_bytes());
        ctx.update(user);
        let h = ctx.finish();
        let b = h.as_ref();
        let pico = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        Duration::from_millis(5) + Duration::from_nanos(pico / 1000)
    }

    /// The whole time from receiving a failed attempt to answering it, for `user`
    /// (the connection's first user name), at unix second `now`.
    pub fn failure(&self, user: &[u8], attempt: Attempt, now: u32) -> Duration {
        match &self.model {
            FailureDelay::Fixed { ms } => {
                if attempt == Attempt::Uncounted {
                    Duration::ZERO
                } else {
                    Duration::from_millis(*ms)
                }
            }
            FailureDelay::Uniform { min_ms, max_ms } => match attempt {
                Attempt::Uncounted => Duration::ZERO,
                _ => Duration::from_micros(rand::random_range(min_ms * 1000..=max_ms.max(min_ms) * 1000)),
            },
            FailureDelay::OpensshPam { pam_ms } => {
                let base = Duration::from_millis(*pam_ms);
                let d = self.per_user(user);
                match attempt {
                    // PAM's own work (a hash check of a missing entry) is well under 1 ms.
                    Attempt::Password => round_up(d, pam_delay(now, base) + Duration::from_micros(300)),
                    Attempt::InfoResponse => pam_delay(now, base),
                    Attempt::PasswordWithoutPam | Attempt::Other => d,
                    Attempt::Uncounted => Duration::ZERO,
                }
            }
        }
    }
}

/// The current unix second (PAM's seed).
pub fn unix_second() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as u32).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PAM delays recomputed for measured send seconds (notes of 2026-12-05):
    /// admin at ...8998 got 4.5019 s = d·2^9 because PAM's 2.420 s exceeded d·2^8
    /// (2.2511 s); nosuchuser1 at ...9030 got 1.7348 s because PAM gave 1.147 s.
    #[test]
    fn linux_pam_delays_match_the_measured_seconds() {
        let base = Duration::from_secs(2);
        let admin = pam_delay(1_796_458_998, base).as_secs_f64();
        assert!((admin - 2.420).abs() < 0.001, "{admin}");
        let nosuch = pam_delay(1_796_459_030, base).as_secs_f64();
        assert!((nosuch - 1.147).abs() < 0.001, "{nosuch}");
        for seed in 0..10_000u32 {
            let d = pam_delay(seed.wrapping_mul(7919), base);
            assert!(d >= Duration::from_secs(1) && d < Duration::from_secs(3));
        }
    }

    /// With the real server's d(user) the model reproduces its 36 measured times.
    #[test]
    fn rounding_reproduces_the_measured_reply_times() {
        let measured: &[(f64, &[(u32, f64)])] = &[
            (0.005540, &[(1_796_458_948, 2.8367), (1_796_458_979, 2.8367)]),
            (0.008793, &[(1_796_458_982, 2.2511), (1_796_458_998, 4.5019), (1_796_459_003, 4.5019), (1_796_459_009, 4.5018)]),
            (0.006776, &[(1_796_459_016, 3.4691), (1_796_459_030, 1.7348), (1_796_459_042, 1.7348), (1_796_459_051, 3.4691)]),
        ];
        for (d, samples) in measured {
            for (second, want) in *samples {
                let got = round_up(Duration::from_secs_f64(*d), pam_delay(*second, Duration::from_secs(2))).as_secs_f64();
                assert!((got - want).abs() < 0.003, "d={d} at {second}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn each_user_has_a_stable_minimum_between_5_and_9_3_ms() {
        let m = DelayModel::with_secret(FailureDelay::OpensshPam { pam_ms: 2000 }, 42);
        for user in [&b"root"[..], b"admin", b"x", b""] {
            let d = m.per_user(user);
            assert_eq!(d, m.per_user(user));
            assert!(d >= Duration::from_millis(5) && d < Duration::from_micros(9_296));
            // Every password failure of that user is d·2^k.
            for second in 1_796_000_000..1_796_000_050 {
                let t = m.failure(user, Attempt::Password, second);
                let k = (t.as_secs_f64() / d.as_secs_f64()).log2();
                assert!((k - k.round()).abs() < 1e-6 && (8.0..=10.0).contains(&k.round()), "{k}");
            }
        }
        assert_ne!(m.per_user(b"root"), m.per_user(b"admin"));
        assert_eq!(m.failure(b"root", Attempt::Other, 0), m.per_user(b"root"));
    }

    #[test]
    fn dropbear_delays_only_counted_failures() {
        let m = DelayModel::new(FailureDelay::Uniform { min_ms: 250, max_ms: 350 });
        for _ in 0..100 {
            let d = m.failure(b"root", Attempt::Password, 0);
            assert!(d >= Duration::from_millis(250) && d <= Duration::from_millis(350));
        }
        assert_eq!(m.failure(b"root", Attempt::Uncounted, 0), Duration::ZERO);
    }
}
