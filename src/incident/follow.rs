//! The incident follower: groups committed events into incidents as they commit, in
//! commit order, and saves each incident it touched together with how far it has read
//! (so a restart resumes where it stopped, and a second follower, e.g. the CLI on a
//! store nobody runs, cannot count an event twice). Everyone else reads what it saved.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::watch;

use super::grouper::{Grouper, OPEN_CAP};
use crate::config::IncidentConfig;
use crate::event::KindId;
use crate::shutdown::Shutdown;
use crate::store::{CountDelta, Incident, StoreError, StoreReader, StoredEvent};

/// What events are counted by: sensor, decoy, kind.
type CountKey = (String, Option<String>, KindId);

/// Events grouped per saved step. With the chunk read ahead, up to three are in
/// memory at once: at 2,000 events that stays a few MB during a flood (a sensor's
/// memory budget counts it), at little cost in speed (BENCHMARKS.md).
pub const CHUNK_EVENTS: usize = 2_000;

/// A grouper with its place in the store.
pub struct Follower {
    cfg: IncidentConfig,
    grouper: Grouper,
    cursor: u64,
}

impl Follower {
    /// Continues from what the store holds: its cursor and its most recent incidents.
    pub fn resume(reader: &StoreReader, cfg: &IncidentConfig) -> Result<Self, StoreError> {
        let cursor = reader.incident_cursor()?;
        let open = reader.recent_incidents(i64::MIN, OPEN_CAP)?;
        Ok(Follower { cfg: cfg.clone(), grouper: Grouper::resume(cfg, open), cursor })
    }

    /// The last sequence number grouped.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Groups and saves everything committed after the cursor, a chunk at a time,
    /// until caught up or `stop` says so. Returns how many events it grouped. After an
    /// error the follower must be resumed from the store again.
    pub fn catch_up(&mut self, reader: &StoreReader, stop: &dyn Fn() -> bool) -> Result<u64, StoreError> {
        let mut grouped = 0u64;
        loop {
            let (n, again) = self.pass(reader, stop)?;
            grouped += n;
            if !again {
                return Ok(grouped);
            }
        }
    }

    /// One run from the cursor: a second connection reads the next chunk while this
    /// one groups and saves the current one. Says whether to start again (another
    /// follower saved first, so this one resumed from the store).
    fn pass(&mut self, reader: &StoreReader, stop: &dyn Fn() -> bool) -> Result<(u64, bool), StoreError> {
        let ahead = reader.reopen()?;
        let from = self.cursor;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<StoredEvent>, StoreError>>(1);
            scope.spawn(move || {
                let mut after = from;
                loop {
                    let chunk = ahead.events_after(after, CHUNK_EVENTS);
                    let last = chunk.as_ref().ok().and_then(|c| c.last().map(|e| e.seq));
                    // Stops after an empty chunk or an error, or when nobody listens.
                    if tx.send(chunk).is_err() {
                        return;
                    }
                    match last {
                        Some(seq) => after = seq,
                        None => return,
                    }
                }
            });
            let mut grouped = 0u64;
            let mut touched: Vec<Incident> = Vec::new();
            let mut counts: HashMap<CountKey, u64> = HashMap::new();
            for chunk in rx {
                let chunk = chunk?;
                let Some(to) = chunk.last().map(|e| e.seq) else { break };
                self.group(&chunk, &mut counts);
                touched.clear();
                self.grouper.drain(|i| touched.push(i.clone()));
                let deltas: Vec<CountDelta> = counts.drain().collect();
                if !reader.save_incidents(self.cursor, to, &touched, &deltas)? {
                    // Another follower saved first: continue from what it saved.
                    tracing::debug!("incidents were saved by another process; resuming from the store");
                    *self = Follower::resume(reader, &self.cfg)?;
                    return Ok((grouped, true));
                }
                self.cursor = to;
                grouped += chunk.len() as u64;
                if stop() {
                    break;
                }
            }
            Ok((grouped, false))
        })
    }

    /// Places a chunk and counts its events.
    fn group(&mut self, chunk: &[StoredEvent], counts: &mut HashMap<CountKey, u64>) {
        // Counted in runs of the same sensor, decoy and kind (a flood is one run):
        // the names are copied once per run, not once per event.
        let mut run: Option<(CountKey, u64)> = None;
        for e in chunk {
            self.grouper.place(e);
            let ev = &e.event;
            match run.as_mut() {
                Some(((sensor, decoy, kind), n)) if *sensor == ev.sensor && *decoy == ev.decoy && *kind == ev.kind.id() => *n += 1,
                _ => {
                    if let Some((key, n)) = run.replace(((ev.sensor.clone(), ev.decoy.clone(), ev.kind.id()), 1)) {
                        *counts.entry(key).or_default() += n;
                    }
                }
            }
        }
        if let Some((key, n)) = run {
            *counts.entry(key).or_default() += n;
        }
    }
}

