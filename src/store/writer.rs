//! The single store writer: receives events from the bus, commits them in groups,
//! and announces the highest committed sequence number to the sinks, handing them a
//! small batch in memory as well (`RecentBatch`).
//!
//! Group commit: the writer commits as soon as it is free, whatever has arrived (up to
//! `batch_max_events`); what arrives during a commit forms the next batch, so a flood
//! makes large batches by itself. `flush_interval`, if set, lets a batch gather that
//! long after its first event (fewer commits, at the price of latency).
//! A failed commit is retried (the batch stays in memory and the bus fills up, which
//! stops the decoys accepting) — an event handed to the writer is never dropped, with
//! one exception: when the store is full (its size cap, or the disk) and retention
//! cannot make room, the batch is counted and let go, so the decoys keep answering,
//! and a critical `store_full` event with the count is stored as soon as there is room.
//! After each commit, retention keeps the store under its size cap.

use std::time::Duration;

use rusqlite::{params, Connection};
use tokio::sync::{mpsc, watch};

use super::progress::SinkProgress;
use super::recent::{RecentBatch, RECENT_MAX_EVENTS};
use super::retention::{is_full, Retention};
use super::schema::open_connection;
use super::{StoreError, StoredEvent};
use crate::config::StoreConfig;
use crate::event::{Event, EventKind, Timestamp};

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

/// What the writer shares with the sinks.
#[derive(Debug, Clone)]
pub struct Handoff {
    /// The highest committed sequence number, raised after each commit.
    pub committed: std::sync::Arc<watch::Sender<u64>>,
    /// The newest committed events themselves, published just before.
    pub recent: RecentBatch,
    /// The sinks' positions and successes, which the writer saves.
    pub progress: SinkProgress,
}

/// Opens the store and starts the writer thread.
pub fn spawn_writer(
    config: &StoreConfig,
    retention: Retention,
    sensor: String,
    events: mpsc::Receiver<Event>,
    handoff: Handoff,
) -> Result<WriterHandle, StoreError> {
    let conn = open_connection(&config.path, config.sync, true)?;
    conn.busy_handler(Some(wait_for_lock)).map_err(|cause| StoreError::Sqlite { path: config.path.display().to_string(), cause })?;
    retention.limit(&conn).map_err(|cause| StoreError::Sqlite { path: config.path.display().to_string(), cause })?;
    let last: u64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0)).unwrap_or(0);
    announce(&handoff.committed, last);
    let runtime = tokio::runtime::Handle::current();
    let batch_max = config.batch_max_events.get();
    let flush = config.flush_interval;
    let path = config.path.display().to_string();
    let Handoff { committed, recent, progress } = handoff;
    let keep = Keep { retention, sensor, lost: 0, full_since: None, progress };
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(conn, &path, keep, runtime, events, (committed, recent), batch_max, flush))
        .map_err(|e| StoreError::Sqlite { path: config.path.display().to_string(), cause: rusqlite::Error::ToSqlConversionFailure(Box::new(e)) })?;
    Ok(WriterHandle { thread })
}

/// The writer's wait for SQLite's write lock, which the incident follower, the console
/// or a CLI command hold for well under a millisecond: short naps first instead of
/// SQLite's 1, 2, 5, 10 … ms, then 2 ms ones; about 10 s in all before the commit is
/// retried.
fn wait_for_lock(tries: i32) -> bool {
    std::thread::sleep(if tries < 100 { Duration::from_micros(100) } else { Duration::from_millis(2) });
    tries < 5_100
}

/// How long a full store waits for its sinks to pass events before it counts a batch
/// as lost.
const FULL_PATIENCE: Duration = Duration::from_secs(2);

/// The writer's retention, and what a full store could not keep.
struct Keep {
    retention: Retention,
    sensor: String,
    lost: u64,
    full_since: Option<Timestamp>,
    /// The sinks' posted positions: saved before looking for room, as retention
    /// deletes only what every sink has passed.
    progress: SinkProgress,
}

impl Keep {
    /// After a commit: the recorded loss (if any, and if there is room now) and the cap.
    fn after_commit(&mut self, conn: &mut Connection, path: &str, body: &mut Vec<u8>) -> u64 {
        let mut last = 0;
        if self.lost > 0 {
            save_progress(conn, path, &self.progress);
        }
        if let Err(e) = self.retention.enforce_size(conn) {
            tracing::warn!(store = %path, error = %e, "retention pass failed; retried after the next commit");
        }
        if self.lost > 0 && self.retention.has_room(conn) {
            let since = self.full_since.unwrap_or_else(Timestamp::now);
            let full_seconds = (Timestamp::now().as_micros() - since.as_micros()).max(0) as u64 / 1_000_000;
            let event = Event::host(self.sensor.clone(), EventKind::StoreFull { events: self.lost, full_seconds });
            if let Ok(seq) = commit(conn, std::slice::from_ref(&event), body) {
                tracing::error!(store = %path, events = self.lost, full_seconds, "the store was full: events were counted and not stored (store_full recorded)");
                (self.lost, self.full_since, last) = (0, None, seq);
            }
        }
        last
    }
}

/// What the writer waits for next.
#[allow(clippy::large_enum_variant)] // a return value, moved once into the batch
enum Next {
    Event(Event),
    /// The bus closed: every sender is gone.
    Closed,
    /// A sink posted its progress.
    Posted,
    /// Nothing came within the patience given.
    Idle,
}

