//! The TCP decoy under hostile input: random bytes, a 10 MB line, half-open
//! connections and 5,000 idle connections — each capped, closed on its deadline and
//! recorded, while new peers are still served promptly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;

const IDLE_SECS: u64 = 3;
const MAX_BYTES: u64 = 1 << 20;
const CAPTURE: usize = 4096;

fn start(dir: &std::path::Path) -> Honeyward {
    let limits = format!("      idle_timeout_seconds: {IDLE_SECS}\n      session_timeout_seconds: 30\n      max_session_bytes: {MAX_BYTES}\n");
    let decoy = tcp_decoy("hostile", &limits) + &format!("    capture_bytes: {CAPTURE}\n");
    Honeyward::start(dir, &config(&decoy))
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until EOF or error; returns bytes read.
fn drain(s: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}

/// Close events of the decoy, as (reason, bytes_in, duration_ms).
fn closes(db: &rusqlite::Connection) -> Vec<(String, u64, u64)> {
    bodies(db, "connection_closed")
        .iter()
        .map(|b| {
            let d = &b["details"];
            (d["reason"].as_str().unwrap().to_string(), d["bytes_in"].as_u64().unwrap(), d["duration_ms"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn random_bytes_are_stored_exactly_and_the_connection_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let payload: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut s = connect(hw.addr("hostile"));
    s.write_all(&payload).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    drain(&mut s);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    let data = &bodies(&db, "data_received")[0]["details"];
    let stored = base64::engine::general_purpose::STANDARD.decode(data["data"]["base64"].as_str().unwrap()).unwrap();
    assert_eq!(stored, payload[..CAPTURE], "the first capture_bytes are stored byte for byte");
    assert_eq!(data["truncated"], true);
    assert_eq!(closes(&db)[0].0, "peer_closed");
    assert_eq!(closes(&db)[0].1, payload.len() as u64);
}

#[test]
fn ten_megabytes_without_a_newline_are_cut_off_at_the_byte_cap() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let mut s = connect(hw.addr("hostile"));
    let chunk = vec![b'A'; 64 * 1024];
    let mut sent = 0usize;
    while sent < 10 * 1024 * 1024 {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break, // the decoy closed the connection
        }
    }
    drain(&mut s);
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    let (reason, bytes_in, _) = closes(&db).remove(0);
    assert_eq!(reason, "max_bytes");
    assert!((MAX_BYTES..MAX_BYTES + 65536).contains(&bytes_in), "bytes_in {bytes_in}");
    let data = &bodies(&db, "data_received")[0]["details"];
    assert_eq!(data["data"]["text"].as_str().unwrap().len(), CAPTURE);
    assert_eq!(data["truncated"], true);
}

#[test]
fn half_open_connections_are_closed_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let mut streams: Vec<TcpStream> = (0..20).map(|_| connect(hw.addr("hostile"))).collect();
    for s in &mut streams {
        s.write_all(b"EHLO x\r\n").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    }
    for s in &mut streams {
        drain(s); // the decoy answers our FIN by closing: read sees EOF
    }
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 20));
    assert!(closes(&db).iter().all(|c| c.0 == "peer_closed"));
}

#[test]
fn five_thousand_idle_connections_are_closed_on_their_deadline_while_new_peers_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let hw = start(dir.path());
    let addr = hw.addr("hostile");
    let opened_at = Instant::now();
    let mut idle: Vec<TcpStream> = (0..5000).map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap()).collect();
    let db = hw.store();
    assert!(eventually(20, || count_kind(&db, "connection_opened") == 5000), "not all idle connections were accepted");
    assert!(opened_at.elapsed() < Duration::from_secs(IDLE_SECS), "setup too slow to test while the idle ones are held");

    // While 5,000 are held: a new peer gets its banner promptly (best of 3 probes, so a
    // single scheduler hiccup on a loaded CI machine does not decide the result).
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut s = connect(addr);
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello\r\n");
        best = best.min(t.elapsed());
    }
    eprintln!("new connection served in {best:?} while 5,000 idle connections were held");
    assert!(best < Duration::from_millis(100), "new connection took {best:?}");

    // Every idle one is closed by the decoy once its idle timeout passes.
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(IDLE_SECS + 10))).unwrap();
        let mut banner = [0u8; 7];
        s.read_exact(&mut banner).unwrap();
        let mut rest = [0u8; 1];
        assert_eq!(s.read(&mut rest).unwrap_or(0), 0, "expected EOF after the idle timeout");
    }
    assert!(eventually(20, || count_kind(&db, "connection_closed") == 5003));
    let idle_closes: Vec<_> = closes(&db).into_iter().filter(|c| c.0 == "idle_timeout").collect();
    assert_eq!(idle_closes.len(), 5000, "every held connection closes on the idle timeout");
    assert!(idle_closes.iter().all(|c| c.2 >= IDLE_SECS * 1000 && c.2 < (IDLE_SECS + 5) * 1000));
}
