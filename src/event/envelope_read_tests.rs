//! The one-pass reader gives what serde's derived (flattening) reader gives: the same
//! event for everything the writer writes, in either order of tag and details, and the
//! same refusals.
use serde::Deserialize;

use super::*;
use crate::event::kind::tests::one_of_each;
use crate::event::{hit_fixture, TokenKind};

/// The reader this module replaced, kept here as the reference it is checked against.
#[derive(Debug, Deserialize)]
struct Flattened {
    id: EventId,
    time: Timestamp,
    sensor: String,
    decoy: Option<String>,
    source: Option<Remote>,
    destination: Option<Local>,
    session: Option<SessionId>,
    #[serde(flatten)]
    kind: EventKind,
    #[serde(default)]
    token: Option<TokenHit>,
    #[serde(default)]
    claimed_time: Option<Timestamp>,
}

impl From<Flattened> for Event {
    fn from(f: Flattened) -> Event {
        Event {
            id: f.id,
            time: f.time,
            sensor: f.sensor,
            decoy: f.decoy,
            source: f.source,
            destination: f.destination,
            session: f.session,
            kind: f.kind,
            token: f.token,
            claimed_time: f.claimed_time,
        }
    }
}

/// Both readers' answers for one text: the event, or whether it was refused.
fn both(text: &str) -> (Option<Event>, Option<Event>) {
    let ours = serde_json::from_str::<Event>(text).ok();
    let reference = serde_json::from_str::<Flattened>(text).ok().map(Event::from);
    (ours, reference)
}

fn events() -> Vec<Event> {
    let mut out = Vec::new();
    for (i, kind) in one_of_each().into_iter().enumerate() {
        let mut e = Event { time: Timestamp::from_micros(1_700_000_000_000_000 + i as i64), ..Event::host("ward-7", kind) };
        let id = e.id;
        out.push(e.clone());
        e.decoy = Some("pacs-ssh".into());
        e.source = "203.0.113.9:4022".parse().ok();
        e.destination = "127.0.0.1:2222".parse().ok();
        e.session = Some(id);
        e.token = Some(hit_fixture("tok-1", TokenKind::SshPassword, "backup svc"));
        e.claimed_time = Some(Timestamp::from_micros(1));
        out.push(e);
    }
    out
}

#[test]
fn every_kind_reads_back_as_written_and_as_the_derived_reader_read_it() {
    for e in events() {
        let text = serde_json::to_string(&e).unwrap();
        let (ours, reference) = both(&text);
        assert_eq!(ours.as_ref(), Some(&e), "{text}");
        assert_eq!(reference.as_ref(), Some(&e), "{text}");
    }
}

#[test]
fn details_before_the_tag_and_unknown_fields_read_the_same() {
    for e in events() {
        let mut v = serde_json::to_value(&e).unwrap();
        let map = v.as_object_mut().unwrap();
        map.insert("later_field".into(), serde_json::json!({"nested": [1, 2]}));
        // Rebuild with details first and the tag last.
        let details = map.remove("details");
        let tag = map.remove("kind").unwrap();
        let mut text = String::from("{");
        if let Some(d) = &details {
            text.push_str(&format!("\"details\":{d},"));
        }
        for (k, val) in map.iter() {
            text.push_str(&format!("{}:{val},", serde_json::to_string(k).unwrap()));
        }
        text.push_str(&format!("\"kind\":{tag}}}"));
        let (ours, reference) = both(&text);
        assert_eq!(ours.as_ref(), Some(&e), "{text}");
        assert_eq!(ours, reference, "{text}");
    }
}

#[test]
fn what_the_derived_reader_refused_is_refused() {
    let good = serde_json::to_string(&events()[3]).unwrap();
    let cases = [
        good.replacen("\"kind\":", "\"kind\":\"no_such_kind\",\"was\":", 1),
        good.replacen("{", "{\"id\":\"0190aaaa-0000-7000-8000-000000000000\",", 1),
        good.replacen("\"kind\":", "\"not_kind\":", 1),
        good.replacen("\"details\":", "\"not_details\":", 1),
        good.replacen("\"time\":", "\"time\":1,\"was\":", 1),
        good.replacen("\"sensor\":\"ward-7\",", "", 1),
        format!("{},\"details\":{{}}}}", good.trim_end_matches('}')),
        "[]".into(),
        "{\"kind\":\"connection_opened\"}".into(),
        String::new(),
    ];
    for text in cases {
        let (ours, reference) = both(&text);
        assert!(ours.is_none(), "{text}");
        assert!(reference.is_none(), "{text}");
    }
}

#[test]
fn a_kind_without_details_reads_without_them() {
    let e = &events()[0];
    assert_eq!(e.kind, EventKind::ConnectionOpened);
    let text = serde_json::to_string(e).unwrap();
    assert!(!text.contains("details"), "{text}");
    assert_eq!(both(&text), (Some(e.clone()), Some(e.clone())));
}
