//! Tests of the event kind table: ids and names unique, serde names as the table's.
use super::*;
use crate::event::attack::Technique;

#[test]
fn kind_ids_and_names_are_unique() {
    let mut ids: Vec<_> = KINDS.iter().map(|k| k.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), KINDS.len());
    let mut names: Vec<_> = EventKind::names().collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), KINDS.len());
}

#[test]
fn unit_variant_names_match_serde() {
    use CloseReason::*;
    for r in [PeerClosed, IdleTimeout, SessionTimeout, MaxBytes, Shutdown, ProtocolError, Error] {
        assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
    }
    for l in [LimitKind::MaxConnections, LimitKind::MaxConnectionsPerSource, LimitKind::MaxMemory] {
        assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
    }
    for m in [SshAuthMethod::None, SshAuthMethod::Password, SshAuthMethod::Publickey, SshAuthMethod::KeyboardInteractive] {
        assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
}

/// One event kind of each variant, with its details filled in.
pub(crate) fn one_of_each() -> Vec<EventKind> {
    vec![
        EventKind::ConnectionOpened,
        EventKind::ConnectionClosed { duration_ms: 1, bytes_in: 2, bytes_out: 3, reason: CloseReason::PeerClosed },
        EventKind::DataReceived { data: AttackerBytes::new("x"), truncated: false },
        EventKind::SshAuth {
            method: SshAuthMethod::Password,
            username: AttackerBytes::new("root"),
            password: Some(AttackerBytes::new("x")),
            key_fingerprint: None,
            key_algorithm: None,
            accepted: false,
            methods_tried: None,
        },
        EventKind::SshClient { version: AttackerBytes::new("SSH-2.0-x"), hassh: "0".repeat(32), algorithms: AttackerBytes::new("a;b;c;d"), negotiated: None },
        EventKind::SshCommand { line: AttackerBytes::new("id"), exec: false },
        EventKind::SshSessionClosed { recording: "/x.cast".into(), sha256: "0".repeat(64), bytes: 1 },
        EventKind::SshRequestRefused { request: "direct-tcpip".into(), target: AttackerBytes::new("10.0.0.1:445") },
        EventKind::HttpRequest {
            method: AttackerBytes::new("GET"),
            target: AttackerBytes::new("/"),
            version: "HTTP/1.1".into(),
            headers: vec![],
            headers_truncated: false,
            user_agent: None,
            credential: None,
            body_bytes: 0,
            body_sha256: None,
            body: None,
            status: 404,
            tags: vec![],
        },
        EventKind::DicomAssociation {
            calling_ae: AttackerBytes::new("FINDSCU"),
            called_ae: AttackerBytes::new("ANY-SCP"),
            implementation_class_uid: None,
            implementation_version: None,
            max_pdu_length: Some(16384),
            contexts: vec![],
            accepted: true,
            rejected: None,
        },
        EventKind::DicomCommand { command: "C-ECHO".into(), sop_class: None, level: None, keys: vec![], move_destination: None, matches: 0, status: 0 },
        EventKind::DicomStore { sop_class: None, sop_instance_uid: AttackerBytes::new("1.2.3"), bytes: 1, sha256: "0".repeat(64), quarantined: true },
        EventKind::DicomRelease { how: "release".into(), reason: None },
        EventKind::SmbNegotiate {
            protocol: "smb2".into(),
            dialects: AttackerBytes::new("2.0.2,3.1.1"),
            chosen: Some("3.1.1".into()),
            client_guid: None,
            signing_required: false,
        },
        EventKind::NtlmAuth {
            protocol: "smb".into(),
            username: AttackerBytes::new("alice"),
            domain: AttackerBytes::new("TRUST"),
            workstation: AttackerBytes::new("WS1"),
            ntlm: "v2".into(),
            flags: "0xe2088215".into(),
            client_version: None,
            target: None,
            hashcat: Some(AttackerBytes::new("alice::TRUST:00:00:00")),
            accepted: false,
            status: "STATUS_LOGON_FAILURE".into(),
        },
        EventKind::SmbExploit { stage: "ms17-010-check".into(), command: "SMB_COM_TRANSACTION".into(), bytes: 0, sha256: None, quarantined: false },
        EventKind::SmbFile {
            operation: "read".into(),
            user: AttackerBytes::new("NHSTRUST\\svc_pacs02"),
            share: AttackerBytes::new("Radiology"),
            path: AttackerBytes::new("Reports\\q3.csv"),
            status: "STATUS_SUCCESS".into(),
            bytes: Some(4096),
            detail: None,
        },
        EventKind::Hl7Message {
            framing: "message".into(),
            message_type: Some(AttackerBytes::new("ADT^A01^ADT_A01")),
            control_id: Some(AttackerBytes::new("MSG00001")),
            processing_id: Some(AttackerBytes::new("P")),
            version: Some(AttackerBytes::new("2.5.1")),
            sending: Some(AttackerBytes::new("EPIC/RAD")),
            receiving: Some(AttackerBytes::new("MIRTH/HOSP")),
            patient_ids: Some(AttackerBytes::new("9990000018")),
            patient_names: Some(AttackerBytes::new("SMITH^Jane")),
            segments: Some("MSH,PID".into()),
            ack: Some("AA".into()),
            matches: None,
            bytes: 120,
            raw: AttackerBytes::new("MSH|^~\\&|"),
        },
        EventKind::NamePoisoning {
            protocol: "llmnr".into(),
            name: AttackerBytes::new("pacs-backup02"),
            addresses: "10.0.0.66".into(),
            mac: None,
            offered: None,
        },
        EventKind::RdpNegotiate {
            cookie: Some(AttackerBytes::new("Cookie: mstshash=alice")),
            mstshash: Some(AttackerBytes::new("alice")),
            requested: "ssl,hybrid".into(),
            selected: Some("hybrid".into()),
            refused: None,
        },
        EventKind::FileOpened { path: "/srv/x".into() },
        EventKind::CanaryMissing { path: "/srv/x".into() },
        EventKind::ConnectionsRefused { count: 1, limit: LimitKind::MaxConnections },
        EventKind::SensorRefused { sensor: AttackerBytes::new("ward-7"), reason: "bad signature".into(), count: 1 },
        EventKind::SensorSilent { sensor: "ward-7".into(), silent_seconds: 90 },
        EventKind::SpoolShed { events: 10, first_seq: 1, last_seq: 10 },
        EventKind::StoreFull { events: 10, full_seconds: 3 },
    ]
}

#[test]
fn serde_name_matches_table_name() {
    let samples = one_of_each();
    assert_eq!(samples.len(), KINDS.len());
    for kind in samples {
        let v = serde_json::to_value(&kind).unwrap();
        assert_eq!(v["kind"], kind.name());
        assert_eq!(EventKind::id_of(kind.name()), Some(kind.id()));
        let back: EventKind = serde_json::from_value(v).unwrap();
        assert_eq!(back, kind);
    }
}

#[test]
fn an_http_request_is_tagged_by_what_it_carries() {
    let request = super::login_request;
    let form = || Some(HttpCredential { scheme: "form".into(), username: Some(AttackerBytes::new("admin")), secret: Some(AttackerBytes::new("x")) });
    let table = [
        (request(None, &[]), Technique::NetworkServiceDiscovery),
        (request(form(), &[]), Technique::PasswordGuessing),
        (request(form(), &["scanning"]), Technique::PasswordGuessing),
        (request(None, &["scanning"]), Technique::WordlistScanning),
        (request(form(), &["exploit"]), Technique::ExploitPublicFacingApplication),
    ];
    for (kind, technique) in table {
        assert_eq!(kind.technique(), Some(technique), "{kind:?}");
    }
}
