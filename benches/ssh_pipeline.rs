//! The pipeline under an SSH brute force, against the release binary (or
//! `HW_BENCH_BIN`), each figure from a process of its own:
//!
//! 1. `latency` — event → sink latency at concurrency 64 with `sync: full`: each
//!    password event's creation time against when its line appears in the file sink
//!    (polled every 0.5 ms) and when its frame reaches a syslog receiver (RFC 5424 over
//!    TCP, octet counting) in this process. 30,000 attempts (about 10 s), so that one
//!    slow disk flush (tens of ms, now and then on a virtual disk) weighs in the p99 as
//!    often as it happens, not as 1 % of a 2-second sample.
//! 2. `memory` — the quick-start with its console: RSS once idle, the peak (VmHWM)
//!    under an SSH load at concurrency 256, and RSS each second for 60 s after the load
//!    (idle: once past `resident::QUIET`, when the sensor gives memory back).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench ssh_pipeline`
//! (`HW_BENCH_ONLY=latency` or `memory`; `HW_BENCH_LATENCY_CONCURRENCY`,
//! `HW_BENCH_LATENCY_ATTEMPTS`, `HW_BENCH_SYNC`, `HW_BENCH_FLUSH_MS` change phase 1).
//! Loopback only; bounded by count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[path = "common/process.rs"]
mod process;
#[path = "common/ssh_load.rs"]
mod ssh_load;

const LATENCY_ATTEMPTS: u64 = 30_000;
const LATENCY_LIMIT: Duration = Duration::from_secs(60);
const MEMORY_CONCURRENCY: usize = 256;
const MEMORY_ATTEMPTS: u64 = 10_000;
const MEMORY_LIMIT: Duration = Duration::from_secs(20);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let only = std::env::var("HW_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only.contains("latency") {
        latency(&rt);
    }
    if only.is_empty() || only.contains("memory") {
        memory(&rt);
    }
}

/// Milliseconds from an event's `time` (RFC 3339 in its JSON) to `seen`.
fn since_event(json: &str, seen: chrono::DateTime<chrono::Utc>) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let t = chrono::DateTime::parse_from_rfc3339(v["time"].as_str()?).ok()?;
    Some((seen - t.with_timezone(&chrono::Utc)).num_microseconds()? as f64 / 1000.0)
}

fn report(what: &str, mut l: Vec<f64>, attempts: u64) {
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    println!(
        "  event -> {what}: {} password events for {attempts} attempts: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, {} over 10 ms",
        l.len(),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        l.last().copied().unwrap_or(f64::NAN),
        l.iter().filter(|&&ms| ms > 10.0).count()
    );
}

/// Phase 1: a file sink and a syslog sink, both timed per password event.
fn latency(rt: &tokio::runtime::Runtime) {
    let concurrency: usize = env_or("HW_BENCH_LATENCY_CONCURRENCY", 64);
    let attempts: u64 = env_or("HW_BENCH_LATENCY_ATTEMPTS", LATENCY_ATTEMPTS);
    let sync: String = env_or("HW_BENCH_SYNC", "full".to_owned());
    let flush = std::env::var("HW_BENCH_FLUSH_MS").map(|ms| format!("  flush_interval_ms: {ms}\n")).unwrap_or_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let receiver = TcpListener::bind("127.0.0.1:0").expect("syslog receiver");
    let port = receiver.local_addr().expect("address").port();
    let personality = ssh_load::raised_personality(dir.path());
    let yaml = format!(
        "store:\n  path: bench.db\n  sync: {sync}\n{flush}decoys:\n  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {}\n    failure_delay_ms: 0\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\nsinks:\n  - name: file\n    type: file\n    path: events.jsonl\n  - name: siem\n    type: syslog\n    address: 127.0.0.1:{port}\n    transport: tcp\n",
        personality.display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let syslog = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let (stream, _) = receiver.accept().expect("the sink connects");
            stream.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
            let mut r = BufReader::with_capacity(1 << 20, stream);
            let (mut len, mut body, mut latencies) = (Vec::new(), Vec::new(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                len.clear();
                match r.read_until(b' ', &mut len) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(_) => continue,
                }
                let Some(size) = std::str::from_utf8(&len[..len.len() - 1]).ok().and_then(|n| n.parse::<usize>().ok()) else { continue };
                body.resize(size, 0);
                while r.read_exact(&mut body).is_err() {
                    if stop.load(Ordering::Relaxed) {
                        return latencies;
                    }
                }
                let seen = chrono::Utc::now();
                let text = String::from_utf8_lossy(&body);
                if text.contains("\"method\":\"password\"") {
                    if let Some(ms) = text.find('{').and_then(|i| since_event(&text[i..], seen)) {
                        latencies.push(ms);
                    }
                }
            }
            latencies
        })
    };
    let decoy = process::start(dir.path(), &yaml);
    let path = dir.path().join("events.jsonl");
    let file = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut offset = 0;
            let (mut latencies, mut pending) = (Vec::new(), String::new());
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut f) = std::fs::File::open(&path) {
                    let _ = f.seek(SeekFrom::Start(offset));
                    let mut chunk = String::new();
                    offset += f.read_to_string(&mut chunk).unwrap_or(0) as u64;
                    let seen = chrono::Utc::now();
                    pending.push_str(&chunk);
                    while let Some(i) = pending.find('\n') {
                        let line: String = pending.drain(..=i).collect();
                        if line.contains("\"method\":\"password\"") {
                            latencies.extend(since_event(&line, seen));
                        }
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            latencies
        })
    };
    let (n, errors, secs) = ssh_load::attempts(rt, decoy.addr, concurrency, attempts, LATENCY_LIMIT);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    println!("latency: {n} attempts in {secs:.2} s at concurrency {concurrency} ({errors} errors), sync: {sync}");
    report("file sink", file.join().expect("file reader"), n);
    report("syslog receiver", syslog.join().expect("syslog receiver"), n);
    decoy.stop();
}

