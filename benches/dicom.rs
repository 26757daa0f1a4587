//! DICOM decoy benchmark: C-ECHO associations (A-ASSOCIATE-RQ, C-ECHO, A-RELEASE) per
//! second, one at a time and 16 at once, against the release binary (`dcmtk-storescp`
//! personality) and, side by side, DCMTK's real `storescp` started on loopback. Every
//! association the decoy completed is then counted in its store.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench dicom`
//! Loopback only; each run is bounded by count and time. The client disables Nagle.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEQUENTIAL: u64 = 3_000;
const ROUNDS: usize = 7;
const CONCURRENT: u64 = 20_000;
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn item(t: u8, v: &[u8]) -> Vec<u8> {
    [&[t, 0][..], &(v.len() as u16).to_be_bytes(), v].concat()
}

/// echoscu's A-ASSOCIATE-RQ, C-ECHO-RQ and A-RELEASE-RQ.
fn messages() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut body = vec![0, 1, 0, 0];
    body.extend_from_slice(b"ANY-SCP         ECHOSCU         ");
    body.extend_from_slice(&[0; 32]);
    body.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    body.extend(item(0x20, &[&[1u8, 0, 0, 0][..], &item(0x30, b"1.2.840.10008.1.1"), &item(0x40, b"1.2.840.10008.1.2")].concat()));
    body.extend(item(0x50, &[item(0x51, &16384u32.to_be_bytes()), item(0x52, b"1.2.276.0.7230010.3.0.3.6.7"), item(0x55, b"OFFIS_DCMTK_367")].concat()));
    let rq = [&[1u8, 0][..], &(body.len() as u32).to_be_bytes(), &body].concat();
    // Command set: group length, Affected SOP Class, Command Field, Message ID, Data Set Type.
    let el = |e: u16, v: &[u8]| [&0u16.to_le_bytes()[..], &e.to_le_bytes(), &(v.len() as u32).to_le_bytes(), v].concat();
    let fields =
        [el(0x0002, b"1.2.840.10008.1.1\0"), el(0x0100, &0x0030u16.to_le_bytes()), el(0x0110, &1u16.to_le_bytes()), el(0x0800, &0x0101u16.to_le_bytes())]
            .concat();
    let command = [el(0x0000, &(fields.len() as u32).to_le_bytes()), fields].concat();
    let pdv = [&((command.len() + 2) as u32).to_be_bytes()[..], &[1u8, 3], &command].concat();
    let echo = [&[4u8, 0][..], &(pdv.len() as u32).to_be_bytes(), &pdv].concat();
    (rq, echo, vec![5, 0, 0, 0, 0, 4, 0, 0, 0, 0])
}

fn read_pdu(s: &mut TcpStream) -> std::io::Result<u8> {
    let mut head = [0u8; 6];
    s.read_exact(&mut head)?;
    let mut body = vec![0u8; u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize];
    s.read_exact(&mut body)?;
    Ok(head[0])
}

fn one(addr: SocketAddr, m: &(Vec<u8>, Vec<u8>, Vec<u8>)) -> std::io::Result<bool> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(&m.0)?;
    if read_pdu(&mut s)? != 0x02 {
        return Ok(false);
    }
    s.write_all(&m.1)?;
    let echoed = read_pdu(&mut s)? == 0x04;
    s.write_all(&m.2)?;
    Ok(echoed && read_pdu(&mut s)? == 0x06)
}

/// Associations per second with `threads` clients, up to `count` or the time limit.
fn measure(addr: SocketAddr, threads: usize, count: u64) -> (u64, u64, f64) {
    let m = Arc::new(messages());
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (m, done, errors) = (Arc::clone(&m), Arc::clone(&done), Arc::clone(&errors));
            std::thread::spawn(move || {
                while done.load(Ordering::Relaxed) < count && started.elapsed() < TIME_LIMIT {
                    match one(addr, &m) {
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
    let yaml = "store:\n  path: bench.db\n  sync: normal\n  flush_interval_ms: 20\ndecoys:\n  - name: scp\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: dcmtk-storescp\n    limits:\n      max_connections: 100000\n      max_connections_per_source: 100000\n";
    let decoy = process::start(dir.path(), yaml);
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    // DCMTK leaves Nagle on unless TCP_NODELAY is set; the issue measured it with Nagle off.
    let mut storescp = std::process::Command::new("storescp")
        .env("TCP_NODELAY", "1")
        .args(["--output-directory"])
        .arg(dir.path())
        .arg(port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("storescp (apt-get install dcmtk)");
    let real: SocketAddr = ([127, 0, 0, 1], port).into();
    while TcpStream::connect(real).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("| server | clients | associations | errors | seconds | associations/s |");
    println!("|---|---|---|---|---|---|");
    let mut total = 0;
    // One at a time, alternating the two servers for ROUNDS rounds so that neither
    // gets the quieter moments; then 16 clients once each.
    let mut sequential: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let servers = [("honeyward dcmtk-storescp", decoy.addr), ("DCMTK storescp 3.6.7", real)];
    for _ in 0..ROUNDS {
        for (i, (name, addr)) in servers.iter().enumerate() {
            std::thread::sleep(Duration::from_secs(1)); // let TIME_WAIT settle a little
            let (n, errors, secs) = measure(*addr, 1, SEQUENTIAL);
            println!("| {name} | 1 | {n} | {errors} | {secs:.2} | {:.0} |", n as f64 / secs);
            sequential[i].push(n as f64 / secs);
            if i == 0 {
                total += n;
            }
        }
    }
    for (i, (name, addr)) in servers.iter().enumerate() {
        std::thread::sleep(Duration::from_secs(2));
        let (n, errors, secs) = measure(*addr, 16, CONCURRENT);
        println!("| {name} | 16 | {n} | {errors} | {secs:.2} | {:.0} |", n as f64 / secs);
        if i == 0 {
            total += n;
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!(
        "one at a time, median of {ROUNDS} alternating rounds: honeyward {:.0}/s, storescp {:.0}/s",
        median(&mut sequential[0]),
        median(&mut sequential[1])
    );
    std::thread::sleep(Duration::from_secs(2));
    let db = rusqlite::Connection::open(dir.path().join("bench.db")).expect("store");
    let stored: i64 = db.query_row("SELECT count(*) FROM events WHERE kind = 400", [], |r| r.get(0)).unwrap_or(-1);
    println!("stored dicom_association events: {stored} (decoy completed {total})");
    let _ = storescp.kill();
    let _ = storescp.wait();
    decoy.stop();
}
