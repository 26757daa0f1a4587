//! An ordered tree of FHIR elements, and its two wire forms: JSON and XML as HAPI writes them.
//!
//! FHIR fixes the order of every element, so resources are built as `Node`s (keys kept
//! in insertion order) rather than `serde_json::Value` (which sorts them here).

use std::fmt::Write as _;

/// One FHIR element value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Elements in order; an object with a `resourceType` key is a resource.
    Object(Vec<(String, Node)>),
    /// Repeated elements (never empty when written by our builders).
    Array(Vec<Node>),
    Str(String),
    Int(i64),
    /// A decimal, kept as its literal text (FHIR keeps a decimal's precision): must be a
    /// JSON number such as `72.5`; built with [`Node::decimal`].
    Dec(String),
    Bool(bool),
    /// A narrative: the whole `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`,
    /// already escaped by whoever built it (a string in JSON, inline in XML).
    Xhtml(String),
    /// A resource already written as compact JSON by [`to_json`] (a cached one): the
    /// compact JSON writer copies it. Pretty JSON copies it too (unindented) and XML
    /// cannot carry it (it is left out): build nodes for those.
    Json(std::sync::Arc<str>),
}

impl Node {
    /// An empty object, to fill with [`Node::with`].
    pub fn object() -> Node {
        Node::Object(Vec::new())
    }

    /// A resource: an object starting with `resourceType`.
    pub fn resource(resource_type: &str) -> Node {
        Node::object().with("resourceType", resource_type)
    }

    /// This object with `key` appended (a no-op on anything but an object).
    pub fn with(mut self, key: &str, value: impl Into<Node>) -> Node {
        if let Node::Object(fields) = &mut self {
            fields.push((key.to_string(), value.into()));
        }
        self
    }

    /// This object with `key` appended when there is a value (and, for strings and
    /// arrays, when it is not empty: FHIR has no empty elements).
    pub fn with_opt(self, key: &str, value: Option<impl Into<Node>>) -> Node {
        match value.map(Into::into) {
            Some(Node::Str(s)) if s.is_empty() => self,
            Some(Node::Array(a)) if a.is_empty() => self,
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// A decimal of `value` with `places` digits after the point.
    pub fn decimal(value: f64, places: usize) -> Node {
        let text = if value.is_finite() { format!("{value:.places$}") } else { "0".to_string() };
        Node::Dec(text)
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string (or narrative) node.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) | Node::Xhtml(s) => Some(s),
            _ => None,
        }
    }

    /// The resource type, when this is a resource.
    pub fn resource_type(&self) -> Option<&str> {
        self.get("resourceType").and_then(Node::as_str)
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_string())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}

impl From<&String> for Node {
    fn from(s: &String) -> Node {
        Node::Str(s.clone())
    }
}

impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}

impl From<u32> for Node {
    fn from(n: u32) -> Node {
        Node::Int(i64::from(n))
    }
}

impl From<usize> for Node {
    fn from(n: usize) -> Node {
        Node::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}

impl From<Vec<Node>> for Node {
    fn from(items: Vec<Node>) -> Node {
        Node::Array(items)
    }
}

/// An array of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Node {
    Node::Array(items.iter().map(|s| Node::Str(s.as_ref().to_string())).collect())
}

// ---------------------------------------------------------------------------- JSON

