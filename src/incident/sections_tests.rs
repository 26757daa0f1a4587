use super::*;
use crate::event::{login_request, Event, HttpCredential};

fn session() -> SessionId {
    static ONE: std::sync::OnceLock<SessionId> = std::sync::OnceLock::new();
    *ONE.get_or_init(SessionId::new)
}

fn stored(seq: u64, kind: EventKind) -> StoredEvent {
    let mut event: Event = super::super::fixtures::ssh_auth("203.0.113.9", seq as i64);
    event.kind = kind;
    event.session = Some(session());
    StoredEvent { seq, event }
}

fn get(target: &str, status: u16, agent: &str) -> EventKind {
    match login_request(None, &[]) {
        EventKind::HttpRequest { headers, headers_truncated, credential, body_bytes, body_sha256, body, tags, .. } => EventKind::HttpRequest {
            method: AttackerBytes::new("GET"),
            target: AttackerBytes::new(target),
            version: "HTTP/1.1".into(),
            headers,
            headers_truncated,
            user_agent: Some(AttackerBytes::new(agent)),
            credential,
            body_bytes,
            body_sha256,
            body,
            status,
            tags,
        },
        other => other,
    }
}

#[test]
fn a_wordlist_scan_collapses_into_one_row_and_what_stands_out_stays_apart() {
    let mut events: Vec<StoredEvent> = (0..3000).map(|i| stored(i, get(&format!("/wl/{i}.php"), 404, "gobuster/3.6"))).collect();
    for (i, path) in ["/", "/admin", "/login", "/api"].iter().enumerate() {
        events.push(stored(4000 + i as u64, get(path, 200, "curl/8.0")));
        events.push(stored(4100 + i as u64, get(path, 200, "curl/8.0")));
    }
    let credential = HttpCredential { scheme: "basic".into(), username: Some(AttackerBytes::new("svc_portal")), secret: None };
    events.push(stored(5000, login_request(Some(credential), &[])));
    let s = sections(&events);
    assert_eq!(s.web[0].count, 3000);
    assert_eq!(s.web[0].target, "/wl/*.php");
    assert_eq!((s.web[0].status, s.web[0].user_agent.as_str()), (404, "gobuster/3.6"));
    let few: Vec<(&str, u64)> = s.web[1..5].iter().map(|r| (r.target.as_str(), r.count)).collect();
    assert_eq!(few, [("/", 2), ("/admin", 2), ("/login", 2), ("/api", 2)], "four distinct paths are shown as they are");
    assert_eq!(s.web[5].credential.as_deref(), Some("basic svc_portal"), "a login is never folded into a pattern");
    assert_eq!(s.web.len(), 6);
}

#[test]
fn ssh_attempts_name_their_client_and_dicom_queries_their_sop_class() {
    let client = EventKind::SshClient {
        version: AttackerBytes::new("SSH-2.0-paramiko_3.4.0"),
        hassh: "6d0f0a4c".into(),
        algorithms: AttackerBytes::new("x"),
        negotiated: None,
    };
    let find = EventKind::DicomCommand {
        command: "C-FIND".into(),
        sop_class: Some(AttackerBytes::new("1.2.840.10008.5.1.4.1.2.2.1\0")),
        level: Some(AttackerBytes::new("STUDY")),
        keys: vec![crate::event::DicomKey { tag: "0010,0020".into(), keyword: Some("PatientID".into()), value: AttackerBytes::new("9434765919") }],
        move_destination: None,
        matches: 2,
        status: 0,
    };
    let s = sections(&[stored(1, client), stored(2, super::super::fixtures::ssh_auth("203.0.113.9", 2).kind), stored(3, find)]);
    assert_eq!(s.ssh.len(), 1);
    assert_eq!((s.ssh[0].username.as_str(), s.ssh[0].accepted), ("root", false));
    assert_eq!((s.ssh[0].client.as_deref(), s.ssh[0].hassh.as_deref()), (Some("SSH-2.0-paramiko_3.4.0"), Some("6d0f0a4c")), "the client of that connection");
    assert_eq!(s.dicom[0].sop_class, "Study Root Query/Retrieve – FIND");
    assert_eq!((s.dicom[0].keys.as_str(), s.dicom[0].matches), ("PatientID=9434765919", 2));
}

#[test]
fn every_list_is_bounded() {
    let events: Vec<StoredEvent> =
        (0..(MAX_ROWS as u64 + 10)).map(|i| stored(i, EventKind::SshCommand { line: AttackerBytes::new(format!("echo {i}")), exec: false })).collect();
    let s = sections(&events);
    assert_eq!((s.typed.len(), s.typed_more), (MAX_ROWS, 10));
}
