//! OCSF 1.1 Detection Finding (class 2004) for an incident: what an incidents-only
//! sink with `format: ocsf` sends. The finding names the incident
//! (`finding_info.uid` = the incident id) with its title and summary so far, carries
//! the severity, the ATT&CK technique and the source, and holds the event that
//! announced it as evidence.

use serde_json::{json, Value};

use super::json::write_value;
use super::ocsf::{ocsf_event, severity_id, OCSF_VERSION};
use super::Announcement;
use crate::store::StoredEvent;

/// Detection Finding's class and its "Create" activity.
pub const FINDING_CLASS: u32 = 2004;

/// The finding announcing an incident, whose first notable event is `stored`.
pub fn ocsf_finding(stored: &StoredEvent, announced: &Announcement) -> Value {
    let e = &stored.event;
    let incident = announced.incident;
    let source = e.source.map(|s| s.ip().to_string()).unwrap_or_else(|| "local".into());
    let title = match &e.token {
        _ if !announced.title.is_empty() => format!("{} from {source}", super::visible(&announced.title)),
        Some(hit) => format!("Honeytoken used: {} ({})", super::visible(&hit.label), hit.kind.as_str()),
        None => format!("Decoy touched: {} from {source}", e.kind.name()),
    };
    let mut id = [0u8; 36];
    let mut v = json!({
        "class_uid": FINDING_CLASS,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": u64::from(FINDING_CLASS) * 100 + 1,
        "time": e.time.as_micros() / 1000,
        "severity_id": severity_id(e.severity()),
        "status_id": 1,
        "status": "New",
        "message": title,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": e.id.encode(&mut id),
            "product": {"name": "honeyward", "vendor_name": "honeyward", "version": super::VERSION},
            "labels": ["honeypot", "incident"],
        },
        "finding_info": {
            "uid": incident.to_string(),
            "title": title,
            "desc": super::visible(&announced.summary),
            "types": ["Deception"],
            "first_seen_time": e.time.as_micros() / 1000,
            "src_url": format!("honeyward incidents show {incident}"),
        },
        "device": {"hostname": e.sensor, "type_id": 0},
        "evidences": [{"data": ocsf_event(stored)}],
    });
    if let Some(t) = e.technique() {
        v["finding_info"]["attacks"] = json!([{"technique": {"uid": t.id(), "name": t.name()}, "version": "14"}]);
        v["attacks"] = v["finding_info"]["attacks"].clone();
    }
    if let Some(s) = e.source {
        v["observables"] = json!([{"name": "src_endpoint.ip", "type_id": 2, "value": s.ip().to_string()}]);
    }
    v
}

/// Appends the finding as one line of JSON (no newline).
pub fn encode_ocsf_finding(stored: &StoredEvent, announced: &Announcement, out: &mut Vec<u8>) {
    write_value(&ocsf_finding(stored, announced), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::format::syslog::tests::auth;

    #[test]
    fn a_finding_carries_the_required_attributes_the_incident_and_the_event_as_evidence() {
        let e = auth(b"root\x1b[2J");
        let incident = crate::event::EventId::new();
        let mut out = Vec::new();
        encode_ocsf_finding(&e, &Announcement::bare(incident), &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        for attr in ["activity_id", "category_uid", "class_uid", "time", "severity_id", "type_uid", "metadata", "finding_info"] {
            assert!(!v[attr].is_null(), "{attr} missing: {v}");
        }
        assert_eq!(v["type_uid"], 200401);
        assert_eq!(v["finding_info"]["uid"], incident.to_string());
        assert!(v["finding_info"]["title"].as_str().unwrap().contains("ssh_auth"));
        assert_eq!(v["evidences"][0]["data"]["class_uid"], 3002);
        assert_eq!(v["metadata"]["uid"], e.event.id.to_string(), "the file sink resumes by this id");
        assert_eq!(crate::sink::format::event_id_in_line(&out), Some(e.event.id));
        assert_eq!(v["attacks"][0]["technique"]["uid"], "T1110.001");
        let told = Announcement { title: "SSH password guessing on ssh".into(), summary: "s guessed 1 SSH password.".into(), ..Announcement::bare(incident) };
        let v = ocsf_finding(&e, &told);
        assert_eq!(
            (v["finding_info"]["title"].as_str(), v["finding_info"]["desc"].as_str()),
            (Some("SSH password guessing on ssh from 203.0.113.9"), Some("s guessed 1 SSH password."))
        );
    }
}
