//! Capped exponential backoff with jitter, for retrying deliveries.

use std::time::Duration;

use rand::RngExt;

/// Delay sequence: doubles from `base` up to `max`; each delay is drawn uniformly from
/// its upper half so that many sinks do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `base` and never exceeding `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max, attempt: 0 }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let floor = ceiling / 2;
        let spread = (ceiling - floor).as_micros() as u64;
        floor + Duration::from_micros(if spread == 0 { 0 } else { rand::rng().random_range(0..=spread) })
    }

    /// Back to the first delay after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stay_under_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let mut last = first;
        for _ in 0..40 {
            last = b.next_delay();
            assert!(last <= Duration::from_secs(2), "{last:?}");
        }
        assert!(last >= Duration::from_secs(1), "{last:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
