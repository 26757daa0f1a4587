//! Floods, bounded in count and time, loopback only: for the TCP, SSH, HTTP, SMB and RDP decoys
//! (the DICOM decoy's is in dicom_decoy_hostile_input.rs), 10,000 connections are
//! opened and held, then 2,000 more are opened and dropped as fast as possible. A
//! well-behaved client is still served, every accepted connection is recorded, and
//! the process's memory growth stays inside the budget documented in BENCHMARKS.md.
//! With `sensor.max_memory_mb` set, admission stops at the budget and resumes after.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

const HELD: usize = 10_000;
const FLOOD: usize = 2_000;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

const LIMITS: &str =
    "    limits:\n      max_connections: 20000\n      max_connections_per_source: 20000\n      idle_timeout_seconds: 120\n      session_timeout_seconds: 300\n";

/// One flood at a time: each holds 10,000 sockets in this process.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds HELD connections (each sent `hello`), floods FLOOD more, checks the rest.
fn flood(decoy: &str, kind: &str, hello: &[u8], served: impl Fn(SocketAddr) -> bool, budget_kib: u64) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&format!("  - name: d\n    type: {kind}\n    listen: 127.0.0.1:0\n{LIMITS}{decoy}")));
    let addr = hw.addr("d");
    let pid = hw.child.id();
    let before = rss_kib(pid);
    let started = Instant::now();
    let mut held = Vec::with_capacity(HELD);
    while held.len() < HELD && started.elapsed() < Duration::from_secs(90) {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { continue };
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        if hello.is_empty() || s.write_all(hello).is_ok() {
            held.push(s);
        }
    }
    assert_eq!(held.len(), HELD, "{kind}: all connections opened within the time bound");
    let db = hw.store();
    assert!(
        eventually(90, || count_kind(&db, "connection_opened") as usize >= HELD),
        "{kind}: every held connection recorded ({})",
        count_kind(&db, "connection_opened")
    );
    let during = rss_kib(pid);
    assert!(served(addr), "{kind}: a well-behaved client is served while {HELD} connections are held");
    let grown = during.saturating_sub(before);
    eprintln!("{kind}: RSS {before} KiB -> {during} KiB with {HELD} held connections ({:.1} KiB each; budget {budget_kib} KiB)", grown as f64 / HELD as f64);
    assert!(grown < budget_kib, "{kind}: RSS grew {grown} KiB, budget {budget_kib} KiB");

    let flood_started = Instant::now();
    let mut flooded = 0;
    while flooded < FLOOD && flood_started.elapsed() < Duration::from_secs(60) {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(hello);
            flooded += 1;
        }
    }
    assert!(served(addr), "{kind}: served during and after the flood");
    let expected = HELD + flooded + 1;
    assert!(
        eventually(90, || count_kind(&db, "connection_opened") as usize >= expected),
        "{kind}: every accepted connection recorded: {} of {expected}",
        count_kind(&db, "connection_opened")
    );
    drop(held);
    assert!(eventually(90, || count_kind(&db, "connection_closed") as usize >= expected), "{kind}: and its close");
}

fn banner(addr: SocketAddr, want: &[u8]) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).is_ok() && got == want
}

#[test]
fn the_tcp_decoy_holds_10000_connections_survives_a_flood_and_records_every_one() {
    flood("    banner: \"login: \"\n", "tcp", b"", |a| banner(a, b"login: "), 150 * 1024);
}

