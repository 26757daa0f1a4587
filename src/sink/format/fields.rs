//! An event as a flat list of named text fields, shared by the key=value formats
//! (RFC 5424 structured data, CEF, LEEF). Attacker text is made safe for an
//! analyst's terminal here, once: control and bidi characters become visible `\u{..}`
//! escapes, and long values are cut with a flag and the sha256 of the whole value.
//! Each format then applies its own escaping on top.

use std::borrow::Cow;

use super::text::{self, Scratch};
use crate::event::Event;
use crate::store::StoredEvent;

/// Longest value kept, in characters.
pub const MAX_VALUE_CHARS: usize = 1024;

/// One field. Names are ours (`[a-z0-9_.]`); values borrow from the event when
/// nothing had to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: Cow<'static, str>,
    pub value: Cow<'a, str>,
}

/// Control characters (C0, DEL, C1) and invisible or bidi marks shown as escapes
/// (the one table is [`crate::event::is_hidden`]).
pub fn visible(text: &str) -> String {
    crate::event::visible(text).into_owned()
}

/// [`visible`], borrowing when nothing changes.
fn shown(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => crate::event::visible(t),
        Cow::Owned(t) => match crate::event::visible(&t) {
            Cow::Borrowed(_) => Cow::Owned(t),
            Cow::Owned(shown) => Cow::Owned(shown),
        },
    }
}

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A value as [`each_field`] hands it over: text borrowed from (or made from) the
/// event, or short text formatted on the stack (an id, an address, a port) that
/// lives only for the call, so that an encoder that writes fields at once
/// (RFC 5424) allocates nothing for them.
pub enum Text<'a, 's> {
    Event(Cow<'a, str>),
    Scratch(&'s str),
}

impl<'a> Text<'a, '_> {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Event(t) => t,
            Text::Scratch(t) => t,
        }
    }

    /// The value kept beyond the call (allocating for stack text).
    pub fn into_cow(self) -> Cow<'a, str> {
        match self {
            Text::Event(t) => t,
            Text::Scratch(t) => Cow::Owned(t.to_owned()),
        }
    }
}

/// Receives each field: its name (ours; `Owned` only for the `_truncated` and
/// `_sha256` companions of a cut value) and its value, already made visible and cut.
pub type FieldSink<'f, 'a> = &'f mut dyn for<'s> FnMut(Cow<'static, str>, Text<'a, 's>);

fn push<'a>(f: FieldSink<'_, 'a>, name: &'static str, raw: Cow<'a, str>) {
    let long = raw.len() > MAX_VALUE_CHARS;
    let full_hash = long.then(|| sha256_hex(&raw));
    let value = shown(raw);
    match full_hash {
        Some(hash) if value.chars().count() > MAX_VALUE_CHARS => {
            let cut: String = value.chars().take(MAX_VALUE_CHARS).collect();
            f(Cow::Borrowed(name), Text::Event(Cow::Owned(cut)));
            f(Cow::Owned(format!("{name}_truncated")), Text::Scratch("true"));
            f(Cow::Owned(format!("{name}_sha256")), Text::Event(Cow::Owned(hash)));
        }
        _ => f(Cow::Borrowed(name), Text::Event(value)),
    }
}

/// [`push`] for text formatted on the stack: short printable ASCII passes as it is.
fn push_scratch<'a>(f: FieldSink<'_, 'a>, name: &'static str, text: &str) {
    if text.len() <= MAX_VALUE_CHARS && text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        f(Cow::Borrowed(name), Text::Scratch(text));
    } else {
        push(f, name, Cow::Owned(text.to_owned()));
    }
}

fn push_ip<'a>(f: FieldSink<'_, 'a>, name: &'static str, ip: std::net::IpAddr) {
    let mut s = Scratch::<48>::new();
    text::push_ip(&mut s, ip);
    push_scratch(f, name, s.as_str());
}

fn push_port<'a>(f: FieldSink<'_, 'a>, name: &'static str, port: u16) {
    let mut s = Scratch::<8>::new();
    text::push_u64(&mut s, u64::from(port));
    push_scratch(f, name, s.as_str());
}

