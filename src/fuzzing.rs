//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz): every parser that reads
//! attacker bytes, the configuration loader, and the encoders (round trip). Each
//! takes arbitrary bytes and must never panic; the encoders also check that what they
//! wrote reads back as exactly one record carrying the event's id.

use crate::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp};
use crate::store::StoredEvent;

/// One DICOM PDU read off the wire (length checked before the body, then decoded).
pub fn dicom_pdu(bytes: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    runtime.block_on(async {
        let mut io = bytes;
        let mut buf = bytes::BytesMut::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        let _ = crate::decoy::dicom::pdu::read(&mut io, &mut buf, 16_384, deadline).await;
    });
}

/// A DIMSE command set.
pub fn dimse_command(bytes: &[u8]) {
    let _ = crate::decoy::dicom::dimse::decode(bytes);
}

/// The SSH client's identification and KEXINIT (HASSH).
pub fn ssh_client_hello(bytes: &[u8]) {
    let _ = crate::decoy::ssh::client_hello::parse(bytes);
}

/// An HTTP/1 request head, then the credentials in it (basic, bearer, SigV4, forms).
pub fn http_request(bytes: &[u8]) {
    if let Ok((request, _)) = crate::decoy::http::h1::parse_head(bytes, 100) {
        let _ = crate::decoy::http::request::credential(&request);
        let _ = crate::decoy::http::request::headers(&request);
        let _ = crate::decoy::http::request::form_login(bytes, "username", "password");
    }
}

/// What a browser sends the console in a passkey ceremony: CBOR (attestation object,
/// COSE key), client data JSON, authenticator data and a signature, all attacker's.
pub fn webauthn(bytes: &[u8]) {
    use crate::console::webauthn::{verify_assertion, verify_registration, Assertion, RelyingParty, StoredKey, ES256, RS256};
    let _ = crate::console::cbor::decode(bytes);
    let rp = RelyingParty { id: "localhost".into(), origin: "http://localhost:9080".into() };
    let third = bytes.len() / 3;
    let (a, rest) = bytes.split_at(third);
    let (b, c) = rest.split_at(third);
    let _ = verify_registration(&rp, b"challenge", a, b);
    let _ = verify_registration(&rp, b"challenge", b"{\"type\":\"webauthn.create\",\"challenge\":\"Y2hhbGxlbmdl\",\"origin\":\"http://localhost:9080\"}", bytes);
    let answer = Assertion { client_data_json: a, authenticator_data: b, signature: c };
    let _ = verify_assertion(&rp, b"challenge", &answer, &StoredKey { algorithm: ES256, public_key: &[4; 65], sign_count: 0 });
    let _ = verify_assertion(&rp, b"challenge", &answer, &StoredKey { algorithm: RS256, public_key: c, sign_count: 0 });
}

/// The configuration loader.
pub fn config(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = crate::config::parse_str("fuzz.yaml", text);
    }
}

/// Every encoder over an event whose attacker fields are `bytes`: one line each, the
/// event id readable back, JSON formats parse.
pub fn encoders(bytes: &[u8]) {
    use crate::config::EventFormat;
    let split = bytes.len() / 2;
    let stored = StoredEvent {
        seq: 1,
        event: Event {
            id: EventId::new(),
            time: Timestamp::from_micros(1_795_883_913_123_456),
            sensor: "fuzz".into(),
            decoy: Some("ssh".into()),
            source: Some("203.0.113.9:40022".parse().expect("addr")),
            destination: None,
            session: None,
            kind: EventKind::SshAuth { method: SshAuthMethod::Password, username: AttackerBytes::new(bytes[..split].to_vec()), password: Some(AttackerBytes::new(bytes[split..].to_vec())), key_fingerprint: None, key_algorithm: None, accepted: false, methods_tried: None },
            token: None,
        },
    };
    for format in [EventFormat::Json, EventFormat::Rfc5424, EventFormat::Cef, EventFormat::Leef, EventFormat::Ecs, EventFormat::Ocsf] {
        let mut out = Vec::new();
        crate::sink::format::encode_line(format, &stored, &mut out);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "{format:?}: one line");
        let line = &out[..out.len() - 1];
        assert_eq!(crate::sink::format::event_id_in_line(line), Some(stored.event.id), "{format:?}: id reads back");
        if matches!(format, EventFormat::Json | EventFormat::Ecs | EventFormat::Ocsf) {
            let v: serde_json::Value = serde_json::from_slice(line).expect("valid JSON");
            assert!(v.is_object());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_entry_point_takes_garbage() {
        for input in [&b""[..], b"\x01\x00\x00\x00\x00\x44", b"SSH-2.0-x\r\n\0\0\0\x10", b"GET / HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n", b"decoys: [1", b"\xff\xfe\"]\\\n\x1b"] {
            super::dicom_pdu(input);
            super::dimse_command(input);
            super::ssh_client_hello(input);
            super::http_request(input);
            super::config(input);
            super::encoders(input);
            super::webauthn(input);
        }
    }
}
