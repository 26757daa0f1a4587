//! Retention: the store never fills the disk. Events older than `max_age_days` are
//! deleted, and above 90% of `max_size_mb` the oldest events are, down to 80% — but
//! never an event a sink has not passed yet (its cursor), nor one the incident
//! follower has not grouped, nor a token hit whose incident is not acknowledged.
//! Incidents whose events are all gone go with them (unacknowledged incidents that
//! name a token stay, with their token hits).
//! Freed pages are reused; stores created with incremental vacuum give them back to
//! the file system past a tenth of the cap. A connection that commits events cannot
//! grow the file past the cap (SQLite's `max_page_count`), so a full store (or disk)
//! refuses a commit instead of the process dying: see `writer`.

use rusqlite::{params, Connection};

use crate::config::RetentionConfig;
use crate::event::Timestamp;

/// Events deleted per statement, so a pass never holds the write lock for long.
const CHUNK_EVENTS: i64 = 2_000;

/// What may be deleted, for one store.
#[derive(Debug, Clone)]
pub struct Retention {
    config: RetentionConfig,
    /// The configured sinks: none of them may miss an event.
    sinks: Vec<String>,
}

/// An incident that names a token and is not acknowledged.
const UNACKNOWLEDGED_HIT: &str = "(token IS NOT NULL AND id NOT IN (SELECT incident FROM incident_acks))";

/// The token hits of incidents not acknowledged: kept whatever their age (the other
/// events of such an incident may go).
const PROTECTED: &str = "SELECT e.seq FROM incidents i JOIN events e ON e.seq BETWEEN i.first_seq AND i.last_seq
    WHERE i.token IS NOT NULL AND i.id NOT IN (SELECT incident FROM incident_acks)
    AND e.sensor = i.sensor AND e.source_ip IS i.source_ip AND json_extract(e.body, '$.token') IS NOT NULL";

/// True for SQLite's "database or disk is full".
pub fn is_full(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
}

/// Bytes the store's live pages take (the file less its free pages).
pub fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let (pages, free, size): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(((pages - free).max(0) * size) as u64)
}

impl Retention {
    pub fn new(config: RetentionConfig, sinks: Vec<String>) -> Self {
        Retention { config, sinks }
    }

    /// The retention a configuration asks for, guarding its sinks.
    pub fn of(config: &crate::config::Config) -> Self {
        Retention::new(config.store.retention, config.sinks.iter().map(|s| s.name().to_string()).collect())
    }

    /// Whether there is anything to enforce.
    pub fn is_active(&self) -> bool {
        self.config.max_age.is_some() || self.config.max_size_bytes.is_some()
    }

    /// Stops `conn` growing the file past the cap (nothing without a cap).
    pub fn limit(&self, conn: &Connection) -> rusqlite::Result<()> {
        let Some(max) = self.config.max_size_bytes else { return Ok(()) };
        let page: i64 = conn.query_row("SELECT page_size FROM pragma_page_size()", [], |r| r.get(0))?;
        let pages = max / page.max(512) as u64;
        conn.query_row(&format!("PRAGMA max_page_count = {}", pages.max(16)), [], |_| Ok(())).map(drop)
    }

    /// Whether the store is back under its cap's high-water mark (always, without a
    /// cap: then only the disk can be full, and a commit finds out).
    pub fn has_room(&self, conn: &Connection) -> bool {
        match self.config.max_size_bytes {
            Some(max) => used_bytes(conn).is_ok_and(|used| used <= max / 10 * 9),
            None => true,
        }
    }

    /// The highest sequence number every sink has passed and the follower grouped.
    fn floor(&self, conn: &Connection) -> rusqlite::Result<i64> {
        let mut floor: i64 = conn.query_row("SELECT seq FROM incident_cursor WHERE id = 1", [], |r| r.get(0))?;
        let mut st = conn.prepare_cached("SELECT coalesce((SELECT seq FROM sink_cursors WHERE sink = ?1), 0)")?;
        for sink in &self.sinks {
            floor = floor.min(st.query_row(params![sink], |r| r.get(0))?);
        }
        Ok(floor)
    }

    /// One pass of both rules (in the background); the number of events deleted.
    pub fn enforce(&self, conn: &Connection, now: Timestamp) -> rusqlite::Result<u64> {
        self.pass(conn, Some(now))
    }

