//! The OCSF event written straight to bytes: the same keys and values as
//! [`super::ocsf::ocsf_event`], without building a `serde_json::Value` tree first.
//!
//! Members are written in the order the `Value` tree serialized them in (sorted by
//! key, as `serde_json::Map` sorts), so the output only differs inside
//! `unmapped.honeyward`, which is now the `json` format's own bytes (its keys in that
//! format's order) instead of a re-sorted copy.

use super::jsonw::{Array, Object};
use super::ocsf::{class_of, severity_id, OCSF_VERSION};
use crate::event::EventKind;
use crate::store::StoredEvent;

/// Appends the OCSF event (no newline).
pub fn write_ocsf(stored: &StoredEvent, out: &mut Vec<u8>) {
    let e = &stored.event;
    let (class_uid, class_name, activity_id, activity_name) = class_of(&e.kind);
    let file = match &e.kind {
        EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => Some(path),
        _ => None,
    };
    let (username, accepted) = match &e.kind {
        EventKind::SshAuth { username, accepted, .. } => (Some(username.as_bytes()), *accepted),
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
        super::json::endpoint(&mut v, "dst_endpoint", d);
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
        super::json::endpoint(&mut v, "src_endpoint", s);
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

    #[test]
    fn the_direct_event_equals_the_value_event_over_hostile_events() {
        crate::sink::format::hostile::assert_direct_matches_value(write_ocsf, super::super::ocsf::ocsf_event);
    }
}
