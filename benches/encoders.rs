//! Encoder throughput on one core: JSON lines, RFC 5424 syslog, CEF, LEEF 2.0, ECS and
//! OCSF over a mix of realistic events (SSH password attempts, HTTP requests
//! with headers, DICOM queries). Pure CPU: no I/O, no other threads.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench encoders`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::time::Instant;

use honeyward::event::{AttackerBytes, DicomKey, Event, EventId, EventKind, HttpHeader, SshAuthMethod, Timestamp};
use honeyward::sink::format::{encode_5424, encode_cef, encode_ecs, encode_json, encode_leef, encode_ocsf, SyslogOptions};
use honeyward::store::StoredEvent;

const EVENTS: usize = 1_000_000;

fn event(kind: EventKind) -> StoredEvent {
    StoredEvent {
        seq: 1,
        event: Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: "pacs-vlan-sensor-01".into(),
            decoy: Some("decoy".into()),
            source: Some("203.0.113.9:40022".parse().expect("addr")),
            destination: Some("10.20.0.5:22".parse().expect("addr")),
            session: Some(EventId::new()),
            kind,
            token: None,
        },
    }
}

fn mix() -> Vec<StoredEvent> {
    let header = |n: &str, v: &str| HttpHeader { name: AttackerBytes::new(n), value: AttackerBytes::new(v) };
    vec![
        event(EventKind::SshAuth {
            method: SshAuthMethod::Password,
            username: AttackerBytes::new("root"),
            password: Some(AttackerBytes::new("Winter2026!")),
            key_fingerprint: None,
            key_algorithm: None,
            accepted: false,
            methods_tried: None,
        }),
        event(EventKind::HttpRequest {
            method: AttackerBytes::new("GET"),
            target: AttackerBytes::new("/cgi-bin/../../etc/passwd"),
            version: "HTTP/1.1".into(),
            headers: vec![header("Host", "10.20.0.5"), header("User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine)"), header("Accept", "*/*")],
            headers_truncated: false,
            user_agent: Some(AttackerBytes::new("Mozilla/5.0 (compatible; Nmap Scripting Engine)")),
            credential: None,
            body_bytes: 0,
            body_sha256: None,
            body: None,
            status: 404,
            tags: vec!["exploit".into()],
        }),
        event(EventKind::DicomCommand {
            command: "C-FIND".into(),
            sop_class: Some(AttackerBytes::new("1.2.840.10008.5.1.4.1.2.2.1")),
            level: Some(AttackerBytes::new("STUDY")),
            keys: vec![DicomKey { tag: "0010,0010".into(), keyword: Some("PatientName".into()), value: AttackerBytes::new("*") }],
            move_destination: None,
            matches: 40,
            status: 0,
        }),
    ]
}

fn main() {
    let events = mix();
    let options = SyslogOptions::default();
    let mut out = Vec::with_capacity(1 << 20);
    for (name, encode) in [
        ("json", Box::new(|e: &StoredEvent, out: &mut Vec<u8>| encode_json(e, out)) as Box<dyn Fn(&StoredEvent, &mut Vec<u8>)>),
        ("rfc5424", Box::new(move |e: &StoredEvent, out: &mut Vec<u8>| encode_5424(e, &options, out))),
        ("cef", Box::new(|e: &StoredEvent, out: &mut Vec<u8>| encode_cef(e, "0.1.0", out))),
        ("leef", Box::new(|e: &StoredEvent, out: &mut Vec<u8>| encode_leef(e, "0.1.0", out))),
        ("ecs", Box::new(|e: &StoredEvent, out: &mut Vec<u8>| encode_ecs(e, out))),
        ("ocsf", Box::new(|e: &StoredEvent, out: &mut Vec<u8>| encode_ocsf(e, out))),
    ] {
        let started = Instant::now();
        let mut bytes = 0usize;
        for i in 0..EVENTS {
            out.clear();
            encode(&events[i % events.len()], &mut out);
            bytes += out.len();
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{name}: {:.0} events/s on one core ({:.0} bytes per event)", EVENTS as f64 / secs, bytes as f64 / EVENTS as f64);
    }
}
