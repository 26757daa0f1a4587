//! Sink filters: each sink forwards only the events its filter accepts (by minimum
//! severity, kind and decoy) and its cursor moves past the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

use common::*;

#[test]
fn each_sink_forwards_only_what_its_filter_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "store:\n  path: honeyward.db\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n  - name: other\n    type: tcp\n    listen: 127.0.0.1:0\nsinks:\n  - name: serious\n    type: file\n    path: serious.jsonl\n    filter: {min_severity: medium}\n  - name: opens\n    type: file\n    path: opens.jsonl\n    format: cef\n    filter: {kinds: [connection_opened], decoys: [banner]}\n";
    let hw = Honeyward::start(dir.path(), yaml);
    for decoy in ["banner", "other"] {
        let mut s = TcpStream::connect(hw.addr(decoy)).unwrap();
        s.write_all(b"USER root\r\n").unwrap();
    }
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 2));
    let lines = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default().lines().map(str::to_string).collect::<Vec<_>>();
    assert!(eventually(10, || lines("serious.jsonl").len() == 2 && lines("opens.jsonl").len() == 1));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let serious = lines("serious.jsonl");
    assert_eq!(serious.len(), 2, "only the two data_received events (medium): {serious:?}");
    assert!(serious.iter().all(|l| l.contains("\"kind\":\"data_received\"")));
    let opens = lines("opens.jsonl");
    assert_eq!(opens.len(), 1);
    assert!(opens[0].starts_with("CEF:0|honeyward|honeyward|") && opens[0].contains("|100|connection_opened|"), "{}", opens[0]);
}

#[test]
fn an_incidents_only_file_sink_writes_one_ocsf_detection_finding_per_incident_and_resumes_without_repeating() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "store:\n  path: honeyward.db\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\nsinks:\n  - name: findings\n    type: file\n    path: findings.jsonl\n    format: ocsf\n    incidents_only: true\n";
    let mut hw = Honeyward::start(dir.path(), yaml);
    for _ in 0..20 {
        let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
        s.write_all(b"USER root\r\n").unwrap();
    }
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 20));
    let lines = || {
        std::fs::read_to_string(dir.path().join("findings.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    assert!(eventually(10, || lines().len() == 1));
    assert!(hw.stop().success());
    // After a restart the same source's incident is still open: no second finding.
    let hw = Honeyward::start(dir.path(), yaml);
    let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
    s.write_all(b"USER admin\r\n").unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 21));
    std::thread::sleep(std::time::Duration::from_millis(800));
    let found = lines();
    assert_eq!(found.len(), 1, "one incident, one finding: {found:?}");
    assert_eq!(found[0]["class_uid"], 2004);
    assert_eq!(found[0]["type_uid"], 200401);
    let incidents = cli(dir.path(), &["incidents", "list", "--json"]);
    let incident: serde_json::Value = serde_json::from_str(incidents.lines().next().unwrap()).unwrap();
    assert_eq!(found[0]["finding_info"]["uid"], incident["id"], "the finding names the incident");
    assert_eq!(found[0]["evidences"][0]["data"]["class_uid"], 4001);
}

#[test]
fn an_unknown_kind_or_severity_in_a_filter_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "decoys: []\nsinks:\n  - name: s\n    type: stdout\n    filter: {min_severity: severe, kinds: [ssh_login]}\n").unwrap();
    let out = Command::new(BIN).arg("validate").arg("-c").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.yaml:5:") && err.contains("unknown severity `severe`") && err.contains("unknown event kind `ssh_login`"), "{err}");
}
