//! The `json` format: one self-describing JSON object per event.
//!
//! The envelope (id, time, addresses, severity, technique) is written straight to the
//! output by [`super::jsonw`]; the kind's details and the token hit, whose shape is
//! derived from their types, are serialized by serde with the same escaping. Either
//! way attacker bytes are escaped exactly once and can never end the object, add a
//! field or break the line. The serde view below is what [`json_value`] builds (the
//! `Value` that other encoders nest) and what the byte-for-byte tests compare with.

use std::net::SocketAddr;

use serde::Serialize;

use super::jsonw::{self, Object};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_time: Option<Timestamp>,
}

fn view(stored: &StoredEvent) -> View<'_> {
    let e: &Event = &stored.event;
    View {
        id: e.id,
        time: e.time,
        sensor: &e.sensor,
        decoy: e.decoy.as_deref(),
        source: e.source.map(|s| Endpoint::from(*s)),
        destination: e.destination.map(|d| Endpoint::from(*d)),
        session: e.session,
        kind_id: e.kind.id(),
        severity: e.severity(),
        attack: e.technique(),
        kind: &e.kind,
        token: e.token.as_ref(),
        claimed_time: e.claimed_time,
    }
}

/// The event as a JSON value (what [`encode_json`] writes), for encoders that nest it.
pub fn json_value(stored: &StoredEvent) -> serde_json::Value {
    serde_json::to_value(view(stored)).unwrap_or_else(|_| serde_json::json!({"error": "event could not be encoded"}))
}

/// Appends the event as one JSON object (no newline): the same bytes as serializing
/// the serde view, without its allocations (RFC 3339 time, address strings) and
/// without a second pass over the output for invisible characters.
pub fn encode_json(stored: &StoredEvent, out: &mut Vec<u8>) {
    let start = out.len();
    if write_event(stored, out).is_err() {
        // Serializing these types into a Vec cannot fail (no maps with non-string keys).
        out.truncate(start);
        out.extend_from_slice(br#"{"error":"event could not be encoded"}"#);
    }
}

/// `{"ip":..,"port":..}`, as ECS and OCSF also write addresses.
pub(super) fn endpoint(o: &mut Object<'_>, k: &'static str, a: SocketAddr) {
    o.object(k).ip("ip", a.ip()).u64("port", u64::from(a.port()));
}

/// The members in [`View`]'s order. The kind is serialized on its own as
/// `{"kind":..,"details":..}` and spliced into the envelope (its `{` becomes the `,`
/// after `attack`), which is what `#[serde(flatten)]` produced.
fn write_event(stored: &StoredEvent, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let e: &Event = &stored.event;
    {
        let mut o = Object::new(out);
        o.id("id", e.id).time("time", e.time).str("sensor", &e.sensor);
        if let Some(d) = &e.decoy {
            o.str("decoy", d);
        }
        if let Some(s) = e.source {
            endpoint(&mut o, "source", *s);
        }
        if let Some(d) = e.destination {
            endpoint(&mut o, "destination", *d);
        }
        if let Some(s) = e.session {
            o.id("session", s);
        }
        o.u64("kind_id", u64::from(e.kind.id()));
        o.str("severity", e.severity().as_str());
        if let Some(t) = e.technique() {
            o.object("attack").str("id", t.id()).str("name", t.name());
        }
    }
    // `out` ends with the envelope's `}`: the kind's members replace it.
    out.pop();
    let at = out.len();
    jsonw::serialize(out, &e.kind)?;
    if out.get(at) != Some(&b'{') || out.last() != Some(&b'}') {
        return Err(serde::ser::Error::custom("event kind is not an object"));
    }
    out[at] = b',';
    if let Some(hit) = &e.token {
        out.pop();
        out.extend_from_slice(b",\"token\":");
        jsonw::serialize(out, hit)?;
        out.push(b'}');
    }
    if let Some(t) = e.claimed_time {
        out.pop();
        out.extend_from_slice(b",\"claimed_time\":");
        jsonw::serialize(out, &t)?;
        out.push(b'}');
    }
    Ok(())
}

/// Appends a JSON document built by another encoder (HEC, bulk, chat) as one line,
/// with the same escaping of invisible characters as [`encode_json`].
pub fn write_value(value: &serde_json::Value, out: &mut Vec<u8>) {
    let start = out.len();
    if jsonw::serialize(out, value).is_err() {
        out.truncate(start);
        out.extend_from_slice(br#"{"error":"event could not be encoded"}"#);
    }
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
pub(crate) mod tests {
    use super::*;
    use crate::event::{AttackerBytes, CloseReason};

    /// The former post-pass: serde_json writes DEL, C1 controls and bidi/invisible
    /// marks raw; they were then replaced by `\uXXXX` in the output.
    pub(crate) fn escape_invisibles(out: &mut Vec<u8>, start: usize) {
        let hidden = |c: char| c >= ' ' && crate::event::is_hidden(c);
        let text = std::str::from_utf8(&out[start..]).unwrap().to_string();
        out.truncate(start);
        for c in text.chars() {
            if hidden(c) {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            } else {
                out.extend_from_slice(c.to_string().as_bytes());
            }
        }
    }

    /// The former encoder: the serde view, then the post-pass.
    pub(crate) fn old_encode_json(stored: &StoredEvent, out: &mut Vec<u8>) {
        let start = out.len();
        serde_json::to_writer(&mut *out, &view(stored)).unwrap();
        escape_invisibles(out, start);
    }

    #[test]
    fn the_direct_writer_writes_the_same_bytes_as_the_serde_view() {
        for e in crate::sink::format::hostile::events() {
            let (mut new, mut old) = (b"prefix".to_vec(), b"prefix".to_vec());
            encode_json(&e, &mut new);
            old_encode_json(&e, &mut old);
            assert!(new == old, "{:?}\n{}\n{}", e.event.kind.name(), String::from_utf8_lossy(&new), String::from_utf8_lossy(&old));
            let parsed: serde_json::Value = serde_json::from_slice(&new[6..]).unwrap();
            assert_eq!(parsed, json_value(&e));
            assert_eq!(event_id_of_line(&new[6..]), Some(e.event.id));
        }
    }

    #[test]
    fn write_value_escapes_as_before() {
        for raw in crate::sink::format::hostile::inputs() {
            let v = serde_json::json!({"k": String::from_utf8_lossy(&raw), "n": [1, -2, 3.5, null, true]});
            let (mut new, mut old) = (Vec::new(), Vec::new());
            write_value(&v, &mut new);
            serde_json::to_writer(&mut old, &v).unwrap();
            escape_invisibles(&mut old, 0);
            assert_eq!(new, old);
        }
    }

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
                claimed_time: None,
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
        use rand::RngExt;
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
