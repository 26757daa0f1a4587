//! Delivery bookkeeping kept beside the events: records a sink's destination refused
//! for good (dead letters), each sink's last success and last error, and incident
//! acknowledgements.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{StoreError, StoreReader};
use crate::event::{EventId, Timestamp};

/// Notes a sink's delivery (?1 the sink, ?2 when, µs).
pub(super) const RECORD_SUCCESS: &str =
    "INSERT INTO sink_status (sink, last_success_us) VALUES (?1, ?2) ON CONFLICT(sink) DO UPDATE SET last_success_us = excluded.last_success_us";

/// An event a sink's destination refused for good, with the destination's reason.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub sink: String,
    pub seq: u64,
    pub event_id: String,
    pub reason: String,
    pub time: Timestamp,
}

/// A sink's last outcomes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SinkStatus {
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_time: Option<Timestamp>,
    pub dead_letters: u64,
}

impl SinkStatus {
    /// Its last outcome was an error (an error and no success yet, or an error since).
    pub fn is_failing(&self) -> bool {
        match (&self.last_error_time, &self.last_success) {
            (Some(e), Some(ok)) => e.as_micros() > ok.as_micros(),
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// Where a sink is: its cursor, how far behind the store's head, its last outcomes.
#[derive(Debug, Clone)]
pub struct SinkOverview {
    pub cursor: u64,
    pub lag_events: u64,
    pub status: SinkStatus,
}

/// Who acknowledged an incident, and when.
#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub time: Timestamp,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Longest error text kept per sink.
const ERROR_CAP_CHARS: usize = 500;

impl StoreReader {
    /// Records events a destination refused for good (again: the newest reason wins).
    pub fn add_dead_letters(&self, sink: &str, letters: &[(u64, EventId, String)]) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let tx = self.conn.unchecked_transaction().map_err(|e| self.wrap(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO dead_letters (sink, seq, event_id, reason, time_us) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(sink, seq) DO UPDATE SET reason = excluded.reason, time_us = excluded.time_us",
                )
                .map_err(|e| self.wrap(e))?;
            for (seq, id, reason) in letters {
                stmt.execute(params![sink, *seq as i64, id.to_string(), reason, now]).map_err(|e| self.wrap(e))?;
            }
        }
        tx.commit().map_err(|e| self.wrap(e))
    }

    /// Forgets dead letters that have now been delivered.
    pub fn remove_dead_letters(&self, sink: &str, seqs: &[u64]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.wrap(e))?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM dead_letters WHERE sink = ?1 AND seq = ?2").map_err(|e| self.wrap(e))?;
            for seq in seqs {
                stmt.execute(params![sink, *seq as i64]).map_err(|e| self.wrap(e))?;
            }
        }
        tx.commit().map_err(|e| self.wrap(e))
    }

    /// A sink's dead letters, oldest first.
    pub fn dead_letters(&self, sink: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT seq, event_id, reason, time_us FROM dead_letters WHERE sink = ?1 ORDER BY id").map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map(params![sink], |r| {
                Ok(DeadLetter {
                    sink: sink.to_string(),
                    seq: r.get::<_, i64>(0)? as u64,
                    event_id: r.get(1)?,
                    reason: r.get(2)?,
                    time: Timestamp::from_micros(r.get(3)?),
                })
            })
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.wrap(e))
    }

    /// Records a delivery outcome: `Ok` a success, `Err` the error text.
    pub fn record_outcome(&self, sink: &str, outcome: Result<(), &str>) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let result = match outcome {
            Ok(()) => self.conn.execute(RECORD_SUCCESS, params![sink, now]),
            Err(error) => {
                let error: String = error.chars().take(ERROR_CAP_CHARS).collect();
                self.conn.execute(
                    "INSERT INTO sink_status (sink, last_error, last_error_us) VALUES (?1, ?2, ?3)
                     ON CONFLICT(sink) DO UPDATE SET last_error = excluded.last_error, last_error_us = excluded.last_error_us",
                    params![sink, error, now],
                )
            }
        };
        result.map(drop).map_err(|e| self.wrap(e))
    }

    /// A sink's position relative to `head` (the store's highest sequence number) and
    /// its last outcomes.
    pub fn sink_overview(&self, sink: &str, head: u64) -> Result<SinkOverview, StoreError> {
        let cursor = self.cursor(sink)?;
        Ok(SinkOverview { cursor, lag_events: head.saturating_sub(cursor), status: self.sink_status(sink)? })
    }

    /// A sink's last outcomes and its number of dead letters.
    pub fn sink_status(&self, sink: &str) -> Result<SinkStatus, StoreError> {
        let mut status = self
            .conn
            .query_row("SELECT last_success_us, last_error, last_error_us FROM sink_status WHERE sink = ?1", params![sink], |r| {
                Ok(SinkStatus {
                    last_success: r.get::<_, Option<i64>>(0)?.map(Timestamp::from_micros),
                    last_error: r.get(1)?,
                    last_error_time: r.get::<_, Option<i64>>(2)?.map(Timestamp::from_micros),
                    dead_letters: 0,
                })
            })
            .optional()
            .map_err(|e| self.wrap(e))?
            .unwrap_or_default();
        status.dead_letters =
            self.conn.query_row("SELECT count(*) FROM dead_letters WHERE sink = ?1", params![sink], |r| r.get::<_, i64>(0)).map_err(|e| self.wrap(e))? as u64;
        Ok(status)
    }

    /// Acknowledges an incident (again: the newest acknowledgement wins).
    pub fn ack_incident(&self, incident: &EventId, by: &str, note: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO incident_acks (incident, acked_us, by, note) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(incident) DO UPDATE SET acked_us = excluded.acked_us, by = excluded.by, note = excluded.note",
                params![incident.to_string(), Timestamp::now().as_micros(), by, note],
            )
            .map(drop)
            .map_err(|e| self.wrap(e))
    }

    /// Takes an incident's acknowledgement back (nothing when there is none).
    pub fn unack_incident(&self, incident: &EventId) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM incident_acks WHERE incident = ?1", params![incident.to_string()]).map(drop).map_err(|e| self.wrap(e))
    }

    /// Every acknowledgement, by incident id.
    pub fn acks(&self) -> Result<std::collections::HashMap<String, Ack>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT incident, acked_us, by, note FROM incident_acks").map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, Ack { time: Timestamp::from_micros(r.get(1)?), by: r.get(2)?, note: r.get(3)? })))
            .map_err(|e| self.wrap(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.wrap(e))
    }

    /// The sequence number just before the first event at or after `since` (for
    /// replaying from a time).
    pub fn seq_before(&self, since: Timestamp) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(min(seq), (SELECT coalesce(max(seq), 0) + 1 FROM events)) - 1 FROM events WHERE time_us >= ?1",
                params![since.as_micros()],
                |r| r.get::<_, i64>(0),
            )
            .map(|v| v.max(0) as u64)
            .map_err(|e| self.wrap(e))
    }
}