    /// The size rule only (cheap when under the cap: after every commit).
    pub fn enforce_size(&self, conn: &Connection) -> rusqlite::Result<u64> {
        match self.config.max_size_bytes {
            Some(max) if used_bytes(conn)? > max / 10 * 9 => self.pass(conn, None),
            _ => Ok(0),
        }
    }

    fn pass(&self, conn: &Connection, age_at: Option<Timestamp>) -> rusqlite::Result<u64> {
        if !self.is_active() {
            return Ok(0);
        }
        let floor = self.floor(conn)?;
        let mut deleted = 0u64;
        if let (Some(age), Some(now)) = (self.config.max_age, age_at) {
            let cut = now.as_micros().saturating_sub(age.as_micros() as i64);
            loop {
                let n = delete_chunk(conn, floor, Some(cut), CHUNK_EVENTS)?;
                deleted += n;
                if n == 0 {
                    break;
                }
            }
            conn.execute(&format!("DELETE FROM incidents WHERE last_us < ?1 AND last_seq <= ?2 AND NOT {UNACKNOWLEDGED_HIT}"), params![cut, floor])?;
        }
        if let Some(max) = self.config.max_size_bytes {
            if used_bytes(conn)? > max / 10 * 9 {
                let target = max / 10 * 8;
                loop {
                    let used = used_bytes(conn)?;
                    if used <= target {
                        break;
                    }
                    // As many of the oldest as the excess is of the store, not a fixed
                    // chunk: with a small cap a chunk can be every event there is.
                    let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
                    let share = (count as u128 * u128::from(used - target)).div_ceil(u128::from(used.max(1))) as i64;
                    let n = delete_chunk(conn, floor, None, share.clamp(1, CHUNK_EVENTS))?;
                    deleted += n;
                    if n == 0 {
                        break;
                    }
                }
            }
        }
        if deleted > 0 {
            let oldest: i64 =
                conn.query_row(&format!("SELECT coalesce(min(seq), ?1 + 1) FROM events WHERE seq NOT IN ({PROTECTED})"), [floor], |r| r.get(0))?;
            conn.execute(&format!("DELETE FROM incidents WHERE last_seq < ?1 AND NOT {UNACKNOWLEDGED_HIT}"), [oldest])?;
            conn.execute("DELETE FROM incident_acks WHERE incident NOT IN (SELECT id FROM incidents)", [])?;
            conn.execute("DELETE FROM dead_letters WHERE seq < ?1", [oldest])?;
            self.give_back(conn)?;
        }
        Ok(deleted)
    }

