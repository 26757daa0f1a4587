//! The last committed batch, kept in memory for the sinks: a sink whose cursor sits
//! just before it takes those events from here instead of reading back from SQLite
//! what the writer has only just written. The store stays the source of truth: a sink
//! that is behind, restarting or retrying reads from its cursor as before.

use std::sync::{Arc, Mutex};

use super::StoredEvent;

/// Largest batch kept: a small batch is the case where latency matters (a flood's
/// full batches are read from the store, and memory stays bounded).
pub const RECENT_MAX_EVENTS: usize = 256;

/// Shared between the store writer (which publishes) and every sink (which read).
#[derive(Debug, Clone, Default)]
pub struct RecentBatch(Arc<Mutex<Option<Arc<[StoredEvent]>>>>);

impl RecentBatch {
    /// Nothing published yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the kept batch with `events` (committed, in sequence order) when they
    /// are few and their sequence numbers follow one another; otherwise keeps nothing.
    pub fn publish(&self, events: Vec<StoredEvent>) {
        let gapless = events.windows(2).all(|w| w[1].seq == w[0].seq + 1);
        let keep = (!events.is_empty() && gapless && events.len() <= RECENT_MAX_EVENTS).then(|| Arc::from(events));
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = keep;
    }

    /// Keeps nothing (a batch too large to keep was committed).
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The kept batch if it starts right after `cursor`.
    pub fn after(&self, cursor: u64) -> Option<Arc<[StoredEvent]>> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref().filter(|b| b.first().is_some_and(|e| e.seq == cursor + 1)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventId, EventKind, Timestamp};

    fn stored(seq: u64) -> StoredEvent {
        let event = Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: "s".into(),
            decoy: None,
            source: None,
            destination: None,
            session: None,
            kind: EventKind::StoreFull { events: seq, full_seconds: 0 },
            token: None,
        };
        StoredEvent { seq, event }
    }

    #[test]
    fn a_batch_is_handed_only_to_the_cursor_just_before_it() {
        let recent = RecentBatch::new();
        assert!(recent.after(0).is_none());
        recent.publish((11..=13).map(stored).collect());
        assert_eq!(recent.after(10).map(|b| b.len()), Some(3));
        for cursor in [0, 9, 11, 13] {
            assert!(recent.after(cursor).is_none(), "cursor {cursor}");
        }
    }

    #[test]
    fn gaps_empty_and_oversized_batches_are_not_kept() {
        let recent = RecentBatch::new();
        recent.publish(vec![stored(1), stored(3)]);
        assert!(recent.after(0).is_none());
        recent.publish(Vec::new());
        assert!(recent.after(0).is_none());
        recent.publish((1..=RECENT_MAX_EVENTS as u64 + 1).map(stored).collect());
        assert!(recent.after(0).is_none());
        recent.publish((1..=RECENT_MAX_EVENTS as u64).map(stored).collect());
        assert!(recent.after(0).is_some());
        recent.clear();
        assert!(recent.after(0).is_none());
    }
}
