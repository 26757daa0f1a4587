//! The DICOM decoys' timers side by side with the real products on loopback: a
//! connection that never sends an A-ASSOCIATE-RQ (ARTIM) and an association left
//! silent after the AC must be ended after the same time (within 2.5 s: the real servers' own jitter), the same
//! way (Orthanc's A-ABORT, storescp's bare close). All probes run at once: about 61 s.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// Connects, associates (Verification) when asked, then waits for the server to end
/// the connection: (seconds until it did, from the connection or the AC; the bytes it
/// sent after the AC).
fn ended_after(addr: SocketAddr, called: &str, associate: bool) -> (f64, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut start = Instant::now();
    if associate {
        s.write_all(&dicom_associate_rq(called, "IDLE", 1, "1.2.840.10008.3.1.1.1", &[(1, "1.2.840.10008.1.1", &["1.2.840.10008.1.2"])])).unwrap();
        let mut head = [0u8; 6];
        s.read_exact(&mut head).unwrap();
        assert_eq!(head[0], 2, "associated");
        let mut body = vec![0u8; u32::from_be_bytes(head[2..6].try_into().unwrap()) as usize];
        s.read_exact(&mut body).unwrap();
        // Orthanc answers one association request at a time: the AC can wait for a
        // silent connection's ARTIM. The idle time runs from the AC.
        start = Instant::now();
    }
    let mut after = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        after.extend_from_slice(&buf[..n]);
    }
    (start.elapsed().as_secs_f64(), after)
}

#[test]
fn silent_connections_and_idle_associations_end_when_and_how_the_real_orthanc_and_storescp_end_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_orthanc, _, orthanc) = real_pacs::orthanc(dir.path(), "");
    // storescp serves one association at a time: one server per probe.
    let (_a, storescp_a) = real_pacs::storescp(dir.path());
    let (_b, storescp_b) = real_pacs::storescp(dir.path());
    let decoys = "  - name: orthanc\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n  - name: storescp\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: dcmtk-storescp\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));

    let probes = [
        ("Orthanc, silent", orthanc, hw.addr("orthanc"), "ORTHANC", false),
        ("Orthanc, idle association", orthanc, hw.addr("orthanc"), "ORTHANC", true),
        ("storescp, silent", storescp_a, hw.addr("storescp"), "STORESCP", false),
        ("storescp, idle association", storescp_b, hw.addr("storescp"), "STORESCP", true),
    ];
    let handles: Vec<_> = probes
        .iter()
        .flat_map(|&(name, real, decoy, called, associate)| {
            [(name, "real", real), (name, "decoy", decoy)]
                .map(|(name, side, addr)| std::thread::spawn(move || (name, side, ended_after(addr, called, associate))))
        })
        .collect();
    let ended: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for pair in ended.chunks(2) {
        let [(name, _, (real_s, real_bytes)), (_, _, (decoy_s, decoy_bytes))] = pair else { unreachable!() };
        eprintln!("{name}: real {real_s:.1} s, decoy {decoy_s:.1} s");
        // storescp's own close comes 0.1 to 1.5 s after its 60 s (measured on a busy machine).
        assert!((real_s - decoy_s).abs() < 2.5, "{name}: the real server ended it after {real_s:.1} s, the decoy after {decoy_s:.1} s");
        assert_eq!(decoy_bytes, real_bytes, "{name}: what was sent before the close");
    }
}