/// The SSH decoy's own capacity, with Debian 12's personality but MaxStartups raised past
/// the flood: at sshd's 10:30:100 a flood of unauthenticated connections turns new
/// clients away, for the real server and the decoy alike (tests/ssh_vs_real_servers.rs).
#[test]
fn the_ssh_decoy_holds_10000_connections_survives_a_flood_and_records_every_one() {
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml")).unwrap();
    assert!(personality.contains(MAX_STARTUPS));
    let path = std::env::temp_dir().join(format!("honeyward-flood-sshd-{}.yaml", std::process::id()));
    std::fs::write(&path, personality.replace(MAX_STARTUPS, "unauthenticated: {max_startups: {begin: 100000, rate_percent: 30, full: 200000}}")).unwrap();
    let decoy = format!("    personality: {}\n    failure_delay_ms: 0\n", path.display());
    flood(&decoy, "ssh", b"", |a| banner(a, b"SSH-2.0-OpenSSH_9.2p1"), 400 * 1024);
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_http_decoy_holds_10000_connections_survives_a_flood_and_records_every_one() {
    let served = |a: SocketAddr| {
        let response = http_raw(a, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        response.starts_with(b"HTTP/1.1 200")
    };
    flood("", "http", b"GET / HTTP/1.1\r\nHost: x\r\n", served, 400 * 1024);
}

#[test]
fn at_its_memory_budget_the_http_decoy_refuses_new_connections_and_admits_again_once_memory_is_released() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    const BUDGET_MIB: u64 = 96;
    // One 50 ms sample of the decoy's monitor at full accept rate.
    const SLACK_MIB: u64 = 24;
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&format!("  - name: d\n    type: http\n    listen: 127.0.0.1:0\n{LIMITS}"))
        .replace("  name: test-sensor\n", &format!("  name: test-sensor\n  max_memory_mb: {BUDGET_MIB}\n"));
    let hw = Honeyward::start(dir.path(), &yaml);
    let addr = hw.addr("d");
    let pid = hw.child.id();
    let peak = std::sync::Arc::new(AtomicU64::new(0));
    let sampling = std::sync::Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Relaxed) {
                peak.fetch_max(rss_kib(pid), Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let mut held = Vec::with_capacity(HELD);
    while held.len() < HELD && started.elapsed() < Duration::from_secs(90) {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { continue };
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        if s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").is_ok() {
            held.push(s);
        }
    }
    let db = hw.store();
    let refused = || -> u64 {
        bodies(&db, "connections_refused").iter().filter(|b| b["details"]["limit"] == "max_memory").map(|b| b["details"]["count"].as_u64().unwrap_or(0)).sum()
    };
    assert!(eventually(30, || refused() > 0), "connections over the budget are refused and recorded");
    let peak_mib = peak.load(Relaxed) / 1024;
    let opened = count_kind(&db, "connection_opened");
    eprintln!("memory budget {BUDGET_MIB} MiB: peak RSS {peak_mib} MiB, {opened} connections admitted, {} refused", refused());
    assert!(peak_mib <= BUDGET_MIB + SLACK_MIB, "peak RSS {peak_mib} MiB over the budget {BUDGET_MIB} MiB by more than one sample's slack");
    assert!((opened as usize) < HELD, "the budget stopped admission before {HELD} connections ({opened})");

    drop(held);
    let served = || http_raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").starts_with(b"HTTP/1.1 200");
    assert!(eventually(60, served), "admits again once the held connections are gone (RSS now {} KiB)", rss_kib(pid));
    sampling.store(false, Relaxed);
    sampler.join().unwrap();
}

/// smbclient's NEGOTIATE, framed (the first message of its recorded stream).
fn smb_negotiate() -> Vec<u8> {
    let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/smb_connection/seed-smbclient-wrong-password")).unwrap();
    // The seed's first byte chooses the fuzz target's personality; the stream follows.
    let stream = &seed[1..];
    let len = usize::from(stream[1]) << 16 | usize::from(stream[2]) << 8 | usize::from(stream[3]);
    stream[..4 + len].to_vec()
}

#[test]
fn the_smb_decoy_holds_10000_negotiated_connections_survives_a_flood_and_records_every_one() {
    let hello = smb_negotiate();
    let served = |a: SocketAddr| {
        let Ok(mut s) = TcpStream::connect_timeout(&a, Duration::from_secs(5)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = [0u8; 8];
        s.write_all(&smb_negotiate()).is_ok() && s.read_exact(&mut head).is_ok() && &head[4..] == b"\xfeSMB"
    };
    flood("", "smb", &hello, served, 16 * HELD as u64);
}

#[test]
fn the_rdp_decoy_holds_10000_connections_survives_a_flood_and_records_every_one() {
    // nmap's X.224 Connection Request, answered with a Connection Confirm.
    let request: Vec<u8> = [&[3u8, 0, 0, 42, 37, 0xe0, 0, 0, 0, 0, 0][..], b"Cookie: mstshash=nmap\r\n", &[1, 0, 8, 0, 3, 0, 0, 0]].concat();
    let served = move |a: SocketAddr| {
        let Ok(mut s) = TcpStream::connect_timeout(&a, Duration::from_secs(5)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut confirm = [0u8; 19];
        s.write_all(&request).is_ok() && s.read_exact(&mut confirm).is_ok() && confirm[5] == 0xd0
    };
    flood("", "rdp", b"", served, 16 * HELD as u64);
}
