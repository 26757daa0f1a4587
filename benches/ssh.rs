//! SSH decoy benchmark: handshake + one password attempt per connection at
//! concurrency 64 against the release binary (a separate process, so its CPU time is
//! its own), every attempt checked in the store, with failure delay 0 and again with
//! a 2 s delay (the CPU per attempt must not rise); then the RSS cost of 2,000 idle
//! pre-auth connections; then event -> file-sink latency at concurrency 16 (each
//! password event's creation time against when its line appeared in the sink file).
//! The personality is Debian 12's with MaxStartups raised past the load (the real
//! 10:30:100 would turn most of it away, as it would for sshd). `HW_BENCH_LEGACY=1`
//! runs the same load against a build from before the own transport (it cannot read
//! the new personality file, so it runs its built-in one).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench ssh`
//! (`HW_BENCH_BIN` points at another binary; `HW_BENCH_DELAYS=2000` runs only the
//! phases with those failure delays; `HW_BENCH_FLUSH_MS` sets the store's group-commit
//! interval). Each CPU phase starts with one unmeasured wave of `concurrency`
//! attempts. Loopback only; bounded by count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const CONCURRENCY: usize = 64;
const ATTEMPTS: u64 = 20_000;
const TIME_LIMIT: Duration = Duration::from_secs(20);
const IDLE_CONNECTIONS: usize = 2_000;
const LATENCY_CONCURRENCY: usize = 16;
const LATENCY_ATTEMPTS: u64 = 3_000;

#[path = "common/process.rs"]
mod process;
use process::{cpu_seconds, rss_kib};
#[path = "common/ssh_load.rs"]
mod ssh_load;

/// The decoy's configuration: Debian 12's personality with MaxStartups raised (new
/// builds), failure delay `delay_ms`, and a file sink when `sink` (the CPU figures are
/// taken without one, as before, so they compare with earlier runs).
fn config(dir: &std::path::Path, delay_ms: u64, sink: bool) -> String {
    let personality = if std::env::var("HW_BENCH_LEGACY").is_ok() {
        String::new()
    } else {
        let path = ssh_load::raised_personality(dir);
        // HW_BENCH_NO_BANNER_DELAY=1: what the imitated fork delay costs.
        if std::env::var("HW_BENCH_NO_BANNER_DELAY").is_ok() {
            let raised = std::fs::read_to_string(&path).expect("personality copy");
            std::fs::write(&path, raised.replace("banner_delay_ms: [8, 10]", "banner_delay_ms: [0, 0]")).expect("personality copy");
        }
        format!("    personality: {}\n", path.display())
    };
    // HW_BENCH_FLUSH_MS=N: the store's group-commit interval (default 2 ms).
    let flush = std::env::var("HW_BENCH_FLUSH_MS").map(|ms| format!("  flush_interval_ms: {ms}\n")).unwrap_or_default();
    let sinks = if sink { "sinks:\n  - name: file\n    type: file\n    path: events.jsonl\n" } else { "" };
    format!(
        "store:\n  path: bench.db\n  sync: normal\n{flush}decoys:\n  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n{personality}    failure_delay_ms: {delay_ms}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n      idle_timeout_seconds: 120\n      session_timeout_seconds: 300\n{sinks}"
    )
}

/// Handshake + one wrong password per connection at `concurrency` until `attempts`
/// or `limit`; returns (completed, errors, seconds, server CPU seconds).
fn attempts(rt: &tokio::runtime::Runtime, addr: std::net::SocketAddr, pid: u32, concurrency: usize, attempts: u64, limit: Duration) -> (u64, u64, f64, f64) {
    let cpu_before = cpu_seconds(pid);
    let (done, errors, secs) = ssh_load::attempts(rt, addr, concurrency, attempts, limit);
    (done, errors, secs, cpu_seconds(pid) - cpu_before)
}

