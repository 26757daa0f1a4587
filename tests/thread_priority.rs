//! Under a flood the decoys' threads yield the CPU to the threads that carry events:
//! the runtime's workers run at a lower priority (a higher nice value) than the store
//! writer and the pipeline's thread (the sinks, the incident follower, retention).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;

/// Each thread's name and nice value (field 19 of /proc/PID/task/TID/stat).
fn threads(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let (Ok(comm), Ok(stat)) = (std::fs::read_to_string(task.path().join("comm")), std::fs::read_to_string(task.path().join("stat"))) else { continue };
        // The name in stat is in parentheses and may hold spaces: count after the last ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let nice: i64 = after.split_whitespace().nth(16).unwrap().parse().unwrap();
        out.push((comm.trim().to_string(), nice));
    }
    out
}

#[test]
fn decoy_worker_threads_run_below_the_store_writer_and_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&tcp_decoy("telnet", "")));
    // A connection, so that the decoy side has done work on its workers.
    let mut s = std::net::TcpStream::connect(hw.addr("telnet")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut banner = [0u8; 7];
    s.read_exact(&mut banner).unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    let threads = threads(hw.child.id());
    let nice_of = |name: &str| threads.iter().filter(|(n, _)| n == name).map(|(_, nice)| *nice).collect::<Vec<_>>();
    let workers = nice_of("honeyward");
    // The main thread is named after the binary too and keeps the process's priority.
    assert!(workers.iter().filter(|&&n| n == honeyward::priority::DECOY_WORKER_NICE as i64).count() >= 1, "{threads:?}");
    assert_eq!(nice_of("store-writer"), vec![0], "{threads:?}");
    assert!(!nice_of("pipeline").is_empty() && nice_of("pipeline").iter().all(|&n| n == 0), "{threads:?}");
}
