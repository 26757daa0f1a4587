//! HL7 v2 decoy benchmark: MLLP messages per second with their replies over 16
//! connections, each client sending a message and reading its reply before the next
//! (as an interface engine's sender does), every message counted in the store
//! (`sync: full`, the default). Two loads: ADT^A01 (acknowledged) and QBP^Q22 (a PDQ
//! query answered from the 40-patient cohort).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench hl7`
//! (`HW_BENCH_BIN` runs another binary.) Loopback only; each run is bounded by count
//! and time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MESSAGES: u64 = 200_000;
const CLIENTS: usize = 16;
const TIME_LIMIT: Duration = Duration::from_secs(20);

const ADT: &str = "MSH|^~\\&|EPIC|RAD|MIRTH|HOSP|20261206101500||ADT^A01^ADT_A01|MSG00001|P|2.5.1\rEVN|A01|20261206101500\rPID|1||1234567^^^HOSP^MR||DOE^John||19700101|M\rPV1|1|I\r";
const PDQ: &str = "MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101700||QBP^Q22^QBP_Q21|Q0001|P|2.5\rQPD|IHE PDQ Query|Q0001|@PID.8^F\rRCP|I|5^RD\r";

/// Reads one MLLP frame (up to 0x1C 0x0D); true when it holds an MSA with `code`.
fn reply(s: &mut TcpStream, buf: &mut Vec<u8>, code: &[u8]) -> std::io::Result<bool> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    while !buf.ends_with(&[0x1c, 0x0d]) {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let msa = [b"\rMSA|".as_slice(), code].concat();
    Ok(buf.windows(msa.len()).any(|w| w == msa))
}

/// Sends `message` from `CLIENTS` connections until `count` replies or the time
/// limit: (replied, errors, seconds).
fn measure(addr: SocketAddr, message: &str, count: u64) -> (u64, u64, f64) {
    let framed: Arc<Vec<u8>> = Arc::new([&[0x0b][..], message.as_bytes(), &[0x1c, 0x0d]].concat());
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (framed, done, errors) = (Arc::clone(&framed), Arc::clone(&done), Arc::clone(&errors));
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = Vec::with_capacity(8192);
                while done.load(Ordering::Relaxed) + errors.load(Ordering::Relaxed) < count && started.elapsed() < TIME_LIMIT {
                    let ok = s.write_all(&framed).and_then(|_| reply(&mut s, &mut buf, b"AA"));
                    match ok {
                        Ok(true) => done.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => errors.fetch_add(1, Ordering::Relaxed),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
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
    println!("| load | clients | messages replied | errors | seconds | messages/s | decoy CPU µs per message | stored |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, message) in [("ADT^A01 → ACK", ADT), ("QBP^Q22 → RSP^K22 (5 patients)", PDQ)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let yaml = "store:\n  path: bench.db\ndecoys:\n  - name: engine\n    type: hl7\n    listen: 127.0.0.1:0\n    limits:\n      max_connections: 1000\n      max_connections_per_source: 1000\n";
        let decoy = process::start(dir.path(), yaml);
        std::thread::sleep(Duration::from_secs(1));
        let cpu_before = process::cpu_seconds(decoy.pid);
        let (n, errors, secs) = measure(decoy.addr, message, MESSAGES);
        let cpu = process::cpu_seconds(decoy.pid) - cpu_before;
        let stored = process::stored(&dir.path().join("bench.db"), 700, n);
        println!("| {name} | {CLIENTS} | {n} | {errors} | {secs:.2} | {:.0} | {:.1} | {stored} |", n as f64 / secs, cpu * 1e6 / n.max(1) as f64);
        decoy.stop();
    }
}
