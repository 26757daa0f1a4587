//! End-to-end performance benchmarks for honeyward (no external harness).
//!
//! Run with:
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench pipeline
//! ```
//!
//! (`cargo bench` also builds `$CARGO_TARGET_DIR/release/honeyward`, which the idle-RSS
//! section runs. A full run takes about 6 minutes, most of it spent waiting for
//! TIME_WAIT sockets to drain between TCP runs. Results and method: BENCHMARKS.md.)
//!
//! Sections (all traffic goes to 127.0.0.1 only; every loop is bounded in count and time):
//!
//! 1. `store`   — store writer throughput: N events through `EventSender::emit` into
//!    `store::spawn_writer`, timed until the committed watch reaches N (sync full/normal).
//! 2. `latency` — commit latency at a paced 10,000 events/s for ~5 s (sync full/normal).
//! 3. `tcp`     — TCP decoy connections/s through `app::start` (client tasks loop
//!    connect → read banner → close), with the client in the same process and in a
//!    separate process (this binary re-executed), closing with FIN or RST, from one or
//!    eight loopback source addresses; then every connection is checked in the store
//!    (one `connection_opened` and one `connection_closed` per session). The same client
//!    against a minimal tokio banner server that records nothing gives the ceiling of
//!    this machine and client. Each run starts once TIME_WAIT sockets have drained.
//! 4. `rss`     — idle RSS of the release `honeyward run` binary.
//!
//! Environment knobs (all optional):
//!
//! | variable               | default                                    |
//! |------------------------|--------------------------------------------|
//! | `HW_BENCH_ONLY`        | all sections; e.g. `store,latency`         |
//! | `HW_BENCH_EVENTS`      | 500000 (section 1)                         |
//! | `HW_BENCH_RATE`        | 10000 events/s (section 2)                 |
//! | `HW_BENCH_LAT_SECS`    | 5 (section 2)                              |
//! | `HW_BENCH_CONNS`       | 100000 connections per run (section 3)     |
//! | `HW_BENCH_CONN_SECS`   | 15 s per run (section 3)                   |
//! | `HW_BENCH_CLIENTS`     | 32 concurrent client tasks (section 3)     |
//! | `HW_BENCH_TW_SETTLE`   | 1: before each TCP run wait (<= 75 s) for  |
//! |                        | TIME_WAIT sockets to drain; 0: don't wait  |
//! | `HW_BENCH_BIN`         | /tmp/hw-bench-target/release/honeyward     |

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use honeyward::config::{Config, StoreConfig};
use honeyward::event::{AttackerBytes, CloseReason, Event, EventId, EventKind, Timestamp};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// Set in the child process that acts as the TCP client (section 3, separate process).
const CLIENT_ROLE_VAR: &str = "HW_BENCH_CLIENT_ROLE";
const BANNER: &str = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().replace('_', "").parse().ok()).unwrap_or(default)
}

fn wants(section: &str) -> bool {
    match std::env::var("HW_BENCH_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|s| s.trim() == section),
        _ => true,
    }
}

/// One row of the final table.
struct Row {
    measure: String,
    result: String,
    target: String,
    met: Option<bool>,
}

