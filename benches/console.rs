//! The decoys' latency while the console is flooded with wrong passwords: a TCP
//! banner decoy's time to first byte, idle and while 600 wrong passwords (3 from each
//! of 200 loopback addresses, 16 at a time) hit `/login/password` of the release
//! binary, a separate process.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench console`
//! (`HW_BENCH_BIN` points at another binary). Loopback only; bounded in count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
#[allow(dead_code)] // this benchmark does not read CPU time
mod process;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn banner_latency(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    let mut first = [0u8; 5];
    s.read_exact(&mut first).unwrap();
    started.elapsed()
}

fn percentiles(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99), at(1.0))
}

/// One wrong password from `source`; the status code.
async fn wrong_password(console: SocketAddr, source: std::net::IpAddr) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let mut s = socket.connect(console).await.unwrap();
    let body = "account=duty-analyst&password=wrong+guess+here";
    let request = format!(
        "POST /login/password HTTP/1.1\r\nHost: localhost:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        console.port(),
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response).await;
    std::str::from_utf8(&response[..12.min(response.len())]).ok().and_then(|h| h.get(9..12)).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let console_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = format!(
        "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"hello\\r\\n\"\n    limits:\n      max_connections: 20000\n      max_connections_per_source: 20000\nconsole:\n  listen: 127.0.0.1:{console_port}\n  password_login: true\n"
    );
    std::fs::write(dir.path().join("honeyward.yaml"), &yaml).unwrap();
    process::set_console_password(dir.path(), "duty-analyst");
    let decoy = process::start(dir.path(), &yaml);
    let (banner, console) = (decoy.addr, SocketAddr::from(([127, 0, 0, 1], console_port)));
    std::thread::sleep(Duration::from_millis(500));

    let idle: Vec<Duration> = (0..2000).map(|_| banner_latency(banner)).collect();
    let (p50, p99, max) = percentiles(idle);
    println!("banner time to first byte, idle:             p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms");

    let flooding = Arc::new(AtomicBool::new(true));
    let answers: Arc<[AtomicUsize; 3]> = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)]);
    let flood = {
        let (flooding, answers) = (Arc::clone(&flooding), Arc::clone(&answers));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let started = Instant::now();
            rt.block_on(async {
                let gate = Arc::new(tokio::sync::Semaphore::new(16));
                let mut tasks = Vec::new();
                for round in 0..3 {
                    for a in 0..200u32 {
                        let source = std::net::IpAddr::from([127, 0, 1 + (a / 250) as u8, 1 + (a % 250) as u8]);
                        let (gate, answers) = (Arc::clone(&gate), Arc::clone(&answers));
                        tasks.push(tokio::spawn(async move {
                            let _permit = gate.acquire().await;
                            let code = wrong_password(console, source).await;
                            let slot = match code {
                                200 => 0,
                                429 => 1,
                                _ => 2,
                            };
                            answers[slot].fetch_add(1, Ordering::Relaxed);
                        }));
                    }
                    if round < 2 {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
            flooding.store(false, Ordering::Relaxed);
            started.elapsed()
        })
    };
    let mut during = Vec::new();
    while flooding.load(Ordering::Relaxed) && during.len() < 20_000 {
        during.push(banner_latency(banner));
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = flood.join().unwrap();
    let n = during.len();
    let (p50, p99, max) = percentiles(during);
    println!("banner time to first byte, during the flood: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms ({n} samples)");
    println!(
        "flood: 600 wrong passwords from 200 addresses in {:.1} s: {} answered as wrong, {} told to wait (429), {} other",
        took.as_secs_f64(),
        answers[0].load(Ordering::Relaxed),
        answers[1].load(Ordering::Relaxed),
        answers[2].load(Ordering::Relaxed)
    );
    decoy.stop();
}