/// VmRSS and VmHWM of `pid`, KiB.
fn rss_and_peak(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    (field("VmRSS:"), field("VmHWM:"))
}

/// RssAnon and RssFile of `pid`, MiB.
fn breakdown(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0);
    format!("anonymous {:.1} MiB, file {:.1} MiB", field("RssAnon:") / 1024.0, field("RssFile:") / 1024.0)
}

/// Phase 2: the quick-start and its console, idle, under load, and after.
fn memory(rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().expect("temp dir");
    let quickstart = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart.yaml")).expect("quick-start");
    let personality = ssh_load::raised_personality(dir.path());
    // Any free ports; the SSH decoy with MaxStartups and its connection limits raised
    // past the load (one client address).
    let yaml = quickstart
        .replace(
            "listen: 127.0.0.1:2222\n    personality: openssh-debian12",
            &format!(
                "listen: 127.0.0.1:2222\n    personality: {}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000",
                personality.display()
            ),
        )
        .replace("127.0.0.1:2323", "127.0.0.1:0")
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:4242", "127.0.0.1:0")
        .replace("127.0.0.1:9080", "127.0.0.1:0");
    // The SSH decoy first, so that it is the address the helper reports.
    let (before, after) = yaml.split_once("  - name: tcp-banner").expect("the quick-start's first decoy");
    let (banner, rest) = after.split_once("  - name: ssh").expect("the quick-start's ssh decoy");
    let (ssh, rest) = rest.split_once("  - name: ehr").expect("the quick-start's http decoy");
    let yaml = format!("{before}  - name: ssh{}  - name: tcp-banner{banner}  - name: ehr{rest}", ssh.replace("127.0.0.1:2222", "127.0.0.1:0"));
    let decoy = process::start(dir.path(), &yaml);
    // Idle: past the quiet period after which the sensor gives memory back.
    std::thread::sleep(honeyward::resident::QUIET + Duration::from_secs(5));
    let (idle, _) = rss_and_peak(decoy.pid);
    println!("memory: quick-start with console, idle: RSS {:.1} MiB ({})", idle as f64 / 1024.0, breakdown(decoy.pid));
    let (n, errors, secs) = ssh_load::attempts(rt, decoy.addr, MEMORY_CONCURRENCY, MEMORY_ATTEMPTS, MEMORY_LIMIT);
    let (loaded, peak) = rss_and_peak(decoy.pid);
    println!(
        "  SSH load at concurrency {MEMORY_CONCURRENCY}: {n} attempts in {secs:.2} s ({errors} errors); RSS at its end {:.1} MiB ({}), peak (VmHWM) {:.1} MiB",
        loaded as f64 / 1024.0,
        breakdown(decoy.pid),
        peak as f64 / 1024.0
    );
    let mut back = None;
    let mut last = loaded;
    for second in 1..=60 {
        std::thread::sleep(Duration::from_secs(1));
        last = rss_and_peak(decoy.pid).0;
        if back.is_none() && last as f64 <= idle as f64 * 1.5 {
            back = Some(second);
        }
    }
    println!(
        "  after the load: RSS {:.1} MiB at 60 s ({:.2}x idle; {}); within 1.5x idle after {}",
        last as f64 / 1024.0,
        last as f64 / idle.max(1) as f64,
        breakdown(decoy.pid),
        back.map_or("never (60 s)".to_owned(), |s| format!("{s} s"))
    );
    decoy.stop();
}