fn stored_passwords(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join("bench.db")).expect("store");
    db.query_row("SELECT count(*) FROM events WHERE kind = 200 AND body LIKE '%\"method\":\"password\"%'", [], |r| r.get(0)).unwrap_or(-1)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    // HW_BENCH_DELAYS=2000: only the phases with these failure delays (and no sink phase).
    let delays: Vec<u64> = std::env::var("HW_BENCH_DELAYS").map(|d| d.split(',').filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|_| vec![0, 2000]);
    for &delay_ms in &delays {
        let dir = tempfile::tempdir().expect("temp dir");
        let decoy = process::start(dir.path(), &config(dir.path(), delay_ms, false));
        // With a 2 s delay each connection lives 2 s: fewer attempts in the same time.
        let (target, limit) = if delay_ms == 0 { (ATTEMPTS, TIME_LIMIT) } else { (2_000, Duration::from_secs(40)) };
        let concurrency = if delay_ms == 0 { CONCURRENCY } else { 256 };
        // Warm-up: one wave of `concurrency` attempts first, so that the process's
        // one-time costs (heap and page-cache growth to the high-water mark, lazily
        // built tables) are not spread over the measured attempts; the 2 s phase has
        // ten times fewer attempts and would otherwise carry ten times more of them.
        let (warm, warm_errors, _, warm_cpu) = attempts(&rt, decoy.addr, decoy.pid, concurrency, concurrency as u64, limit);
        println!(
            "failure delay {delay_ms} ms, warm-up: {warm} attempts ({warm_errors} errors), server CPU {:.3} ms per attempt (not counted below)",
            warm_cpu * 1000.0 / warm.max(1) as f64
        );
        let (n, errors, secs, cpu) = attempts(&rt, decoy.addr, decoy.pid, concurrency, target, limit);
        println!(
            "failure delay {delay_ms} ms: {n} attempts in {secs:.2} s = {:.0} handshake+password attempts/s at concurrency {concurrency} ({errors} errors)",
            n as f64 / secs
        );
        println!("  server CPU: {cpu:.2} s = {:.3} ms per attempt (client runs on the same 2 cores)", cpu * 1000.0 / n.max(1) as f64);
        std::thread::sleep(Duration::from_secs(2));
        println!("  stored password attempts: {} (client completed {})", stored_passwords(dir.path()), warm + n);
        if delay_ms == 0 {
            idle_rss(decoy.pid, decoy.addr);
        }
        decoy.stop();
    }
    if std::env::var("HW_BENCH_DELAYS").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let decoy = process::start(dir.path(), &config(dir.path(), 0, true));
    sink_latency(&rt, dir.path(), decoy.addr, decoy.pid);
    decoy.stop();
}

/// RSS per idle pre-auth connection (banner read, then silent).
fn idle_rss(pid: u32, addr: std::net::SocketAddr) {
    std::thread::sleep(Duration::from_secs(3));
    let before = rss_kib(pid);
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            let mut banner = [0u8; 8];
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.read_exact(&mut banner);
            idle.push(s);
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_kib(pid);
    println!(
        "  idle pre-auth connections: {} held, RSS {before} KiB -> {after} KiB = {:.1} KiB per connection",
        idle.len(),
        (after.saturating_sub(before)) as f64 / idle.len().max(1) as f64
    );
    drop(idle);
    std::thread::sleep(Duration::from_secs(2));
}

/// Event -> file sink latency at concurrency 16: a reader polls the sink file every
/// 0.5 ms and notes when each password event's line appears.
fn sink_latency(rt: &tokio::runtime::Runtime, dir: &std::path::Path, addr: std::net::SocketAddr, pid: u32) {
    let path = dir.join("events.jsonl");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let mut latencies = Vec::new();
            let mut pending = String::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut f) = std::fs::File::open(&path) {
                    use std::io::{Seek, SeekFrom};
                    let _ = f.seek(SeekFrom::Start(offset));
                    let mut chunk = String::new();
                    let n = f.read_to_string(&mut chunk).unwrap_or(0);
                    offset += n as u64;
                    let seen = chrono::Utc::now();
                    pending.push_str(&chunk);
                    while let Some(i) = pending.find('\n') {
                        let line: String = pending.drain(..=i).collect();
                        if !line.contains("\"method\":\"password\"") {
                            continue;
                        }
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                            if let Some(t) = v["time"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
                                latencies.push((seen - t.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1000.0);
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            latencies
        })
    };
    let (n, errors, _, _) = attempts(rt, addr, pid, LATENCY_CONCURRENCY, LATENCY_ATTEMPTS, TIME_LIMIT);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let mut l = reader.join().expect("reader");
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    println!(
        "  event -> file sink at concurrency {LATENCY_CONCURRENCY}: {} password events seen for {n} attempts ({errors} errors): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        pct(0.5),
        pct(0.99),
        l.last().copied().unwrap_or(f64::NAN)
    );
}
