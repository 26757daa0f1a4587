//! The SSH decoy under hostile input: garbage instead of an identification line, a
//! 1 MB identification line, a client that stalls mid-handshake and 5,000 idle
//! pre-auth connections — each capped, recorded and closed on its deadline (the
//! personality's LoginGraceTime, as the real sshd has no other pre-auth timeout),
//! while a new client is still served.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

const IDLE_SECS: u64 = 3;

/// The Debian 12 personality with LoginGraceTime IDLE_SECS and MaxStartups raised far
/// past the flood (the real 10:30:100 would turn most of it away before it is held).
fn start(dir: &std::path::Path) -> Honeyward {
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml")).unwrap();
    assert!(personality.contains("login_grace_seconds: 120\n") && personality.contains(MAX_STARTUPS));
    let personality = personality
        .replace("login_grace_seconds: 120\n", &format!("login_grace_seconds: {IDLE_SECS}\n"))
        .replace(MAX_STARTUPS, "unauthenticated: {max_startups: {begin: 100000, rate_percent: 30, full: 200000}}");
    std::fs::write(dir.join("flooded-sshd.yaml"), personality).unwrap();
    let decoy = format!(
        "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {}\n    failure_delay_ms: 0\n    limits:\n      max_connections: 20000\n      max_connections_per_source: 20000\n      session_timeout_seconds: 8\n      max_session_bytes: 65536\n",
        dir.join("flooded-sshd.yaml").display()
    );
    Honeyward::start(dir, &config(&decoy))
}

/// Reads until EOF or error; returns what arrived.
fn drain(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

fn reasons(db: &rusqlite::Connection) -> Vec<String> {
    bodies(db, "connection_closed").iter().map(|b| b["details"]["reason"].as_str().unwrap().to_string()).collect()
}

fn banner_within(addr: SocketAddr, limit: Duration) -> Duration {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(limit * 10)).unwrap();
    let mut line = [0u8; 8];
    s.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"SSH-2.0-");
    t.elapsed()
}

#[test]
fn garbage_a_huge_identification_line_and_a_stalled_handshake_are_closed_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let addr = hw.addr("ssh");
    let db = hw.store();

    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    drain(&mut garbage);
    assert!(eventually(10, || reasons(&db).len() == 1));
    assert_eq!(reasons(&db)[0], "protocol_error");

    let mut huge = TcpStream::connect(addr).unwrap();
    let line = vec![b'A'; 1 << 20];
    let _ = huge.write_all(&line); // the decoy stops reading long before the end
    drain(&mut huge);
    assert!(eventually(10, || reasons(&db).len() == 2));
    let closes = bodies(&db, "connection_closed");
    assert!(closes[1]["details"]["bytes_in"].as_u64().unwrap() <= 65536 + 65536, "read far past the cap: {}", closes[1]);

    let started = Instant::now();
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").unwrap(); // then nothing: no KEXINIT
    drain(&mut stalled);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(IDLE_SECS) && took < Duration::from_secs(IDLE_SECS + 5), "closed after {took:?}");
    assert!(eventually(10, || reasons(&db).len() == 3));
    assert_eq!(reasons(&db)[2], "session_timeout", "LoginGraceTime");
    assert!(banner_within(addr, Duration::from_secs(1)) < Duration::from_secs(1), "still serving");
}

#[test]
fn five_thousand_idle_pre_auth_connections_are_closed_on_their_deadline_while_new_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let addr = hw.addr("ssh");
    let db = hw.store();
    let opened_at = Instant::now();
    let mut idle: Vec<TcpStream> = (0..5000).map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap()).collect();
    assert!(eventually(20, || count_kind(&db, "connection_opened") == 5000), "only {} accepted", count_kind(&db, "connection_opened"));
    assert!(opened_at.elapsed() < Duration::from_secs(IDLE_SECS), "setup too slow to probe while they are held");
    let best = (0..3).map(|_| banner_within(addr, Duration::from_millis(100))).min().unwrap();
    eprintln!("new SSH client got the banner in {best:?} with 5,000 idle connections held");
    assert!(best < Duration::from_millis(100));

    for s in &mut idle {
        let got = drain(s);
        assert!(got.starts_with(b"SSH-2.0-OpenSSH_9.2p1"), "every idle peer saw the banner, then EOF");
    }
    assert!(eventually(30, || count_kind(&db, "connection_closed") >= 5003));
    let idle_closed = bodies(&db, "connection_closed").iter().filter(|b| b["details"]["reason"] == "session_timeout").count();
    assert_eq!(idle_closed, 5000);
}
