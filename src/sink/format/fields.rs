//! An event as a flat list of named text fields, shared by the key=value formats
//! (RFC 5424 structured data, CEF, LEEF). Attacker text is made safe for an
//! analyst's terminal here, once: control and bidi characters become visible `\u{..}`
//! escapes, and long values are cut with a flag and the sha256 of the whole value.
//! Each format then applies its own escaping on top.

use crate::event::Event;
use crate::store::StoredEvent;

/// Longest value kept, in characters.
pub const MAX_VALUE_CHARS: usize = 1024;

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// Control characters (C0, DEL, C1) and bidi overrides/isolates/marks shown as escapes.
pub fn visible(text: &str) -> String {
    // Fast path: printable ASCII needs nothing.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let u = c as u32;
        let hidden = u < 0x20 || (0x7f..=0x9f).contains(&u) || matches!(u, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff);
        if hidden {
            out.push_str(&format!("\\u{{{u:x}}}"));
        } else {
            out.push(c);
        }
    }
    out
}

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn push(out: &mut Vec<Field>, name: &str, raw: &str) {
    let shown = visible(raw);
    if shown.len() > MAX_VALUE_CHARS && shown.chars().count() > MAX_VALUE_CHARS {
        let cut: String = shown.chars().take(MAX_VALUE_CHARS).collect();
        out.push(Field { name: name.to_string(), value: cut });
        out.push(Field { name: format!("{name}_truncated"), value: "true".into() });
        out.push(Field { name: format!("{name}_sha256"), value: sha256_hex(raw) });
    } else {
        out.push(Field { name: name.to_string(), value: shown });
    }
}

/// A details value as text: attacker bytes (`{text, base64?}`) by their text,
/// scalars as written; lists and other objects are left to the JSON message.
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Object(o) if o.contains_key("text") => o.get("text").and_then(|t| t.as_str()).map(str::to_string),
        _ => None,
    }
}

/// The event's fields: envelope first, then the details (nested objects one level
/// deep as `outer.inner`), then the token hit.
pub fn fields(stored: &StoredEvent) -> Vec<Field> {
    let e: &Event = &stored.event;
    let mut out = Vec::with_capacity(24);
    let mut id = [0u8; 36];
    push(&mut out, "id", e.id.encode(&mut id));
    push(&mut out, "kind", e.kind.name());
    push(&mut out, "sensor", &e.sensor);
    if let Some(d) = &e.decoy {
        push(&mut out, "decoy", d);
    }
    if let Some(s) = e.source {
        push(&mut out, "src", &s.ip().to_string());
        push(&mut out, "spt", &s.port().to_string());
    }
    if let Some(d) = e.destination {
        push(&mut out, "dst", &d.ip().to_string());
        push(&mut out, "dpt", &d.port().to_string());
    }
    if let Some(s) = e.session {
        let mut buf = [0u8; 36];
        push(&mut out, "session", s.encode(&mut buf));
    }
    push(&mut out, "severity", &format!("{:?}", e.severity()).to_lowercase());
    if let Some(t) = e.technique() {
        push(&mut out, "technique", t.id());
    }
    if let Ok(serde_json::Value::Object(kind)) = serde_json::to_value(&e.kind) {
        if let Some(serde_json::Value::Object(details)) = kind.get("details") {
            for (key, value) in details {
                if let Some(text) = scalar(value) {
                    push(&mut out, key, &text);
                } else if let serde_json::Value::Object(inner) = value {
                    for (k, v) in inner {
                        if let Some(text) = scalar(v) {
                            push(&mut out, &format!("{key}.{k}"), &text);
                        }
                    }
                }
            }
        }
    }
    if let Some(hit) = &e.token {
        push(&mut out, "token_id", &hit.id);
        push(&mut out, "token_label", &hit.label);
        push(&mut out, "token_kind", hit.kind.as_str());
        if let Some(p) = hit.plants.first() {
            push(&mut out, "token_plant", &format!("{}:{}", p.host, p.path));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_visible_text() {
        for (raw, shown) in [
            ("plain", "plain"),
            ("a\nb", "a\\u{a}b"),
            ("nul\0", "nul\\u{0}"),
            ("esc\x1b[31m", "esc\\u{1b}[31m"),
            ("rlo\u{202e}txt", "rlo\\u{202e}txt"),
            ("del\x7f", "del\\u{7f}"),
            ("ünïcödé ok", "ünïcödé ok"),
        ] {
            assert_eq!(visible(raw), shown);
        }
    }

    #[test]
    fn long_values_are_cut_with_a_flag_and_the_hash_of_the_whole() {
        let mut out = Vec::new();
        let long = "x".repeat(65536);
        push(&mut out, "data", &long);
        assert_eq!(out[0].value.len(), MAX_VALUE_CHARS);
        assert_eq!((out[1].name.as_str(), out[1].value.as_str()), ("data_truncated", "true"));
        assert_eq!(out[2].value, sha256_hex(&long));
    }
}