fn main() {
    // Child-process TCP client (section 3b).
    if let Ok(spec) = std::env::var(CLIENT_ROLE_VAR) {
        std::process::exit(client_process_main(&spec));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut rows: Vec<Row> = Vec::new();
    println!("honeyward pipeline benchmark — {} CPU(s), {}", cpus(), cpu_model());
    println!();

    if wants("store") {
        let n = env_u64("HW_BENCH_EVENTS", 500_000);
        for sync in ["full", "normal"] {
            match runtime.block_on(store_throughput(sync, n)) {
                Ok(r) => {
                    println!(
                        "[store sync={sync}] {} events in {:.3} s = {:.0} events/s ({} commits seen, {} events/commit avg); emit-side only {:.0} events/s",
                        r.events,
                        r.secs,
                        r.rate,
                        r.commits,
                        r.events / r.commits.max(1),
                        r.emit_rate
                    );
                    println!(
                        "    store-writer thread: {:.2} CPU-s ({:.2} µs/event), {} sleeps/wakeups",
                        r.writer_cpu,
                        r.writer_cpu * 1e6 / r.events as f64,
                        r.writer_wakeups
                    );
                    rows.push(Row {
                        measure: format!("store writer throughput, sync {sync}"),
                        result: format!("{:.0} events/s", r.rate),
                        target: ">= 100,000 events/s".into(),
                        met: Some(r.rate >= 100_000.0),
                    });
                }
                Err(e) => {
                    println!("[store sync={sync}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("store writer throughput, sync {sync}"),
                        result: format!("error: {e}"),
                        target: ">= 100,000 events/s".into(),
                        met: Some(false),
                    });
                }
            }
        }
        // Where the time goes: the per-event CPU costs outside SQLite.
        let (make, ser) = per_event_costs(200_000);
        println!("[store] per event: build {make:.2} µs, serde_json::to_string {ser:.2} µs (single thread)");
        println!();
    }

    if wants("latency") {
        // Section 1 leaves hundreds of MB of freshly written (and deleted) store files
        // behind; flush them so their write-back does not land in the first fsyncs here.
        settle_disk();
        let rate = env_u64("HW_BENCH_RATE", 10_000);
        let secs = env_u64("HW_BENCH_LAT_SECS", 5);
        for sync in ["full", "normal"] {
            match runtime.block_on(commit_latency(sync, rate, Duration::from_secs(secs))) {
                Ok(r) => {
                    println!(
                        "[latency sync={sync}] {} events at {:.0}/s offered ({:.0}/s achieved): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; {} commits",
                        r.events, rate as f64, r.achieved_rate, ms(r.p50), ms(r.p99), ms(r.p999), ms(r.max), r.commits
                    );
                    println!("    store-writer thread: {:.2} CPU-s, {} sleeps/wakeups for {} events", r.writer_cpu, r.writer_wakeups, r.events);
                    rows.push(Row {
                        measure: format!("commit latency @ {rate}/s, sync {sync}"),
                        result: format!("p50 {:.2} / p99 {:.2} / max {:.2} ms", ms(r.p50), ms(r.p99), ms(r.max)),
                        target: "p99 <= 20 ms".into(),
                        met: Some(r.p99 <= Duration::from_millis(20)),
                    });
                }
                Err(e) => {
                    println!("[latency sync={sync}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("commit latency, sync {sync}"),
                        result: format!("error: {e}"),
                        target: "p99 <= 20 ms".into(),
                        met: Some(false),
                    });
                }
            }
        }
        println!();
    }

    if wants("tcp") {
        let total = env_u64("HW_BENCH_CONNS", 100_000);
        let secs = env_u64("HW_BENCH_CONN_SECS", 15);
        let clients = env_u64("HW_BENCH_CLIENTS", 32).max(1) as usize;
        let settle = env_u64("HW_BENCH_TW_SETTLE", 1) != 0;
        let runs = [
            TcpRun { server: Server::Honeyward, sync: "full", separate: false, rst: false, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: false, sources: 1 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: false, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: false, sources: 8 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: false, sources: 8 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: true, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "normal", separate: true, rst: true, sources: 1 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: true, sources: 1 },
        ];
        for run in runs {
            let label = run.label();
            // Client-side TIME_WAIT sockets from the previous run make connect() slower
            // (port search) or, past net.ipv4.tcp_max_tw_buckets, faster (no TIME_WAIT
            // kept at all): start each run from a drained table so runs are comparable.
            if settle {
                let waited = settle_time_wait(500, Duration::from_secs(75));
                if waited > Duration::from_secs(1) {
                    println!("    (waited {:.0} s for TIME_WAIT sockets to expire)", waited.as_secs_f64());
                }
            }
            let tw = time_wait_sockets();
            match runtime.block_on(tcp_conn_rate(&run, total, Duration::from_secs(secs), clients)) {
                Ok(r) => {
                    println!(
                        "[tcp {label}] {} completed ({} connect errors, {} read errors) in {:.2} s = {:.0} conn/s (TIME_WAIT sockets at start: {tw})",
                        r.client.completed, r.client.connect_errors, r.client.read_errors, r.client.secs, r.rate
                    );
                    println!("    completions per second: {:?}", r.client.timeline);
                    println!("    CPU: {}", r.cpu);
                    if let Some(s) = &r.store {
                        println!(
                            "    store: {} connection_opened, {} connection_closed, {} sessions without exactly one of each, {} connections_refused events; stop took {:.2} s",
                            s.opened, s.closed, s.unpaired_sessions, s.refused_events, r.stop_secs
                        );
                    } else {
                        println!("    (no store: plain tokio banner server, served {})", r.served);
                    }
                    let (result, met) = match &r.store {
                        Some(s) => {
                            let recorded = s.opened >= r.client.completed && s.opened == s.closed && s.unpaired_sessions == 0;
                            (
                                format!("{:.0} conn/s; {} done, {}/{} opened/closed stored", r.rate, r.client.completed, s.opened, s.closed),
                                Some(r.rate >= 20_000.0 && recorded),
                            )
                        }
                        None => (format!("{:.0} conn/s (reference, records nothing)", r.rate), None),
                    };
                    rows.push(Row { measure: format!("TCP conn/s: {label}"), result, target: ">= 20,000 conn/s, all recorded".into(), met });
                }
                Err(e) => {
                    println!("[tcp {label}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("TCP conn/s: {label}"),
                        result: format!("error: {e}"),
                        target: ">= 20,000 conn/s, all recorded".into(),
                        met: Some(false),
                    });
                }
            }
        }
        println!();
    }

    if wants("rss") {
        match idle_rss() {
            Ok(r) => {
                println!("[rss] `{}` ({}): VmRSS {:.1} MiB, VmHWM {:.1} MiB after 2 s idle", r.command, r.config, kib_to_mib(r.rss_kib), kib_to_mib(r.hwm_kib));
                rows.push(Row {
                    measure: "idle RSS of `honeyward run`".into(),
                    result: format!("{:.1} MiB (VmRSS)", kib_to_mib(r.rss_kib)),
                    target: "<= 20 MiB".into(),
                    met: Some(r.rss_kib <= 20 * 1024),
                });
            }
            Err(e) => {
                println!("[rss] FAILED: {e}");
                rows.push(Row { measure: "idle RSS of `honeyward run`".into(), result: format!("error: {e}"), target: "<= 20 MiB".into(), met: None });
            }
        }
        println!();
    }

    print_table(&rows);
}