async fn next(rx: &mut mpsc::Receiver<Event>, progress: &SinkProgress, patience: Option<Duration>) -> Next {
    let wait = async {
        tokio::select! {
            biased;
            e = rx.recv() => e.map_or(Next::Closed, Next::Event),
            () = progress.posted() => Next::Posted,
        }
    };
    match patience {
        Some(d) => tokio::time::timeout(d, wait).await.unwrap_or(Next::Idle),
        None => wait.await,
    }
}

fn save_progress(conn: &mut Connection, path: &str, progress: &SinkProgress) {
    if let Err(e) = progress.save(conn) {
        tracing::warn!(store = %path, error = %e, "cannot save the sinks' positions; they post them again");
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    mut conn: Connection,
    path: &str,
    mut keep: Keep,
    runtime: tokio::runtime::Handle,
    mut rx: mpsc::Receiver<Event>,
    (committed, recent): (std::sync::Arc<watch::Sender<u64>>, RecentBatch),
    batch_max: usize,
    flush: Duration,
) {
    let mut batch: Vec<Event> = Vec::with_capacity(batch_max.min(65536));
    let mut body = Vec::with_capacity(1024);
    let mut seqs: Vec<u64> = Vec::with_capacity(RECENT_MAX_EVENTS);
    let mut cache_shrunk = true;
    loop {
        // While events wait to be counted as lost, look for room every second even
        // when nothing new arrives (a sink catching up lets retention make some).
        // Otherwise, once quiet after a busy spell, hand back the page cache's memory.
        let patience = if keep.lost > 0 { Some(Duration::from_secs(1)) } else { (!cache_shrunk).then_some(crate::resident::QUIET) };
        let first = match runtime.block_on(next(&mut rx, &keep.progress, patience)) {
            Next::Event(first) => Some(first),
            Next::Closed => None,
            Next::Posted => {
                save_progress(&mut conn, path, &keep.progress);
                continue;
            }
            Next::Idle if keep.lost == 0 => {
                let _ = conn.execute_batch("PRAGMA shrink_memory");
                cache_shrunk = true;
                continue;
            }
            Next::Idle => {
                let last = keep.after_commit(&mut conn, path, &mut body);
                if last > 0 {
                    announce(&committed, last);
                }
                continue;
            }
        };
        let Some(first) = first else { break };
        cache_shrunk = false;
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
        let committed_batch = commit_with_retry(&mut conn, path, &mut keep, &batch, &mut body, &mut seqs);
        // The batch itself for the sinks, before they hear of it (store_full, below, is
        // not in it: its number breaks the window's run, so a sink reads it from the store).
        if committed_batch > 0 {
            recent.publish(batch.drain(..).zip(seqs.iter()).filter(|(_, &seq)| seq != 0).map(|(event, &seq)| StoredEvent { seq, event }));
        }
        let last = committed_batch.max(keep.after_commit(&mut conn, path, &mut body));
        batch.clear();
        if last > 0 {
            announce(&committed, last);
        }
        save_progress(&mut conn, path, &keep.progress);
    }
    let last = keep.after_commit(&mut conn, path, &mut body);
    if last > 0 {
        announce(&committed, last);
    }
    save_progress(&mut conn, path, &keep.progress);
    if keep.lost > 0 {
        tracing::error!(store = %path, events = keep.lost, "stopping with the store full: these events could not be stored");
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
/// (0 if every event was already stored, or the store was full: then they are counted).
/// `seqs` gets each event's sequence number (0: already stored).
fn commit_with_retry(conn: &mut Connection, path: &str, keep: &mut Keep, batch: &[Event], body: &mut Vec<u8>, seqs: &mut Vec<u64>) -> u64 {
    let mut delay = Duration::from_millis(10);
    let mut waited = Duration::ZERO;
    loop {
        match commit_numbered(conn, batch, body, Some(&mut *seqs)) {
            Ok(last) => return last,
            Err(e) if is_full(&e) => {
                // Room, if sinks have passed anything (their posted positions saved
                // first). The first time, wait a little for sinks that are only behind
                // (the bus takes the flood meanwhile); while events are already being
                // counted as lost, do not wait again.
                save_progress(conn, path, &keep.progress);
                if keep.retention.enforce_size(conn).is_ok_and(|n| n > 0) {
                    continue;
                }
                if keep.lost == 0 && waited < FULL_PATIENCE {
                    std::thread::sleep(Duration::from_millis(20));
                    waited += Duration::from_millis(20);
                    continue;
                }
                if keep.lost == 0 {
                    tracing::error!(store = %path, "the store is full and nothing in it may be deleted yet; events are counted, not stored, until there is room");
                }
                keep.lost += batch.len() as u64;
                keep.full_since.get_or_insert_with(Timestamp::now);
                return 0;
            }
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
    commit_numbered(conn, batch, body, None)
}

/// `commit`, noting each event's sequence number in `seqs` (0 for one skipped).
fn commit_numbered(conn: &mut Connection, batch: &[Event], body: &mut Vec<u8>, mut seqs: Option<&mut Vec<u64>>) -> Result<u64, rusqlite::Error> {
    if let Some(seqs) = seqs.as_deref_mut() {
        seqs.clear();
    }
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
            if let Some(seqs) = seqs.as_deref_mut() {
                seqs.push(if changed == 1 { last } else { 0 });
            }
        }
    }
    tx.commit()?;
    Ok(last)
}