/// Grouping passes start at most this often: each pass writes, taking SQLite's lock
/// from the store writer, and under a flood one pass groups what hundreds of commits
/// brought.
const PASS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Keeps the store's incidents current: groups whatever commits, until `shutdown`
/// (which it honours between chunks; what is left is grouped at the next start).
pub async fn follow(path: PathBuf, cfg: IncidentConfig, mut committed: watch::Receiver<u64>, shutdown: Shutdown) {
    let mut follower: Option<Follower> = None;
    let mut reader: Option<StoreReader> = None;
    loop {
        let began = tokio::time::Instant::now();
        let stop = shutdown.clone();
        let (path2, cfg2) = (path.clone(), cfg.clone());
        let (mut f, mut r) = (follower.take(), reader.take());
        let done = tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<(), StoreError> {
                let rd = match r.take() {
                    Some(rd) => rd,
                    None => StoreReader::open(&path2, false)?,
                };
                let fl = match f.as_mut() {
                    Some(fl) => fl,
                    None => f.insert(Follower::resume(&rd, &cfg2)?),
                };
                let result = fl.catch_up(&rd, &|| stop.is_cancelled());
                r = Some(rd);
                result.map(drop)
            })();
            if let Err(e) = &result {
                tracing::error!(error = %e, "grouping incidents failed; retrying from the store");
                f = None;
            }
            (f, r, result.is_ok())
        })
        .await;
        let healthy = match done {
            Ok((f, r, ok)) => {
                (follower, reader) = (f, r);
                ok
            }
            Err(_) => false,
        };
        let pause = if healthy { std::time::Duration::ZERO } else { std::time::Duration::from_secs(1) };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause), if !pause.is_zero() => {}
            changed = committed.changed(), if pause.is_zero() => if changed.is_err() { return },
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(began + PASS_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::store::IncidentFilter;

    fn auth(i: u64) -> Event {
        super::super::fixtures::ssh_auth(&format!("10.1.{}.{}", (i % 600) / 200, i % 200), i as i64)
    }

    #[test]
    fn two_followers_on_one_store_save_what_the_reference_grouping_says_and_count_each_event_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let mut conn = crate::store::open_connection(&path, crate::config::StoreSync::Normal, true).unwrap();
        let events: Vec<Event> = (0..25_000).map(auth).collect();
        let reader = StoreReader::open(&path, false).unwrap();
        let cfg = IncidentConfig::default();
        let mut a = Follower::resume(&reader, &cfg).unwrap();
        let mut b = Follower::resume(&reader, &cfg).unwrap();
        for (n, batch) in events.chunks(5_000).enumerate() {
            crate::store::commit(&mut conn, batch, &mut Vec::new()).unwrap();
            // The followers take turns; each finds the other's work saved.
            let f = if n % 2 == 0 { &mut a } else { &mut b };
            f.catch_up(&reader, &|| false).unwrap();
        }
        a.catch_up(&reader, &|| false).unwrap();
        assert_eq!(a.cursor(), 25_000);
        let stored = reader.events_after(0, usize::MAX).unwrap();
        let reference = crate::incident::group(&stored, &cfg);
        let saved = reader.incidents(&IncidentFilter { since: None, suppressed: true, limit: usize::MAX }).unwrap();
        assert_eq!(saved, reference);
        let counted: u64 = reader.counts().unwrap().iter().map(|c| c.3).sum();
        assert_eq!(counted, 25_000, "events counted once each");
        let tally = reader.incident_tally(i64::MIN).unwrap();
        assert_eq!(tally, crate::store::IncidentTally { open: 600, unacknowledged: 600 });
        reader.ack_incident(&saved[0].id, "ward", None).unwrap();
        assert_eq!(reader.incident_tally(i64::MIN).unwrap().unacknowledged, 599);
    }
}
