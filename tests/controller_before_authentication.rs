//! Anyone who reaches the controller's port, before authenticating: a request that
//! promises a 32 MB body, ten thousand forged requests, a gzip bomb from an enrolled
//! sensor, and one address opening every connection it can. Each must cost the
//! controller little and the store almost nothing, while a real sensor is still served.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::controller::*;
use common::*;

fn now_ms() -> i64 {
    honeyward::event::Timestamp::now().as_micros() / 1000
}

fn refusals(db: &rusqlite::Connection) -> Vec<serde_json::Value> {
    bodies(db, "sensor_refused")
}

#[test]
fn an_unsigned_request_promising_a_32_mb_body_is_refused_before_a_byte_of_the_body_is_sent() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-1");
    let (_, ca) = credential(&sdir);
    let _controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    // The head of a request that promises 32 MiB; the body never comes.
    let config = honeyward::tls::client_config(&ca, None, &[]).unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(25))).unwrap();
    let mut tls = rustls::StreamOwned::new(rustls::ClientConnection::new(config, name).unwrap(), tcp);
    let started = Instant::now();
    tls.write_all(
        format!("POST /v1/sensor/ingest HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-honeyward-sensor: ward-1\r\nContent-Type: application/json\r\nContent-Length: 33554432\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut head = [0u8; 12];
    tls.read_exact(&mut head).unwrap();
    let took = started.elapsed();
    let status = String::from_utf8_lossy(&head[9..12]).into_owned();
    assert_eq!(status, "401", "refused for its headers");
    assert!(took < Duration::from_secs(10), "answered in {took:?}, without waiting for the body (the body deadline is 30 s)");
}

#[test]
fn ten_thousand_forged_requests_cost_the_store_a_counted_event_or_two_and_a_signed_heartbeat_is_still_served() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-1");
    let (key, ca) = credential(&sdir);
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let db = controller.store();
    let events_before: i64 = db.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();

    // 10,000 forged heartbeats (a name that exists, a signature that does not hold),
    // from one curl over a few parallel connections.
    let flood = {
        let ca = ca.clone();
        std::thread::spawn(move || {
            let out = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}\n", "--parallel", "--parallel-max", "8", "--cacert"])
                .arg(&ca)
                .args(["-X", "POST", "-d", "{}", "-H", "x-honeyward-sensor: ward-1", "-H", "x-honeyward-timestamp: 1", "-H", "x-honeyward-nonce: n"])
                .args(["-H", "x-honeyward-signature: 00"])
                .arg(format!("https://127.0.0.1:{port}/v1/sensor/heartbeat?n=[1-10000]"))
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert_eq!(signed_curl(port, &ca, "ward-1", &key, now_ms(), "real-1", r#"{"decoys":[]}"#, false), 200, "the real sensor during the flood");
    let took = started.elapsed();
    eprintln!("a signed heartbeat during the flood: {took:?}");
    assert!(took < Duration::from_secs(5), "a signed heartbeat took {took:?} during the flood");
    let codes = flood.join().unwrap();
    assert_eq!(codes.lines().filter(|c| *c == "401").count(), 10_000, "every forged request refused");

    assert!(controller.stop().success());
    let db = store(&cdir);
    let refused = refusals(&db);
    let counted: u64 = refused.iter().map(|r| r["details"]["count"].as_u64().unwrap_or(1)).sum();
    assert_eq!(counted, 10_000, "every refusal counted");
    assert!(refused.len() <= 4, "one event per source per minute and one count of the rest, not one per request: {} events", refused.len());
    let events_after: i64 = db.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(events_after - events_before, refused.len() as i64, "nothing else stored");
}

/// POSTs `decoded`, gzip-compressed, signed as `sensor` over the decoded bytes.
fn signed_gzip(port: u16, ca: &Path, sensor: &str, key: &[u8], decoded: &[u8], dir: &Path) -> u16 {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(decoded).unwrap();
    let file = dir.join("body.gz");
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let (nonce, timestamp_ms) = (format!("gz-{}", now_ms()), now_ms());
    let request = SignedRequest { port, ca, sensor, key, path: "/v1/sensor/ingest", timestamp_ms, nonce: &nonce };
    let body = format!("@{}", file.display());
    request.send(decoded, false, &["-H", "content-encoding: gzip", "-H", "content-type: application/json", "--data-binary", &body]).0
}

#[test]
fn a_gzip_bomb_from_an_enrolled_sensor_is_refused_as_it_expands() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-1");
    let (key, ca) = credential(&sdir);
    let _controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    // 30 MB of blanks inside a valid batch: about 30 KB compressed (a ratio near 1000).
    let mut bomb = b"{\"events\":[".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 30 << 20));
    bomb.extend(b"]}");
    assert_eq!(signed_gzip(port, &ca, "ward-1", &key, &bomb, &sdir), 413, "refused as too large once it expanded past 100:1");
    // A real batch, compressed as a sensor sends it, still goes through.
    assert_eq!(signed_gzip(port, &ca, "ward-1", &key, br#"{"events":[]}"#, &sdir), 200);
}

#[test]
fn one_address_cannot_hold_every_controller_connection() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-1");
    let (key, ca) = credential(&sdir);
    let _controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    // 140 silent connections from 127.0.0.1 (no TLS handshake: they would be held for
    // the 30 s handshake deadline).
    let held: Vec<TcpStream> = (0..140).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let closed = held
        .iter()
        .filter(|s| {
            s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
            matches!((&**s).read(&mut [0u8; 1]), Ok(0))
        })
        .count();
    assert_eq!(closed, 140 - 128, "past 128 from one address, connections are closed at once");
    // Another address is served meanwhile (curl from 127.0.0.2).
    let body = r#"{"decoys":[]}"#;
    let request = SignedRequest { port, ca: &ca, sensor: "ward-1", key: &key, path: "/v1/sensor/heartbeat", timestamp_ms: now_ms(), nonce: "other-address" };
    assert_eq!(request.send(body.as_bytes(), false, &["--interface", "127.0.0.2", "-d", body]).0, 200);
    drop(held);
}
