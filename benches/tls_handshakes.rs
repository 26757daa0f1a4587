//! TLS handshakes per second on the HTTPS decoy (nginx-default with its generated
//! certificate): 64 clients on loopback each connect, complete a full TLS 1.3
//! handshake (no resumption; the certificate checked against the decoy's issuing CA)
//! and close, again and again for 10 s. The same clients then run against a real
//! Debian nginx with the same certificate, when one is installed, for scale.
//!
//! `cargo bench --bench tls_handshakes` (the release binary in /tmp/hw-bench-target,
//! or `HW_BENCH_BIN`). Loopback only; bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use process::cpu_seconds;

const CLIENTS: usize = 64;
const RUN: Duration = Duration::from_secs(10);

/// Full handshakes completed against `addr` by `CLIENTS` clients in `RUN`.
fn hammer(addr: SocketAddr, ca: &std::path::Path) -> u64 {
    let config = honeyward::tls::client_config(ca, None, &[b"http/1.1"]).expect("client config");
    let mut config = (*config).clone();
    config.resumption = rustls::client::Resumption::disabled();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("intranet.example-trust.nhs.uk").unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let until = tokio::time::Instant::now() + RUN;
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (connector, name, done) = (connector.clone(), name.clone(), Arc::clone(&done));
            tasks.push(tokio::spawn(async move {
                while tokio::time::Instant::now() < until {
                    let Ok(tcp) = tokio::net::TcpStream::connect(addr).await else { continue };
                    if connector.connect(name.clone(), tcp).await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    done.load(Ordering::Relaxed)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    tls: {common_name: intranet.example-trust.nhs.uk, organisation: Example NHS Trust}\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n      session_timeout_seconds: 600\n";
    let decoy = process::start(dir.path(), yaml);
    let cert = dir.path().join("honeyward-state/http/web/cert.pem");
    let key = dir.path().join("honeyward-state/http/web/key.pem");

    let cpu_before = cpu_seconds(decoy.pid);
    let started = Instant::now();
    let n = hammer(decoy.addr, &cert);
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(decoy.pid) - cpu_before;
    println!("decoy: {:.0} TLS handshakes/s ({n} full TLS 1.3 handshakes in {secs:.1} s, {CLIENTS} clients)", n as f64 / secs);
    println!("decoy CPU: {cpu:.2} s = {:.3} ms per handshake (the clients run on the same 2 cores)", cpu * 1000.0 / n.max(1) as f64);
    decoy.stop();

    if std::path::Path::new("/usr/sbin/nginx").exists() {
        let d = dir.path().display();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/nginx-error.log;\nevents {{ worker_connections 1024; }}\nhttp {{ access_log off; ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;\n server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {}; ssl_certificate_key {}; }} }}\n",
            cert.display(),
            key.display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut nginx = std::process::Command::new("/usr/sbin/nginx").arg("-c").arg(dir.path().join("nginx.conf")).spawn().expect("nginx");
        std::thread::sleep(Duration::from_millis(500));
        let cpu_before = cpu_seconds(nginx.id());
        let started = Instant::now();
        let n = hammer(SocketAddr::from(([127, 0, 0, 1], port)), &cert);
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds(nginx.id()) - cpu_before;
        println!(
            "nginx (one worker, for scale): {:.0} TLS handshakes/s ({n} in {secs:.1} s); CPU {:.3} ms per handshake",
            n as f64 / secs,
            cpu * 1000.0 / n.max(1) as f64
        );
        let _ = nginx.kill();
        let _ = nginx.wait();
    }
}
