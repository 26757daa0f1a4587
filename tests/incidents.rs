//! `honeyward incidents`: many connections from one source are one incident, a
//! canary URL hit is an incident of its own, and the allow-list suppresses without
//! dropping.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn one_source_is_one_incident_a_token_hit_its_own_and_ignored_decoys_are_suppressed() {
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
    assert_eq!(shown.len(), 2, "{shown:?}");
    let token = shown.iter().find(|i| i["token"].is_string()).expect("the canary hit's own incident");
    assert_eq!(token["severity"], "critical");
    assert!(token["token"].as_str().unwrap().contains("rota link"));
    assert_eq!(token["events"], 1);
    let main = shown.iter().find(|i| i["token"].is_null()).unwrap();
    assert_eq!(main["source"], "127.0.0.1");
    assert!(main["events"].as_u64().unwrap() >= 150, "50 connections × 3 events and the web request's open/close: {main}");
    let all = list(&["--all"]);
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|i| i["suppressed"] == true && i["decoys"][0] == "quiet"));

    let id = token["id"].as_str().unwrap();
    let shown = cli(dir.path(), &["incidents", "show", id]);
    assert!(shown.contains("critical") && shown.contains("http_request"), "{shown}");

    // Acknowledging: stored, shown, and filtered out by --unacked.
    let acked = cli(dir.path(), &["incidents", "ack", id, "--by", "soc-analyst", "--note", "INC0012345"]);
    assert!(acked.contains("acknowledged by soc-analyst"), "{acked}");
    let text = cli(dir.path(), &["incidents", "list"]);
    assert!(text.lines().any(|l| l.starts_with(id) && l.contains("ACKED by soc-analyst") && l.contains("INC0012345")), "{text}");
    let open: Vec<_> = list(&["--unacked"]);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], main["id"]);
    assert_eq!(list(&[]).iter().find(|i| i["id"] == id).unwrap()["ack"]["by"], "soc-analyst");
}
