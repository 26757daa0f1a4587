//! When the store cannot keep up, decoys stop accepting instead of losing events;
//! connections over a limit are refused and counted in the store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// Tries to read a banner within `wait`; true if one arrived.
fn greeted(mut s: &TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok()
}

#[test]
fn a_locked_store_pauses_accepting_and_every_connection_is_recorded_once_it_frees() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("bp", "")).replace("  sync: normal\n", "  sync: normal\n  queue_capacity_events: 16\n  batch_max_events: 8\n");
    let hw = Honeyward::start(dir.path(), &yaml);
    let addr = hw.addr("bp");

    // Another process holds the database's write lock: the writer cannot commit.
    let mut locker = store(dir.path());
    let tx = locker.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).unwrap();
    let clients: Vec<TcpStream> = (0..60).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut got: Vec<bool> = clients.iter().map(|s| greeted(s, Duration::from_millis(100))).collect();
    let served_while_locked = got.iter().filter(|g| **g).count();
    assert!(served_while_locked < 60, "the decoy kept accepting although nothing could be stored");
    assert!(served_while_locked > 0, "the queue should take a few connections first");

    drop(tx); // lock released: the queue drains and accepting resumes
    for (s, g) in clients.iter().zip(got.iter_mut()) {
        *g = *g || greeted(s, Duration::from_secs(20));
    }
    assert!(got.iter().all(|g| *g), "every waiting peer is served after the store frees");
    drop(clients);
    let db = hw.store();
    assert!(eventually(30, || count_kind(&db, "connection_closed") == 60), "closes: {}", count_kind(&db, "connection_closed"));
    assert_eq!(count_kind(&db, "connection_opened"), 60);
    eprintln!("served while locked: {served_while_locked} of 60");
}

#[test]
fn connections_over_the_per_source_limit_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = "  - name: capped\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"hello\\r\\n\"\n    limits:\n      max_connections_per_source: 3\n";
    let hw = Honeyward::start(dir.path(), &config(decoy));
    let addr = hw.addr("capped");
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    assert!(held.iter().all(|s| greeted(s, Duration::from_secs(5))));
    for _ in 0..10 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 8];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "over-limit peer got data");
    }
    let db = hw.store();
    let refused = || bodies(&db, "connections_refused").iter().map(|b| b["details"]["count"].as_u64().unwrap()).sum::<u64>();
    assert!(eventually(10, || refused() == 10), "refused: {}", refused());
    assert_eq!(bodies(&db, "connections_refused")[0]["details"]["limit"], "max_connections_per_source");
    assert_eq!(count_kind(&db, "connection_opened"), 3, "refused peers are counted, not recorded one by one");
}
