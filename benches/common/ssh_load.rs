//! An SSH brute-force load for the benchmarks: russh clients that each connect, try
//! one wrong password and disconnect, `concurrency` at a time. Loopback only; bounded
//! by count and time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Client;

impl russh::client::Handler for Client {
    type Error = russh::Error;
    async fn check_server_key(&mut self, _key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// Handshake + one wrong password per connection at `concurrency` until `attempts`
/// or `limit`; returns (completed, errors, seconds).
pub fn attempts(rt: &tokio::runtime::Runtime, addr: SocketAddr, concurrency: usize, attempts: u64, limit: Duration) -> (u64, u64, f64) {
    let config = Arc::new(russh::client::Config { nodelay: true, ..Default::default() });
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (config, done, errors) = (Arc::clone(&config), Arc::clone(&done), Arc::clone(&errors));
            tasks.push(tokio::spawn(async move {
                while done.load(Ordering::Relaxed) < attempts && started.elapsed() < limit {
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
    (done.load(Ordering::Relaxed), errors.load(Ordering::Relaxed), started.elapsed().as_secs_f64())
}

/// Debian 12's personality with MaxStartups raised past the load (the real 10:30:100
/// would turn most of it away, as it would for sshd), written into `dir`; its path.
pub fn raised_personality(dir: &std::path::Path) -> std::path::PathBuf {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml")).expect("personality");
    let raised = yaml.replace(
        "unauthenticated: {max_startups: {begin: 10, rate_percent: 30, full: 100}}",
        "unauthenticated: {max_startups: {begin: 100000, rate_percent: 30, full: 200000}}",
    );
    assert_ne!(raised, yaml, "the personality's MaxStartups line changed");
    let path = dir.join("bench-sshd.yaml");
    std::fs::write(&path, raised).expect("personality copy");
    path
}
