//! The process's memory budget (`sensor.max_memory_mb`): while resident memory is at
//! or over it, every decoy refuses new connections (counted like any other limit) and
//! connections already open go on to their own deadlines. A flood therefore costs
//! refused connections, never the host's memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

/// Resident set size of this process, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    resident_from_statm(&statm, page_size())
}

/// The second field of statm is resident pages.
fn resident_from_statm(statm: &str, page_size: u64) -> Option<u64> {
    let pages: u64 = statm.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size))
}

#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; a failure returns -1.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn release_free_heap() {
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_heap() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statm_resident_pages_times_page_size() {
        assert_eq!(resident_from_statm("5000 1200 300 10 0 900 0\n", 4096), Some(1200 * 4096));
        assert_eq!(resident_from_statm("5000", 4096), None);
        assert_eq!(resident_from_statm("", 4096), None);
        assert_eq!(resident_from_statm("1 x 2", 4096), None);
    }

    #[test]
    fn this_process_has_resident_memory() {
        let rss = resident_bytes().expect("linux /proc");
        assert!(rss > 1024 * 1024, "{rss}");
    }

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
