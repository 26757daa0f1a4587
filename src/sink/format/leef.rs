//! IBM QRadar LEEF 2.0: `LEEF:2.0|honeyward|honeyward|VERSION|EventID|^|k=v^k=v`.
//! The attribute delimiter is declared in the header (`^`); LEEF has no escaping,
//! so the delimiter (and `|` in header fields) is removed from values, as are
//! line breaks. Keys follow QRadar's predefined attributes where there is one.

use super::fields::{fields, Field};
use crate::store::StoredEvent;

/// The attribute delimiter declared in the header.
pub const DELIMITER: char = '^';

fn clean(value: &str, banned: char) -> std::borrow::Cow<'_, str> {
    if !value.contains([banned, '\n', '\r']) {
        return std::borrow::Cow::Borrowed(value);
    }
    std::borrow::Cow::Owned(value.chars().filter(|&c| c != banned && c != '\n' && c != '\r').collect())
}

/// Our field names → LEEF predefined attribute keys.
fn key(name: &str) -> &str {
    match name {
        "src" => "src",
        "spt" => "srcPort",
        "dst" => "dst",
        "dpt" => "dstPort",
        "username" | "credential.username" | "calling_ae" => "usrName",
        "severity" => "sevName",
        "sensor" => "identHostName",
        "target" => "url",
        "user_agent" => "userAgent",
        "method" => "method",
        other => other,
    }
}

/// Appends one LEEF 2.0 record (no newline).
pub fn encode_leef(stored: &StoredEvent, version: &str, out: &mut Vec<u8>) {
    let e = &stored.event;
    let mut line = format!("LEEF:2.0|honeyward|honeyward|{}|{}|{DELIMITER}|", clean(version, '|'), clean(e.kind.name(), '|'));
    line.push_str(&format!("devTime={}", e.time.as_micros() / 1000));
    line.push(DELIMITER);
    line.push_str("devTimeFormat=epoch");
    line.push(DELIMITER);
    line.push_str(&format!("sev={}", super::cef::cef_severity(e.severity())));
    let all = fields(stored);
    let mut seen: Vec<&str> = Vec::with_capacity(all.len());
    for Field { name, value } in &all {
        let k = key(name);
        if seen.contains(&k) {
            continue;
        }
        line.push(DELIMITER);
        // Keys rarely contain `=`: allocate for the replacement only when one does.
        let cleaned = clean(k, DELIMITER);
        if cleaned.contains('=') {
            line.push_str(&cleaned.replace('=', "_"));
        } else {
            line.push_str(&cleaned);
        }
        line.push('=');
        line.push_str(&clean(value, DELIMITER));
        seen.push(k);
    }
    out.extend_from_slice(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference parser from the LEEF 2.0 specification: five header fields, the
    /// delimiter field, then attributes split on the delimiter, each at its first `=`.
    fn parse(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut parts = line.splitn(7, '|');
        let header: Vec<String> = (0..6).map(|_| parts.next().expect("header").to_string()).collect();
        let delimiter = header[5].chars().next().expect("delimiter");
        let attrs = parts.next().unwrap_or("").split(delimiter).map(|a| {
            let (k, v) = a.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        });
        (header, attrs.collect())
    }

    #[test]
    fn hostile_usernames_lose_only_the_delimiter_and_stay_one_record() {
        for username in [&b"a\"b]c\\d"[..], b"x^y=z", b"line1\nline2", b"${jndi:ldap://x}", b"nul\0byte", b"bad\xff\xfe", b"pipe|pipe"] {
            let mut out = Vec::new();
            encode_leef(&crate::sink::format::syslog::tests::auth(username), "0.1.0", &mut out);
            let line = String::from_utf8(out).unwrap();
            assert!(!line.contains('\n') && !line.contains('\0'), "one line: {line:?}");
            let (header, attrs) = parse(&line);
            assert_eq!(header, ["LEEF:2.0", "honeyward", "honeyward", "0.1.0", "ssh_auth", "^"]);
            let user = attrs.iter().find(|(k, _)| k == "usrName").map(|(_, v)| v.clone());
            let expected: String = crate::sink::format::visible(&String::from_utf8_lossy(username)).chars().filter(|&c| c != '^').collect();
            assert_eq!(user.as_deref(), Some(expected.as_str()), "{line}");
            assert!(attrs.iter().any(|(k, v)| k == "src" && v == "203.0.113.9"));
        }
    }

    #[test]
    fn random_values_round_trip_without_the_delimiter() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..2000 {
            let len = rng.random_range(0..48);
            let username: Vec<u8> = (0..len).map(|_| *[b'=', b'^', b'|', b' ', b'\n', b'a', 0xc3, 0xa9].get(rng.random_range(0..8)).unwrap_or(&b'a')).collect();
            let mut out = Vec::new();
            encode_leef(&crate::sink::format::syslog::tests::auth(&username), "0.1.0", &mut out);
            let (_, attrs) = parse(&String::from_utf8(out).unwrap());
            let user = &attrs.iter().find(|(k, _)| k == "usrName").unwrap().1;
            let expected: String = crate::sink::format::visible(&String::from_utf8_lossy(&username)).chars().filter(|&c| c != '^').collect();
            assert_eq!(user, &expected);
        }
    }
}
