//! SMB decoy benchmark: failed NTLM logins per second (NEGOTIATE, SESSION_SETUP with
//! the NTLM NEGOTIATE, SESSION_SETUP with an NTLMv2 AUTHENTICATE answered
//! STATUS_LOGON_FAILURE) at 64 clients, the decoy's CPU per attempt, every attempt
//! counted in its store; the same load against Debian's real smbd beside it; then the
//! memory of idle negotiated connections.
//!
//! The client replays smbclient's own messages (the fuzz seed
//! `fuzz/corpus/smb_connection/seed-smbclient-wrong-password`), putting in the session
//! id each server hands out.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench smb`
//! Loopback only; each run is bounded by count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ATTEMPTS: u64 = 60_000;
const CLIENTS: usize = 64;
const TIME_LIMIT: Duration = Duration::from_secs(20);
const IDLE: usize = 2_000;

/// smbclient's NEGOTIATE, SESSION_SETUP (NEGOTIATE) and SESSION_SETUP (AUTHENTICATE),
/// each with its 4-byte frame header.
fn messages() -> Vec<Vec<u8>> {
    let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/smb_connection/seed-smbclient-wrong-password")).expect("seed");
    let mut out = Vec::new();
    // The seed's first byte chooses the fuzz target's personality; the stream follows.
    let mut rest = &seed[1..];
    while rest.len() >= 4 {
        let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
        out.push(rest[..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    out.truncate(3);
    out
}

fn read_message(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 4];
    s.read_exact(&mut head)?;
    let mut body = vec![0u8; usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3])];
    s.read_exact(&mut body)?;
    Ok(body)
}

fn status(m: &[u8]) -> u32 {
    u32::from_le_bytes(m[8..12].try_into().unwrap())
}

/// One failed login; true when every answer was the expected one (with `strict`, the
/// refusal must be STATUS_LOGON_FAILURE: the real smbd refuses the replayed
/// AUTHENTICATE, made for another challenge, with STATUS_INVALID_PARAMETER).
fn one(addr: SocketAddr, m: &[Vec<u8>], strict: bool) -> std::io::Result<bool> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(&m[0])?;
    let negotiated = status(&read_message(&mut s)?) == 0;
    s.write_all(&m[1])?;
    let challenge = read_message(&mut s)?;
    let session = &challenge[40..48];
    let mut auth = m[2].clone();
    auth[4 + 40..4 + 48].copy_from_slice(session);
    s.write_all(&auth)?;
    let last = status(&read_message(&mut s)?);
    let refused = last == 0xc000_006d || (!strict && last >> 30 == 3);
    Ok(negotiated && status(&challenge) == 0xc000_0016 && refused)
}

fn measure(addr: SocketAddr, threads: usize, count: u64, strict: bool) -> (u64, u64, f64) {
    let m = Arc::new(messages());
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (m, done, errors) = (Arc::clone(&m), Arc::clone(&done), Arc::clone(&errors));
            std::thread::spawn(move || {
                while done.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed) < count && started.elapsed() < TIME_LIMIT {
                    match one(addr, &m, strict) {
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

/// Debian's smbd (standalone, map to guest = never) on a free loopback port, if it is
/// installed; smbd forks a process per connection.
fn smbd(dir: &std::path::Path) -> Option<(std::process::Child, SocketAddr)> {
    if !std::path::Path::new("/usr/sbin/smbd").exists() {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let d = dir.join("smbd");
    for sub in ["private", "lock", "state", "cache", "pid", "log", "state/ncalrpc"] {
        std::fs::create_dir_all(d.join(sub)).ok()?;
    }
    let d = d.display();
    let conf = format!(
        "[global]\n netbios name = FILESRV01\n server role = standalone server\n interfaces = lo\n bind interfaces only = yes\n smb ports = {port}\n disable netbios = yes\n map to guest = never\n private dir = {d}/private\n lock directory = {d}/lock\n state directory = {d}/state\n cache directory = {d}/cache\n pid directory = {d}/pid\n ncalrpc dir = {d}/state/ncalrpc\n log file = {d}/log/%m.log\n log level = 0\n load printers = no\n printcap name = /dev/null\n"
    );
    std::fs::write(format!("{d}/smb.conf"), conf).ok()?;
    let child = std::process::Command::new("/usr/sbin/smbd")
        .args(["-F", "--no-process-group", "-s", &format!("{d}/smb.conf")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((child, addr))
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = "store:\n  path: bench.db\n  sync: normal\n  flush_interval_ms: 20\ndecoys:\n  - name: fs\n    type: smb\n    listen: 127.0.0.1:0\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n";
    let decoy = process::start(dir.path(), yaml);
    std::thread::sleep(Duration::from_secs(1));
    let cpu_before = process::cpu_seconds(decoy.pid);
    let (n, errors, secs) = measure(decoy.addr, CLIENTS, ATTEMPTS, true);
    let cpu = process::cpu_seconds(decoy.pid) - cpu_before;
    println!("| clients | failed logins | errors | seconds | logins/s | decoy CPU ms per login |");
    println!("|---|---|---|---|---|---|");
    println!("| {CLIENTS} | {n} | {errors} | {secs:.2} | {:.0} | {:.3} |", n as f64 / secs, cpu * 1000.0 / n.max(1) as f64);
    let stored = process::stored(&dir.path().join("bench.db"), 610, n);
    println!("stored ntlm_auth events: {stored} (logins answered {n})");
    if let Some((mut smbd, addr)) = smbd(dir.path()) {
        std::thread::sleep(Duration::from_secs(1));
        let (n, errors, secs) = measure(addr, CLIENTS, ATTEMPTS, false);
        println!("| Debian smbd 4.17, {CLIENTS} clients | {n} | {errors} | {secs:.2} | {:.0} | - |", n as f64 / secs);
        let _ = std::process::Command::new("pkill").args(["-KILL", "-P", &smbd.id().to_string()]).status();
        let _ = smbd.kill();
        let _ = smbd.wait();
    }

    // Idle connections after NEGOTIATE: what each costs the decoy.
    std::thread::sleep(Duration::from_secs(2));
    let rss_before = process::rss_kib(decoy.pid);
    let m = messages();
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let mut s = TcpStream::connect(decoy.addr).expect("connect");
        s.write_all(&m[0]).expect("negotiate");
        read_message(&mut s).expect("negotiated");
        idle.push(s);
    }
    std::thread::sleep(Duration::from_secs(2));
    let rss_after = process::rss_kib(decoy.pid);
    println!(
        "{IDLE} idle negotiated connections: RSS {rss_before} KiB -> {rss_after} KiB, {:.1} KiB each",
        (rss_after.saturating_sub(rss_before)) as f64 / IDLE as f64
    );
    drop(idle);
    decoy.stop();
}
