//! A small JSON writer that appends straight to an encoder's output, for documents
//! whose shape is ours (ECS, OCSF, the event envelope).
//!
//! Why: building a `serde_json::Value` tree per event (a `BTreeMap` per object, a
//! `String` per key and value) and then serializing it was most of the ECS and OCSF
//! encoders' time. Here keys are `&'static str` constants chosen by us, so attacker
//! text can only ever be a string *value*, and every string value goes through
//! [`string`], which escapes exactly as `serde_json` does and, like the former
//! post-pass over the output, also writes DEL, C1 controls and bidi/invisible marks
//! as `\uXXXX` so that no attacker byte can steer an analyst's terminal.
//!
//! Parts whose shape is derived (an event kind's details, a token hit) still go
//! through serde, via [`serialize`], with a formatter that applies the same escaping.

use serde::Serialize;

/// What a byte needs inside a JSON string.
const PASS: u8 = 0;
/// A byte that may start an invisible character (DEL; the lead bytes of U+0080–U+00BF,
/// U+2000–U+2FFF and U+F000–U+FFFF): decoded and checked.
const CHECK: u8 = 1;
/// `"`, `\` and C0 controls: escaped, by their short form when JSON has one.
const ESCAPE: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [PASS; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = ESCAPE;
        i += 1;
    }
    t[b'"' as usize] = ESCAPE;
    t[b'\\' as usize] = ESCAPE;
    t[0x7f] = CHECK;
    t[0xc2] = CHECK;
    t[0xd8] = CHECK;
    t[0xe2] = CHECK;
    t[0xef] = CHECK;
    t
};

/// Characters written as `\uXXXX` although JSON allows them raw (C0 has its own
/// escapes; the table is [`crate::event::is_hidden`]).
fn hidden(c: char) -> bool {
    crate::event::is_hidden(c)
}

fn push_u_escape(out: &mut Vec<u8>, u: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[b'\\', b'u', HEX[(u >> 12 & 0xf) as usize], HEX[(u >> 8 & 0xf) as usize], HEX[(u >> 4 & 0xf) as usize], HEX[(u & 0xf) as usize]]);
}

/// True when no byte of `bytes` needs a look: printable ASCII without `"` and `\`.
/// Deliberately not short-circuiting, so that the compiler can vectorize it: most
/// values are plain, and are then copied in one piece.
fn plain(bytes: &[u8]) -> bool {
    !bytes.iter().fold(false, |acc, &b| acc | (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0x7f))
}

/// Appends the escaped contents of a string (no quotes).
fn contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if plain(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match CLASS[b as usize] {
            PASS => i += 1,
            ESCAPE => {
                out.extend_from_slice(&bytes[start..i]);
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\x08' => out.extend_from_slice(b"\\b"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\x0c' => out.extend_from_slice(b"\\f"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => push_u_escape(out, u32::from(b)),
                }
                i += 1;
                start = i;
            }
            _ => {
                // `i` is at a character boundary: CHECK bytes are ASCII or lead bytes.
                let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
                    i += 1;
                    continue;
                };
                if hidden(c) {
                    out.extend_from_slice(&bytes[start..i]);
                    push_u_escape(out, c as u32);
                    i += c.len_utf8();
                    start = i;
                } else {
                    i += c.len_utf8();
                }
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` as a JSON string.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    contents(out, s);
    out.push(b'"');
}

/// Appends attacker bytes as a JSON string of their lossy UTF-8 text (what
/// `String::from_utf8_lossy` gives: each invalid sequence becomes U+FFFD), without
/// building that text first.
pub fn text(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        contents(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

/// Appends `"key":`. Keys are our own constants and must need no escaping.
fn key(out: &mut Vec<u8>, k: &'static str) {
    debug_assert!(k.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'), "key {k:?} needs escaping");
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// An object being written; `}` is appended when it is dropped. Members are
/// written in call order, so a caller that wants sorted keys writes them sorted.
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    /// Starts an object at the end of `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Starts a member and returns the output, for a value written by other code
    /// (which must write exactly one JSON value).
    pub fn member(&mut self, k: &'static str) -> &mut Vec<u8> {
        // Room for the key and a short value, so the pushes below do not grow `out`.
        self.out.reserve(k.len() + 48);
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        key(self.out, k);
        self.out
    }

    pub fn str(&mut self, k: &'static str, v: &str) -> &mut Self {
        string(self.member(k), v);
        self
    }

    /// Attacker bytes, by their lossy text.
    pub fn text(&mut self, k: &'static str, v: &[u8]) -> &mut Self {
        text(self.member(k), v);
        self
    }

    pub fn u64(&mut self, k: &'static str, v: u64) -> &mut Self {
        super::text::push_u64(self.member(k), v);
        self
    }

    pub fn i64(&mut self, k: &'static str, v: i64) -> &mut Self {
        super::text::push_i64(self.member(k), v);
        self
    }

    /// The concatenation of `parts` as one string.
    pub fn str_parts(&mut self, k: &'static str, parts: &[&str]) -> &mut Self {
        let out = self.member(k);
        out.push(b'"');
        for p in parts {
            contents(out, p);
        }
        out.push(b'"');
        self
    }

    /// Plain ASCII that needs no escaping (an address, an id, a time), written as a
    /// string by `write`.
    fn ascii(&mut self, k: &'static str, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let out = self.member(k);
        out.push(b'"');
        write(out);
        out.push(b'"');
        self
    }

    pub fn ip(&mut self, k: &'static str, ip: std::net::IpAddr) -> &mut Self {
        self.ascii(k, |out| super::text::push_ip(out, ip))
    }

    pub fn id(&mut self, k: &'static str, id: crate::event::EventId) -> &mut Self {
        self.ascii(k, |out| super::text::push_id(out, id))
    }

    /// RFC 3339, as `Timestamp::to_rfc3339` writes it.
    pub fn time(&mut self, k: &'static str, t: crate::event::Timestamp) -> &mut Self {
        self.ascii(k, |out| super::text::push_rfc3339(out, t))
    }

    /// A number as a string (ECS `rule.id`).
    pub fn u64_str(&mut self, k: &'static str, v: u64) -> &mut Self {
        self.ascii(k, |out| super::text::push_u64(out, v))
    }

    /// A JSON value we wrote ourselves (`null`, a constant array...).
    pub fn raw(&mut self, k: &'static str, json: &[u8]) -> &mut Self {
        self.member(k).extend_from_slice(json);
        self
    }

    /// An array of strings.
    pub fn strs(&mut self, k: &'static str, items: &[&str]) -> &mut Self {
        let mut a = Array::new(self.member(k));
        for s in items {
            a.str(s);
        }
        drop(a);
        self
    }

    /// A nested object, closed when the returned writer is dropped.
    pub fn object(&mut self, k: &'static str) -> Object<'_> {
        Object::new(self.member(k))
    }

    /// A nested array, closed when the returned writer is dropped.
    pub fn array(&mut self, k: &'static str) -> Array<'_> {
        Array::new(self.member(k))
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        self.out.push(b'}');
    }
}

/// An array being written; `]` is appended when it is dropped.
pub struct Array<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Array<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'[');
        Array { out, empty: true }
    }

    fn item(&mut self) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        string(self.item(), s);
        self
    }

    /// Attacker bytes, by their lossy text.
    pub fn text(&mut self, v: &[u8]) -> &mut Self {
        text(self.item(), v);
        self
    }

    pub fn item_ip(&mut self, ip: std::net::IpAddr) -> &mut Self {
        let out = self.item();
        out.push(b'"');
        super::text::push_ip(out, ip);
        out.push(b'"');
        self
    }

    pub fn object(&mut self) -> Object<'_> {
        Object::new(self.item())
    }
}

