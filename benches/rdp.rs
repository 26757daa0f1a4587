//! RDP decoy benchmark: failed NLA logins per second (X.224 Connection Request, TLS,
//! CredSSP with an NTLM NEGOTIATE, then an NTLMv2 AUTHENTICATE refused with
//! STATUS_LOGON_FAILURE) at 16 and 64 clients, the decoy's CPU per attempt, every
//! attempt counted in its store; then the memory of idle connections waiting after
//! their X.224 request.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench rdp`
//! Loopback only; each run is bounded by count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use honeyward::decoy::rdp::credssp;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};

const ATTEMPTS: u64 = 20_000;
const TIME_LIMIT: Duration = Duration::from_secs(15);
const IDLE: usize = 2_000;

/// FreeRDP-style X.224 Connection Request asking for TLS and CredSSP.
fn connection_request() -> Vec<u8> {
    let cookie = b"Cookie: mstshash=bench\r\n";
    let mut x224 = vec![(6 + cookie.len() + 8) as u8, 0xe0, 0, 0, 0, 0, 0];
    x224.extend_from_slice(cookie);
    x224.extend_from_slice(&[1, 0, 8, 0, 3, 0, 0, 0]);
    [&[3u8, 0][..], &((4 + x224.len()) as u16).to_be_bytes(), &x224].concat()
}

/// An NTLM NEGOTIATE with a client's usual flags.
fn ntlm_negotiate() -> Vec<u8> {
    [&b"NTLMSSP\0"[..], &1u32.to_le_bytes(), &0xe208_8297u32.to_le_bytes(), &[0u8; 16]].concat()
}

/// An AUTHENTICATE for user `bench` in `NHSTRUST` with a 48-byte NTLMv2-shaped response.
fn ntlm_authenticate() -> Vec<u8> {
    let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let (domain, user, ws) = (utf16("NHSTRUST"), utf16("bench"), utf16("WS01"));
    let mut nt = vec![0x42u8; 16];
    nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    nt.extend_from_slice(&[0u8; 24]);
    let parts: [&[u8]; 6] = [&[0u8; 24], &nt, &domain, &user, &ws, &[]];
    let mut fields = Vec::new();
    let mut payload = Vec::new();
    let base = 64;
    for p in parts {
        fields.extend((p.len() as u16).to_le_bytes());
        fields.extend((p.len() as u16).to_le_bytes());
        fields.extend(((base + payload.len()) as u32).to_le_bytes());
        payload.extend_from_slice(p);
    }
    [&b"NTLMSSP\0"[..], &3u32.to_le_bytes(), &fields, &0xe208_8215u32.to_le_bytes(), &payload].concat()
}

fn read_ts_request<S: Read>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Some(n)) = credssp::element_length(&buf) {
            if buf.len() >= n {
                return Ok(buf);
            }
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One refused NLA login; true when the decoy answered with STATUS_LOGON_FAILURE.
fn one(addr: SocketAddr, tls: &SslConnector) -> std::io::Result<bool> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(&connection_request())?;
    let mut confirm = [0u8; 19];
    s.read_exact(&mut confirm)?;
    let mut config = tls.configure().map_err(std::io::Error::other)?;
    config.set_verify(SslVerifyMode::NONE);
    config.set_verify_hostname(false);
    let mut t = config.connect("rdp", s).map_err(std::io::Error::other)?;
    t.write_all(&credssp::encode(6, Some(&ntlm_negotiate()), None, None, None))?;
    read_ts_request(&mut t)?;
    t.write_all(&credssp::encode(6, Some(&ntlm_authenticate()), Some(&[0u8; 16]), None, None))?;
    let answer = read_ts_request(&mut t)?;
    Ok(credssp::parse(&answer).ok().and_then(|r| r.error_code) == Some(0xc000_006d))
}

fn measure(addr: SocketAddr, threads: usize, count: u64) -> (u64, u64, f64) {
    let tls = Arc::new(SslConnector::builder(SslMethod::tls_client()).unwrap().build());
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (tls, done, errors) = (Arc::clone(&tls), Arc::clone(&done), Arc::clone(&errors));
            std::thread::spawn(move || {
                while done.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed) < count && started.elapsed() < TIME_LIMIT {
                    match one(addr, &tls) {
                        Ok(true) => done.fetch_add(1, Ordering::Relaxed),
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    (done.load(Ordering::Relaxed), errors.load(Ordering::Relaxed), started.elapsed().as_secs_f64())
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "store:\n  path: bench.db\n  sync: normal\n  flush_interval_ms: 20\ndecoys:\n  - name: rdp\n    type: rdp\n    listen: 127.0.0.1:0\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n";
    let decoy = process::start(dir.path(), yaml);
    std::thread::sleep(Duration::from_secs(1));
    println!("| clients | refused NLA logins | errors | seconds | logins/s | decoy CPU ms per login |");
    println!("|---|---|---|---|---|---|");
    let mut total = 0;
    for clients in [16, 64] {
        let cpu_before = process::cpu_seconds(decoy.pid);
        let (n, errors, secs) = measure(decoy.addr, clients, ATTEMPTS);
        let cpu = process::cpu_seconds(decoy.pid) - cpu_before;
        println!("| {clients} | {n} | {errors} | {secs:.2} | {:.0} | {:.3} |", n as f64 / secs, cpu * 1000.0 / n.max(1) as f64);
        total += n;
        std::thread::sleep(Duration::from_secs(2));
    }
    let stored = process::stored(&dir.path().join("bench.db"), 610, total);
    println!("stored ntlm_auth events: {stored} (logins refused {total})");

    // Idle connections after their X.224 request: what each costs the decoy.
    let rss_before = process::rss_kib(decoy.pid);
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let mut s = TcpStream::connect(decoy.addr).expect("connect");
        s.write_all(&connection_request()).expect("request");
        let mut confirm = [0u8; 19];
        s.read_exact(&mut confirm).expect("confirm");
        idle.push(s);
    }
    std::thread::sleep(Duration::from_secs(2));
    let rss_after = process::rss_kib(decoy.pid);
    println!(
        "{IDLE} idle connections after X.224: RSS {rss_before} KiB -> {rss_after} KiB, {:.1} KiB each",
        (rss_after.saturating_sub(rss_before)) as f64 / IDLE as f64
    );
    drop(idle);
    decoy.stop();
}
