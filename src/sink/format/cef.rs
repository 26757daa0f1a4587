//! ArcSight CEF: `CEF:0|honeyward|honeyward|VERSION|SignatureID|Name|Severity|ext`.
//! SignatureID and Name are fixed per event kind (its numeric id and name); header
//! values escape `\` and `|`; extension values escape `\`, `=`, CR and LF (CEF
//! Implementation Standard). Standard keys where CEF has them (src, spt, suser,
//! request, ...); the rest as `cs1`..`cs6` with labels, and `cn1` for numbers.

use super::fields::{fields, Field};
use crate::event::Severity;
use crate::store::StoredEvent;

/// CEF severity (0-10) for an event severity.
pub fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

fn escape_header(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Escapes an extension value.
pub fn escape_value(value: &str, out: &mut String) {
    if !value.contains(['\\', '=', '\n', '\r']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Our field names → CEF dictionary keys.
fn standard_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "id" => "externalId",
        "src" => "src",
        "spt" => "spt",
        "dst" => "dst",
        "dpt" => "dpt",
        "username" | "credential.username" | "calling_ae" => "suser",
        "target" => "request",
        "method" => "requestMethod",
        "user_agent" => "requestClientApplication",
        "line" => "destinationServiceName",
        "path" => "filePath",
        "decoy" => "destinationServiceName",
        "sensor" => "dvchost",
        "technique" => "cat",
        _ => return None,
    })
}

/// Appends one CEF record (no newline).
pub fn encode_cef(stored: &StoredEvent, version: &str, out: &mut Vec<u8>) {
    let e = &stored.event;
    let mut line = String::with_capacity(512);
    line.push_str("CEF:0|honeyward|honeyward|");
    escape_header(version, &mut line);
    line.push('|');
    line.push_str(&e.kind.id().to_string());
    line.push('|');
    escape_header(e.kind.name(), &mut line);
    line.push('|');
    line.push_str(&cef_severity(e.severity()).to_string());
    line.push('|');
    line.push_str(&format!("rt={}", e.time.as_micros() / 1000));
    let mut used: Vec<&'static str> = Vec::new();
    let mut custom = 0;
    for Field { name, value } in fields(stored) {
        let key = match standard_key(&name) {
            Some(k) if !used.contains(&k) => {
                used.push(k);
                k.to_string()
            }
            _ if custom < 6 && matches!(name.as_ref(), "session" | "kind" | "token_label" | "token_id" | "token_plant" | "password" | "credential.secret") => {
                custom += 1;
                line.push_str(&format!(" cs{custom}Label="));
                escape_value(&name, &mut line);
                format!("cs{custom}")
            }
            _ => continue,
        };
        line.push(' ');
        line.push_str(&key);
        line.push('=');
        escape_value(&value, &mut line);
    }
    out.extend_from_slice(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference parser from the CEF standard: 7 `|`-separated header fields (with
    /// `\|` and `\\`), then `key=value` pairs where a value runs to the next ` key=`.
    pub(crate) fn parse(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut header = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while header.len() < 7 {
            match chars.next().expect("7 header fields") {
                '\\' => cur.push(chars.next().expect("escape")),
                '|' => header.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        let ext: String = chars.collect();
        let mut pairs = Vec::new();
        let bytes: Vec<char> = ext.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            let key_start = i;
            while bytes[i] != '=' {
                i += 1;
            }
            let key: String = bytes[key_start..i].iter().collect();
            i += 1;
            let mut value = String::new();
            while i < bytes.len() {
                if bytes[i] == '\\' && i + 1 < bytes.len() {
                    value.push(match bytes[i + 1] {
                        'n' => '\n',
                        'r' => '\r',
                        c => c,
                    });
                    i += 2;
                    continue;
                }
                // A space followed by `key=` (unescaped) starts the next pair.
                if bytes[i] == ' ' {
                    let rest: String = bytes[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.').collect();
                    if !rest.is_empty() && bytes.get(i + 1 + rest.chars().count()) == Some(&'=') {
                        i += 1;
                        break;
                    }
                }
                value.push(bytes[i]);
                i += 1;
            }
            pairs.push((key.trim().to_string(), value));
        }
        (header, pairs)
    }

    #[test]
    fn hostile_usernames_read_back_exactly_as_one_record() {
        for username in [&b"a\"b]c\\d"[..], b"x=y z=w", b"line1\nline2", b"${jndi:ldap://x}", b"nul\0byte", b"bad\xff\xfe", b"pipe|pipe"] {
            let mut out = Vec::new();
            encode_cef(&crate::sink::format::syslog::tests::auth(username), "0.1.0", &mut out);
            let line = String::from_utf8(out).unwrap();
            assert!(!line.contains('\n') && !line.contains('\0'), "one line: {line:?}");
            let (header, pairs) = parse(&line);
            assert_eq!(header, ["CEF:0", "honeyward", "honeyward", "0.1.0", "200", "ssh_auth", "5"]);
            let suser = pairs.iter().find(|(k, _)| k == "suser").map(|(_, v)| v.clone());
            assert_eq!(suser.as_deref(), Some(crate::sink::format::visible(&String::from_utf8_lossy(username)).as_str()), "{line}");
            assert!(pairs.iter().any(|(k, v)| k == "src" && v == "203.0.113.9"));
        }
    }

    #[test]
    fn random_values_round_trip() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..2000 {
            let len = rng.random_range(0..48);
            let username: Vec<u8> =
                (0..len).map(|_| *[b'=', b'\\', b'|', b' ', b'\n', b'\r', b'a', b'k', 0xc3, 0xa9].get(rng.random_range(0..10)).unwrap_or(&b'a')).collect();
            let mut out = Vec::new();
            encode_cef(&crate::sink::format::syslog::tests::auth(&username), "0.1.0", &mut out);
            let (_, pairs) = parse(&String::from_utf8(out).unwrap());
            let suser = &pairs.iter().find(|(k, _)| k == "suser").unwrap().1;
            assert_eq!(suser, &crate::sink::format::visible(&String::from_utf8_lossy(&username)));
        }
    }
}