impl Drop for Array<'_> {
    fn drop(&mut self) {
        self.out.push(b']');
    }
}

/// serde_json's compact output, with string fragments (which serde_json passes here
/// after escaping `"`, `\` and C0 controls itself) also escaping invisible characters.
struct Formatter;

impl serde_json::ser::Formatter for Formatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        if plain(bytes) {
            return writer.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if hidden(c) {
                writer.write_all(&bytes[start..i])?;
                let mut escape = Vec::with_capacity(6);
                push_u_escape(&mut escape, c as u32);
                writer.write_all(&escape)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&bytes[start..])
    }
}

/// Appends `value` serialized by serde with our escaping. On error `out` may hold
/// part of the value: the caller decides what to write instead.
pub fn serialize<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), serde_json::Error> {
    value.serialize(&mut serde_json::Serializer::with_formatter(out, Formatter))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The former escaping: serde_json, then invisible characters replaced in the output.
    fn reference(s: &str) -> String {
        let json = serde_json::to_string(s).unwrap();
        json.chars().map(|c| if hidden(c) { format!("\\u{:04x}", c as u32) } else { c.to_string() }).collect()
    }

    #[test]
    fn strings_are_escaped_exactly_as_before() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "q\"b\\s/",
            "\n\r\t\x08\x0c\0\x1b[31m\x1f",
            "del\x7f c1\u{80}\u{85}\u{9f} ok\u{a0}\u{bf}",
            "rlo\u{202e}lro\u{202d} lrm\u{200e}\u{200f} iso\u{2066}\u{2069} bom\u{feff} ok\u{2028}\u{2010}\u{fffd}\u{ffff}",
            "ünïcödé 日本 🦀",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        cases.push("x\"\u{202e}".repeat(64 * 1024 / 4));
        use rand::RngExt;
        let mut rng = rand::rng();
        let alphabet: Vec<char> = "a\"\\\n\0\x1b\x7f\u{85}\u{202e}\u{feff}\u{2067}é日🦀".chars().collect();
        for _ in 0..2000 {
            let len = rng.random_range(0..40);
            cases.push((0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect());
        }
        for s in cases {
            let mut out = Vec::new();
            string(&mut out, &s);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), reference(&s));
            let mut via_serde = Vec::new();
            serialize(&mut via_serde, &s).unwrap();
            assert_eq!(via_serde, out);
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn attacker_bytes_are_their_lossy_text() {
        for raw in [&b"ok"[..], b"bad\xff\xfeutf8", b"\xc3", b"\xe2\x80", b"\xe2\x80\xae!", b"\xc2\x85\x00\"", b""] {
            let mut out = Vec::new();
            text(&mut out, raw);
            assert_eq!(String::from_utf8(out).unwrap(), reference(&String::from_utf8_lossy(raw)));
        }
    }

    #[test]
    fn objects_and_arrays_nest() {
        let mut out = Vec::new();
        {
            let mut o = Object::new(&mut out);
            o.str("a", "x").u64("n", 7).i64("m", -3).strs("l", &["p", "q"]).raw("z", b"null");
            {
                let mut inner = o.object("o");
                inner.text("t", b"\xff");
            }
            let mut arr = o.array("arr");
            arr.object().str("k", "v");
        }
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":"x","n":7,"m":-3,"l":["p","q"],"z":null,"o":{"t":"�"},"arr":[{"k":"v"}]}"#);
    }
}
