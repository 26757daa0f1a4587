//! Sink positions and successes on their way to the store: the sinks post them here
//! and the store writer saves them after its next commit (or at once when idle), so
//! no sink takes SQLite's write lock from the writer. A writer that finds the lock
//! taken sleeps a millisecond or more, which is most of a tail latency's budget.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection};
use tokio::sync::Notify;

/// One sink's news since the writer last saved it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Posted {
    /// Delivered up to here.
    cursor: Option<u64>,
    /// When the last delivery that sent events went out (µs since the epoch).
    success_us: Option<i64>,
}

/// Shared between the sinks (which post) and the store writer (which saves).
#[derive(Debug, Clone, Default)]
pub struct SinkProgress(Arc<(Mutex<BTreeMap<String, Posted>>, Notify)>);

impl SinkProgress {
    /// Nothing posted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `sink` has delivered up to `cursor`; `success_us`: events went out then.
    pub fn post(&self, sink: &str, cursor: u64, success_us: Option<i64>) {
        {
            let mut posted = self.0 .0.lock().unwrap_or_else(|p| p.into_inner());
            let entry = posted.entry(sink.to_string()).or_default();
            entry.cursor = Some(cursor);
            entry.success_us = success_us.or(entry.success_us);
        }
        self.0 .1.notify_one();
    }

    /// Forgets what `sink` posted and the writer has not saved (the sink saves its
    /// final position itself).
    pub fn withdraw(&self, sink: &str) {
        self.0 .0.lock().unwrap_or_else(|p| p.into_inner()).remove(sink);
    }

    /// Resolves when something was posted since the last wait.
    pub(super) async fn posted(&self) {
        self.0 .1.notified().await;
    }

    /// Saves everything posted, in one transaction. A saved position never moves a
    /// cursor back (a sink's own final save, after it withdrew, may be newer).
    pub(super) fn save(&self, conn: &mut Connection) -> rusqlite::Result<()> {
        let posted = std::mem::take(&mut *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()));
        if posted.is_empty() {
            return Ok(());
        }
        let tx = conn.transaction()?;
        for (sink, p) in &posted {
            if let Some(seq) = p.cursor {
                tx.prepare_cached(
                    "INSERT INTO sink_cursors (sink, seq, updated_us) VALUES (?1, ?2, ?3)
                     ON CONFLICT(sink) DO UPDATE SET seq = max(seq, excluded.seq), updated_us = excluded.updated_us",
                )?
                .execute(params![sink, seq as i64, crate::event::Timestamp::now().as_micros()])?;
            }
            if let Some(at) = p.success_us {
                tx.prepare_cached(super::delivery::RECORD_SUCCESS)?.execute(params![sink, at])?;
            }
        }
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn store() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open_connection(&dir.path().join("s.db"), crate::config::StoreSync::Normal, true).unwrap();
        (dir, conn)
    }

    fn cursor(conn: &Connection, sink: &str) -> Option<i64> {
        conn.query_row("SELECT seq FROM sink_cursors WHERE sink = ?1", [sink], |r| r.get(0)).ok()
    }

    #[test]
    fn posted_positions_and_successes_are_saved_once() {
        let (_dir, mut conn) = store();
        let progress = SinkProgress::new();
        progress.post("file", 5, Some(1_000));
        progress.post("file", 9, None);
        progress.post("siem", 3, None);
        progress.save(&mut conn).unwrap();
        assert_eq!(cursor(&conn, "file"), Some(9));
        assert_eq!(cursor(&conn, "siem"), Some(3));
        let success: i64 = conn.query_row("SELECT last_success_us FROM sink_status WHERE sink = 'file'", [], |r| r.get(0)).unwrap();
        assert_eq!(success, 1_000, "the later post without a success keeps the earlier one");
        assert!(progress.0 .0.lock().unwrap().is_empty());
    }

    #[test]
    fn a_saved_position_never_moves_a_cursor_back_and_a_withdrawn_one_is_not_saved() {
        let (_dir, mut conn) = store();
        conn.execute("INSERT INTO sink_cursors (sink, seq, updated_us) VALUES ('file', 20, 0)", []).unwrap();
        let progress = SinkProgress::new();
        progress.post("file", 12, None);
        progress.post("siem", 4, None);
        progress.withdraw("siem");
        progress.save(&mut conn).unwrap();
        assert_eq!(cursor(&conn, "file"), Some(20));
        assert_eq!(cursor(&conn, "siem"), None);
    }
}
