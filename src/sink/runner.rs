//! Drives one sink: read from its cursor (or take the batch just committed, when it
//! follows the cursor), select, deliver, advance; dead-letter what the destination
//! refuses for good; back off and reopen on failure; drain to the last committed event
//! at shutdown. The cursor is saved by a task of its own, so a delivery never waits
//! for the store's write lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::select::{Pick, Selection};
use super::{deliver, AnySink, Backoff};
use crate::config::SinkConfig;
use crate::incident::IncidentConfig;
use crate::store::{RecentBatch, SinkProgress, StoreReader};

/// Events per batch read from the store.
const BATCH_EVENTS: usize = 1024;

/// Longest a delivered position stays unposted while events keep flowing. The store
/// writer saves what is posted, so it is not done per batch; a crash in between
/// re-sends at most this much (delivery is at-least-once, and the file sink
/// reconciles with its own file).
const CURSOR_SAVE_INTERVAL: Duration = Duration::from_millis(250);

/// Everything a sink task needs.
pub struct SinkRun {
    pub config: SinkConfig,
    pub sink: AnySink,
    pub cursor: u64,
    pub reader: StoreReader,
    /// How incidents are grouped (for incidents-only sinks).
    pub incidents: IncidentConfig,
    /// Highest committed sequence number; closed when the store writer has stopped.
    pub committed: watch::Receiver<u64>,
    /// The newest committed events (taken instead of a read when the cursor is
    /// among them).
    pub recent: RecentBatch,
    /// Where the sink posts its position for the store writer to save.
    pub progress: SinkProgress,
    /// Cancelled to give up immediately (after the drain deadline at shutdown).
    pub abort: CancellationToken,
}

type Shared = Arc<Mutex<StoreReader>>;

async fn with_reader<T: Send + 'static>(reader: &Shared, f: impl FnOnce(&StoreReader) -> T + Send + 'static) -> Option<T> {
    let reader = Arc::clone(reader);
    tokio::task::spawn_blocking(move || f(&reader.lock().unwrap_or_else(|p| p.into_inner()))).await.ok()
}

/// Replays the incident window before `cursor` so that incidents already announced
/// are not announced again after a restart.
async fn prime(selection: &mut Selection, reader: &Shared, cursor: u64, window_us: i64) {
    if !selection.follows_incidents() || cursor == 0 {
        return;
    }
    let start = with_reader(reader, move |r| {
        let last = r.events_after(cursor - 1, 1)?;
        let Some(at) = last.first() else { return Ok(cursor) };
        r.seq_before(crate::event::Timestamp::from_micros(at.event.time.as_micros() - window_us))
    })
    .await;
    let mut at = match start {
        Some(Ok(s)) => s,
        _ => return,
    };
    while at < cursor {
        let Some(Ok(batch)) = with_reader(reader, move |r| r.events_after(at, BATCH_EVENTS)).await else { return };
        if batch.is_empty() {
            return;
        }
        for e in batch.iter().take_while(|e| e.seq <= cursor) {
            selection.pass(e);
            at = e.seq;
        }
        if batch.last().is_some_and(|e| e.seq > cursor) {
            return;
        }
    }
}

/// Delivers events until the writer has stopped and everything committed was sent,
/// or until `abort`.
pub async fn run_sink(run: SinkRun) {
    let SinkRun { config, mut sink, mut cursor, reader, incidents, mut committed, recent, progress: board, abort } = run;
    let name = config.name().to_string();
    let reader: Shared = Arc::new(Mutex::new(reader));
    let mut selection = Selection::new(&config, &incidents);
    prime(&mut selection, &reader, cursor, incidents.window_us).await;
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
    let mut writer_done = false;
    let progress = Progress::spawn(Arc::clone(&reader), board, name.clone(), cursor);
    loop {
        let head = *committed.borrow_and_update();
        if cursor >= head {
            if writer_done {
                break;
            }
            tokio::select! {
                changed = committed.changed() => writer_done = changed.is_err(),
                _ = abort.cancelled() => break,
            }
            continue;
        }
        let read = match recent.after(cursor) {
            Some(kept) => Some(Ok(kept)),
            None => with_reader(&reader, move |r| r.events_after(cursor, BATCH_EVENTS)).await,
        };
        let batch = match read {
            Some(Ok(batch)) => batch,
            Some(Err(e)) => {
                tracing::error!(sink = %name, error = %e, "cannot read events for sink");
                if sleep_or_abort(backoff.next_delay(), &abort).await {
                    break;
                }
                continue;
            }
            None => break,
        };
        let Some(last) = batch.last().map(|e| e.seq) else { continue };
        let before = selection.follows_incidents().then(|| selection.clone());
        let mut incident_of = std::collections::HashMap::new();
        let batch: Vec<_> = batch
            .into_iter()
            .filter(|e| match selection.pick(e) {
                Pick::Announce(announced) => {
                    incident_of.insert(e.seq, announced);
                    true
                }
                Pick::Send => true,
                Pick::Skip => false,
            })
            .collect();
        if before.is_some() {
            sink.announce(incident_of);
        }
        let sent = if batch.is_empty() { Ok(Vec::new()) } else { deliver(&mut sink, &batch).await };
        match sent {
            Ok(refused) => {
                if !refused.is_empty() {
                    let letters: Vec<_> = refused.iter().map(|(i, reason)| (batch[*i].seq, batch[*i].event.id, reason.clone())).collect();
                    tracing::warn!(sink = %name, count = letters.len(), reason = %letters[0].2, "events refused by the destination: kept as dead letters (`honeyward sinks status`)");
                    let sink_name = name.clone();
                    if let Some(Err(e)) = with_reader(&reader, move |r| r.add_dead_letters(&sink_name, &letters)).await {
                        tracing::error!(sink = %name, error = %e, "cannot record dead letters");
                    }
                }
                cursor = last;
                backoff.reset();
                progress.delivered(cursor, !batch.is_empty());
            }
            Err(e) => {
                if let Some(before) = before {
                    selection = before;
                }
                tracing::warn!(sink = %name, error = %e, "delivery failed; backing off");
                progress.failing.store(true, Ordering::Relaxed);
                note(&reader, &name, Some(e.to_string())).await;
                if sleep_or_abort(backoff.next_delay(), &abort).await {
                    break;
                }
                // Reopen: the destination recomputes where to resume (the file sink
                // reads its own tail), so a partly written batch is not written twice.
                let config2 = config.clone();
                match with_reader(&reader, move |r| AnySink::open(&config2, r)).await {
                    Some(Ok((s, c))) => {
                        sink = s;
                        if c != cursor && selection.follows_incidents() {
                            selection = Selection::new(&config, &incidents);
                            prime(&mut selection, &reader, c, incidents.window_us).await;
                        }
                        cursor = c;
                        progress.delivered(cursor, false);
                    }
                    Some(Err(e)) => tracing::warn!(sink = %name, error = %e, "cannot reopen sink"),
                    None => break,
                }
            }
        }
    }
    progress.finish(cursor).await;
    tracing::debug!(sink = %name, cursor, "sink stopped");
}

