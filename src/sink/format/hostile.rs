//! Test fixtures: events of every shape the direct writers special-case, carrying
//! hostile attacker text, for the tests that compare each direct writer with the
//! former serde/`Value` construction.

use crate::event::{
    AttackerBytes, CloseReason, DicomContext, DicomKey, Event, EventId, EventKind, HttpCredential, HttpHeader, LimitKind, SshAuthMethod, Timestamp,
};
use crate::store::StoredEvent;
use crate::token::{Plant, TokenHit, TokenKind, TokenState};

/// Hostile attacker inputs: quotes, backslashes, line breaks, NUL, ESC, bidi and
/// invisible marks, C1 controls, invalid UTF-8, and a 64 KiB string.
pub fn inputs() -> Vec<Vec<u8>> {
    vec![
        b"root".to_vec(),
        b"".to_vec(),
        b"a\"b]c\\d".to_vec(),
        b"line1\nline2\r\n<13>1 - - - - - - forged".to_vec(),
        b"nul\0byte esc\x1b[31m tab\t bs\x08 ff\x0c".to_vec(),
        "rtl\u{202e}gnp.exe lrm\u{200e} bom\u{feff} iso\u{2066}x\u{2069} del\x7f c1\u{85}\u{9f}".as_bytes().to_vec(),
        b"bad\xff\xfeutf8 \xc3 \xe2\x80".to_vec(),
        b"${jndi:ldap://x}\",\"admin\":true,\"x\":\"".to_vec(),
        "ünïcödé 日本 🦀".as_bytes().to_vec(),
        [b"A\"\\\n\xe2\x80\xae".repeat(64 * 1024 / 7), b"\xff".to_vec()].concat(),
    ]
}

fn b(raw: &[u8]) -> AttackerBytes {
    AttackerBytes::new(raw.to_vec())
}

