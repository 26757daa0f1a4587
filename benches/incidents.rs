//! Incident grouping benchmarks: the grouper alone over 1,000,000 events from
//! 1,000,000 distinct sources (a spoofed-source scan) and from 1,000 sources (a
//! brute force from a botnet), with the memory its open incidents take; then the
//! follower grouping a store of 1,000,000 events end to end (read from SQLite, group,
//! save the incidents and counts), as `honeyward run` does after a flood.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench incidents`
//! (`HW_EVENTS=N` changes the number of events). Results go in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
#[allow(dead_code)] // this benchmark only reads its own memory
mod process;

use std::time::Instant;

use honeyward::event::{Event, EventId, EventKind, Remote, Timestamp};
use honeyward::incident::{Follower, Grouper, IncidentConfig, OPEN_CAP};
use honeyward::store::StoredEvent;

fn event(i: u64, sources: u64) -> Event {
    let [_, b, c, d] = ((i % sources) as u32).to_be_bytes();
    Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::from_micros(1_795_883_913_000_000 + i as i64 * 100),
        sensor: "ward-7".into(),
        decoy: Some("banner".into()),
        source: Some(Remote(std::net::SocketAddr::from(([10, b, c, d], 40_000)))),
        destination: None,
        session: None,
        kind: EventKind::ConnectionOpened,
        token: None,
    }
}

fn main() {
    let n: u64 = std::env::var("HW_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let cfg = IncidentConfig::default();
    let me = std::process::id();

    // 1. The grouper alone, handing over what changed every 10,000 events (as the
    //    follower saves), best of three runs.
    for sources in [n, 1_000] {
        let events: Vec<StoredEvent> = (0..n).map(|i| StoredEvent { seq: i + 1, event: event(i, sources) }).collect();
        let mut best = f64::MAX;
        let mut grown_kib = 0;
        let mut open = 0;
        for _ in 0..3 {
            let before = process::rss_kib(me);
            let started = Instant::now();
            let mut g = Grouper::new(&cfg);
            let mut handed = 0u64;
            for chunk in events.chunks(10_000) {
                for e in chunk {
                    g.place(e);
                }
                g.drain(|_| handed += 1);
            }
            best = best.min(started.elapsed().as_secs_f64());
            grown_kib = grown_kib.max(process::rss_kib(me).saturating_sub(before));
            open = g.open_incidents();
            assert!(handed >= sources.min(n));
        }
        println!(
            "grouper, {n} events from {sources} sources: {:>9.0} events/s; {open} open incidents (cap {OPEN_CAP}); resident memory grew {:.1} MiB",
            n as f64 / best,
            grown_kib as f64 / 1024.0
        );
    }

    // 2. The follower: a store holding n events (from n sources, then from 1,000),
    //    grouped from scratch.
    for sources in [n, 1_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.db");
        let mut conn = honeyward::store::open_connection(&path, honeyward::config::StoreSync::Normal, true).unwrap();
        let started = Instant::now();
        for start in (0..n).step_by(20_000) {
            let batch: Vec<Event> = (start..(start + 20_000).min(n)).map(|i| event(i, sources)).collect();
            honeyward::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
        }
        println!("store filled with {n} events from {sources} sources in {:.1} s", started.elapsed().as_secs_f64());
        let reader = honeyward::store::StoreReader::open(&path, false).unwrap();
        if sources == n {
            let started = Instant::now();
            let mut after = 0;
            loop {
                let chunk = reader.events_after(after, 10_000).unwrap();
                let Some(last) = chunk.last() else { break };
                after = last.seq;
            }
            let read_secs = started.elapsed().as_secs_f64();
            println!("reading the {n} events back (SQLite and JSON): {:>9.0} events/s ({read_secs:.1} s)", n as f64 / read_secs);
        }
        let started = Instant::now();
        let mut f = Follower::resume(&reader, &cfg).unwrap();
        let grouped = f.catch_up(&reader, &|| false).unwrap();
        let secs = started.elapsed().as_secs_f64();
        println!("follower, {grouped} events from {sources} sources read, grouped and saved: {:>9.0} events/s ({secs:.1} s)", grouped as f64 / secs);
        let started = Instant::now();
        let tally = reader.incident_tally(i64::MIN).unwrap();
        let counts = reader.counts().unwrap();
        println!(
            "/metrics' reads with {} incidents kept: {:.1} ms ({} count rows)",
            tally.unacknowledged,
            started.elapsed().as_secs_f64() * 1000.0,
            counts.len()
        );
        let started = Instant::now();
        let listed = reader.incidents(&honeyward::store::IncidentFilter { since: None, suppressed: true, limit: usize::MAX }).unwrap().len();
        println!("listing all {listed} incidents from the store: {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    }
}