// ---------------------------------------------------------------------------------
// Helpers

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib_to_mib(k: u64) -> f64 {
    k as f64 / 1024.0
}

fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

fn print_table(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.measure.len()).max().unwrap_or(0).max("measure".len());
    let w1 = rows.iter().map(|r| r.result.len()).max().unwrap_or(0).max("result".len());
    let w2 = rows.iter().map(|r| r.target.len()).max().unwrap_or(0).max("target".len());
    println!("| {:w0$} | {:w1$} | {:w2$} | met |", "measure", "result", "target");
    println!("|{}|{}|{}|-----|", "-".repeat(w0 + 2), "-".repeat(w1 + 2), "-".repeat(w2 + 2));
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("| {:w0$} | {:w1$} | {:w2$} | {met:3} |", r.measure, r.result, r.target);
    }
}

fn parse_config(yaml: &str) -> Res<Config> {
    honeyward::config::parse_str("bench", yaml).map_err(|e| format!("bench config rejected: {e}").into())
}

fn store_config(dir: &Path, sync: &str) -> Res<StoreConfig> {
    let yaml = format!("store:\n  path: {}\n  sync: {sync}\n", dir.join("bench.db").display());
    Ok(parse_config(&yaml)?.store)
}

/// A realistic event as a TCP decoy would record it: alternating `data_received`
/// (~50 bytes of attacker input) and `connection_closed`.
fn make_event(i: u64) -> Event {
    let source: SocketAddr = SocketAddr::from(([198, 51, 100, (i % 250) as u8 + 1], 40000 + (i % 20000) as u16));
    let destination: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 2323));
    let kind = if i % 2 == 0 {
        EventKind::DataReceived { data: AttackerBytes::new(&b"GET /cgi-bin/luci;stok=/locale?form=country HTTP/1.1"[..]), truncated: false }
    } else {
        EventKind::ConnectionClosed { duration_ms: 1200 + i % 1000, bytes_in: 52, bytes_out: 40, reason: CloseReason::PeerClosed }
    };
    Event {
        id: EventId::new(),
        time: Timestamp::now(),
        sensor: "ward-3-sensor".into(),
        decoy: Some("tcp-banner".into()),
        source: Some(source),
        destination: Some(destination),
        session: Some(EventId::new()),
        kind,
        token: None,
    }
}