/// The task that posts a sink's position and deliveries to the store writer, at most
/// every `CURSOR_SAVE_INTERVAL`, off the delivering task; at the end it saves the
/// final position itself (the writer may have stopped).
struct Progress {
    /// The delivered position, and when a delivery last sent events.
    cursor: watch::Sender<(u64, Option<i64>)>,
    /// Set while deliveries fail (the failure is noted at once by the sink): a position
    /// posted meanwhile is not noted as a success.
    failing: Arc<AtomicBool>,
    /// Cuts the pause between posts short at the end.
    finishing: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    fn spawn(reader: Shared, board: SinkProgress, name: String, cursor: u64) -> Self {
        let (tx, mut rx) = watch::channel((cursor, None));
        let failing = Arc::new(AtomicBool::new(false));
        let finishing = Arc::new(tokio::sync::Notify::new());
        let (failed, finish) = (Arc::clone(&failing), Arc::clone(&finishing));
        let task = tokio::spawn(async move {
            let (mut posted, mut noted) = (cursor, None);
            loop {
                let closed = rx.changed().await.is_err();
                let (at, success_us) = *rx.borrow_and_update();
                let success_us = success_us.filter(|_| success_us != noted && !failed.load(Ordering::Relaxed));
                if closed {
                    board.withdraw(&name);
                    save_cursor(&reader, &name, at).await;
                    if success_us.is_some() {
                        note(&reader, &name, None).await;
                    }
                    break;
                }
                if at != posted || success_us.is_some() {
                    board.post(&name, at, success_us);
                    (posted, noted) = (at, success_us.or(noted));
                }
                tokio::select! {
                    _ = tokio::time::sleep(CURSOR_SAVE_INTERVAL) => {}
                    _ = finish.notified() => {}
                }
            }
        });
        Progress { cursor: tx, failing, finishing, task }
    }

    /// The destination has everything up to `cursor`; `sent`: events went out.
    fn delivered(&self, cursor: u64, sent: bool) {
        if sent {
            self.failing.store(false, Ordering::Relaxed);
        }
        let now = sent.then(|| crate::event::Timestamp::now().as_micros());
        self.cursor.send_modify(|(at, success_us)| {
            *at = cursor;
            *success_us = now.or(*success_us);
        });
    }

    /// Saves the final position and waits for it.
    async fn finish(self, cursor: u64) {
        self.delivered(cursor, false);
        drop(self.cursor);
        self.finishing.notify_one();
        let _ = self.task.await;
    }
}
/// Records the sink's last outcome: delivered (`failure` None) or why not.
async fn note(reader: &Shared, name: &str, failure: Option<String>) {
    let sink_name = name.to_string();
    if let Some(Err(e)) = with_reader(reader, move |r| r.record_outcome(&sink_name, failure.as_deref().map_or(Ok(()), Err))).await {
        tracing::debug!(sink = %name, error = %e, "cannot record the sink's status");
    }
}

async fn save_cursor(reader: &Shared, name: &str, cursor: u64) {
    let sink_name = name.to_string();
    if let Some(Err(e)) = with_reader(reader, move |r| r.set_cursor(&sink_name, cursor)).await {
        tracing::warn!(sink = %name, error = %e, "cannot save sink cursor (events may be re-sent after a restart)");
    }
}

/// Sleeps; returns true if aborted meanwhile.
async fn sleep_or_abort(delay: Duration, abort: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = abort.cancelled() => true,
    }
}
