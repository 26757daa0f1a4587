//! The HTTP decoy under hostile clients: slowloris, silence, a 100 MB body, 10,000
//! headers, non-UTF-8 paths. Each is capped, closed on its deadline and recorded, and
//! the decoy keeps serving. Loopback only; every loop is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

fn decoy() -> String {
    // Session byte cap raised so the body cap (1 MiB) is what stops the upload.
    "  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    limits:\n      idle_timeout_seconds: 3\n      max_session_bytes: 8388608\n".into()
}

fn closed(db: &rusqlite::Connection) -> Vec<serde_json::Value> {
    bodies(db, "connection_closed").into_iter().map(|e| e["details"].clone()).collect()
}

fn still_serving(addr: std::net::SocketAddr) {
    assert!(http_raw(addr, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").starts_with(b"HTTP/1.1 404"), "still serving");
}

#[test]
fn slowloris_and_silent_connections_are_closed_on_their_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&decoy()));
    let addr = hw.addr("web");
    let silent = TcpStream::connect(addr).unwrap();
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let started = Instant::now();
    // One header byte per second, as slowloris does; bounded to 10 bytes.
    for b in b"GET / HTTP/1.1\r\nX-a: ".iter().take(10) {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 2), "both closed");
    assert!(started.elapsed() < Duration::from_secs(12));
    assert!(closed(&db).iter().all(|c| c["reason"] == "idle_timeout"), "{:?}", closed(&db));
    drop(silent);
    still_serving(addr);
}

#[test]
fn a_100_mb_body_is_refused_unread_with_nginxs_413_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&decoy()));
    let addr = hw.addr("web");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n").unwrap();
    let chunk = vec![b'A'; 64 * 1024];
    let started = Instant::now();
    let mut sent = 0usize;
    while sent < 100 << 20 && started.elapsed() < Duration::from_secs(20) {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break, // the decoy stopped reading and closed
        }
    }
    assert!(sent < 100 << 20, "the decoy must not swallow all 100 MB (sent {sent})");
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    drop(s);

    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 1));
    let req = &bodies(&db, "http_request")[0]["details"];
    // nginx-default declares client_max_body_size 1m: refused before a byte is read.
    assert_eq!(req["body_bytes"], 0, "{req}");
    assert_eq!(req["status"], 413);
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 413 Request Entity Too Large\r\n"));
    let c = &closed(&db)[0];
    assert!(c["bytes_in"].as_u64().unwrap() < 4 << 20, "{c}");
    still_serving(addr);
}

#[test]
fn ten_thousand_headers_get_nginxs_too_large_page_and_are_recorded_raw() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&decoy()));
    let addr = hw.addr("web");
    let headers: Vec<u8> = (0..10_000).flat_map(|i| format!("X-{i}: a\r\n").into_bytes()).collect();
    let request = [&b"GET / HTTP/1.1\r\nHost: x\r\n"[..], &headers, b"\r\n"].concat();
    let response = http_raw(addr, &request);
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n") && text.contains("Request Header Or Cookie Too Large"), "{text}");
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "data_received") == 1 && count_kind(&db, "connection_closed") == 1));
    let raw = &bodies(&db, "data_received")[0]["details"];
    assert_eq!(raw["truncated"], true);
    assert!(raw["data"]["text"].as_str().unwrap().starts_with("GET / HTTP/1.1\r\nHost: x\r\nX-0: a"));
    assert_eq!(closed(&db)[0]["reason"], "protocol_error");
    still_serving(addr);
}

#[test]
fn non_utf8_paths_are_recorded_exactly_with_a_base64_copy() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&decoy()));
    let addr = hw.addr("web");
    let response = http_raw(addr, b"GET /\xff\xfe%00/../x HTTP/1.1\r\nHost: x\r\nUser-Agent: \xc3\x28\r\n\r\n");
    assert!(response.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 1));
    let req = &bodies(&db, "http_request")[0]["details"];
    use base64::Engine as _;
    let target = base64::engine::general_purpose::STANDARD.decode(req["target"]["base64"].as_str().unwrap()).unwrap();
    assert_eq!(target, b"/\xff\xfe%00/../x");
    assert!(req["user_agent"]["base64"].is_string());
    assert_eq!(req["tags"][0], "exploit", "path traversal is tagged");
    still_serving(addr);
}