/// Waits until the committed sequence number reaches `n`, or the deadline passes.
async fn wait_committed(rx: &mut watch::Receiver<u64>, n: u64, deadline: Instant) -> Res<u64> {
    loop {
        let now = *rx.borrow_and_update();
        if now >= n {
            return Ok(now);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out: only {now} of {n} events committed").into());
        }
        match tokio::time::timeout(left, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(format!("writer stopped at {now} of {n} events").into()),
            Err(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// 1. Store writer throughput

struct Throughput {
    events: u64,
    secs: f64,
    rate: f64,
    commits: u64,
    emit_rate: f64,
    writer_cpu: f64,
    writer_wakeups: u64,
}

async fn store_throughput(sync: &str, n: u64) -> Res<Throughput> {
    let dir = tempfile::tempdir()?;
    let store = store_config(dir.path(), sync)?;
    let (events, bus_rx) = honeyward::pipeline::bus(store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, mut committed_rx) = watch::channel(0u64);
    let writer = honeyward::store::spawn_writer(&store, bus_rx, committed_tx)?;

    // Count how many distinct commits the watcher sees (a lower bound on commits).
    let mut counter_rx = committed_rx.clone();
    let commit_counter = tokio::spawn(async move {
        let mut seen = 0u64;
        while counter_rx.changed().await.is_ok() {
            seen += 1;
            if *counter_rx.borrow_and_update() >= n {
                break;
            }
        }
        seen
    });

    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            events.emit(make_event(i)).await;
        }
        start.elapsed()
    });
    wait_committed(&mut committed_rx, n, start + Duration::from_secs(300)).await?;
    let secs = start.elapsed().as_secs_f64();
    let (writer_cpu, writer_wakeups) = writer_thread_stats(); // before the thread exits
    let emit_elapsed = producer.await?;
    writer.join().await;
    let commits = tokio::time::timeout(Duration::from_secs(5), commit_counter).await.ok().and_then(|r| r.ok()).unwrap_or(0);
    Ok(Throughput { events: n, secs, rate: n as f64 / secs, commits, emit_rate: n as f64 / emit_elapsed.as_secs_f64(), writer_cpu, writer_wakeups })
}

/// Single-thread CPU cost per event of building it and of its JSON encoding (µs).
fn per_event_costs(n: u64) -> (f64, f64) {
    let t = Instant::now();
    let events: Vec<Event> = (0..n).map(make_event).collect();
    let make = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    let mut bytes = 0usize;
    for e in &events {
        bytes += serde_json::to_string(e).map(|s| s.len()).unwrap_or(0);
    }
    let ser = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    std::hint::black_box(bytes);
    (make, ser)
}

// ---------------------------------------------------------------------------------
// 2. Commit latency at a paced rate

struct Latency {
    events: usize,
    achieved_rate: f64,
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
    commits: u64,
    writer_cpu: f64,
    writer_wakeups: u64,
}

async fn commit_latency(sync: &str, rate: u64, duration: Duration) -> Res<Latency> {
    let dir = tempfile::tempdir()?;
    let store = store_config(dir.path(), sync)?;
    let (events, bus_rx) = honeyward::pipeline::bus(store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, mut committed_rx) = watch::channel(0u64);
    let writer = honeyward::store::spawn_writer(&store, bus_rx, committed_tx)?;
    let n = (rate as f64 * duration.as_secs_f64()).round().max(1.0) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);

    // Watcher: each time the committed seq advances, events 1..=seq are committed now.
    let mut watch_rx = committed_rx.clone();
    let watcher = tokio::spawn(async move {
        let mut commits: Vec<(u64, Instant)> = Vec::with_capacity(n);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let seq = *watch_rx.borrow_and_update();
            if seq > commits.last().map_or(0, |c| c.0) {
                commits.push((seq, Instant::now()));
            }
            if seq >= n as u64 {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, watch_rx.changed()).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        commits
    });

    let producer = tokio::spawn(async move {
        let mut emitted: Vec<Instant> = Vec::with_capacity(n);
        let start = tokio::time::Instant::now();
        for i in 0..n {
            let due = start + interval * i as u32;
            if tokio::time::Instant::now() < due {
                tokio::time::sleep_until(due).await;
            }
            let e = make_event(i as u64);
            emitted.push(Instant::now());
            events.emit(e).await;
        }
        let secs = start.elapsed().as_secs_f64();
        (emitted, secs)
    });
    let (emitted, secs) = producer.await?;
    wait_committed(&mut committed_rx, n as u64, Instant::now() + Duration::from_secs(60)).await?;
    let commits = watcher.await?;
    let (writer_cpu, writer_wakeups) = writer_thread_stats(); // before the thread exits
    writer.join().await;

    let mut latencies: Vec<Duration> = Vec::with_capacity(n);
    let mut c = 0usize;
    for (i, at) in emitted.iter().enumerate() {
        let seq = i as u64 + 1; // fresh store: the i-th emitted event gets seq i+1
        while c < commits.len() && commits[c].0 < seq {
            c += 1;
        }
        let Some(&(_, committed_at)) = commits.get(c) else { return Err(format!("event {seq} never seen committed").into()) };
        latencies.push(committed_at.saturating_duration_since(*at));
    }
    latencies.sort();
    let q = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    Ok(Latency {
        events: n,
        achieved_rate: n as f64 / secs,
        p50: q(0.50),
        p99: q(0.99),
        p999: q(0.999),
        max: *latencies.last().unwrap_or(&Duration::ZERO),
        commits: commits.len() as u64,
        writer_cpu,
        writer_wakeups,
    })
}

