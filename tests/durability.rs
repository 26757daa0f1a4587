//! No lost or repeated events: kill -9 in the middle of a connection burst, and
//! SIGTERM in the middle of one, against the real binary and its real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const BURST: usize = 10_000;
const CLIENT_THREADS: usize = 8;

/// Runs up to BURST connections from several threads until the server goes away or
/// 60 s pass. `on_connect` gets each stream; returns how many completed.
fn burst(addr: SocketAddr, done: Arc<AtomicUsize>, on_connect: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> Vec<std::thread::JoinHandle<()>> {
    let started = Instant::now();
    (0..CLIENT_THREADS)
        .map(|_| {
            let done = Arc::clone(&done);
            let on_connect = on_connect.clone();
            std::thread::spawn(move || {
                while done.load(Ordering::Relaxed) < BURST && started.elapsed() < Duration::from_secs(60) {
                    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                        Ok(s) => {
                            on_connect(s);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect()
}

fn ids_by_seq(db: &rusqlite::Connection) -> Vec<String> {
    let mut st = db.prepare("SELECT id FROM events ORDER BY seq").unwrap();
    let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn file_ids(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn kill_9_during_a_burst_loses_and_repeats_nothing_in_store_or_file_sink() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("burst", "      idle_timeout_seconds: 5\n"));
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let done = Arc::new(AtomicUsize::new(0));
    let clients = burst(hw.addr("burst"), Arc::clone(&done), |mut s| {
        use std::io::Write;
        let _ = s.write_all(b"x");
    });
    // Kill once the store has committed a good part of the burst (and while it goes on).
    let db = store(dir.path());
    let count = |db: &rusqlite::Connection| db.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap();
    assert!(eventually(60, || count(&db) >= 3000), "burst did not get going");
    assert!(done.load(Ordering::Relaxed) < BURST, "burst ended before the kill");
    hw.signal(libc::SIGKILL);
    hw.wait_exit(10);
    for c in clients {
        c.join().unwrap();
    }

    // What the store had committed when the process died.
    let committed = ids_by_seq(&store(dir.path()));
    assert!(committed.len() >= 3000);
    let in_file_before = file_ids(dir.path()).len();

    let mut hw = Honeyward::start(dir.path(), &yaml);
    let db = hw.store();
    assert!(eventually(30, || file_ids(dir.path()).len() == ids_by_seq(&db).len()), "file sink did not catch up");
    let after = ids_by_seq(&db);
    assert_eq!(&after[..committed.len()], &committed[..], "committed events changed or reordered");
    let distinct: std::collections::HashSet<_> = after.iter().collect();
    assert_eq!(distinct.len(), after.len(), "an event is stored twice");
    let in_file = file_ids(dir.path());
    assert_eq!(in_file, after, "file sink output is not exactly the store, in order, once each");
    eprintln!("committed at kill: {}, in file at kill: {in_file_before}, after restart: {}", committed.len(), after.len());
    assert!(hw.stop().success());
}

#[test]
fn sigterm_during_a_burst_records_open_and_close_of_every_accepted_connection() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("burst", "      idle_timeout_seconds: 60\n"));
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let done = Arc::new(AtomicUsize::new(0));
    let greeted = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (g, h) = (Arc::clone(&greeted), Arc::clone(&held));
    let clients = burst(hw.addr("burst"), Arc::clone(&done), move |mut s| {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut banner = [0u8; 16];
        if matches!(s.read(&mut banner), Ok(n) if n > 0) {
            let n = g.fetch_add(1, Ordering::Relaxed);
            if n % 2 == 0 {
                h.lock().unwrap().push(s); // keep half of them open until shutdown
            }
        }
    });
    assert!(eventually(60, || done.load(Ordering::Relaxed) >= 2000), "burst did not get going");
    let status = hw.stop();
    assert!(status.success(), "exit status {status:?}");
    for c in clients {
        c.join().unwrap();
    }

    let db = store(dir.path());
    let unclosed: i64 = db
        .query_row(
            "SELECT count(*) FROM events o WHERE o.kind = 100 AND NOT EXISTS
               (SELECT 1 FROM events c WHERE c.kind = 101 AND c.session = o.session)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unclosed, 0, "connections opened without a close event");
    let opened = count_kind(&db, "connection_opened") as usize;
    assert!(opened >= greeted.load(Ordering::Relaxed), "{opened} opened < {} greeted", greeted.load(Ordering::Relaxed));
    assert_eq!(count_kind(&db, "connection_closed") as usize, opened);
    let by_shutdown: i64 = db.query_row("SELECT count(*) FROM events WHERE kind = 101 AND body LIKE '%\"reason\":\"shutdown\"%'", [], |r| r.get(0)).unwrap();
    assert!(by_shutdown > 0, "held connections should be closed by the shutdown");
}

fn connect_and_leave(addr: SocketAddr, n: usize) {
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).unwrap();
    }
}

fn stdout_ids(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("stdout.log")).unwrap();
    text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn after_a_clean_restart_every_sink_resumes_from_its_cursor_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("resume", "")) + "  - name: console\n    type: stdout\n";
    let mut hw = Honeyward::start(dir.path(), &yaml);
    connect_and_leave(hw.addr("resume"), 5);
    let db = store(dir.path());
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 5));
    assert!(hw.stop().success());
    let first_run = ids_by_seq(&db);
    assert_eq!(stdout_ids(dir.path()), first_run, "stdout sink delivered everything before exiting");

    let mut hw = Honeyward::start(dir.path(), &yaml);
    connect_and_leave(hw.addr("resume"), 5);
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 10));
    assert!(hw.stop().success());
    let all = ids_by_seq(&db);
    assert_eq!(file_ids(dir.path()), all, "file sink: every event once, in order, across the restart");
    assert_eq!(stdout_ids(dir.path()), all[first_run.len()..], "stdout sink resumed after the first run's events");
}
