//! The DICOM decoy under hostile peers: truncated PDUs, a 4 GB length, an unknown PDU
//! type, P-DATA before association, a second A-ASSOCIATE-RQ, a flood of associations
//! and 10,000 held open. The dcm4chee personality answers as PS3.8 says (A-ABORT); the
//! DCMTK-based ones reset exactly as a real storescp does (compared side by side).
//! Each is recorded, with bounded memory; the decoy keeps serving. Loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn decoy(limits: &str) -> String {
    decoy_as("dcm4chee", limits)
}

fn decoy_as(personality: &str, limits: &str) -> String {
    format!("  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: {personality}\n    cohort_size: 5\n    limits:\n{limits}")
}

/// Sends `bytes` and returns everything the decoy sends back before it closes.
fn poke(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    outcome(addr, bytes).0
}

/// What comes back, and how the connection ended: `closed`, `reset` or `open`.
fn outcome(addr: SocketAddr, bytes: &[u8]) -> (Vec<u8>, &'static str) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, "closed"),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, "reset"),
            Err(_) => return (out, "open"),
        }
    }
}

fn echo_works(addr: SocketAddr) -> bool {
    let out = Command::new("echoscu").args(["-v", "-aec", "DCM4CHEE", "127.0.0.1", &addr.port().to_string()]).output().unwrap();
    String::from_utf8_lossy(&out.stderr).contains("Received Echo Response (Success)")
}

/// An A-ASSOCIATE-RQ proposing Verification to DCM4CHEE.
fn rq() -> Vec<u8> {
    dicom_associate_rq("DCM4CHEE", "EVILSCU", 1, "1.2.840.10008.3.1.1.1", &[(1, "1.2.840.10008.1.1", &["1.2.840.10008.1.2"])])
}

const ABORT_INVALID_PARAMETER: [u8; 10] = [7, 0, 0, 0, 0, 4, 0, 0, 2, 6];
const ABORT_UNRECOGNIZED_PDU: [u8; 10] = [7, 0, 0, 0, 0, 4, 0, 0, 2, 1];
const ABORT_UNEXPECTED_PDU: [u8; 10] = [7, 0, 0, 0, 0, 4, 0, 0, 2, 2];

#[test]
fn malformed_pdus_are_aborted_as_the_standard_says_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&decoy("      idle_timeout_seconds: 2\n")));
    let addr = hw.addr("pacs");
    assert_eq!(poke(addr, &[0x01, 0, 0xff, 0xff, 0xff, 0xff, 0, 1]), ABORT_INVALID_PARAMETER, "a 4 GB length");
    assert_eq!(poke(addr, &[0x09, 0, 0, 0, 0, 2, 0, 0]), ABORT_UNRECOGNIZED_PDU, "an unknown PDU type");
    assert_eq!(poke(addr, &[0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 3]), ABORT_UNEXPECTED_PDU, "P-DATA before association");
    let started = Instant::now();
    assert_eq!(poke(addr, &[0x01, 0, 0, 0, 0x01, 0, 1, 2, 3]), b"", "a truncated PDU is dropped on its deadline");
    assert!(started.elapsed() < Duration::from_secs(8));
    // A second A-ASSOCIATE-RQ inside an association.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&rq()).unwrap();
    let mut head = [0u8; 6];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 0x02, "associated");
    let mut ac = vec![0u8; u32::from_be_bytes(head[2..6].try_into().unwrap()) as usize];
    s.read_exact(&mut ac).unwrap();
    s.write_all(&rq()).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert_eq!(rest, ABORT_UNEXPECTED_PDU);
    assert!(echo_works(addr), "still serving");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_release") >= 4));
    let reasons: Vec<String> = bodies(&db, "dicom_release").iter().filter_map(|e| e["details"]["reason"].as_str().map(str::to_string)).collect();
    assert!(reasons.iter().any(|r| r.contains("4294967295 bytes is over the limit")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("unrecognized PDU type 0x09")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("before association")), "{reasons:?}");
}

#[test]
fn the_dcmtk_personality_refuses_garbage_exactly_as_a_real_storescp_does() {
    let dir = tempfile::tempdir().unwrap();
    let port_real = free_port();
    let storescp = Reaped(
        Command::new("storescp")
            .arg("--output-directory")
            .arg(dir.path())
            .arg(port_real.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("storescp"),
    );
    let real: SocketAddr = ([127, 0, 0, 1], port_real).into();
    assert!(eventually(10, || TcpStream::connect(real).is_ok()));
    let hw = Honeyward::start(dir.path(), &config(&decoy_as("dcmtk-storescp", "      idle_timeout_seconds: 5\n")));
    let decoy = hw.addr("pacs");
    let cases: [(&str, &[u8]); 3] = [
        ("an unknown PDU type", &[0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
        ("ten bytes of garbage", &[0x39, 0x0c, 0x8c, 0x7d, 0x72, 0x47, 0x34, 0x2c, 0xd8, 0x10]),
        ("P-DATA before association", &[0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 3]),
    ];
    for (what, bytes) in cases {
        assert_eq!(outcome(decoy, bytes), outcome(real, bytes), "{what}");
    }
    assert_eq!(outcome(decoy, &[0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 3]), ([7, 0, 0, 0, 0, 4, 0, 0, 0, 0].to_vec(), "reset"));
    drop(storescp);
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_release") == 4), "each refusal recorded");
    assert!(bodies(&db, "dicom_release").iter().all(|e| e["details"]["how"] == "reset-sent"));
}

#[test]
fn ten_thousand_open_associations_and_a_flood_of_requests_keep_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let limits = "      idle_timeout_seconds: 60\n      max_connections: 20000\n      max_connections_per_source: 20000\n";
    let hw = Honeyward::start(dir.path(), &config(&decoy(limits)));
    let addr = hw.addr("pacs");
    let pid = hw.child.id();
    let rss = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = rss();
    let started = Instant::now();
    let mut held = Vec::new();
    let request = rq();
    while held.len() < 10_000 && started.elapsed() < Duration::from_secs(60) {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { break };
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        if s.write_all(&request).is_ok() {
            held.push(s);
        }
    }
    assert_eq!(held.len(), 10_000, "all connections opened within the time bound");
    let db = hw.store();
    assert!(eventually(60, || count_kind(&db, "dicom_association") >= 10_000), "every association recorded");
    let during = rss();
    assert!(echo_works(addr), "a well-behaved client is still served");
    assert!(during - before < 400 * 1024, "RSS grew {} KiB for 10,000 associations", during - before);
    println!("RSS {before} KiB -> {during} KiB with 10,000 open associations ({:.1} KiB each)", (during - before) as f64 / 10_000.0);
    drop(held);

    // A flood: 2,000 associations requested and dropped as fast as possible.
    let flood_started = Instant::now();
    for _ in 0..2_000 {
        if flood_started.elapsed() > Duration::from_secs(30) {
            break;
        }
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(&request);
        }
    }
    assert!(eventually(60, || count_kind(&db, "dicom_association") >= 11_500), "the flood is recorded too");
    assert!(echo_works(addr));
}
