//! OCSF 1.1 events: Authentication (3002), Network Activity (4001), HTTP Activity
//! (4002), SSH Activity (4007) and File System Activity (1001), with
//! `type_uid = class_uid * 100 + activity_id`, the required attributes of each class,
//! ATT&CK in `attacks[]`, observables for the source IP and user name, and the whole
//! event in `unmapped`. Later OCSF releases may fold the protocol classes into 4001:
//! the version is stated in `metadata.version`.

use serde_json::{json, Value};

use super::jsonw::{Array, Object};
use crate::event::{EventKind, Severity};
use crate::store::StoredEvent;

/// The OCSF schema version these events follow.
pub const OCSF_VERSION: &str = "1.1.0";

/// (class_uid, class name, activity_id, activity name) for an event.
pub fn class_of(kind: &EventKind) -> (u32, &'static str, u32, &'static str) {
    match kind {
        EventKind::SshAuth { .. } | EventKind::NtlmAuth { .. } => (3002, "Authentication", 1, "Logon"),
        EventKind::HttpRequest { method, .. } => {
            let (id, name) = match method.as_bytes() {
                b"CONNECT" => (1, "Connect"),
                b"DELETE" => (2, "Delete"),
                b"GET" => (3, "Get"),
                b"HEAD" => (4, "Head"),
                b"OPTIONS" => (5, "Options"),
                b"POST" => (6, "Post"),
                b"PUT" => (7, "Put"),
                b"TRACE" => (8, "Trace"),
                _ => (99, "Other"),
            };
            (4002, "HTTP Activity", id, name)
        }
        EventKind::SshClient { .. } | EventKind::SshCommand { .. } | EventKind::SshRequestRefused { .. } => (4007, "SSH Activity", 6, "Traffic"),
        EventKind::SshSessionClosed { .. } => (4007, "SSH Activity", 2, "Close"),
        EventKind::FileOpened { .. } => (1001, "File System Activity", 2, "Read"),
        EventKind::CanaryMissing { .. } => (1001, "File System Activity", 4, "Delete"),
        EventKind::ConnectionOpened => (4001, "Network Activity", 1, "Open"),
        EventKind::ConnectionClosed { .. } => (4001, "Network Activity", 2, "Close"),
        EventKind::ConnectionsRefused { .. } => (4001, "Network Activity", 5, "Refuse"),
        _ => (4001, "Network Activity", 6, "Traffic"),
    }
}

pub(super) fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn endpoint(a: std::net::SocketAddr) -> Value {
    json!({"ip": a.ip().to_string(), "port": a.port()})
}

/// The OCSF event for a stored event, as a `Value` (for callers that edit or nest
/// it; [`encode_ocsf`] writes the same event without building it).
pub fn ocsf_event(stored: &StoredEvent) -> Value {
    let e = &stored.event;
    let (class_uid, class_name, activity_id, activity_name) = class_of(&e.kind);
    let mut id = [0u8; 36];
    let mut v = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": class_uid / 1000,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": u64::from(class_uid) * 100 + u64::from(activity_id),
        "time": e.time.as_micros() / 1000,
        "severity_id": severity_id(e.severity()),
        "status_id": 0,
        "message": e.kind.name(),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": e.id.encode(&mut id),
            "product": {"name": "honeyward", "vendor_name": "honeyward", "version": super::VERSION},
            "labels": ["honeypot"],
        },
        "device": {"hostname": e.sensor, "type_id": 0},
    });
    let mut observables = Vec::new();
    if let Some(s) = e.source {
        v["src_endpoint"] = endpoint(*s);
        observables.push(json!({"name": "src_endpoint.ip", "type_id": 2, "value": s.ip().to_string()}));
    }
    if let Some(d) = e.destination {
        v["dst_endpoint"] = endpoint(*d);
    }
    match &e.kind {
        EventKind::SshAuth { username, accepted, .. } | EventKind::NtlmAuth { username, accepted, .. } => {
            v["user"] = json!({"name": username.to_text_lossy()});
            v["status_id"] = json!(if *accepted { 1 } else { 2 });
            observables.push(json!({"name": "user.name", "type_id": 4, "value": username.to_text_lossy()}));
        }
        EventKind::HttpRequest { method, target, version, user_agent, status, .. } => {
            v["http_request"] = json!({"http_method": method.to_text_lossy(), "url": {"url_string": target.to_text_lossy()}, "version": version, "user_agent": user_agent.as_ref().map(|u| u.to_text_lossy())});
            v["http_response"] = json!({"code": status});
        }
        EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => {
            v["file"] = json!({"path": path, "name": path.rsplit('/').next().unwrap_or(path), "type_id": 1});
            v["actor"] = json!({"process": {"name": "unknown"}});
        }
        _ => {}
    }
    if let Some(t) = e.technique() {
        v["attacks"] = json!([{"technique": {"uid": t.id(), "name": t.name()}, "version": "14"}]);
    }
    v["observables"] = json!(observables);
    v["unmapped"] = json!({"honeyward": super::json::json_value(stored)});
    v
}

