//! RFC 5424 syslog: `<PRI>1 TIMESTAMP HOSTNAME honeyward - MSGID [SD] BOM MSG`.
//! The structured data element `honeyward@<enterprise number>` carries the event's
//! fields (param values escaped per RFC 5424 §6.3.3: `"`, `\` and `]`); the message
//! is the event as JSON (one line, control characters escaped by the JSON encoder).
//! Framing (octet counting for TCP/TLS, one datagram for UDP) is the transport's.

use super::fields::each_field;
use super::json::encode_json;
use super::text::{push_rfc3339, push_u64};
pub use crate::config::{SyslogOptions, DEFAULT_ENTERPRISE_NUMBER};
use crate::event::Severity;
use crate::store::StoredEvent;

/// Syslog severity for an event severity.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// PRINTUSASCII without spaces, at most `max` characters, `-` when empty.
fn header_token(text: &str, max: usize) -> String {
    let t: String = text.chars().filter(|c| ('!'..='~').contains(c)).take(max).collect();
    if t.is_empty() {
        "-".into()
    } else {
        t
    }
}

/// An SD-NAME: printable ASCII except `=`, space, `]`, `"`; at most 32 characters.
fn sd_name(name: &str) -> String {
    header_token(&name.replace(['=', ']', '"'], "_"), 32)
}

