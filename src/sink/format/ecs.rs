//! Elastic Common Schema 8.x documents: `event.kind: alert`, `observer.type:
//! honeypot`, categories and types per event kind, source/destination, the user,
//! URL and HTTP fields, ATT&CK in `threat.*`, and the whole event under the custom
//! `honeyward` namespace. Built with serde_json (attacker text never becomes a key).

use serde_json::{json, Map, Value};

use super::jsonw::Object;
use crate::event::{Event, EventKind};
use crate::store::StoredEvent;

/// The ECS version these documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// (event.category, event.type) for a kind.
pub(super) fn classify(e: &Event) -> (&'static [&'static str], &'static [&'static str]) {
    if e.token.is_some() {
        return (&["intrusion_detection"], &["indicator"]);
    }
    match &e.kind {
        EventKind::ConnectionOpened => (&["network"], &["connection", "start"]),
        EventKind::ConnectionClosed { .. } => (&["network"], &["connection", "end"]),
        EventKind::SshAuth { .. } | EventKind::NtlmAuth { .. } => (&["authentication"], &["start"]),
        EventKind::HttpRequest { .. } => (&["web", "network"], &["access"]),
        EventKind::FileOpened { .. } | EventKind::CanaryMissing { .. } => (&["file"], &["access"]),
        EventKind::DicomAssociation { .. } | EventKind::DicomCommand { .. } | EventKind::DicomStore { .. } => (&["network"], &["access"]),
        EventKind::ConnectionsRefused { .. } => (&["network"], &["denied"]),
        _ => (&["network"], &["info"]),
    }
}

pub(super) fn protocol(kind: &EventKind) -> Option<&'static str> {
    match kind {
        EventKind::SshAuth { .. }
        | EventKind::SshClient { .. }
        | EventKind::SshCommand { .. }
        | EventKind::SshSessionClosed { .. }
        | EventKind::SshRequestRefused { .. } => Some("ssh"),
        EventKind::HttpRequest { .. } => Some("http"),
        EventKind::DicomAssociation { .. } | EventKind::DicomCommand { .. } | EventKind::DicomStore { .. } | EventKind::DicomRelease { .. } => Some("dicom"),
        EventKind::SmbNegotiate { .. } | EventKind::SmbExploit { .. } | EventKind::SmbFile { .. } => Some("smb"),
        EventKind::RdpNegotiate { .. } => Some("rdp"),
        EventKind::Hl7Message { .. } => Some("hl7"),
        EventKind::NtlmAuth { protocol, .. } if protocol == "rdp" => Some("rdp"),
        EventKind::NtlmAuth { protocol, .. } if protocol == "http" => Some("http"),
        EventKind::NtlmAuth { .. } => Some("smb"),
        _ => None,
    }
}

fn put(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut m = map;
    for key in parents {
        let entry = m.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        m = next;
    }
    m.insert(last.to_string(), value);
}

