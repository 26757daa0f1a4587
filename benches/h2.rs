//! h2 requests per second on the HTTPS decoy (nginx-default): `h2load` (nghttp2's
//! load generator, Debian's `nghttp2-client`) opens 64 TLS connections, negotiates h2
//! and keeps 10 streams in flight on each, for 64,000 `GET /` (1,000 per connection:
//! after nginx's `keepalive_requests` the decoy, like nginx, says GOAWAY); then every
//! request must be in the store. The decoy's CPU per request is read from /proc. The
//! same load then runs against a real Debian nginx with the same certificate, when one
//! is installed, for scale.
//!
//! `cargo bench --bench h2` (the release binary in /tmp/hw-bench-target, or
//! `HW_BENCH_BIN`; `HW_BENCH_HEADER` adds one request header). Loopback only;
//! bounded in count (64,000 requests) and time (60 s).
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::process::Command;

use process::cpu_seconds;

const REQUESTS: u64 = 64_000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    tls: {common_name: intranet.example-trust.nhs.uk, organisation: Example NHS Trust}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n      session_timeout_seconds: 600\n      max_session_bytes: 1000000000\n";
    let decoy = process::start(dir.path(), yaml);
    let cpu_before = cpu_seconds(decoy.pid);
    let ok = h2load(decoy.addr);
    let cpu = cpu_seconds(decoy.pid) - cpu_before;
    println!("decoy CPU: {cpu:.2} s = {:.4} ms per request (h2load runs on the same 2 cores)", cpu * 1000.0 / ok.max(1) as f64);
    // Every request must be in the store: wait for the writer to catch up.
    let stored = process::stored(&dir.path().join("bench.db"), 300, ok);
    println!("stored http_request events: {stored} (h2load answered {ok})");
    let (cert, key) = (dir.path().join("honeyward-state/http/web/cert.pem"), dir.path().join("honeyward-state/http/web/key.pem"));
    decoy.stop();

    if std::path::Path::new("/usr/sbin/nginx").exists() {
        let d = dir.path().display();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/nginx-error.log;\nevents {{ worker_connections 1024; }}\nhttp {{ access_log off; ssl_protocols TLSv1.2 TLSv1.3;\n server {{ listen 127.0.0.1:{port} ssl http2; ssl_certificate {}; ssl_certificate_key {}; root /var/www/html; index index.nginx-debian.html; }} }}\n",
            cert.display(),
            key.display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut nginx = Command::new("/usr/sbin/nginx").arg("-c").arg(dir.path().join("nginx.conf")).spawn().expect("nginx");
        std::thread::sleep(std::time::Duration::from_millis(500));
        let cpu_before = cpu_seconds(nginx.id());
        let ok = h2load(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        let cpu = cpu_seconds(nginx.id()) - cpu_before;
        println!("nginx (one worker, access log off, for scale): CPU {:.4} ms per request", cpu * 1000.0 / ok.max(1) as f64);
        let _ = nginx.kill();
        let _ = nginx.wait();
    }
}

/// Runs h2load against `addr`; prints its report and returns the 2xx answers.
fn h2load(addr: std::net::SocketAddr) -> u64 {
    let header: Vec<String> = std::env::var("HW_BENCH_HEADER").map(|h| vec!["-H".to_string(), h]).unwrap_or_default();
    let out = Command::new("timeout")
        .args(["60", "h2load", "-n", &REQUESTS.to_string(), "-c", "64", "-m", "10", "-t", "2"])
        .args(&header)
        .arg(format!("https://{addr}/"))
        .output()
        .expect("h2load (apt-get install nghttp2-client)");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    let rps: f64 = report
        .lines()
        .find_map(|l| l.strip_prefix("finished in "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let ok: u64 =
        report.lines().find_map(|l| l.trim().strip_prefix("status codes: ")).and_then(|l| l.split(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0);
    println!("h2: {rps:.0} requests/s (h2load -c64 -m10 -t2), {ok} answered 2xx");
    ok
}
