//! `/metrics` parses with the reference Prometheus text-format parser
//! (prometheus_client from PyPI, tests/fixtures/parse_metrics.py) and its numbers
//! match the store and the decoys: events by sensor, decoy and kind, open
//! connections, sink lag.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn scrape(addr: std::net::SocketAddr) -> Vec<serde_json::Value> {
    let response = http_raw(addr, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("text/plain; version=0.0.4"), "{head}");
    let mut parser = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parse_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with prometheus-client (scripts/test.sh installs it)");
    parser.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = parser.wait_with_output().unwrap();
    assert!(out.status.success(), "the reference parser refused /metrics: {}\n{body}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn metrics_parse_with_the_prometheus_parser_and_match_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = tcp_decoy("banner", "") + "  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n";
    let hw = Honeyward::start(dir.path(), &(config(&decoys) + "console:\n  listen: 127.0.0.1:0\n"));
    let console = hw.addr("console");
    for i in 0..5 {
        http_raw(hw.addr("portal"), format!("GET /page-{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    }
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(hw.addr("banner")).unwrap()).collect();
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 5 && count_kind(&db, "connection_opened") == 8));
    std::thread::sleep(Duration::from_millis(300));

    let samples = scrape(console);
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        samples.iter().find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v)).and_then(|s| s["value"].as_f64())
    };
    // Every stored (sensor, decoy, kind) with its count, and nothing else.
    let mut stored = BTreeMap::new();
    let mut st = db.prepare("SELECT sensor, COALESCE(decoy, ''), kind, count(*) FROM events GROUP BY 1, 2, 3").unwrap();
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u16>(2)?, r.get::<_, i64>(3)?))).unwrap() {
        let (sensor, decoy, kind, n) = row.unwrap();
        let name = kind_name(kind);
        stored.insert((sensor, decoy, name.to_string()), n as f64);
    }
    let exported: BTreeMap<(String, String, String), f64> = samples
        .iter()
        .filter(|s| s["name"] == "honeyward_events_total")
        .map(|s| {
            (
                (
                    s["labels"]["sensor"].as_str().unwrap().to_string(),
                    s["labels"]["decoy"].as_str().unwrap().to_string(),
                    s["labels"]["kind"].as_str().unwrap().to_string(),
                ),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(exported, stored, "events_total matches the store");
    assert!(samples.iter().any(|s| s["family"] == "honeyward_events" && s["type"] == "counter"), "a counter family");
    assert_eq!(value("honeyward_connections_open", &[("decoy", "banner")]), Some(3.0), "three held connections");
    assert_eq!(value("honeyward_connections_open", &[("decoy", "portal")]), Some(0.0));
    assert!(value("honeyward_sink_lag_events", &[("sink", "archive")]).is_some());
    assert!(value("honeyward_store_bytes", &[]).unwrap() > 0.0);
    assert!(value("process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(value("honeyward_incidents_open", &[]).unwrap() >= 1.0);
    drop(held);
}

fn kind_name(id: u16) -> &'static str {
    honeyward::event::EventKind::name_of(id).expect("a known kind")
}