// ---------------------------------------------------------------------------------
// 3. TCP decoy connections per second

#[derive(Clone, Copy, PartialEq)]
enum Server {
    /// honeyward itself via `app::start`.
    Honeyward,
    /// A minimal tokio server doing the same protocol but recording nothing: the
    /// ceiling this machine and client reach for connect → banner → close.
    Baseline,
}

struct TcpRun {
    server: Server,
    sync: &'static str,
    separate: bool,
    /// Client closes with SO_LINGER 0 (RST) instead of FIN: no TIME_WAIT on the client.
    rst: bool,
    /// Client source addresses used round-robin: 127.0.0.1 ..= 127.0.0.N.
    sources: u8,
}

impl TcpRun {
    fn label(&self) -> String {
        let server = match self.server {
            Server::Honeyward => format!("honeyward sync {}", self.sync),
            Server::Baseline => "baseline tokio server".to_string(),
        };
        let client = if self.separate { "client process" } else { "same process" };
        let close = if self.rst { "RST close" } else { "FIN close" };
        let src = if self.sources > 1 { format!(", {} src IPs", self.sources) } else { String::new() };
        format!("{server}, {client}, {close}{src}")
    }
}

#[derive(Default, Debug)]
struct ClientResult {
    completed: u64,
    connect_errors: u64,
    read_errors: u64,
    secs: f64,
    /// Completed connections in each whole second of the run.
    timeline: Vec<u64>,
}

