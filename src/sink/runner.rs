//! Drives one sink: read from its cursor, send, advance; back off and reopen on
//! failure; drain to the last committed event at shutdown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{AnySink, Backoff, Sink};
use crate::config::SinkConfig;
use crate::store::StoreReader;

/// Events per batch read from the store.
const BATCH_EVENTS: usize = 1024;

/// Longest a delivered position stays unsaved while events keep flowing. Saving is a
/// write that waits for the store writer's lock, so it is not done per batch; a crash
/// in between re-sends at most this much (delivery is at-least-once, and the file
/// sink reconciles with its own file).
const CURSOR_SAVE_INTERVAL: Duration = Duration::from_millis(250);

/// Everything a sink task needs.
pub struct SinkRun {
    pub config: SinkConfig,
    pub sink: AnySink,
    pub cursor: u64,
    pub reader: StoreReader,
    /// Highest committed sequence number; closed when the store writer has stopped.
    pub committed: watch::Receiver<u64>,
    /// Cancelled to give up immediately (after the drain deadline at shutdown).
    pub abort: CancellationToken,
}

async fn with_reader<T: Send + 'static>(
    reader: &Arc<Mutex<StoreReader>>,
    f: impl FnOnce(&StoreReader) -> T + Send + 'static,
) -> Option<T> {
    let reader = Arc::clone(reader);
    tokio::task::spawn_blocking(move || f(&reader.lock().unwrap_or_else(|p| p.into_inner()))).await.ok()
}

/// Delivers events until the writer has stopped and everything committed was sent,
/// or until `abort`.
pub async fn run_sink(run: SinkRun) {
    let SinkRun { config, mut sink, mut cursor, reader, mut committed, abort } = run;
    let name = config.name().to_string();
    let reader = Arc::new(Mutex::new(reader));
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
    let mut writer_done = false;
    let mut saved = cursor;
    let mut saved_at = Instant::now();
    loop {
        let head = *committed.borrow_and_update();
        if cursor >= head {
            if cursor != saved {
                save_cursor(&reader, &name, cursor).await;
                saved = cursor;
            }
            if writer_done {
                break;
            }
            tokio::select! {
                changed = committed.changed() => writer_done = changed.is_err(),
                _ = abort.cancelled() => break,
            }
            continue;
        }
        let batch = match with_reader(&reader, move |r| r.events_after(cursor, BATCH_EVENTS)).await {
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
        let filter = config.filter();
        let batch: Vec<_> = if *filter == crate::config::SinkFilter::default() { batch } else { batch.into_iter().filter(|e| filter.accepts(&e.event)).collect() };
        let sent = if batch.is_empty() { Ok(()) } else { sink.send(&batch).await };
        match sent {
            Ok(()) => {
                cursor = last;
                backoff.reset();
                if saved_at.elapsed() >= CURSOR_SAVE_INTERVAL {
                    save_cursor(&reader, &name, cursor).await;
                    (saved, saved_at) = (cursor, Instant::now());
                }
            }
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "delivery failed; backing off");
                if sleep_or_abort(backoff.next_delay(), &abort).await {
                    break;
                }
                // Reopen: the destination recomputes where to resume (the file sink
                // reads its own tail), so a partly written batch is not written twice.
                let config2 = config.clone();
                match with_reader(&reader, move |r| AnySink::open(&config2, r)).await {
                    Some(Ok((s, c))) => {
                        sink = s;
                        cursor = c;
                    }
                    Some(Err(e)) => tracing::warn!(sink = %name, error = %e, "cannot reopen sink"),
                    None => break,
                }
            }
        }
    }
    if cursor != saved {
        save_cursor(&reader, &name, cursor).await;
    }
    tracing::debug!(sink = %name, cursor, "sink stopped");
}

async fn save_cursor(reader: &Arc<Mutex<StoreReader>>, name: &str, cursor: u64) {
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
