//! The process's memory budget (`sensor.max_memory_mb`): while resident memory is at
//! or over it, every decoy refuses new connections (counted like any other limit) and
//! connections already open go on to their own deadlines. A flood therefore costs
//! refused connections, never the host's memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::resident::{release_free_heap, resident_bytes};
use crate::shutdown::Shutdown;

/// How often resident memory is sampled. At the decoys' worst measured cost (about
/// 22 KiB per new HTTP connection) and 10,000 accepts/s, one period is about 11 MiB of
/// overshoot; the documented budgets leave room for it.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(50);

/// Shared by every decoy's connection gate.
#[derive(Debug)]
pub struct MemoryBudget {
    limit_bytes: u64,
    over: AtomicBool,
}

impl MemoryBudget {
    /// A budget of `limit_mb` MiB, not yet sampled (so not over).
    pub fn new(limit_mb: u64) -> Arc<Self> {
        Arc::new(MemoryBudget { limit_bytes: limit_mb.saturating_mul(1024 * 1024), over: AtomicBool::new(false) })
    }

    /// Whether the last sample was at or over the budget.
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// Records one sample of resident memory; returns whether it is over.
    pub fn record(&self, resident_bytes: u64) -> bool {
        let over = resident_bytes >= self.limit_bytes;
        self.over.store(over, Ordering::Relaxed);
        over
    }

    /// Samples resident memory until shutdown. When over budget it first hands freed
    /// heap back to the kernel, so that memory released by closed connections counts
    /// as released and the decoys admit again.
    pub async fn monitor(self: Arc<Self>, shutdown: Shutdown) {
        let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_over = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(mut rss) = resident_bytes() else {
                continue;
            };
            if rss >= self.limit_bytes {
                release_free_heap();
                rss = resident_bytes().unwrap_or(rss);
            }
            let over = self.record(rss);
            if over != was_over {
                let mib = rss / (1024 * 1024);
                let limit = self.limit_bytes / (1024 * 1024);
                if over {
                    tracing::warn!(resident_mib = mib, max_memory_mb = limit, "memory budget reached: decoys refuse new connections");
                } else {
                    tracing::info!(resident_mib = mib, max_memory_mb = limit, "back under the memory budget: decoys admit new connections");
                }
                was_over = over;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_at_or_above_the_limit_and_back_under() {
        let b = MemoryBudget::new(10);
        assert!(!b.is_over());
        assert!(b.record(10 * 1024 * 1024));
        assert!(b.is_over());
        assert!(!b.record(10 * 1024 * 1024 - 1));
        assert!(!b.is_over());
    }
}