/// `clients` tasks loop connect → read the whole banner → close, until `total`
/// connections have been started or `limit` has passed.
async fn run_client(addr: SocketAddr, total: u64, limit: Duration, clients: usize, banner_len: usize, rst: bool, sources: u8) -> ClientResult {
    let started = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let connect_errors = Arc::new(AtomicU64::new(0));
    let read_errors = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let deadline = t0 + limit;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (started, completed, connect_errors, read_errors) = (started.clone(), completed.clone(), connect_errors.clone(), read_errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; banner_len];
            loop {
                let k = started.fetch_add(1, Ordering::Relaxed);
                if k >= total || Instant::now() >= deadline {
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
                let source = Ipv4Addr::new(127, 0, 0, 1 + (k % u64::from(sources.max(1))) as u8);
                let stream = match tokio::time::timeout(left.min(Duration::from_secs(5)), connect_from(source, sources > 1, addr)).await {
                    Ok(Ok(s)) => s,
                    _ => {
                        connect_errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let mut stream = stream;
                match tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf)).await {
                    Ok(Ok(_)) => {
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        read_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if rst {
                    let _ = stream.set_zero_linger();
                }
                drop(stream);
            }
        }));
    }
    // Sample progress once a second (bounded by the run's deadline plus the 10 s of
    // per-operation timeouts a task can still be in).
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (completed, done) = (completed.clone(), done.clone());
        tokio::spawn(async move {
            let mut timeline = Vec::new();
            let mut last = 0;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
            for _ in 0..(limit.as_secs() + 11) {
                tick.tick().await;
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let now = completed.load(Ordering::Relaxed);
                timeline.push(now - last);
                last = now;
            }
            timeline
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    let secs = t0.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut timeline = sampler.await.unwrap_or_default();
    let whole = secs.floor() as usize;
    timeline.truncate(whole);
    ClientResult {
        completed: completed.load(Ordering::Relaxed),
        connect_errors: connect_errors.load(Ordering::Relaxed),
        read_errors: read_errors.load(Ordering::Relaxed),
        secs,
        timeline,
    }
}
/// Connects to `addr`; with `bind`, from `source` (port chosen at connect time, so
/// each source address has its own ephemeral-port space).
async fn connect_from(source: Ipv4Addr, bind: bool, addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    if !bind {
        return tokio::net::TcpStream::connect(addr).await;
    }
    use std::os::fd::AsRawFd;
    let socket = tokio::net::TcpSocket::new_v4()?;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on a socket we own, with a correctly sized int option.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(addr).await
}

/// Entry point of the child process: spec is `ADDR,TOTAL,SECS,CLIENTS,BANNER_LEN,RST,SOURCES`;
/// prints `completed connect_errors read_errors secs t1 t2 ...` on stdout.
fn client_process_main(spec: &str) -> i32 {
    let parts: Vec<&str> = spec.split(',').collect();
    let parsed = (|| -> Option<(SocketAddr, u64, u64, usize, usize, bool, u8)> {
        Some((
            parts.first()?.parse().ok()?,
            parts.get(1)?.parse().ok()?,
            parts.get(2)?.parse().ok()?,
            parts.get(3)?.parse().ok()?,
            parts.get(4)?.parse().ok()?,
            parts.get(5)?.parse().ok()?,
            parts.get(6)?.parse().ok()?,
        ))
    })();
    let Some((addr, total, secs, clients, banner_len, rst, sources)) = parsed else {
        eprintln!("bad client spec {spec:?}");
        return 2;
    };
    if !addr.ip().is_loopback() {
        eprintln!("refusing non-loopback target {addr}");
        return 2;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return 2;
        }
    };
    let r = rt.block_on(run_client(addr, total, Duration::from_secs(secs), clients, banner_len, rst, sources));
    let timeline: Vec<String> = r.timeline.iter().map(u64::to_string).collect();
    println!("{} {} {} {} {}", r.completed, r.connect_errors, r.read_errors, r.secs, timeline.join(" "));
    0
}

async fn client_in_child(addr: SocketAddr, total: u64, limit: Duration, clients: usize, rst: bool, sources: u8) -> Res<ClientResult> {
    let exe = std::env::current_exe()?;
    let spec = format!("{addr},{total},{},{clients},{},{rst},{sources}", limit.as_secs().max(1), BANNER.len());
    let wait_limit = limit + Duration::from_secs(30);
    let out = tokio::task::spawn_blocking(move || -> Res<std::process::Output> {
        let mut child = std::process::Command::new(exe)
            .env(CLIENT_ROLE_VAR, spec)
            .env_remove("HW_BENCH_ONLY")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let deadline = Instant::now() + wait_limit;
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("client process timed out".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(child.wait_with_output()?)
    })
    .await??;
    if !out.status.success() {
        return Err(format!("client process failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).ok_or_else(|| format!("bad client output {text:?}"));
    Ok(ClientResult {
        completed: num(0)?,
        connect_errors: num(1)?,
        read_errors: num(2)?,
        secs: f.get(3).and_then(|s| s.parse().ok()).ok_or("bad client secs")?,
        timeline: f.iter().skip(4).filter_map(|s| s.parse().ok()).collect(),
    })
}

/// CPU seconds (user + system) per thread name in this process, and for the whole
/// process (dead threads included).
fn process_cpu() -> (f64, Vec<(String, f64)>) {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let parse = |text: &str| -> Option<(String, f64)> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let name = text[open + 1..close].to_string();
        let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
        // After the name: state is field 3; utime is field 14 and stime field 15.
        let utime: f64 = rest.get(11)?.parse().ok()?;
        let stime: f64 = rest.get(12)?.parse().ok()?;
        Some((name, (utime + stime) / hz))
    };
    let total = std::fs::read_to_string("/proc/self/stat").ok().and_then(|t| parse(&t)).map_or(0.0, |p| p.1);
    let mut threads: Vec<(String, f64)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            if let Some((name, secs)) = std::fs::read_to_string(entry.path().join("stat")).ok().and_then(|t| parse(&t)) {
                match threads.iter_mut().find(|(n, _)| *n == name) {
                    Some(t) => t.1 += secs,
                    None => threads.push((name, secs)),
                }
            }
        }
    }
    (total, threads)
}

/// Live `store-writer` threads of this process: (CPU seconds, voluntary context
/// switches, i.e. how often the writer went to sleep and was woken again).
fn writer_thread_stats() -> (f64, u64) {
    let (_, threads) = process_cpu();
    let cpu = threads.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let mut switches = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else { continue };
            if status.lines().next().is_some_and(|l| l.trim_start_matches("Name:").trim() == "store-writer") {
                switches += status
                    .lines()
                    .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    (cpu, switches)
}

/// CPU seconds used by waited-for child processes so far.
fn children_cpu() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Waits (bounded) until at most `max` TIME_WAIT sockets are left; returns the time waited.
fn settle_time_wait(max: u64, limit: Duration) -> Duration {
    let t = Instant::now();
    while time_wait_sockets() > max && t.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
    }
    t.elapsed()
}

/// Flushes dirty pages to disk and pauses briefly, so a section starts on a quiet disk.
fn settle_disk() {
    // SAFETY: sync(2) has no arguments and cannot fail.
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(2));
}