/// The ECS document for an event, as a `Value` (for callers that edit or nest it;
/// [`encode_ecs`] writes the same document without building it).
pub fn ecs_document(stored: &StoredEvent) -> Value {
    let e = &stored.event;
    let (category, kind_type) = classify(e);
    let mut id = [0u8; 36];
    let mut doc = Map::new();
    put(&mut doc, &["@timestamp"], json!(e.time.to_rfc3339()));
    put(&mut doc, &["ecs", "version"], json!(ECS_VERSION));
    put(&mut doc, &["event", "kind"], json!("alert"));
    put(&mut doc, &["event", "category"], json!(category));
    put(&mut doc, &["event", "type"], json!(kind_type));
    put(&mut doc, &["event", "action"], json!(e.kind.name()));
    put(&mut doc, &["event", "id"], json!(e.id.encode(&mut id)));
    put(&mut doc, &["event", "dataset"], json!(format!("honeyward.{}", e.kind.name())));
    put(&mut doc, &["event", "module"], json!("honeyward"));
    // ECS `event.severity` is a number, higher is worse: the CEF scale.
    put(&mut doc, &["event", "severity"], json!(super::cef::cef_severity(e.severity())));
    let outcome = match &e.kind {
        EventKind::SshAuth { accepted: true, .. } => "success",
        EventKind::SshAuth { accepted: false, .. } => "failure",
        EventKind::NtlmAuth { accepted: true, .. } => "success",
        EventKind::NtlmAuth { accepted: false, .. } => "failure",
        EventKind::HttpRequest { status, .. } if *status >= 400 => "failure",
        _ => "unknown",
    };
    put(&mut doc, &["event", "outcome"], json!(outcome));
    put(&mut doc, &["observer", "type"], json!("honeypot"));
    put(&mut doc, &["observer", "name"], json!(e.sensor));
    put(&mut doc, &["observer", "vendor"], json!("honeyward"));
    put(&mut doc, &["observer", "product"], json!("honeyward"));
    put(&mut doc, &["observer", "version"], json!(super::VERSION));
    put(&mut doc, &["rule", "id"], json!(e.kind.id().to_string()));
    put(&mut doc, &["rule", "name"], json!(e.kind.name()));
    put(&mut doc, &["rule", "ruleset"], json!("honeyward"));
    let mut related_ip = Vec::new();
    if let Some(s) = e.source {
        put(&mut doc, &["source", "ip"], json!(s.ip().to_string()));
        put(&mut doc, &["source", "port"], json!(s.port()));
        related_ip.push(s.ip().to_string());
    }
    if let Some(d) = e.destination {
        put(&mut doc, &["destination", "ip"], json!(d.ip().to_string()));
        put(&mut doc, &["destination", "port"], json!(d.port()));
        put(&mut doc, &["network", "transport"], json!("tcp"));
    }
    if let Some(p) = protocol(&e.kind) {
        put(&mut doc, &["network", "protocol"], json!(p));
    }
    let mut user = None;
    match &e.kind {
        EventKind::SshAuth { username, .. } => user = Some(username.to_text_lossy()),
        EventKind::HttpRequest { method, target, user_agent, credential, status, .. } => {
            put(&mut doc, &["url", "original"], json!(target.to_text_lossy()));
            put(&mut doc, &["http", "request", "method"], json!(method.to_text_lossy()));
            put(&mut doc, &["http", "response", "status_code"], json!(status));
            if let Some(ua) = user_agent {
                put(&mut doc, &["user_agent", "original"], json!(ua.to_text_lossy()));
            }
            user = credential.as_ref().and_then(|c| c.username.as_ref()).map(|u| u.to_text_lossy());
        }
        EventKind::DicomAssociation { calling_ae, .. } => user = Some(calling_ae.to_text_lossy()),
        EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => put(&mut doc, &["file", "path"], json!(path)),
        _ => {}
    }
    if let Some(u) = &user {
        put(&mut doc, &["user", "name"], json!(u));
        put(&mut doc, &["related", "user"], json!([u]));
    }
    if !related_ip.is_empty() {
        put(&mut doc, &["related", "ip"], json!(related_ip));
    }
    if let Some(t) = e.technique() {
        put(&mut doc, &["threat", "framework"], json!("MITRE ATT&CK"));
        let (technique, sub) = match t.id().split_once('.') {
            Some((base, _)) => (base.to_string(), Some(t.id())),
            None => (t.id().to_string(), None),
        };
        put(&mut doc, &["threat", "technique", "id"], json!([technique]));
        put(&mut doc, &["threat", "technique", "name"], json!([t.name()]));
        if let Some(sub) = sub {
            put(&mut doc, &["threat", "technique", "subtechnique", "id"], json!([sub]));
        }
    }
    let mut tags = vec!["honeyward".to_string()];
    if let Some(d) = &e.decoy {
        put(&mut doc, &["labels", "decoy"], json!(d));
    }
    if let Some(hit) = &e.token {
        tags.push("honeytoken".into());
        put(&mut doc, &["labels", "token_id"], json!(hit.id));
    }
    put(&mut doc, &["tags"], json!(tags));
    put(&mut doc, &["honeyward"], super::json::json_value(stored));
    Value::Object(doc)
}

/// Appends the ECS document as one line of JSON (no newline), written straight to
/// bytes ([`write_ecs`]); [`ecs_document`] is the same document as a `Value`.
pub fn encode_ecs(stored: &StoredEvent, out: &mut Vec<u8>) {
    write_ecs(stored, out);
}

