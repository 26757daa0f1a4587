//! HTTP decoy benchmark: `wrk -t2 -c64 -d10s` (Debian's wrk) against the default
//! personality (nginx-default) of the release binary, a separate process so its CPU
//! time is its own; then every request wrk completed is checked in the store.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench http`
//! (`HW_BENCH_BIN` points at another binary; `HW_BENCH_PATH` requests another path,
//! e.g. `/nope` for 404s; `HW_BENCH_HEADER` adds a request header, e.g.
//! `Accept-Encoding: gzip`; `HW_BENCH_PERSONALITY` runs another personality, e.g.
//! `fhir-server` with `HW_BENCH_PATH='/fhir/Patient?gender=female&_count=10'`).
//! Loopback only; wrk runs for a fixed 10 s.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::process::Command;

use process::cpu_seconds;

/// The number after `label` in wrk's report.
fn after<'a>(report: &'a str, label: &str) -> Option<&'a str> {
    report.lines().find_map(|l| l.trim().strip_prefix(label)).map(str::trim)
}

fn main() {
    let path = std::env::var("HW_BENCH_PATH").unwrap_or_else(|_| "/".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let personality = std::env::var("HW_BENCH_PERSONALITY").unwrap_or_else(|_| "nginx-default".into());
    let sync = std::env::var("HW_BENCH_SYNC").unwrap_or_else(|_| "normal".into());
    let yaml = format!("store:\n  path: bench.db\n  sync: {sync}\ndecoys:\n  - name: web\n    type: http\n    personality: {personality}\n    listen: 127.0.0.1:0\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n      max_session_bytes: 1073741824\n      idle_timeout_seconds: 60\n      session_timeout_seconds: 600\n");
    let decoy = process::start(dir.path(), &yaml);
    let (pid, addr) = (decoy.pid, decoy.addr);

    let cpu_before = cpu_seconds(pid);
    // HW_BENCH_HEADER adds one request header, e.g. "Accept-Encoding: gzip" or "Range: bytes=0-99".
    let header: Vec<String> = std::env::var("HW_BENCH_HEADER").map(|h| vec!["-H".to_string(), h]).unwrap_or_default();
    let out = Command::new("wrk")
        .args(["-t2", "-c64", "-d10s", "--latency"])
        .args(&header)
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("wrk (apt-get install wrk)");
    let cpu = cpu_seconds(pid) - cpu_before;
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    let rps: f64 = after(&report, "Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let total: u64 = report.lines().find_map(|l| l.trim().split_once(" requests in ")).and_then(|(n, _)| n.trim().parse().ok()).unwrap_or(0);
    println!("http: {rps:.0} requests/s ({personality}, wrk -t2 -c64 -d10s {path}), {total} requests");
    println!("server CPU: {cpu:.2} s = {:.4} ms per request (wrk runs on the same 2 cores)", cpu * 1000.0 / total.max(1) as f64);

    // Every request must be in the store: wait for the writer to catch up.
    let stored = process::stored(&dir.path().join("bench.db"), 300, total);
    println!("stored http_request events: {stored} (wrk completed {total}; wrk may count a few in flight at its deadline as not completed)");
    decoy.stop();
}