/// The node as JSON: compact, or pretty as HAPI's Jackson printer writes it (two-space
/// object indent, `"key": value`, arrays inline: `[ {` … `}, {` … `} ]`, `[ "a", "b" ]`).
pub fn to_json(node: &Node, pretty: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, node, pretty, 0);
    out
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_json(out: &mut String, node: &Node, pretty: bool, depth: usize) {
    match node {
        Node::Object(fields) => {
            out.push('{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    newline(out, depth + 1);
                }
                json_string(out, key);
                out.push_str(if pretty { ": " } else { ":" });
                write_json(out, value, pretty, depth + 1);
            }
            if pretty {
                if fields.is_empty() {
                    out.push(' ');
                } else {
                    newline(out, depth);
                }
            }
            out.push('}');
        }
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    out.push(' ');
                }
                // Arrays are inline: their items keep the enclosing object's depth.
                write_json(out, item, pretty, depth);
            }
            if pretty {
                out.push(' ');
            }
            out.push(']');
        }
        Node::Str(s) | Node::Xhtml(s) => json_string(out, s),
        Node::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Dec(text) => {
            if is_json_number(text) {
                out.push_str(text);
            } else {
                out.push('0');
            }
        }
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Json(text) => out.push_str(text),
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
fn json_string(out: &mut String, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `text` is a JSON number (`-`? digits, optional fraction and exponent).
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    let int_start = i;
    if !digits(&mut i) || (b.get(int_start) == Some(&b'0') && i - int_start > 1) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

// ----------------------------------------------------------------------------- XML

/// The FHIR XML namespace every resource element declares.
pub const FHIR_NS: &str = "http://hl7.org/fhir";

/// Indent of pretty XML: HAPI's pretty printer indents three spaces a level.
const XML_INDENT: &str = "   ";

/// The node (a resource) as FHIR XML: the root element named by `resourceType` with the
/// FHIR namespace, primitives as `<name value="…"/>`, arrays as repeated elements,
/// nested resources wrapped (`<resource><Patient xmlns=…>…</Patient></resource>`),
/// narratives inline. No XML declaration, as HAPI writes it. A node that is not a
/// resource is written under a `<Resource>` root.
pub fn to_xml(node: &Node, pretty: bool) -> String {
    let mut w = XmlWriter { out: String::new(), pretty };
    w.resource(node, 0);
    w.out
}

struct XmlWriter {
    out: String,
    pretty: bool,
}

impl XmlWriter {
    fn indent(&mut self, depth: usize) {
        if self.pretty && !self.out.is_empty() {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(XML_INDENT);
            }
        }
    }

    /// A resource element: `<Type xmlns="…">` and its elements but `resourceType`.
    fn resource(&mut self, node: &Node, depth: usize) {
        let name = node.resource_type().filter(|t| is_xml_name(t)).unwrap_or("Resource").to_string();
        self.indent(depth);
        let _ = write!(self.out, "<{name} xmlns=\"{FHIR_NS}\">");
        if let Node::Object(fields) = node {
            for (key, value) in fields.iter().filter(|(k, _)| k != "resourceType") {
                self.element(key, value, depth + 1);
            }
        }
        self.indent(depth);
        let _ = write!(self.out, "</{name}>");
    }

    fn element(&mut self, key: &str, value: &Node, depth: usize) {
        if !is_xml_name(key) {
            return;
        }
        match value {
            Node::Array(items) => {
                for item in items {
                    self.element(key, item, depth);
                }
            }
            Node::Object(_) if value.resource_type().is_some() => {
                self.indent(depth);
                let _ = write!(self.out, "<{key}>");
                self.resource(value, depth + 1);
                self.indent(depth);
                let _ = write!(self.out, "</{key}>");
            }
            Node::Object(fields) => {
                self.indent(depth);
                if fields.is_empty() {
                    let _ = write!(self.out, "<{key}/>");
                    return;
                }
                let _ = write!(self.out, "<{key}>");
                for (k, v) in fields {
                    self.element(k, v, depth + 1);
                }
                self.indent(depth);
                let _ = write!(self.out, "</{key}>");
            }
            Node::Xhtml(div) => {
                self.indent(depth);
                self.out.push_str(div);
            }
            Node::Str(s) => self.primitive(key, s, depth),
            Node::Dec(text) => self.primitive(key, if is_json_number(text) { text } else { "0" }, depth),
            Node::Int(n) => self.primitive(key, &n.to_string(), depth),
            Node::Bool(b) => self.primitive(key, if *b { "true" } else { "false" }, depth),
            Node::Json(_) => {}
        }
    }

    fn primitive(&mut self, key: &str, value: &str, depth: usize) {
        self.indent(depth);
        let _ = write!(self.out, "<{key} value=\"");
        escape_attribute(&mut self.out, value);
        self.out.push_str("\"/>");
    }
}

