//! The disk never fills: `store.retention` keeps the store under its size cap while a
//! flood writes ten times as much, without a sink missing an event; and a store that is
//! full (its sink cannot deliver, so nothing may be deleted) counts what it cannot keep,
//! keeps the decoys answering, and records a critical `store_full` once there is room.
//! Loopback only; floods bounded in count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::controller::*;
use common::*;

const MIB: u64 = 1024 * 1024;

/// `count` connections from `threads` threads, each reading the banner and sending
/// 4 KiB marked with its number; how many got the banner.
fn flood(addr: SocketAddr, count: usize, threads: usize) -> usize {
    let per = count / threads;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                let mut answered = 0;
                for i in t * per..(t + 1) * per {
                    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else { continue };
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut banner = [0u8; 7];
                    if s.read_exact(&mut banner).is_ok() && &banner == b"hello\r\n" {
                        answered += 1;
                    }
                    let mut data = format!("flood-{i:06}-").into_bytes();
                    data.resize(4096, b'x');
                    let _ = s.write_all(&data);
                }
                answered
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap()).sum()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn decoy() -> String {
    format!("{}    capture_bytes: 4096\n", tcp_decoy("banner", ""))
}

#[test]
fn a_flood_writing_ten_times_the_size_cap_leaves_the_store_under_the_cap_and_the_sink_gets_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&decoy()).replace("  sync: normal\n", "  sync: normal\n  batch_max_events: 64\n  retention:\n    max_size_mb: 2\n    max_age_days: 30\n");
    let mut hw = Honeyward::start(dir.path(), &yaml);
    const CONNECTIONS: usize = 5_000;
    // The store's size is sampled throughout, not only at the end.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (done, db) = (std::sync::Arc::clone(&done), dir.path().join("honeyward.db"));
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(size(&db));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    assert_eq!(flood(hw.addr("banner"), CONNECTIONS, 4), CONNECTIONS, "every connection was answered");
    let sink = dir.path().join("events.jsonl");
    let received = || std::fs::read_to_string(&sink).unwrap_or_default().lines().filter(|l| l.contains("\"kind\":\"data_received\"")).count();
    assert!(eventually(60, || received() == CONNECTIONS), "the sink got {} of {CONNECTIONS}", received());
    assert!(hw.stop().success());
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();

    let text = std::fs::read_to_string(&sink).unwrap();
    let marks: std::collections::HashSet<&str> = text.match_indices("flood-").map(|(at, _)| &text[at..at + 12]).collect();
    assert_eq!(marks.len(), CONNECTIONS, "each connection's bytes reached the sink once");
    assert!(!text.contains("store_full"), "nothing was lost");
    let written = size(&sink);
    assert!(written >= 10 * 2 * MIB, "the flood wrote {written} bytes, ten times the cap");
    let batch = 64 * text.lines().map(str::len).max().unwrap() as u64;
    let on_disk = size(&dir.path().join("honeyward.db"));
    eprintln!("sink {written} bytes; store at its peak {peak} bytes, at the end {on_disk} (cap {}, one batch at most {batch})", 2 * MIB);
    assert!(peak.max(on_disk) <= 2 * MIB + batch, "the store reached {peak} bytes, over the cap and a batch");
    let db = store(dir.path());
    let kept: i64 = db.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert!(kept > 0 && (kept as usize) < 3 * CONNECTIONS, "the newest events are kept, the oldest gone: {kept}");
}

#[test]
fn a_full_store_counts_what_it_cannot_keep_the_decoys_keep_answering_and_store_full_is_recorded_once_there_is_room() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-full");
    // The controller is away: the sensor's forwarding sink passes nothing, so nothing
    // in its 1 MiB store may be deleted.
    let yaml = format!(
        "store:\n  path: honeyward.db\n  sync: normal\n  batch_max_events: 64\n  retention:\n    max_size_mb: 1\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: credential.json\n  heartbeat_seconds: 1\n  token_sync_seconds: 1\ndecoys:\n{}",
        decoy()
    );
    std::fs::write(sdir.join("honeyward.yaml"), yaml).unwrap();
    let mut sensor = Honeyward::spawn(&sdir, &["sensor", "-c", "honeyward.yaml"]);
    const CONNECTIONS: usize = 1_000;
    assert_eq!(flood(sensor.addr("banner"), CONNECTIONS, 2), CONNECTIONS, "every connection was answered while the store was full");
    assert!(eventually(20, || sensor.stderr_text().contains("the store is full")), "the sensor says so:\n{}", sensor.stderr_text());
    let sdb = sensor.store();
    let cursors: Vec<(String, i64)> =
        sdb.prepare("SELECT sink, seq FROM sink_cursors").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert!(cursors.iter().all(|(_, seq)| *seq == 0), "nothing was forwarded: {cursors:?}");
    let full = size(&sdir.join("honeyward.db"));
    assert!(full <= MIB + 64 * 1024, "the store stopped at its hard limit: {full} bytes");
    assert_eq!(flood(sensor.addr("banner"), 10, 1), 10, "the process survived and still answers");

    // The controller comes back: the sensor forwards, retention makes room, and the
    // loss is recorded and forwarded.
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let cdb = controller.store();
    assert!(eventually(60, || count_kind(&cdb, "store_full") == 1), "no store_full at the controller; sensor log:\n{}", sensor.stderr_text());
    let lost = &bodies(&cdb, "store_full")[0];
    assert!(lost["details"]["events"].as_u64().is_some_and(|n| n > 0), "{lost}");
    assert_eq!(lost["sensor"], "ward-full", "{lost}");
    let stored = count_kind(&cdb, "data_received") as u64;
    eprintln!("stored and forwarded {stored} data_received events; store_full: {lost}");
    assert!(stored > 0 && stored < CONNECTIONS as u64, "some were kept, the rest counted");
    assert!(sensor.stop().success());
    assert!(controller.stop().success());
}
