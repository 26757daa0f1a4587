//! The ECS document written straight to bytes: the same keys and values as
//! [`super::ecs::ecs_document`], without building a `serde_json::Value` tree (a
//! `BTreeMap` and a `String` per key and value, freed right after serializing).
//!
//! Members are written in the order the `Value` tree serialized them in (sorted by
//! key, as `serde_json::Map` sorts), so the output only differs inside the nested
//! `honeyward` event, which is now the `json` format's own bytes (its keys in that
//! format's order) instead of a re-sorted copy.

use super::ecs::{classify, protocol, ECS_VERSION};
use super::jsonw::Object;
use crate::event::EventKind;
use crate::store::StoredEvent;

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

    #[test]
    fn the_direct_document_equals_the_value_document_over_hostile_events() {
        crate::sink::format::hostile::assert_direct_matches_value(write_ecs, super::super::ecs::ecs_document);
    }
}