/// Escapes a PARAM-VALUE (RFC 5424 §6.3.3).
pub fn escape_param(value: &str, out: &mut Vec<u8>) {
    if !value.contains(['"', '\\', ']']) {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push(b'\\');
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// Appends `<PRI>1 TIMESTAMP HOSTNAME honeyward - MSGID ` (the header up to the
/// structured data), without allocating.
fn header(stored: &StoredEvent, opts: &SyslogOptions, out: &mut Vec<u8>) {
    let e = &stored.event;
    let pri = u16::from(opts.facility.min(23)) * 8 + u16::from(syslog_severity(e.severity()));
    out.push(b'<');
    push_u64(out, u64::from(pri));
    out.extend_from_slice(b">1 ");
    push_rfc3339(out, e.time);
    out.push(b' ');
    push_header_token(out, &e.sensor, 255);
    out.extend_from_slice(b" honeyward - ");
    push_header_token(out, e.kind.name(), 32);
    out.push(b' ');
}

/// [`header_token`] appended to `out`. Only ASCII characters are kept, so filtering
/// bytes gives the same text as filtering characters.
fn push_header_token(out: &mut Vec<u8>, text: &str, max: usize) {
    let start = out.len();
    out.extend(text.bytes().filter(|b| (b'!'..=b'~').contains(b)).take(max));
    if out.len() == start {
        out.push(b'-');
    }
}

/// Appends one syslog message whose body is `format`: RFC 5424 with structured data,
/// or the RFC 5424 header with no structured data (`-`) and a CEF, LEEF or JSON body.
pub fn encode_syslog(stored: &StoredEvent, opts: &SyslogOptions, format: crate::config::EventFormat, out: &mut Vec<u8>) {
    use crate::config::EventFormat;
    if format == EventFormat::Rfc5424 {
        return encode_5424(stored, opts, out);
    }
    header(stored, opts, out);
    out.extend_from_slice(b"- ");
    super::encode(format, stored, out);
}

/// Appends one RFC 5424 message (no framing, no trailing newline).
pub fn encode_5424(stored: &StoredEvent, opts: &SyslogOptions, out: &mut Vec<u8>) {
    header(stored, opts, out);
    out.extend_from_slice(b"[honeyward@");
    push_u64(out, u64::from(opts.enterprise_number));
    each_field(stored, &mut |name, value| {
        out.push(b' ');
        // Our field names are already valid SD-NAMEs except when a detail's own
        // name would not be; sd_name() is then applied.
        if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            out.extend_from_slice(name.as_bytes());
        } else {
            out.extend_from_slice(sd_name(&name).as_bytes());
        }
        out.extend_from_slice(b"=\"");
        escape_param(value.as_str(), out);
        out.push(b'"');
    });
    out.extend_from_slice(b"] \xEF\xBB\xBF");
    encode_json(stored, out);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp};
    use crate::sink::format::Field;

    // The former encoders (format!, to_rfc3339, the field list, the serde JSON
    // message), kept as the oracle for the allocation-free ones.
    /// Appends one syslog message whose body is `format`: RFC 5424 with structured data,
    /// or the RFC 5424 header with no structured data (`-`) and a CEF, LEEF or JSON body.
    pub(crate) fn old_encode_syslog(stored: &StoredEvent, opts: &SyslogOptions, format: crate::config::EventFormat, out: &mut Vec<u8>) {
        use crate::config::EventFormat;
        if format == EventFormat::Rfc5424 {
            return old_encode_5424(stored, opts, out);
        }
        let e = &stored.event;
        let pri = u16::from(opts.facility.min(23)) * 8 + u16::from(syslog_severity(e.severity()));
        out.extend_from_slice(
            format!("<{pri}>1 {} {} honeyward - {} - ", e.time.to_rfc3339(), header_token(&e.sensor, 255), header_token(e.kind.name(), 32)).as_bytes(),
        );
        super::super::encode(format, stored, out);
    }

    /// Appends one RFC 5424 message (no framing, no trailing newline).
    pub(crate) fn old_encode_5424(stored: &StoredEvent, opts: &SyslogOptions, out: &mut Vec<u8>) {
        let e = &stored.event;
        let pri = u16::from(opts.facility.min(23)) * 8 + u16::from(syslog_severity(e.severity()));
        out.extend_from_slice(
            format!(
                "<{pri}>1 {} {} honeyward - {} [honeyward@{}",
                e.time.to_rfc3339(),
                header_token(&e.sensor, 255),
                header_token(e.kind.name(), 32),
                opts.enterprise_number
            )
            .as_bytes(),
        );
        for Field { name, value } in crate::sink::format::fields::tests::old_fields(stored) {
            out.push(b' ');
            // Our field names are already valid SD-NAMEs except when a detail's own
            // name would not be; sd_name() is then applied.
            if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
                out.extend_from_slice(name.as_bytes());
            } else {
                out.extend_from_slice(sd_name(&name).as_bytes());
            }
            out.extend_from_slice(b"=\"");
            escape_param(&value, out);
            out.push(b'"');
        }
        out.extend_from_slice(b"] \xEF\xBB\xBF");
        crate::sink::format::json::tests::old_encode_json(stored, out);
    }

    #[test]
    fn the_direct_writer_writes_the_same_bytes_as_before() {
        use crate::config::EventFormat;
        let opts = SyslogOptions { facility: 99, enterprise_number: 4_294_967_295 };
        for e in crate::sink::format::hostile::events() {
            for format in [EventFormat::Rfc5424, EventFormat::Json, EventFormat::Cef] {
                let (mut new, mut old) = (Vec::new(), Vec::new());
                encode_syslog(&e, &opts, format, &mut new);
                old_encode_syslog(&e, &opts, format, &mut old);
                assert!(new == old, "{format:?} {}\n{}\n{}", e.event.kind.name(), String::from_utf8_lossy(&new), String::from_utf8_lossy(&old));
            }
        }
    }

    pub(crate) fn auth(username: &[u8]) -> StoredEvent {
        StoredEvent {
            seq: 1,
            event: Event {
                claimed_time: None,
                id: EventId::new(),
                time: Timestamp::from_micros(1_795_883_913_123_456),
                sensor: "pacs vlan sensor".into(),
                decoy: Some("ssh".into()),
                source: Some("203.0.113.9:40022".parse().unwrap()),
                destination: Some("127.0.0.1:22".parse().unwrap()),
                session: Some(EventId::new()),
                kind: EventKind::SshAuth {
                    method: SshAuthMethod::Password,
                    username: AttackerBytes::new(username),
                    password: Some(AttackerBytes::new("x")),
                    key_fingerprint: None,
                    key_algorithm: None,
                    accepted: false,
                    methods_tried: None,
                },
                token: None,
            },
        }
    }

    /// A reference parser for what we emit, written from RFC 5424 §6: header fields,
    /// one SD element with escaped params, BOM, message.
    pub(crate) fn parse(msg: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
        let text = std::str::from_utf8(msg).expect("UTF-8");
        let sd_start = text.find(" [").expect("SD");
        let header = text[..sd_start].to_string();
        let mut params = Vec::new();
        let bytes = &text.as_bytes()[sd_start + 2..];
        let mut i = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
        loop {
            match bytes[i] {
                b']' => {
                    i += 1;
                    break;
                }
                b' ' => i += 1,
                _ => panic!("unexpected byte in SD at {i}"),
            }
            let eq = i + bytes[i..].iter().position(|&b| b == b'=').expect("=");
            let name = String::from_utf8(bytes[i..eq].to_vec()).unwrap();
            assert_eq!(bytes[eq + 1], b'"');
            let mut value = Vec::new();
            let mut j = eq + 2;
            while bytes[j] != b'"' {
                if bytes[j] == b'\\' && matches!(bytes[j + 1], b'"' | b'\\' | b']') {
                    j += 1;
                }
                value.push(bytes[j]);
                j += 1;
            }
            params.push((name, String::from_utf8(value).unwrap()));
            i = j + 1;
        }
        let rest = &bytes[i..];
        assert!(rest.starts_with(b" \xEF\xBB\xBF"), "BOM before MSG");
        (header, params, rest[4..].to_vec())
    }

    #[test]
    fn the_header_priority_and_msgid_are_rfc_5424() {
        let mut out = Vec::new();
        encode_5424(&auth(b"root"), &SyslogOptions::default(), &mut out);
        let (header, params, msg) = parse(&out);
        assert_eq!(header, "<84>1 2026-11-28T16:38:33.123456Z pacsvlansensor honeyward - ssh_auth", "authpriv.warning");
        assert!(params.contains(&("username".into(), "root".into())));
        assert!(params.contains(&("technique".into(), "T1110.001".into())));
        let json: serde_json::Value = serde_json::from_slice(&msg).unwrap();
        assert_eq!(json["details"]["username"]["text"], "root");
    }

    #[test]
    fn hostile_usernames_read_back_exactly_as_one_record() {
        let long = "A".repeat(64 * 1024);
        let cases: Vec<Vec<u8>> = vec![
            b"a\"b]c\\d".to_vec(),
            b"line1\nline2\r\n<13>1 - - - - - - forged".to_vec(),
            b"${jndi:ldap://x}".to_vec(),
            b"nul\0byte".to_vec(),
            long.into_bytes(),
            b"bad\xff\xfeutf8".to_vec(),
            "rtl\u{202e}gnp.exe".as_bytes().to_vec(),
        ];
        for username in cases {
            let mut out = Vec::new();
            encode_5424(&auth(&username), &SyslogOptions::default(), &mut out);
            assert!(!out.contains(&b'\n') && !out.contains(&0), "one line, no NUL");
            let (_, params, msg) = parse(&out);
            let shown = params.iter().find(|(n, _)| n == "username").unwrap().1.clone();
            let expected = crate::sink::format::fields::visible(&String::from_utf8_lossy(&username));
            assert_eq!(shown, expected.chars().take(crate::sink::format::fields::MAX_VALUE_CHARS).collect::<String>());
            let json: serde_json::Value = serde_json::from_slice(&msg).unwrap();
            assert_eq!(json["details"]["username"]["text"], String::from_utf8_lossy(&username).as_ref(), "the message keeps the exact text");
        }
    }

    #[test]
    fn random_usernames_always_parse_back_to_their_visible_form() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..2000 {
            let len = rng.random_range(0..64);
            let username: Vec<u8> = (0..len)
                .map(|_| *[b'"', b'\\', b']', b'[', b'=', b' ', b'\n', 0, 0xff, b'a', 0xc3, 0xa9].get(rng.random_range(0..12)).unwrap_or(&b'a'))
                .collect();
            let mut out = Vec::new();
            encode_5424(&auth(&username), &SyslogOptions::default(), &mut out);
            let (_, params, _) = parse(&out);
            let shown = &params.iter().find(|(n, _)| n == "username").unwrap().1;
            assert_eq!(shown, &crate::sink::format::fields::visible(&String::from_utf8_lossy(&username)));
        }
    }
}
