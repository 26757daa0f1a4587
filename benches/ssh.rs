//! SSH decoy benchmark: handshake + one password attempt per connection at
//! concurrency 64 against the release binary (a separate process, so its CPU time is
//! its own), every attempt checked in the store; then the RSS cost of idle pre-auth
//! connections. Failure delay is 0 for the benchmark.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench ssh`
//! (`HW_BENCH_BIN` points at another binary). Loopback only; bounded by count and time.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 64;
const ATTEMPTS: u64 = 20_000;
const TIME_LIMIT: Duration = Duration::from_secs(20);
const IDLE_CONNECTIONS: usize = 5_000;

struct Client;

impl russh::client::Handler for Client {
    type Error = russh::Error;
    async fn check_server_key(&mut self, _key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

#[path = "common/process.rs"]
mod process;
use process::{cpu_seconds, rss_kib};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n      idle_timeout_seconds: 120\n      session_timeout_seconds: 300\n";
    let decoy = process::start(dir.path(), yaml);
    let (pid, addr) = (decoy.pid, decoy.addr);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");

    // 1. Handshake + password attempts.
    let config = Arc::new(russh::client::Config { nodelay: true, ..Default::default() });
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..CONCURRENCY {
            let (config, done, errors) = (Arc::clone(&config), Arc::clone(&done), Arc::clone(&errors));
            tasks.push(tokio::spawn(async move {
                while done.load(Ordering::Relaxed) < ATTEMPTS && started.elapsed() < TIME_LIMIT {
                    let attempt = async {
                        let stream = tokio::net::TcpStream::connect(addr).await?;
                        stream.set_nodelay(true)?;
                        let mut handle = russh::client::connect_stream(Arc::clone(&config), stream, Client).await?;
                        let result = handle.authenticate_password("radadmin", "Winter2026!").await?;
                        let _ = handle.disconnect(russh::Disconnect::ByApplication, "", "").await;
                        Ok::<bool, russh::Error>(result.success())
                    };
                    match attempt.await {
                        Ok(false) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let n = done.load(Ordering::Relaxed);
    println!("ssh attempts: {n} in {secs:.2} s = {:.0} handshake+password attempts/s at concurrency {CONCURRENCY} ({} errors)", n as f64 / secs, errors.load(Ordering::Relaxed));
    println!("server CPU: {cpu:.2} s = {:.3} ms per attempt (client runs on the same 2 cores)", cpu * 1000.0 / n.max(1) as f64);
    std::thread::sleep(Duration::from_secs(2));
    let db = rusqlite::Connection::open(dir.path().join("bench.db")).expect("store");
    let stored: i64 = db.query_row("SELECT count(*) FROM events WHERE kind = 200 AND body LIKE '%\"method\":\"password\"%'", [], |r| r.get(0)).unwrap_or(-1);
    println!("stored password attempts: {stored} (client completed {n})");

    // 2. Idle pre-auth connections: RSS per connection.
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
        "idle pre-auth connections: {} held, RSS {before} KiB -> {after} KiB = {:.1} KiB per connection",
        idle.len(),
        (after.saturating_sub(before)) as f64 / idle.len().max(1) as f64
    );
    drop(idle);
    decoy.stop();
}