/// TIME_WAIT sockets on this machine (from /proc/net/sockstat).
fn time_wait_sockets() -> u64 {
    std::fs::read_to_string("/proc/net/sockstat")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("TCP:"))?.to_string();
            let words: Vec<&str> = line.split_whitespace().collect();
            let i = words.iter().position(|w| *w == "tw")?;
            words.get(i + 1)?.parse().ok()
        })
        .unwrap_or(0)
}

struct StoreCounts {
    opened: u64,
    closed: u64,
    unpaired_sessions: u64,
    refused_events: u64,
}

struct TcpResult {
    client: ClientResult,
    rate: f64,
    cpu: String,
    store: Option<StoreCounts>,
    served: u64,
    stop_secs: f64,
}

/// Minimal tokio banner server: accept → nodelay → banner → read until EOF → close.
async fn baseline_server(listener: tokio::net::TcpListener, stop: honeyward::pipeline::Shutdown, served: Arc<AtomicU64>) {
    use tokio::io::AsyncWriteExt;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        let Ok((mut stream, _)) = accepted else { continue };
        let served = served.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            if stream.write_all(BANNER.as_bytes()).await.is_ok() {
                let mut buf = [0u8; 8192];
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                    if n == 0 {
                        break;
                    }
                }
            }
            served.fetch_add(1, Ordering::Relaxed);
        });
    }
}

async fn tcp_conn_rate(run: &TcpRun, total: u64, limit: Duration, clients: usize) -> Res<TcpResult> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let served = Arc::new(AtomicU64::new(0));
    let (addr, running, baseline_stop) = match run.server {
        Server::Honeyward => {
            let yaml = format!(
                "sensor:\n  name: bench\nstore:\n  path: {}\n  sync: {}\ndecoys:\n  - name: bench-tcp\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: {:?}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n",
                db.display(),
                run.sync,
                BANNER
            );
            let config = parse_config(&yaml)?;
            let running = honeyward::app::start(config, honeyward::pipeline::Shutdown::new()).await?;
            let addr = running.listeners.first().ok_or("no listener")?.addr;
            (addr, Some(running), None)
        }
        Server::Baseline => {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
            let listener = socket.listen(4096)?;
            let addr = listener.local_addr()?;
            let stop = honeyward::pipeline::Shutdown::new();
            tokio::spawn(baseline_server(listener, stop.clone(), served.clone()));
            (addr, None, Some(stop))
        }
    };
    if !addr.ip().is_loopback() {
        return Err(format!("server bound to non-loopback {addr}").into());
    }

    let (cpu0, threads0) = process_cpu();
    let child0 = children_cpu();
    let wake0 = writer_thread_stats().1;
    let client = if run.separate {
        client_in_child(addr, total, limit, clients, run.rst, run.sources).await?
    } else {
        run_client(addr, total, limit, clients, BANNER.len(), run.rst, run.sources).await
    };
    let (cpu1, threads1) = process_cpu();
    let child1 = children_cpu();
    let wake1 = writer_thread_stats().1;
    let rate = client.completed as f64 / client.secs;
    let writer0 = threads0.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let writer1 = threads1.iter().find(|t| t.0 == "store-writer").map_or(0.0, |t| t.1);
    let budget = client.secs * cpus() as f64;
    let who = if run.separate { "server process" } else { "server + client (one process)" };
    let mut cpu = format!("{who} {:.2} s", cpu1 - cpu0);
    if run.server == Server::Honeyward {
        cpu.push_str(&format!(" (store-writer thread {:.2} s, {} sleeps/wakeups)", writer1 - writer0, wake1 - wake0));
    }
    if run.separate {
        cpu.push_str(&format!(", client process {:.2} s", child1 - child0));
    }
    cpu.push_str(&format!(", of {:.2} CPU-s available ({:.2} s × {} cores)", budget, client.secs, cpus()));

    let t = Instant::now();
    let store = if let Some(running) = running {
        running.stop();
        tokio::time::timeout(Duration::from_secs(120), running.wait()).await.map_err(|_| "app did not stop within 120 s")?;
        Some(count_connections(&db)?)
    } else {
        if let Some(stop) = baseline_stop {
            stop.cancel();
        }
        None
    };
    let stop_secs = t.elapsed().as_secs_f64();
    Ok(TcpResult { client, rate, cpu, store, served: served.load(Ordering::Relaxed), stop_secs })
}

