//! A store holding 300,000 events from 300,000 distinct sources (what a spoofed-source
//! scan leaves): incidents are grouped once, as a backlog at start, and kept; `/metrics`
//! and `incidents list` read the kept state, and SIGTERM stops the process promptly
//! even while the backlog is being grouped. (Before, every `/metrics` request regrouped
//! the whole store: 200 s per scrape at this size, and the process stayed busy after
//! SIGTERM.) The bounds here are generous for a debug build on a loaded machine; the
//! release figures are in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use honeyward::event::{Event, EventId, EventKind, Timestamp};

const SOURCES: u32 = 300_000;

/// Commits one connection event from each of `n` distinct sources into the store
/// `dir/honeyward.db`, as the store writer would.
fn seed(dir: &Path, n: u32) {
    let mut conn = honeyward::store::open_connection(&dir.join("honeyward.db"), honeyward::config::StoreSync::Normal, true).unwrap();
    let now = Timestamp::now().as_micros();
    let events: Vec<Event> = (0..n)
        .map(|i| {
            let [_, b, c, d] = i.to_be_bytes();
            Event {
                id: EventId::new(),
                time: Timestamp::from_micros(now - i64::from(n - i) * 1_000),
                sensor: "test-sensor".into(),
                decoy: Some("banner".into()),
                source: Some(honeyward::event::Remote(std::net::SocketAddr::from(([10, b, c, d], 40_000)))),
                destination: None,
                session: None,
                kind: EventKind::ConnectionOpened,
                token: None,
                claimed_time: None,
            }
        })
        .collect();
    for batch in events.chunks(20_000) {
        honeyward::store::commit(&mut conn, batch, &mut Vec::new()).unwrap();
    }
}

/// `/metrics`, and how long it took.
fn scrape(addr: std::net::SocketAddr) -> (String, Duration) {
    let started = Instant::now();
    let response = http_raw(addr, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let took = started.elapsed();
    let text = String::from_utf8(response).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    (text, took)
}

fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

fn grouped(dir: &Path) -> i64 {
    store(dir).query_row("SELECT seq FROM incident_cursor", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn three_hundred_thousand_sources_leave_metrics_and_the_incident_list_quick_and_sigterm_prompt() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), SOURCES);
    let yaml = config(&tcp_decoy("banner", "")) + "console:\n  listen: 127.0.0.1:0\n";

    // First start: the whole store is a backlog to group. /metrics answers meanwhile,
    // and SIGTERM in the middle of it stops the process at once.
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let (_, took) = scrape(hw.addr("console"));
    eprintln!("/metrics while grouping the backlog: {took:?}");
    assert!(took < Duration::from_secs(10), "/metrics took {took:?} while grouping a backlog");
    let stopping = Instant::now();
    hw.signal(libc::SIGTERM);
    assert!(hw.wait_exit(30).success());
    let stop_took = stopping.elapsed();
    eprintln!("SIGTERM while grouping the backlog: {stop_took:?}");
    assert!(stop_took < Duration::from_secs(5), "SIGTERM took {stop_took:?} with a backlog being grouped");
    let after_first = grouped(dir.path());
    assert!(after_first < i64::from(SOURCES), "the test stopped it in the middle of the backlog ({after_first} grouped)");

    // Second start: grouping resumes where it stopped, and finishes.
    let mut hw = Honeyward::start(dir.path(), &yaml);
    assert!(eventually(300, || grouped(dir.path()) == i64::from(SOURCES)), "the backlog was grouped");
    let (metrics, took) = scrape(hw.addr("console"));
    eprintln!("/metrics with 300,000 incidents kept: {took:?}");
    assert!(took < Duration::from_secs(5), "/metrics took {took:?} with 300,000 incidents kept");
    assert_eq!(sample(&metrics, "honeyward_incidents_unacknowledged"), Some(f64::from(SOURCES)), "one incident per source, none counted twice");
    let events_total: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("honeyward_events_total{") && l.contains("kind=\"connection_opened\""))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(events_total, f64::from(SOURCES), "every event counted once across the restart");

    let started = Instant::now();
    let out = Command::new(BIN).args(["incidents", "list", "-c", "honeyward.yaml"]).current_dir(dir.path()).output().unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("`incidents list` of 300,000 incidents: {took:?}");
    assert!(took < Duration::from_secs(30), "`incidents list` took {took:?}");
    let listed = out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    assert_eq!(listed, SOURCES as usize);

    let stopping = Instant::now();
    hw.signal(libc::SIGTERM);
    assert!(hw.wait_exit(30).success());
    eprintln!("SIGTERM with everything grouped: {:?}", stopping.elapsed());
    assert!(stopping.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}", stopping.elapsed());
}