fn lossy(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// One event per kind the encoders treat specially, all carrying `raw`.
pub fn kinds(raw: &[u8]) -> Vec<EventKind> {
    let header = HttpHeader { name: b(raw), value: b(raw) };
    vec![
        EventKind::SshAuth {
            method: SshAuthMethod::Password,
            username: b(raw),
            password: Some(b(raw)),
            key_fingerprint: Some(lossy(raw)),
            key_algorithm: None,
            accepted: false,
            methods_tried: None,
        },
        EventKind::SshAuth {
            method: SshAuthMethod::Publickey,
            username: b(raw),
            password: None,
            key_fingerprint: None,
            key_algorithm: Some(lossy(raw)),
            accepted: true,
            methods_tried: None,
        },
        EventKind::SmbNegotiate { protocol: "smb1".into(), dialects: b(raw), chosen: None, client_guid: Some(lossy(raw)), signing_required: true },
        EventKind::Hl7Message {
            framing: lossy(raw),
            message_type: Some(b(raw)),
            control_id: Some(b(raw)),
            processing_id: Some(b(raw)),
            version: Some(b(raw)),
            sending: Some(b(raw)),
            receiving: Some(b(raw)),
            patient_ids: Some(b(raw)),
            patient_names: Some(b(raw)),
            segments: Some(lossy(raw)),
            ack: Some(lossy(raw)),
            matches: Some(1),
            bytes: 1,
            raw: b(raw),
        },
        EventKind::NamePoisoning { protocol: "llmnr".into(), name: b(raw), addresses: lossy(raw), mac: Some(lossy(raw)), offered: Some(lossy(raw)) },
        EventKind::SmbFile { operation: "read".into(), user: b(raw), share: b(raw), path: b(raw), status: lossy(raw), bytes: Some(1), detail: Some(b(raw)) },
        EventKind::RdpNegotiate { cookie: Some(b(raw)), mstshash: Some(b(raw)), requested: "rdp".into(), selected: None, refused: Some(lossy(raw)) },
        EventKind::NtlmAuth {
            protocol: "smb".into(),
            username: b(raw),
            domain: b(raw),
            workstation: b(raw),
            ntlm: "v2".into(),
            flags: lossy(raw),
            client_version: Some(lossy(raw)),
            target: Some(b(raw)),
            hashcat: Some(b(raw)),
            accepted: false,
            status: "STATUS_LOGON_FAILURE".into(),
        },
        EventKind::HttpRequest {
            method: b(raw),
            target: b(raw),
            version: lossy(raw),
            headers: vec![header.clone(), header],
            headers_truncated: true,
            user_agent: Some(b(raw)),
            credential: Some(HttpCredential { scheme: "basic".into(), username: Some(b(raw)), secret: Some(b(raw)) }),
            body_bytes: u64::MAX,
            body_sha256: Some(lossy(raw)),
            body: Some(b(raw)),
            status: 404,
            tags: vec!["exploit".into(), lossy(raw)],
        },
        EventKind::HttpRequest {
            method: b(b"POST"),
            target: b(raw),
            version: "HTTP/1.1".into(),
            headers: vec![],
            headers_truncated: false,
            user_agent: None,
            credential: None,
            body_bytes: 0,
            body_sha256: None,
            body: None,
            status: 200,
            tags: vec![],
        },
        EventKind::DicomAssociation {
            calling_ae: b(raw),
            called_ae: b(raw),
            implementation_class_uid: Some(b(raw)),
            implementation_version: None,
            max_pdu_length: Some(16384),
            contexts: vec![DicomContext { id: 1, abstract_syntax: b(raw), transfer_syntaxes: vec![b(raw)], result: 0 }],
            accepted: false,
            rejected: Some(lossy(raw)),
        },
        EventKind::DicomCommand {
            command: "C-FIND".into(),
            sop_class: Some(b(raw)),
            level: Some(b(raw)),
            keys: vec![DicomKey { tag: "0010,0010".into(), keyword: Some(lossy(raw)), value: b(raw) }],
            move_destination: None,
            matches: 40,
            status: 0,
        },
        EventKind::FileOpened { path: format!("/srv/{}", lossy(raw)) },
        EventKind::CanaryMissing { path: lossy(raw) },
        EventKind::SshCommand { line: b(raw), exec: true },
        EventKind::DataReceived { data: b(raw), truncated: true },
        EventKind::ConnectionOpened,
        EventKind::ConnectionClosed { duration_ms: 5, bytes_in: 1, bytes_out: 2, reason: CloseReason::ProtocolError },
        EventKind::ConnectionsRefused { count: 3, limit: LimitKind::MaxConnectionsPerSource },
    ]
}

/// Every kind with every input, in envelopes that vary (IPv4/IPv6, absent fields,
/// a token hit, hostile sensor and decoy names).
pub fn events() -> Vec<StoredEvent> {
    let mut out = Vec::new();
    for (n, raw) in inputs().iter().enumerate() {
        for (k, kind) in kinds(raw).into_iter().enumerate() {
            let full = (n + k) % 3 != 0;
            let token = (n + k) % 4 == 1;
            out.push(StoredEvent {
                seq: 1,
                event: Event {
                    claimed_time: full.then(|| Timestamp::from_micros(4_070_908_800_000_000 + k as i64)),
                    id: EventId::new(),
                    time: Timestamp::from_micros(1_795_883_913_123_456 + (n * 1000 + k) as i64),
                    sensor: if n % 2 == 0 { lossy(raw) } else { "ward-7".into() },
                    decoy: full.then(|| lossy(raw)),
                    source: Some(if k % 2 == 0 { "203.0.113.9:40022" } else { "[2001:db8::1]:1" }.parse().expect("addr")),
                    destination: full.then(|| "10.20.0.5:22".parse().expect("addr")),
                    session: full.then(EventId::new),
                    kind,
                    token: token.then(|| TokenHit {
                        id: lossy(raw),
                        kind: TokenKind::SshPassword,
                        label: lossy(raw),
                        state: TokenState::Active,
                        claimed_by_sensor: false,
                        digest: None,
                        plants: vec![Plant {
                            host: lossy(raw),
                            path: lossy(raw),
                            note: None,
                            template: Some("bash_history".into()),
                            created: Timestamp::from_micros(0),
                        }],
                    }),
                },
            });
        }
    }
    out
}

/// `doc` (a direct writer's ECS or OCSF bytes) with the nested event, which is now
/// the `json` format's bytes, replaced by the former nested copy (the same value
/// re-sorted by `serde_json::Map`): what the former encoder wrote, byte for byte,
/// when everything else is unchanged, keys in the same order included.
pub fn with_nested_event_resorted(doc: &[u8], stored: &StoredEvent) -> Vec<u8> {
    let mut nested = Vec::new();
    super::encode_json(stored, &mut nested);
    let mut resorted = Vec::new();
    super::write_value(&super::json::json_value(stored), &mut resorted);
    let at = doc.windows(nested.len()).position(|w| w == nested).expect("the nested event");
    [&doc[..at], &resorted[..], &doc[at + nested.len()..]].concat()
}

/// Checks a direct writer (ECS, OCSF) against the `serde_json::Value` document it
/// replaced, over every hostile event: the same value, the same bytes and key order
/// (nested event aside), one line, nothing invisible left raw.
pub fn assert_direct_matches_value(write: fn(&StoredEvent, &mut Vec<u8>), value: fn(&StoredEvent) -> serde_json::Value) {
    for e in events() {
        let mut out = Vec::new();
        write(&e, &mut out);
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&out)));
        assert_eq!(parsed, value(&e), "{}", e.event.kind.name());
        let mut old = Vec::new();
        super::write_value(&value(&e), &mut old);
        assert!(with_nested_event_resorted(&out, &e) == old, "same bytes, same key order: {}", e.event.kind.name());
        assert!(!out.contains(&b'\n') && !out.contains(&0));
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{202e}') && !text.contains('\x7f') && !text.contains('\u{85}'));
    }
}
