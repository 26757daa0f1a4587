//! The last committed events, kept in memory for the sinks: a sink whose cursor falls
//! inside this window takes the events after it from here instead of reading back
//! from SQLite what the writer has only just written. The store stays the source of
//! truth: a sink that is further behind, restarting or retrying reads from its cursor
//! as before.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::StoredEvent;

/// Events kept: a few small batches, the case where latency matters (a flood's sinks
/// read from the store, and memory stays bounded).
pub const RECENT_MAX_EVENTS: usize = 256;

/// Shared between the store writer (which publishes) and every sink (which read).
/// The kept events' sequence numbers always follow one another.
#[derive(Debug, Clone, Default)]
pub struct RecentBatch(Arc<Mutex<VecDeque<StoredEvent>>>);

impl RecentBatch {
    /// Nothing published yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `events` (committed, in sequence order) after those kept, keeping the last
    /// `RECENT_MAX_EVENTS`. A batch that does not follow on (another writer committed
    /// in between, or it has a gap) starts the window afresh from its last gapless run.
    pub fn publish(&self, events: impl IntoIterator<Item = StoredEvent>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            if kept.back().is_some_and(|last| last.seq + 1 != e.seq) {
                kept.clear();
            }
            if kept.len() == RECENT_MAX_EVENTS {
                kept.pop_front();
            }
            kept.push_back(e);
        }
    }

    /// Keeps nothing (events were committed that the window does not hold).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The kept events after `cursor`, if the window holds the one right after it.
    pub fn after(&self, cursor: u64) -> Option<Vec<StoredEvent>> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let first = kept.front()?.seq;
        let skip = usize::try_from((cursor + 1).checked_sub(first)?).ok().filter(|&n| n < kept.len())?;
        Some(kept.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind};

    fn stored(seq: u64) -> StoredEvent {
        let event = Event::host("s", EventKind::StoreFull { events: seq, full_seconds: 0 });
        StoredEvent { seq, event }
    }

    #[test]
    fn the_events_after_a_cursor_inside_the_window_are_handed_out() {
        let recent = RecentBatch::new();
        assert!(recent.after(0).is_none());
        recent.publish((11..=13).map(stored));
        recent.publish((14..=15).map(stored));
        let seqs = |c| recent.after(c).map(|b| b.iter().map(|e| e.seq).collect::<Vec<_>>());
        assert_eq!(seqs(10), Some(vec![11, 12, 13, 14, 15]));
        assert_eq!(seqs(13), Some(vec![14, 15]));
        for cursor in [0, 9, 15, 16] {
            assert!(recent.after(cursor).is_none(), "cursor {cursor}");
        }
    }

    #[test]
    fn a_gap_restarts_the_window_and_it_keeps_only_the_newest() {
        let recent = RecentBatch::new();
        recent.publish([stored(1), stored(3)]);
        assert!(recent.after(0).is_none());
        assert_eq!(recent.after(2).map(|b| b.len()), Some(1));
        recent.publish(Vec::new());
        assert_eq!(recent.after(2).map(|b| b.len()), Some(1));
        recent.publish((4..=RECENT_MAX_EVENTS as u64 + 10).map(stored));
        assert!(recent.after(9).is_none(), "the oldest fell out");
        assert_eq!(recent.after(10).map(|b| b.len()), Some(RECENT_MAX_EVENTS));
        recent.clear();
        assert!(recent.after(10).is_none());
    }

    /// Against a model: the window is the newest gapless run of at most
    /// `RECENT_MAX_EVENTS`, and `after` hands out exactly its part past the cursor.
    #[test]
    fn what_is_handed_out_is_the_windows_part_after_the_cursor() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        for _ in 0..2000 {
            let (recent, mut model) = (RecentBatch::new(), Vec::<u64>::new());
            let mut next = 1;
            for _ in 0..rng.random_range(0..20) {
                next += rng.random_range(0..3u64);
                let len = rng.random_range(0..120u64);
                recent.publish((next..next + len).map(stored));
                for seq in next..next + len {
                    if model.last().is_some_and(|&l| l + 1 != seq) {
                        model.clear();
                    }
                    model.push(seq);
                }
                let excess = model.len().saturating_sub(RECENT_MAX_EVENTS);
                model.drain(..excess);
                next += len;
            }
            let cursor = rng.random_range(0..next + 2);
            let expected = model.iter().position(|&s| s == cursor + 1).map(|i| model[i..].to_vec());
            assert_eq!(recent.after(cursor).map(|b| b.iter().map(|e| e.seq).collect::<Vec<_>>()), expected, "cursor {cursor}");
        }
    }
}