    /// Incremental vacuum of the free pages past a tenth of the cap (all of them
    /// without a cap); a no-op on stores created without incremental vacuum.
    fn give_back(&self, conn: &Connection) -> rusqlite::Result<()> {
        let (free, size): (i64, i64) =
            conn.query_row("SELECT (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let keep = self.config.max_size_bytes.map_or(0, |m| (m / 10) as i64 / size.max(512));
        if free > keep {
            let mut st = conn.prepare(&format!("PRAGMA incremental_vacuum({})", free - keep))?;
            let mut rows = st.query([])?;
            while rows.next()?.is_some() {}
        }
        Ok(())
    }
}

/// Deletes the oldest deletable events (up to `limit`), older than `before_us` if given.
fn delete_chunk(conn: &Connection, floor: i64, before_us: Option<i64>, limit: i64) -> rusqlite::Result<u64> {
    let n = conn.execute(
        &format!(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ?1 AND (?2 IS NULL OR time_us < ?2)
             AND seq NOT IN ({PROTECTED}) ORDER BY seq LIMIT {limit})"
        ),
        params![floor, before_us],
    )?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CloseReason, Event, EventId, EventKind};
    use std::time::Duration;

    fn closed(time: Timestamp) -> Event {
        Event {
            claimed_time: None,
            id: EventId::new(),
            time,
            sensor: "ward-7".into(),
            decoy: Some("d".into()),
            source: Some("203.0.113.9:4000".parse().unwrap()),
            destination: None,
            session: None,
            kind: EventKind::ConnectionClosed { duration_ms: 1, bytes_in: 1, bytes_out: 1, reason: CloseReason::PeerClosed },
            token: None,
        }
    }

    fn seqs(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT seq FROM events ORDER BY seq").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn only_events_every_sink_passed_and_the_follower_grouped_go_and_never_an_unacknowledged_token_hit() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("s.db"), crate::config::StoreSync::Normal, true).unwrap();
        let now = Timestamp::now();
        let old = Timestamp::from_micros(now.as_micros() - 40 * 86_400_000_000);
        let mut batch: Vec<Event> = (0..10).map(|i| closed(if i < 8 { old } else { now })).collect();
        for e in &mut batch[1..3] {
            e.token = Some(crate::event::hit_fixture("tok-a", crate::event::TokenKind::Url, "l"));
        }
        crate::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
        // Sink `a` passed 6, sink `b` 9 (sink `c` never ran: it would hold everything);
        // the follower grouped 7; event 2 is the token hit of an unacknowledged
        // incident (with event 1, which may go), 3 of an acknowledged one.
        conn.execute_batch(
            "INSERT INTO sink_cursors VALUES ('a', 6, 0), ('b', 9, 0);
             UPDATE incident_cursor SET seq = 7;
             INSERT INTO incidents VALUES ('i2', 'ward-7', '203.0.113.9', 0, 'tok-a', 1, 2, 0, 0, 4, 1, '', '', '', '', '', ''),
                                          ('i3', 'ward-7', '203.0.113.9', 0, 'tok-b', 3, 3, 0, 0, 4, 1, '', '', '', '', '', '');
             INSERT INTO incident_acks VALUES ('i3', 0, 'analyst', NULL);",
        )
        .unwrap();
        let age = RetentionConfig { max_age: Some(Duration::from_secs(30 * 86_400)), max_size_bytes: None };
        let with_c = Retention::new(age, vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(with_c.enforce(&conn, now).unwrap(), 0, "a sink that never ran holds everything");
        let r = Retention::new(age, vec!["a".into(), "b".into()]);
        assert_eq!(r.enforce(&conn, now).unwrap(), 5, "1 and 3..=6: old, passed by both sinks, grouped");
        assert_eq!(seqs(&conn), vec![2, 7, 8, 9, 10]);
        let incidents: Vec<String> = conn.prepare("SELECT id FROM incidents").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(incidents, vec!["i2".to_string()], "the acknowledged hit's incident went with its event");

        // The size rule deletes the oldest deletable events, whatever their age.
        conn.execute("UPDATE sink_cursors SET seq = 10", []).unwrap();
        conn.execute("UPDATE incident_cursor SET seq = 10", []).unwrap();
        let tiny = Retention::new(RetentionConfig { max_age: None, max_size_bytes: Some(1) }, vec!["a".into(), "b".into()]);
        assert_eq!(tiny.enforce_size(&conn).unwrap(), 4);
        assert_eq!(seqs(&conn), vec![2], "only the unacknowledged token hit is left");
        assert!(!tiny.has_room(&conn));
    }

    #[test]
    fn a_connection_with_a_cap_refuses_to_grow_the_file_past_it_with_sqlite_full() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("s.db"), crate::config::StoreSync::Normal, true).unwrap();
        Retention::new(RetentionConfig { max_age: None, max_size_bytes: Some(512 * 1024) }, vec![]).limit(&conn).unwrap();
        let batch: Vec<Event> = (0..5000).map(|_| closed(Timestamp::now())).collect();
        let e = crate::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap_err();
        assert!(is_full(&e), "{e}");
        let auto_vacuum: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
        assert_eq!(auto_vacuum, 2, "new stores are created with incremental vacuum");
    }

    #[test]
    fn a_store_over_its_cap_loses_only_about_the_excess_not_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("s.db"), crate::config::StoreSync::Normal, true).unwrap();
        for _ in 0..10 {
            let batch: Vec<Event> = (0..100).map(|_| closed(Timestamp::now())).collect();
            crate::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
        }
        conn.execute_batch("INSERT INTO sink_cursors VALUES ('a', 1000, 0); UPDATE incident_cursor SET seq = 1000;").unwrap();
        // A cap the store is just over: a fixed chunk (2,000) would take all 1,000.
        let cap = used_bytes(&conn).unwrap() * 10 / 9 - 1;
        let r = Retention::new(RetentionConfig { max_age: None, max_size_bytes: Some(cap) }, vec!["a".into()]);
        let deleted = r.enforce_size(&conn).unwrap();
        let left = seqs(&conn);
        assert!(deleted > 0 && left.len() > 500, "deleted {deleted}, left {}", left.len());
        assert_eq!(left.first().copied(), Some(deleted as i64 + 1), "the oldest went first");
        assert!(used_bytes(&conn).unwrap() <= cap / 10 * 8);
    }
}
