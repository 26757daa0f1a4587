//! Syslog sink throughput: N events already committed to a store are delivered by
//! the real sink runner (RFC 5424, TCP, octet counting) to a local receiver that
//! reads and counts every frame. Loopback only; bounded by count and time.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench syslog`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use honeyward::event::{AttackerBytes, CloseReason, Event, EventId, EventKind, Timestamp};
use tokio::sync::watch;

const EVENTS: u64 = 200_000;

fn event(i: u64) -> Event {
    let kind = if i % 2 == 0 {
        EventKind::DataReceived { data: AttackerBytes::new(&b"GET /cgi-bin/luci;stok=/locale?form=country HTTP/1.1"[..]), truncated: false }
    } else {
        EventKind::ConnectionClosed { duration_ms: 1200, bytes_in: 52, bytes_out: 40, reason: CloseReason::PeerClosed }
    };
    Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::now(),
        sensor: "ward-3-sensor".into(),
        decoy: Some("tcp-banner".into()),
        source: Some(std::net::SocketAddr::from(([198, 51, 100, (i % 250) as u8 + 1], 40000)).into()),
        destination: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 2323)).into()),
        session: Some(EventId::new()),
        kind,
        token: None,
    }
}

/// Accepts the sink's connection and calls `each` with every one of `n`
/// octet-counted frames (`LEN SP MSG`).
fn frames(listener: TcpListener, n: u64, mut each: impl FnMut(&[u8])) {
    let (stream, _) = listener.accept().expect("sink connects");
    let mut r = BufReader::with_capacity(1 << 20, stream);
    let (mut len, mut body) = (Vec::new(), Vec::new());
    for _ in 0..n {
        len.clear();
        r.read_until(b' ', &mut len).expect("frame length");
        let size: usize = std::str::from_utf8(&len[..len.len() - 1]).expect("digits").parse().expect("length");
        body.resize(size, 0);
        r.read_exact(&mut body).expect("frame");
        each(&body);
    }
}

/// Counts `n` frames; returns when the last arrived.
fn receive(listener: TcpListener, n: u64) -> Instant {
    frames(listener, n, |_| {});
    Instant::now()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let addr = listener.local_addr().expect("addr");
    let yaml = format!(
        "store:\n  path: {}\n  sync: normal\nsinks:\n  - name: siem\n    type: syslog\n    address: {addr}\n    transport: tcp\n",
        dir.path().join("bench.db").display()
    );
    let config = honeyward::config::parse_str("bench", &yaml).expect("config");
    // 1. Commit N events.
    let (events, bus_rx) = honeyward::pipeline::bus(config.store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, mut committed_rx) = watch::channel(0u64);
    let writer = spawn_writer(
        &config,
        bus_rx,
        honeyward::store::Handoff { committed: std::sync::Arc::new(committed_tx), recent: Default::default(), progress: Default::default() },
    );
    for i in 0..EVENTS {
        events.emit(event(i)).await;
    }
    while *committed_rx.borrow_and_update() < EVENTS {
        let _ = tokio::time::timeout(Duration::from_secs(5), committed_rx.changed()).await;
    }
    drop(events);
    writer.join().await;

    // 2. Deliver them with the real runner and sink.
    let receiver = std::thread::spawn(move || receive(listener, EVENTS));
    let sink_config = config.sinks[0].clone();
    let reader = honeyward::store::StoreReader::open(&config.store.path, false).expect("reader");
    let (sink, cursor) = honeyward::sink::AnySink::open(&sink_config, &reader).expect("sink");
    let (head_tx, head_rx) = watch::channel(EVENTS);
    drop(head_tx); // the writer is done: the runner drains to EVENTS and stops
    let started = Instant::now();
    let run = honeyward::sink::SinkRun {
        config: sink_config,
        sink,
        cursor,
        reader,
        incidents: Default::default(),
        committed: head_rx,
        recent: Default::default(),
        progress: Default::default(),
        abort: tokio_util::sync::CancellationToken::new(),
    };
    let runner = tokio::spawn(honeyward::sink::run_sink(run));
    let done = tokio::task::spawn_blocking(move || receiver.join().expect("receiver")).await.expect("join");
    let secs = done.duration_since(started).as_secs_f64();
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    println!(
        "syslog TCP sink: {EVENTS} events delivered in {secs:.2} s = {:.0} events/s (read from the store, RFC 5424, octet counting, to a local receiver)",
        EVENTS as f64 / secs
    );

    latency().await;
}

/// Reads `n` frames and returns, per frame, now minus the RFC 5424 TIMESTAMP (the
/// event's creation time), in ms.
fn receive_latencies(listener: TcpListener, n: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n as usize);
    frames(listener, n, |body| {
        let now = chrono::Utc::now();
        let ts = std::str::from_utf8(body).ok().and_then(|t| t.split(' ').nth(1)).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if let Some(ts) = ts {
            out.push((now - ts.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    });
    out
}

/// End-to-end latency at 1,000 events/s for 10 s: event created and emitted on the
/// bus → committed by the store writer (default settings) → read by the sink runner
/// → received by the collector.
async fn latency() {
    const RATE_EVENTS: u64 = 10_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let addr = listener.local_addr().expect("addr");
    let yaml =
        format!("store:\n  path: {}\n  sync: normal\nsinks:\n  - name: siem\n    type: syslog\n    address: {addr}\n", dir.path().join("lat.db").display());
    let config = honeyward::config::parse_str("bench", &yaml).expect("config");
    let (events, bus_rx) = honeyward::pipeline::bus(config.store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, committed_rx) = watch::channel(0u64);
    let handoff = honeyward::store::Handoff { committed: std::sync::Arc::new(committed_tx), recent: Default::default(), progress: Default::default() };
    let writer = spawn_writer(&config, bus_rx, handoff.clone());
    let receiver = std::thread::spawn(move || receive_latencies(listener, RATE_EVENTS));
    let sink_config = config.sinks[0].clone();
    let reader = honeyward::store::StoreReader::open(&config.store.path, false).expect("reader");
    let (sink, cursor) = honeyward::sink::AnySink::open(&sink_config, &reader).expect("sink");
    let run = honeyward::sink::SinkRun {
        config: sink_config,
        sink,
        cursor,
        reader,
        incidents: Default::default(),
        committed: committed_rx,
        recent: handoff.recent,
        progress: handoff.progress,
        abort: tokio_util::sync::CancellationToken::new(),
    };
    let runner = tokio::spawn(honeyward::sink::run_sink(run));
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..RATE_EVENTS {
        tick.tick().await;
        events.emit(event(i)).await;
    }
    let mut lat = tokio::task::spawn_blocking(move || receiver.join().expect("receiver")).await.expect("join");
    drop(events);
    writer.join().await;
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    lat.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "end-to-end at 1,000 events/s ({} events): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 50 ms)",
        lat.len(),
        q(0.5),
        q(0.99),
        lat[lat.len() - 1]
    );
}

/// The store writer with no sinks to wait for (retention as configured: none).
fn spawn_writer(
    config: &honeyward::config::Config,
    bus_rx: tokio::sync::mpsc::Receiver<honeyward::event::Event>,
    handoff: honeyward::store::Handoff,
) -> honeyward::store::WriterHandle {
    let retention = honeyward::store::Retention::new(config.store.retention, vec![]);
    honeyward::store::spawn_writer(&config.store, retention, config.sensor.name.clone(), bus_rx, handoff).expect("writer")
}