/// Element names we write: ASCII letters, digits, `-`, `_`, `.`, not starting with a digit.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An attribute value: markup characters and whitespace controls as references;
/// characters XML 1.0 cannot carry at all (NUL and other C0 controls, U+FFFE, U+FFFF)
/// replaced by U+FFFD, as no reference can name them either.
pub fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Text for XHTML content we build (narratives): as an attribute value, so the same
/// rules keep it well-formed.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_attribute(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt, SeedableRng};

    fn json_of(node: &Node) -> serde_json::Value {
        match node {
            Node::Object(fields) => serde_json::Value::Object(fields.iter().map(|(k, v)| (k.clone(), json_of(v))).collect()),
            Node::Array(items) => serde_json::Value::Array(items.iter().map(json_of).collect()),
            Node::Str(s) | Node::Xhtml(s) => serde_json::Value::String(s.clone()),
            Node::Int(n) => serde_json::Value::from(*n),
            Node::Dec(text) => serde_json::from_str(text).unwrap(),
            Node::Bool(b) => serde_json::Value::Bool(*b),
            Node::Json(text) => serde_json::from_str(text).unwrap(),
        }
    }

    fn random_string(rng: &mut impl Rng) -> String {
        const PIECES: &[&str] = &["a", "Z", "\"", "\\", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "😀", "<", "&", "/", " ", "\u{2028}"];
        (0..rng.random_range(0..12)).map(|_| PIECES[rng.random_range(0..PIECES.len())]).collect()
    }

    fn random_node(rng: &mut impl Rng, depth: usize) -> Node {
        match rng.random_range(0..if depth > 3 { 5 } else { 8 }) {
            0 => Node::Str(random_string(rng)),
            1 => Node::Int(rng.random_range(-1_000_000_000_000..1_000_000_000_000)),
            2 => Node::decimal(f64::from(rng.random_range(-100_000..100_000)) / 100.0, rng.random_range(0..4)),
            3 => Node::Bool(rng.random_bool(0.5)),
            4 => Node::Xhtml(format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", escape_text(&random_string(rng)))),
            5 | 6 => {
                let n = rng.random_range(0..5);
                Node::Object((0..n).map(|i| (format!("k{i}{}", random_string(rng)), random_node(rng, depth + 1))).collect())
            }
            _ => Node::Array((0..rng.random_range(0..4)).map(|_| random_node(rng, depth + 1)).collect()),
        }
    }

    #[test]
    fn json_output_parses_back_to_the_same_content_compact_and_pretty() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0xf41e);
        for _ in 0..2000 {
            let node = random_node(&mut rng, 0);
            for pretty in [false, true] {
                let text = to_json(&node, pretty);
                let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                assert_eq!(back, json_of(&node), "{text}");
            }
        }
    }

    #[test]
    fn json_keeps_element_order_and_escapes_control_characters() {
        let n = Node::resource("Patient").with("id", "1").with("active", true).with("b", "x\u{1}\"\\\n");
        assert_eq!(to_json(&n, false), r#"{"resourceType":"Patient","id":"1","active":true,"b":"x\u0001\"\\\n"}"#);
    }

    #[test]
    fn pretty_json_is_laid_out_as_hapi_lays_it_out() {
        let n = Node::resource("Bundle")
            .with("total", 2u32)
            .with("link", vec![Node::object().with("relation", "self").with("url", "u"), Node::object().with("relation", "next")])
            .with("format", strings(&["xml", "json"]))
            .with("meta", Node::object().with("versionId", "1"));
        let expected = "{\n  \"resourceType\": \"Bundle\",\n  \"total\": 2,\n  \"link\": [ {\n    \"relation\": \"self\",\n    \"url\": \"u\"\n  }, {\n    \"relation\": \"next\"\n  } ],\n  \"format\": [ \"xml\", \"json\" ],\n  \"meta\": {\n    \"versionId\": \"1\"\n  }\n}";
        assert_eq!(to_json(&n, true), expected);
    }

    #[test]
    fn decimals_keep_their_text_and_bad_ones_are_never_written_raw() {
        assert_eq!(to_json(&Node::decimal(72.5, 1), false), "72.5");
        assert_eq!(to_json(&Node::decimal(172.0, 0), false), "172");
        assert_eq!(to_json(&Node::Dec("1}".into()), false), "0");
        for ok in ["0", "-1.5", "10e3", "1.0E-2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "NaN", "1 "] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn xml_writes_primitives_as_value_attributes_and_arrays_as_repeated_elements() {
        let n = Node::resource("Patient")
            .with("id", "1")
            .with("active", true)
            .with("name", vec![Node::object().with("family", "Ellis").with("given", strings(&["Ann", "May"]))]);
        assert_eq!(
            to_xml(&n, false),
            r#"<Patient xmlns="http://hl7.org/fhir"><id value="1"/><active value="true"/><name><family value="Ellis"/><given value="Ann"/><given value="May"/></name></Patient>"#
        );
    }

    #[test]
    fn xml_escapes_hostile_strings_in_attributes() {
        let cases = [
            ("\"<&>\u{0}", "&quot;&lt;&amp;&gt;\u{FFFD}"),
            ("a\nb\tc\rd", "a&#xA;b&#x9;c&#xD;d"),
            ("'\u{1b}\u{FFFF}é", "'\u{FFFD}\u{FFFD}é"),
            ("\"/><script>", "&quot;/&gt;&lt;script&gt;"),
        ];
        for (raw, escaped) in cases {
            let xml = to_xml(&Node::resource("Basic").with("id", raw), false);
            assert_eq!(xml, format!(r#"<Basic xmlns="http://hl7.org/fhir"><id value="{escaped}"/></Basic>"#), "{raw:?}");
        }
    }

    #[test]
    fn xml_wraps_nested_resources_and_writes_narratives_inline() {
        let div = r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>X</b></div>"#;
        let inner = Node::resource("Patient").with("id", "1").with("text", Node::object().with("status", "generated").with("div", Node::Xhtml(div.into())));
        let bundle = Node::resource("Bundle").with("entry", vec![Node::object().with("resource", inner)]);
        let expected = format!(
            r#"<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient xmlns="http://hl7.org/fhir"><id value="1"/><text><status value="generated"/>{div}</text></Patient></resource></entry></Bundle>"#
        );
        assert_eq!(to_xml(&bundle, false), expected);
    }

    #[test]
    fn pretty_xml_indents_three_spaces_a_level_without_a_declaration() {
        let n = Node::resource("Patient").with("id", "1").with("meta", Node::object().with("versionId", "1"));
        let expected = "<Patient xmlns=\"http://hl7.org/fhir\">\n   <id value=\"1\"/>\n   <meta>\n      <versionId value=\"1\"/>\n   </meta>\n</Patient>";
        assert_eq!(to_xml(&n, true), expected);
    }

    #[test]
    fn xml_leaves_out_names_that_are_not_element_names() {
        let n = Node::resource("Patient").with("bad name", "x").with("<x>", "y").with("ok", "z");
        assert_eq!(to_xml(&n, false), r#"<Patient xmlns="http://hl7.org/fhir"><ok value="z"/></Patient>"#);
        assert!(to_xml(&Node::object().with("a", 1i64), false).starts_with("<Resource xmlns="));
    }
}