// The ECS document written straight to bytes: the same keys and values as
// [`ecs_document`], without building a `serde_json::Value` tree (a
// `BTreeMap` and a `String` per key and value, freed right after serializing).
//
// Members are written in the order the `Value` tree serialized them in (sorted by
// key, as `serde_json::Map` sorts), so the output only differs inside the nested
// `honeyward` event, which is now the `json` format's own bytes (its keys in that
// format's order) instead of a re-sorted copy.
/// Appends the ECS document (no newline).
pub fn write_ecs(stored: &StoredEvent, out: &mut Vec<u8>) {
    let e = &stored.event;
    let (category, kind_type) = classify(e);
    let user: Option<&[u8]> = match &e.kind {
        EventKind::SshAuth { username, .. } => Some(username.as_bytes()),
        EventKind::HttpRequest { credential, .. } => credential.as_ref().and_then(|c| c.username.as_ref()).map(|u| u.as_bytes()),
        EventKind::DicomAssociation { calling_ae, .. } => Some(calling_ae.as_bytes()),
        _ => None,
    };
    let http = match &e.kind {
        EventKind::HttpRequest { method, target, user_agent, status, .. } => Some((method, target, user_agent, status)),
        _ => None,
    };
    let outcome = match &e.kind {
        EventKind::SshAuth { accepted: true, .. } => "success",
        EventKind::SshAuth { accepted: false, .. } => "failure",
        EventKind::NtlmAuth { accepted: true, .. } => "success",
        EventKind::NtlmAuth { accepted: false, .. } => "failure",
        EventKind::HttpRequest { status, .. } if *status >= 400 => "failure",
        _ => "unknown",
    };
    let name = e.kind.name();

    let mut doc = Object::new(out);
    doc.time("@timestamp", e.time);
    if let Some(d) = e.destination {
        doc.object("destination").ip("ip", d.ip()).u64("port", u64::from(d.port()));
    }
    doc.object("ecs").str("version", ECS_VERSION);
    doc.object("event")
        .str("action", name)
        .strs("category", category)
        .str_parts("dataset", &["honeyward.", name])
        .id("id", e.id)
        .str("kind", "alert")
        .str("module", "honeyward")
        .str("outcome", outcome)
        // ECS `event.severity` is a number, higher is worse: the CEF scale.
        .u64("severity", u64::from(super::cef::cef_severity(e.severity())))
        .strs("type", kind_type);
    if let EventKind::FileOpened { path } | EventKind::CanaryMissing { path } = &e.kind {
        doc.object("file").str("path", path);
    }
    super::json::encode_json(stored, doc.member("honeyward"));
    if let Some((method, _, _, status)) = http {
        let mut h = doc.object("http");
        h.object("request").text("method", method.as_bytes());
        h.object("response").u64("status_code", u64::from(*status));
    }
    if e.decoy.is_some() || e.token.is_some() {
        let mut labels = doc.object("labels");
        if let Some(d) = &e.decoy {
            labels.str("decoy", d);
        }
        if let Some(hit) = &e.token {
            labels.str("token_id", &hit.id);
        }
    }
    let protocol = protocol(&e.kind);
    if e.destination.is_some() || protocol.is_some() {
        let mut network = doc.object("network");
        if let Some(p) = protocol {
            network.str("protocol", p);
        }
        if e.destination.is_some() {
            network.str("transport", "tcp");
        }
    }
    doc.object("observer").str("name", &e.sensor).str("product", "honeyward").str("type", "honeypot").str("vendor", "honeyward").str("version", super::VERSION);
    if e.source.is_some() || user.is_some() {
        let mut related = doc.object("related");
        if let Some(s) = e.source {
            related.array("ip").item_ip(s.ip());
        }
        if let Some(u) = user {
            related.array("user").text(u);
        }
    }
    doc.object("rule").u64_str("id", u64::from(e.kind.id())).str("name", name).str("ruleset", "honeyward");
    if let Some(s) = e.source {
        doc.object("source").ip("ip", s.ip()).u64("port", u64::from(s.port()));
    }
    doc.strs("tags", if e.token.is_some() { &["honeyward", "honeytoken"] } else { &["honeyward"] });
    if let Some(t) = e.technique() {
        let mut threat = doc.object("threat");
        threat.str("framework", "MITRE ATT&CK");
        let mut technique = threat.object("technique");
        let (base, sub) = match t.id().split_once('.') {
            Some((base, _)) => (base, Some(t.id())),
            None => (t.id(), None),
        };
        technique.strs("id", &[base]).strs("name", &[t.name()]);
        if let Some(sub) = sub {
            technique.object("subtechnique").strs("id", &[sub]);
        }
    }
    if let Some((_, target, _, _)) = http {
        doc.object("url").text("original", target.as_bytes());
    }
    if let Some(u) = user {
        doc.object("user").text("name", u);
    }
    if let Some((_, _, Some(ua), _)) = http {
        doc.object("user_agent").text("original", ua.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ECS 8.11 type of every field we write (from the ECS field reference).
    const FIELD_TYPES: &[(&str, &str)] = &[
        ("@timestamp", "date"),
        ("ecs.version", "keyword"),
        ("event.kind", "keyword"),
        ("event.category", "keyword"),
        ("event.type", "keyword"),
        ("event.action", "keyword"),
        ("event.id", "keyword"),
        ("event.dataset", "keyword"),
        ("event.module", "keyword"),
        ("event.severity", "long"),
        ("event.outcome", "keyword"),
        ("observer.type", "keyword"),
        ("observer.name", "keyword"),
        ("observer.vendor", "keyword"),
        ("observer.product", "keyword"),
        ("observer.version", "keyword"),
        ("rule.id", "keyword"),
        ("rule.name", "keyword"),
        ("rule.ruleset", "keyword"),
        ("source.ip", "ip"),
        ("source.port", "long"),
        ("destination.ip", "ip"),
        ("destination.port", "long"),
        ("network.transport", "keyword"),
        ("network.protocol", "keyword"),
        ("user.name", "keyword"),
        ("related.user", "keyword"),
        ("related.ip", "ip"),
        ("url.original", "wildcard"),
        ("http.request.method", "keyword"),
        ("http.response.status_code", "long"),
        ("user_agent.original", "keyword"),
        ("file.path", "keyword"),
        ("threat.framework", "keyword"),
        ("threat.technique.id", "keyword"),
        ("threat.technique.name", "keyword"),
        ("threat.technique.subtechnique.id", "keyword"),
        ("labels.decoy", "keyword"),
        ("labels.token_id", "keyword"),
        ("tags", "keyword"),
    ];

    /// Every leaf outside our own `honeyward` namespace: (dotted path, value).
    fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    if path != "honeyward" {
                        leaves(v, &path, out);
                    }
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }

    fn fits(kind: &str, v: &Value) -> bool {
        let each = |v: &Value| match kind {
            "keyword" | "wildcard" => v.is_string(),
            "long" => v.is_u64() || v.is_i64(),
            "ip" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
            "date" => v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            _ => false,
        };
        match v {
            Value::Array(items) => items.iter().all(each),
            v => each(v),
        }
    }

    #[test]
    fn every_field_has_its_ecs_type() {
        for username in [&b"root"[..], b"a\"b]c\\d\n\0\xff"] {
            let doc = ecs_document(&crate::sink::format::syslog::tests::auth(username));
            let mut all = Vec::new();
            leaves(&doc, "", &mut all);
            for (path, value) in &all {
                let (_, kind) = FIELD_TYPES.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path} is not in the ECS field list"));
                assert!(fits(kind, value), "{path} = {value} is not a {kind}");
            }
            assert_eq!(doc["observer"]["type"], "honeypot");
            assert_eq!(doc["event"]["category"][0], "authentication");
            assert_eq!(doc["threat"]["technique"]["subtechnique"]["id"][0], "T1110.001");
            assert_eq!(doc["user"]["name"], String::from_utf8_lossy(username).as_ref());
            assert_eq!(doc["honeyward"]["details"]["username"]["text"], String::from_utf8_lossy(username).as_ref());
        }
    }

    #[test]
    fn the_direct_document_equals_the_value_document_over_hostile_events() {
        crate::sink::format::hostile::assert_direct_matches_value(write_ecs, ecs_document);
    }
}
