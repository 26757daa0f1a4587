//! `honeyward incidents`: many connections from one source are one incident, a
//! canary URL hit from the same source joins it and makes it critical, and the
//! allow-list suppresses without dropping.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn one_source_is_one_incident_a_token_hit_makes_it_critical_and_ignored_decoys_are_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "store:\n  path: honeyward.db\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n    limits: {max_connections_per_source: 1000}\n  - name: quiet\n    type: tcp\n    listen: 127.0.0.1:0\n  - name: web\n    type: http\n    listen: 127.0.0.1:0\nsinks: []\nalerts:\n  incident_window_seconds: 600\n  ignore:\n    decoys: [quiet]\n";
    std::fs::write(dir.path().join("honeyward.yaml"), yaml).unwrap();
    let hw = Honeyward::start(dir.path(), yaml);
    for _ in 0..50 {
        let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
        let _ = s.write_all(b"admin\r\n");
    }
    let _ = TcpStream::connect(hw.addr("quiet")).unwrap().write_all(b"scan\r\n");
    let out = cli(dir.path(), &["token", "create", "url", "--label", "rota link", "--endpoint", &format!("http://{}", hw.addr("web")), "--out", "links.html"]);
    assert!(out.contains("created"));
    let page = std::fs::read_to_string(dir.path().join("links.html")).unwrap();
    let url = page.split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1200));
    assert!(Command::new("curl").args(["-s", "-o", "/dev/null", &url]).status().unwrap().success());
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 52 && count_kind(&db, "http_request") == 1));

    let list = |extra: &[&str]| {
        let mut args = vec!["incidents", "list", "--json"];
        args.extend_from_slice(extra);
        cli(dir.path(), &args).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).collect::<Vec<_>>()
    };
    let shown = list(&[]);
    assert_eq!(shown.len(), 1, "{shown:?}");
    let main = &shown[0];
    assert_eq!(main["severity"], "critical");
    assert!(main["token"].as_str().unwrap().contains("rota link"));
    assert_eq!(main["source"], "127.0.0.1");
    assert!(main["events"].as_u64().unwrap() >= 153, "50 connections × 3 events and the canary request with its open and close: {main}");
    assert_eq!(main["title"], "Planted canary URL used: rota link");
    let all = list(&["--all"]);
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|i| i["suppressed"] == true && i["decoys"][0] == "quiet"));

    let id = main["id"].as_str().unwrap();
    let shown = cli(dir.path(), &["incidents", "show", id]);
    assert!(shown.contains("critical") && shown.contains("http_request"), "{shown}");

    // Acknowledging: stored, shown, and filtered out by --unacked.
    let acked = cli(dir.path(), &["incidents", "ack", id, "--by", "soc-analyst", "--note", "INC0012345"]);
    assert!(acked.contains("acknowledged by soc-analyst"), "{acked}");
    let text = cli(dir.path(), &["incidents", "list"]);
    assert!(text.lines().any(|l| l.starts_with(id) && l.contains("ACKED by soc-analyst") && l.contains("INC0012345")), "{text}");
    assert!(list(&["--unacked"]).is_empty());
    assert_eq!(list(&[]).iter().find(|i| i["id"] == id).unwrap()["ack"]["by"], "soc-analyst");
}
