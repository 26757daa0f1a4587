//! The single store writer: receives events from the bus, commits them in groups,
//! and announces the highest committed sequence number to the sinks.
//!
//! Group commit: a batch is committed when it holds `batch_max_events` or when
//! `flush_interval` has passed since its first event arrived, whichever comes first.
//! A failed commit is retried (the batch stays in memory and the bus fills up, which
//! stops the decoys accepting) — an event handed to the writer is never dropped.

use std::time::Duration;

use rusqlite::{params, Connection};
use tokio::sync::{mpsc, watch};

use super::schema::open_connection;
use super::StoreError;
use crate::config::StoreConfig;
use crate::event::Event;

/// The running writer: join it after the bus has closed to know everything is committed.
pub struct WriterHandle {
    thread: std::thread::JoinHandle<()>,
}

impl WriterHandle {
    /// Waits for the writer to commit everything still queued and stop.
    pub async fn join(self) {
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

/// Opens the store and starts the writer thread. `committed` receives the highest
/// committed sequence number after each commit.
pub fn spawn_writer(config: &StoreConfig, events: mpsc::Receiver<Event>, committed: std::sync::Arc<watch::Sender<u64>>) -> Result<WriterHandle, StoreError> {
    let conn = open_connection(&config.path, config.sync, true)?;
    let last: u64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0)).unwrap_or(0);
    announce(&committed, last);
    let runtime = tokio::runtime::Handle::current();
    let batch_max = config.batch_max_events.get();
    let flush = config.flush_interval;
    let path = config.path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(conn, &path, runtime, events, committed, batch_max, flush))
        .map_err(|e| StoreError::Sqlite { path: config.path.display().to_string(), cause: rusqlite::Error::ToSqlConversionFailure(Box::new(e)) })?;
    Ok(WriterHandle { thread })
}

fn run(
    mut conn: Connection,
    path: &str,
    runtime: tokio::runtime::Handle,
    mut rx: mpsc::Receiver<Event>,
    committed: std::sync::Arc<watch::Sender<u64>>,
    batch_max: usize,
    flush: Duration,
) {
    let mut batch: Vec<Event> = Vec::with_capacity(batch_max.min(65536));
    let mut body = Vec::with_capacity(1024);
    while let Some(first) = runtime.block_on(rx.recv()) {
        batch.push(first);
        // Let the batch gather for the flush interval (one wake-up per batch, not per
        // event), unless a full batch is already waiting.
        if !flush.is_zero() && rx.len() + 1 < batch_max {
            std::thread::sleep(flush);
        }
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let last = commit_with_retry(&mut conn, path, &batch, &mut body);
        batch.clear();
        if last > 0 {
            announce(&committed, last);
        }
    }
    tracing::debug!(store = %path, "store writer drained and stopped");
}

/// Raises the committed sequence number (another writer, the controller's ingest, may
/// have announced a higher one already).
pub fn announce(committed: &watch::Sender<u64>, last: u64) {
    committed.send_if_modified(|v| {
        let higher = last > *v;
        if higher {
            *v = last;
        }
        higher
    });
}

/// Commits the batch, retrying until it succeeds; returns the highest sequence number
/// (0 if every event was already stored).
fn commit_with_retry(conn: &mut Connection, path: &str, batch: &[Event], body: &mut Vec<u8>) -> u64 {
    let mut delay = Duration::from_millis(10);
    loop {
        match commit(conn, batch, body) {
            Ok(last) => return last,
            Err(e) => {
                tracing::error!(store = %path, error = %e, events = batch.len(), "commit failed; retrying (decoys pause while the queue is full)");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Inserts one batch in one transaction. Events already present (same id) are skipped,
/// which makes re-delivery from a remote sensor idempotent.
pub fn commit(conn: &mut Connection, batch: &[Event], body: &mut Vec<u8>) -> Result<u64, rusqlite::Error> {
    let tx = conn.transaction()?;
    let mut last = 0u64;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO events (id, time_us, sensor, decoy, kind, source_ip, session, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for event in batch {
            let fail = |e: Box<dyn std::error::Error + Send + Sync>| rusqlite::Error::ToSqlConversionFailure(e);
            body.clear();
            serde_json::to_writer(&mut *body, event).map_err(|e| fail(Box::new(e)))?;
            let text = std::str::from_utf8(body).map_err(|e| fail(Box::new(e)))?;
            let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let changed = stmt.execute(params![
                event.id.encode(&mut id),
                event.time.as_micros(),
                event.sensor,
                event.decoy,
                event.kind.id(),
                event.source.map(|s| s.ip().to_string()),
                event.session.map(|s| s.to_string()),
                text,
            ])?;
            if changed == 1 {
                last = tx.last_insert_rowid() as u64;
            }
        }
    }
    tx.commit()?;
    Ok(last)
}