fn count_connections(db: &Path) -> Res<StoreCounts> {
    let id = |name: &str| EventKind::id_of(name).map(i64::from).ok_or_else(|| format!("unknown kind {name}"));
    let (opened_id, closed_id, refused_id) = (id("connection_opened")?, id("connection_closed")?, id("connections_refused")?);
    // Cross-check through the public reader as well as raw SQL.
    let reader = honeyward::store::StoreReader::open(db, false)?;
    let max_seq = reader.max_seq()?;
    drop(reader);
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |kind: i64| -> Res<u64> { Ok(conn.query_row("SELECT count(*) FROM events WHERE kind = ?1", [kind], |r| r.get::<_, i64>(0))? as u64) };
    let (opened, closed, refused_events) = (count(opened_id)?, count(closed_id)?, count(refused_id)?);
    let unpaired: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT session, sum(kind = ?1) AS o, sum(kind = ?2) AS c FROM events
           WHERE kind IN (?1, ?2) GROUP BY session) WHERE o != 1 OR c != 1",
        [opened_id, closed_id],
        |r| r.get(0),
    )?;
    let all: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    if all as u64 != max_seq {
        return Err(format!("store has {all} events but max seq {max_seq}").into());
    }
    Ok(StoreCounts { opened, closed, unpaired_sessions: unpaired as u64, refused_events })
}

// ---------------------------------------------------------------------------------
// 4. Idle RSS of the release binary

struct Rss {
    command: String,
    config: String,
    rss_kib: u64,
    hwm_kib: u64,
}

fn idle_rss() -> Res<Rss> {
    let bin = std::env::var("HW_BENCH_BIN").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/tmp/hw-bench-target/release/honeyward"));
    if !bin.is_file() {
        return Err(format!("{} not found: run `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release` first", bin.display()).into());
    }
    let dir = tempfile::tempdir()?;
    // The embedded quick-start listens on 127.0.0.1:2323; use it when that port is free,
    // else the same configuration with a port-0 decoy.
    let port_free = std::net::TcpListener::bind("127.0.0.1:2323").is_ok();
    let config = if port_free {
        "embedded quick-start (127.0.0.1:2323, ./honeyward.db, stdout sink)".to_string()
    } else {
        let yaml = "store:\n  path: ./honeyward.db\ndecoys:\n  - name: tcp-banner\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"\\r\\nUser Access Verification\\r\\n\\r\\nUsername: \"\nsinks:\n  - name: console\n    type: stdout\n";
        std::fs::write(dir.path().join("honeyward.yaml"), yaml)?;
        "quick-start with port 0 (2323 was busy)".to_string()
    };
    let mut child = std::process::Command::new(&bin)
        .arg("run")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(2));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
    let field =
        |s: &str, name: &str| -> Option<u64> { s.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()) };
    let exited_early = child.try_wait()?.is_some();
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let stop_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if Instant::now() > stop_deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if exited_early {
        return Err("honeyward exited before the measurement (port in use?)".into());
    }
    let status = status?;
    let rss_kib = field(&status, "VmRSS:").ok_or("no VmRSS")?;
    let hwm_kib = field(&status, "VmHWM:").unwrap_or(rss_kib);
    Ok(Rss { command: format!("{} run", bin.display()), config, rss_kib, hwm_kib })
}
