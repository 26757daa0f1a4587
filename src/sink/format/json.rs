//! The `json` format: one self-describing JSON object per event.
//!
//! Built with serde_json (never by hand), so attacker bytes are escaped exactly once
//! and can never end the object, add a field or break the line.

use std::net::SocketAddr;

use serde::Serialize;

use crate::event::{Event, EventId, EventKind, Severity, Technique, Timestamp};
use crate::store::StoredEvent;
use crate::token::TokenHit;

#[derive(Serialize)]
struct Endpoint {
    ip: String,
    port: u16,
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint { ip: a.ip().to_string(), port: a.port() }
    }
}

#[derive(Serialize)]
struct View<'a> {
    id: EventId,
    time: Timestamp,
    sensor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decoy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<EventId>,
    kind_id: u16,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    attack: Option<Technique>,
    #[serde(flatten)]
    kind: &'a EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a TokenHit>,
}

fn view(stored: &StoredEvent) -> View<'_> {
    let e: &Event = &stored.event;
    View {
        id: e.id,
        time: e.time,
        sensor: &e.sensor,
        decoy: e.decoy.as_deref(),
        source: e.source.map(Endpoint::from),
        destination: e.destination.map(Endpoint::from),
        session: e.session,
        kind_id: e.kind.id(),
        severity: e.severity(),
        attack: e.technique(),
        kind: &e.kind,
        token: e.token.as_ref(),
    }
}

/// The event as a JSON value (what [`encode_json`] writes), for encoders that nest it.
pub fn json_value(stored: &StoredEvent) -> serde_json::Value {
    serde_json::to_value(view(stored)).unwrap_or_else(|_| serde_json::json!({"error": "event could not be encoded"}))
}

/// Appends the event as one JSON object (no newline).
pub fn encode_json(stored: &StoredEvent, out: &mut Vec<u8>) {
    // Serializing these types into a Vec cannot fail (no maps with non-string keys).
    let start = out.len();
    if serde_json::to_writer(&mut *out, &view(stored)).is_err() {
        out.extend_from_slice(br#"{"error":"event could not be encoded"}"#);
    }
    escape_invisibles(out, start);
}

/// Appends a JSON document built by another encoder (ECS, OCSF) as one line, with
/// the same escaping of invisible characters as [`encode_json`].
pub fn write_value(value: &serde_json::Value, out: &mut Vec<u8>) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(start);
        out.extend_from_slice(br#"{"error":"event could not be encoded"}"#);
    }
    escape_invisibles(out, start);
}

/// serde_json escapes C0 controls but writes DEL, C1 controls and bidi/invisible
/// marks raw; write those as `\uXXXX` too (the same JSON value), so that no attacker
/// byte can steer an analyst's terminal. They can only occur inside strings.
fn escape_invisibles(out: &mut Vec<u8>, start: usize) {
    // All of them are encoded with a byte of 0x7f or above: plain ASCII is done.
    if out[start..].iter().all(|&b| b < 0x7f) {
        return;
    }
    let hidden = |c: char| matches!(c as u32, 0x7f..=0x9f | 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff);
    let Ok(text) = std::str::from_utf8(&out[start..]) else { return };
    if !text.chars().any(hidden) {
        return;
    }
    let mut fixed = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            fixed.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            fixed.push(c);
        }
    }
    out.truncate(start);
    out.extend_from_slice(fixed.as_bytes());
}

/// The event id of one line written by [`encode_json`], if it parses.
pub fn event_id_of_line(line: &[u8]) -> Option<EventId> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: EventId,
    }
    serde_json::from_slice::<IdOnly>(line).ok().map(|v| v.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, CloseReason};

    #[test]
    fn invisible_characters_are_written_as_escapes_of_the_same_value() {
        let mut out = Vec::new();
        let e = stored(EventKind::DataReceived { data: AttackerBytes::new("rlo\u{202e}del\x7fc1\u{85}"), truncated: false });
        encode_json(&e, &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains('\u{202e}') && !text.contains('\x7f') && !text.contains('\u{85}'), "{text}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["details"]["data"]["text"], "rlo\u{202e}del\x7fc1\u{85}");
    }

    fn stored(kind: EventKind) -> StoredEvent {
        StoredEvent {
            seq: 7,
            event: Event {
                id: EventId::new(),
                time: Timestamp::from_micros(1_764_341_700_123_456),
                sensor: "ward-3".into(),
                decoy: Some("tcp-banner".into()),
                source: Some("[::1]:40000".parse().unwrap()),
                destination: Some("127.0.0.1:2323".parse().unwrap()),
                session: Some(EventId::new()),
                kind,
                token: None,
            },
        }
    }

    #[test]
    fn table_of_kinds_encodes_expected_fields() {
        let cases = [
            (EventKind::ConnectionOpened, "connection_opened", 100),
            (EventKind::ConnectionClosed { duration_ms: 5, bytes_in: 1, bytes_out: 2, reason: CloseReason::IdleTimeout }, "connection_closed", 101),
            (EventKind::DataReceived { data: AttackerBytes::new("x"), truncated: false }, "data_received", 102),
        ];
        for (kind, name, id) in cases {
            let mut out = Vec::new();
            let ev = stored(kind);
            encode_json(&ev, &mut out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["kind"], name);
            assert_eq!(v["kind_id"], id);
            assert_eq!(v["time"], "2025-11-28T14:55:00.123456Z");
            assert_eq!(v["source"]["ip"], "::1");
            assert_eq!(v["attack"]["id"], "T1046");
            assert_eq!(event_id_of_line(&out), Some(ev.event.id));
        }
    }

    #[test]
    fn hostile_bytes_stay_inside_one_line_and_round_trip() {
        use rand::Rng;
        let mut rng = rand::rng();
        for _ in 0..300 {
            let len = rng.random_range(0..200);
            let raw: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let ev = stored(EventKind::DataReceived { data: AttackerBytes::new(raw.clone()), truncated: true });
            let mut out = Vec::new();
            encode_json(&ev, &mut out);
            assert!(!out.contains(&b'\n') && !out.contains(&b'\r'));
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let back: AttackerBytes = serde_json::from_value(v["details"]["data"].clone()).unwrap();
            assert_eq!(back.as_bytes(), &raw[..]);
        }
    }
}