/// Appends the OCSF event as one line of JSON (no newline), written straight to
/// bytes ([`write_ocsf`]); [`ocsf_event`] is the same event as a `Value`.
pub fn encode_ocsf(stored: &StoredEvent, out: &mut Vec<u8>) {
    write_ocsf(stored, out);
}

// The OCSF event written straight to bytes: the same keys and values as
// [`ocsf_event`], without building a `serde_json::Value` tree first.
//
// Members are written in the order the `Value` tree serialized them in (sorted by
// key, as `serde_json::Map` sorts), so the output only differs inside
// `unmapped.honeyward`, which is now the `json` format's own bytes (its keys in that
// format's order) instead of a re-sorted copy.
/// Appends the OCSF event (no newline).
pub fn write_ocsf(stored: &StoredEvent, out: &mut Vec<u8>) {
    let e = &stored.event;
    let (class_uid, class_name, activity_id, activity_name) = class_of(&e.kind);
    let file = match &e.kind {
        EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => Some(path),
        _ => None,
    };
    let (username, accepted) = match &e.kind {
        EventKind::SshAuth { username, accepted, .. } | EventKind::NtlmAuth { username, accepted, .. } => (Some(username.as_bytes()), *accepted),
        _ => (None, false),
    };

    let mut v = Object::new(out);
    v.u64("activity_id", u64::from(activity_id)).str("activity_name", activity_name);
    if file.is_some() {
        v.object("actor").object("process").str("name", "unknown");
    }
    if let Some(t) = e.technique() {
        let mut attacks = v.array("attacks");
        let mut attack = attacks.object();
        attack.object("technique").str("name", t.name()).str("uid", t.id());
        attack.str("version", "14");
    }
    v.u64("category_uid", u64::from(class_uid / 1000)).str("class_name", class_name).u64("class_uid", u64::from(class_uid));
    v.object("device").str("hostname", &e.sensor).u64("type_id", 0);
    if let Some(d) = e.destination {
        super::json::endpoint(&mut v, "dst_endpoint", *d);
    }
    if let Some(path) = file {
        v.object("file").str("name", path.rsplit('/').next().unwrap_or(path)).str("path", path).u64("type_id", 1);
    }
    if let EventKind::HttpRequest { method, target, version, user_agent, status, .. } = &e.kind {
        {
            let mut request = v.object("http_request");
            request.text("http_method", method.as_bytes());
            request.object("url").text("url_string", target.as_bytes());
            match user_agent {
                Some(ua) => request.text("user_agent", ua.as_bytes()),
                None => request.raw("user_agent", b"null"),
            };
            request.str("version", version);
        }
        v.object("http_response").u64("code", u64::from(*status));
    }
    v.str("message", e.kind.name());
    {
        let mut metadata = v.object("metadata");
        metadata.strs("labels", &["honeypot"]);
        metadata.object("product").str("name", "honeyward").str("vendor_name", "honeyward").str("version", super::VERSION);
        metadata.id("uid", e.id).str("version", OCSF_VERSION);
    }
    {
        let mut observables: Array<'_> = v.array("observables");
        if let Some(s) = e.source {
            let mut o = observables.object();
            o.str("name", "src_endpoint.ip").u64("type_id", 2).ip("value", s.ip());
        }
        if let Some(u) = username {
            observables.object().str("name", "user.name").u64("type_id", 4).text("value", u);
        }
    }
    v.u64("severity_id", u64::from(severity_id(e.severity())));
    if let Some(s) = e.source {
        super::json::endpoint(&mut v, "src_endpoint", *s);
    }
    let status_id = match username {
        Some(_) if accepted => 1,
        Some(_) => 2,
        None => 0,
    };
    v.u64("status_id", status_id).i64("time", e.time.as_micros() / 1000).u64("type_uid", u64::from(class_uid) * 100 + u64::from(activity_id));
    super::json::encode_json(stored, v.object("unmapped").member("honeyward"));
    if let Some(u) = username {
        v.object("user").text("name", u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, Event, EventId, Timestamp};

    /// Required attributes of each class we emit (OCSF 1.1 schema, base event plus
    /// class requirements).
    const REQUIRED: &[(u32, &[&str])] = &[
        (3002, &["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "user"]),
        (4001, &["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "src_endpoint", "dst_endpoint"]),
        (4002, &["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "http_request", "dst_endpoint"]),
        (4007, &["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "src_endpoint", "dst_endpoint"]),
        (1001, &["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "file", "actor"]),
    ];

    fn event(kind: EventKind) -> StoredEvent {
        StoredEvent {
            seq: 1,
            event: Event {
                claimed_time: None,
                id: EventId::new(),
                time: Timestamp::from_micros(1_795_883_913_123_456),
                sensor: "ward-7".into(),
                decoy: Some("d".into()),
                source: Some("203.0.113.9:40022".parse().unwrap()),
                destination: Some("127.0.0.1:22".parse().unwrap()),
                session: None,
                kind,
                token: None,
            },
        }
    }

    #[test]
    fn each_class_carries_its_required_attributes_and_type_uid() {
        let kinds = vec![
            crate::sink::format::syslog::tests::auth(b"root").event.kind,
            EventKind::ConnectionOpened,
            EventKind::SshCommand { line: AttackerBytes::new("id"), exec: false },
            crate::event::login_request(None, &[]),
            EventKind::FileOpened { path: "/srv/share/passwords.xlsx".into() },
        ];
        let mut classes = Vec::new();
        for kind in kinds {
            let v = ocsf_event(&event(kind));
            let class = v["class_uid"].as_u64().unwrap() as u32;
            let (_, required) = REQUIRED.iter().find(|(c, _)| *c == class).unwrap();
            for attr in *required {
                assert!(!v[*attr].is_null(), "class {class} lacks {attr}: {v}");
            }
            assert_eq!(v["type_uid"].as_u64().unwrap(), v["class_uid"].as_u64().unwrap() * 100 + v["activity_id"].as_u64().unwrap());
            assert_eq!(v["category_uid"].as_u64().unwrap(), v["class_uid"].as_u64().unwrap() / 1000);
            assert_eq!(v["metadata"]["version"], OCSF_VERSION);
            assert_eq!(v["metadata"]["product"]["name"], "honeyward");
            classes.push(class);
        }
        assert_eq!(classes, [3002, 4001, 4007, 4002, 1001]);
    }

    #[test]
    fn attacks_and_observables_name_the_technique_and_the_attacker() {
        let v = ocsf_event(&crate::sink::format::syslog::tests::auth(b"a\"b\n\0"));
        assert_eq!(v["attacks"][0]["technique"]["uid"], "T1110.001");
        assert_eq!(v["observables"][0]["type_id"], 2);
        assert_eq!(v["observables"][1]["value"], "a\"b\n\0");
        assert_eq!(v["status_id"], 2, "a refused logon is a failure");
    }

    #[test]
    fn the_direct_event_equals_the_value_event_over_hostile_events() {
        crate::sink::format::hostile::assert_direct_matches_value(write_ocsf, ocsf_event);
    }
}
