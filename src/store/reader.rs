//! Reading the store: event queries for the CLI, batches for the sinks, and the
//! sinks' delivery cursors.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::open_connection;
use super::StoreError;
use crate::config::StoreSync;
use crate::event::{Event, EventId, KindId, Timestamp};

/// An event with its position in this store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Commit order in this store (gapless per store, starts at 1).
    pub seq: u64,
    pub event: Event,
}

/// Which events `list` returns.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub since: Option<Timestamp>,
    pub decoy: Option<String>,
    pub kind: Option<KindId>,
    pub source_ip: Option<String>,
    /// Only events after this sequence number.
    pub after_seq: Option<u64>,
    /// At most this many (the most recent ones when `after_seq` is not set).
    pub limit: usize,
}

/// One decoy a token was hit through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenDoor {
    pub decoy: Option<String>,
    pub hits: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// (sensor, decoy, kind name, stored events).
pub type EventCount = (String, Option<String>, &'static str, u64);

/// A read connection to the store (sinks also write their cursor through it).
pub struct StoreReader {
    pub(super) conn: Connection,
    path: String,
    file: std::path::PathBuf,
}

impl StoreReader {
    /// Opens an existing store; with `create`, creates it if missing.
    pub fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        // Cursor writes need no fsync of their own: losing one only means re-sending.
        let conn = open_connection(path, StoreSync::Normal, create)?;
        // A reader follows the newest events or pages through a listing, and the
        // kernel caches the file: 512 KiB of pages of its own, not SQLite's 2 MB, which a
        // flood would leave resident in each of them.
        conn.pragma_update(None, "cache_size", -512).map_err(|cause| StoreError::Sqlite { path: path.display().to_string(), cause })?;
        Ok(StoreReader { conn, path: path.display().to_string(), file: path.to_path_buf() })
    }

    /// A second connection to the same store.
    pub fn reopen(&self) -> Result<Self, StoreError> {
        Self::open(&self.file, false)
    }

    pub(super) fn wrap(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), cause: source }
    }

    /// Up to `limit` events with `seq > after`, in commit order.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.list(&EventFilter { after_seq: Some(after), limit, ..Default::default() })
    }

    /// Events matching the filter, in commit order.
    pub fn list(&self, f: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let (mut sql, mut args) = matching("SELECT seq, body FROM events", f);
        // Following (after_seq) reads forward; a plain listing shows the most recent.
        let newest_first = f.after_seq.is_none();
        sql.push_str(if newest_first { " ORDER BY seq DESC LIMIT ?" } else { " ORDER BY seq ASC LIMIT ?" });
        args.push((f.limit.min(i64::MAX as usize) as i64).into());
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.wrap(e))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))).map_err(|e| self.wrap(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row.map_err(|e| self.wrap(e))?;
            let event = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?;
            out.push(StoredEvent { seq, event });
        }
        if newest_first {
            out.reverse();
        }
        Ok(out)
    }

    /// How many events match the filter (its limit aside).
    pub fn count(&self, f: &EventFilter) -> Result<u64, StoreError> {
        let (sql, args) = matching("SELECT count(*) FROM events", f);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.wrap(e))?;
        let n: i64 = stmt.query_row(rusqlite::params_from_iter(args), |r| r.get(0)).map_err(|e| self.wrap(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Where a token was hit: per decoy (None for host events such as a canary file),
    /// the hits, and the first and last hit's time, in the order the doors were first
    /// touched.
    pub fn token_doors(&self, token_id: &str) -> Result<Vec<TokenDoor>, StoreError> {
        let sql =
            "SELECT decoy, count(*), min(time_us), max(time_us) FROM events WHERE json_extract(body, '$.token.id') = ?1 GROUP BY decoy ORDER BY min(time_us)";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map(params![token_id], |r| {
                Ok(TokenDoor {
                    decoy: r.get(0)?,
                    hits: r.get::<_, i64>(1)? as u64,
                    first: Timestamp::from_micros(r.get(2)?),
                    last: Timestamp::from_micros(r.get(3)?),
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.wrap(e))
    }

    /// The highest committed sequence number (0 when empty).
    /// The events with these sequence numbers (at most 1,000), in sequence order.
    pub fn events_by_seq(&self, seqs: &[u64]) -> Result<Vec<StoredEvent>, StoreError> {
        let seqs = &seqs[..seqs.len().min(1_000)];
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = seqs.iter().map(u64::to_string).collect();
        let mut stmt = self.conn.prepare(&format!("SELECT seq, body FROM events WHERE seq IN ({}) ORDER BY seq", list.join(","))).map_err(|e| self.wrap(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))).map_err(|e| self.wrap(e))?;
        let mut out = Vec::with_capacity(seqs.len());
        for row in rows {
            let (seq, body) = row.map_err(|e| self.wrap(e))?;
            let event = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?;
            out.push(StoredEvent { seq, event });
        }
        Ok(out)
    }

    pub fn max_seq(&self) -> Result<u64, StoreError> {
        self.conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get::<_, i64>(0)).map(|v| v as u64).map_err(|e| self.wrap(e))
    }

    /// The store position of an event id, if stored.
    pub fn seq_of(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.conn
            .query_row("SELECT seq FROM events WHERE id = ?1", params![id.to_string()], |r| r.get::<_, i64>(0))
            .optional()
            .map(|v| v.map(|s| s as u64))
            .map_err(|e| self.wrap(e))
    }

    /// A sink's cursor: the last sequence number it delivered (0 if it never ran).
    pub fn cursor(&self, sink: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT seq FROM sink_cursors WHERE sink = ?1", params![sink], |r| r.get::<_, i64>(0))
            .optional()
            .map(|v| v.unwrap_or(0) as u64)
            .map_err(|e| self.wrap(e))
    }

    /// Records that a sink has delivered everything up to `seq`.
    pub fn set_cursor(&self, sink: &str, seq: u64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sink_cursors (sink, seq, updated_us) VALUES (?1, ?2, ?3)
                 ON CONFLICT(sink) DO UPDATE SET seq = excluded.seq, updated_us = excluded.updated_us",
                params![sink, seq as i64, Timestamp::now().as_micros()],
            )
            .map(drop)
            .map_err(|e| self.wrap(e))
    }
}

/// `select` with the filter's conditions (all but its limit), and their arguments.
fn matching(select: &str, f: &EventFilter) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = format!("{select} WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(after) = f.after_seq {
        sql.push_str(" AND seq > ?");
        args.push((after as i64).into());
    }
    if let Some(since) = f.since {
        sql.push_str(" AND time_us >= ?");
        args.push(since.as_micros().into());
    }
    if let Some(decoy) = &f.decoy {
        sql.push_str(" AND decoy = ?");
        args.push(decoy.clone().into());
    }
    if let Some(kind) = f.kind {
        sql.push_str(" AND kind = ?");
        args.push(i64::from(kind).into());
    }
    if let Some(ip) = &f.source_ip {
        sql.push_str(" AND source_ip = ?");
        args.push(ip.clone().into());
    }
    (sql, args)
}