/// Calls `f` for each of the event's fields, in order: envelope first, then the
/// scalar details (credentials as `credential.*`), then the token hit.
pub fn each_field<'a>(stored: &'a StoredEvent, f: FieldSink<'_, 'a>) {
    let e: &Event = &stored.event;
    let mut id = [0u8; 36];
    push_scratch(f, "id", e.id.encode(&mut id));
    push(f, "kind", Cow::Borrowed(e.kind.name()));
    push(f, "sensor", Cow::Borrowed(&e.sensor));
    if let Some(d) = &e.decoy {
        push(f, "decoy", Cow::Borrowed(d));
    }
    if let Some(s) = e.source {
        push_ip(f, "src", s.ip());
        push_port(f, "spt", s.port());
    }
    if let Some(d) = e.destination {
        push_ip(f, "dst", d.ip());
        push_port(f, "dpt", d.port());
    }
    if let Some(s) = e.session {
        let mut buf = [0u8; 36];
        push_scratch(f, "session", s.encode(&mut buf));
    }
    push(f, "severity", Cow::Borrowed(e.severity().as_str()));
    if let Some(t) = e.technique() {
        push(f, "technique", Cow::Borrowed(t.id()));
    }
    e.kind.scalars(&mut |name, value| push(f, name, value));
    if let Some(hit) = &e.token {
        push(f, "token_id", Cow::Borrowed(&hit.id));
        push(f, "token_label", Cow::Borrowed(&hit.label));
        push(f, "token_kind", Cow::Borrowed(hit.kind.as_str()));
        if let Some(p) = hit.plants.first() {
            push(f, "token_plant", Cow::Owned(format!("{}:{}", p.host, p.path)));
        }
    }
}

/// The event's fields as a list (see [`each_field`]).
pub fn fields(stored: &StoredEvent) -> Vec<Field<'_>> {
    let mut out = Vec::with_capacity(24);
    each_field(stored, &mut |name, value| out.push(Field { name, value: value.into_cow() }));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // The former construction (every value owned or borrowed, all in a Vec), kept
    // as the oracle for `each_field`.
    fn old_push<'a>(out: &mut Vec<Field<'a>>, name: &'static str, raw: Cow<'a, str>) {
        let long = raw.len() > MAX_VALUE_CHARS;
        let full_hash = long.then(|| sha256_hex(&raw));
        let value = shown(raw);
        match full_hash {
            Some(hash) if value.chars().count() > MAX_VALUE_CHARS => {
                let cut: String = value.chars().take(MAX_VALUE_CHARS).collect();
                out.push(Field { name: Cow::Borrowed(name), value: Cow::Owned(cut) });
                out.push(Field { name: Cow::Owned(format!("{name}_truncated")), value: Cow::Borrowed("true") });
                out.push(Field { name: Cow::Owned(format!("{name}_sha256")), value: Cow::Owned(hash) });
            }
            _ => out.push(Field { name: Cow::Borrowed(name), value }),
        }
    }

    /// The event's fields: envelope first, then the scalar details (credentials as
    /// `credential.*`), then the token hit.
    pub(crate) fn old_fields(stored: &StoredEvent) -> Vec<Field<'_>> {
        let e: &Event = &stored.event;
        let mut out = Vec::with_capacity(24);
        let mut id = [0u8; 36];
        old_push(&mut out, "id", Cow::Owned(e.id.encode(&mut id).to_string()));
        old_push(&mut out, "kind", Cow::Borrowed(e.kind.name()));
        old_push(&mut out, "sensor", Cow::Borrowed(&e.sensor));
        if let Some(d) = &e.decoy {
            old_push(&mut out, "decoy", Cow::Borrowed(d));
        }
        if let Some(s) = e.source {
            old_push(&mut out, "src", Cow::Owned(s.ip().to_string()));
            old_push(&mut out, "spt", Cow::Owned(s.port().to_string()));
        }
        if let Some(d) = e.destination {
            old_push(&mut out, "dst", Cow::Owned(d.ip().to_string()));
            old_push(&mut out, "dpt", Cow::Owned(d.port().to_string()));
        }
        if let Some(s) = e.session {
            let mut buf = [0u8; 36];
            old_push(&mut out, "session", Cow::Owned(s.encode(&mut buf).to_string()));
        }
        old_push(&mut out, "severity", Cow::Borrowed(e.severity().as_str()));
        if let Some(t) = e.technique() {
            old_push(&mut out, "technique", Cow::Borrowed(t.id()));
        }
        e.kind.scalars(&mut |name, value| old_push(&mut out, name, value));
        if let Some(hit) = &e.token {
            old_push(&mut out, "token_id", Cow::Borrowed(&hit.id));
            old_push(&mut out, "token_label", Cow::Borrowed(&hit.label));
            old_push(&mut out, "token_kind", Cow::Borrowed(hit.kind.as_str()));
            if let Some(p) = hit.plants.first() {
                old_push(&mut out, "token_plant", Cow::Owned(format!("{}:{}", p.host, p.path)));
            }
        }
        out
    }

    #[test]
    fn each_field_visits_what_the_former_list_held() {
        for e in crate::sink::format::hostile::events() {
            assert_eq!(fields(&e), old_fields(&e), "{}", e.event.kind.name());
        }
    }

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
        push(&mut |name, value: Text<'_, '_>| out.push(Field { name, value: value.into_cow() }), "data", Cow::Borrowed(&long));
        assert_eq!(out[0].value.len(), MAX_VALUE_CHARS);
        assert_eq!((out[1].name.as_ref(), out[1].value.as_ref()), ("data_truncated", "true"));
        assert_eq!(out[2].value, sha256_hex(&long));
    }
}
