//! The checker every configuration section is read with: it records each mistake
//! with its `file:line:col` and a hint, and keeps going, so that one run reports them
//! all.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use marked_yaml::{LoadError, Node};
use serde::de::DeserializeOwned;

use super::error::ConfigError;
use super::spanned::At;

pub(super) const SCHEMA_HINT: &str = "`honeyward example-config` prints an annotated example of every key";

pub(super) type Pos = Option<(usize, usize)>;

pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    pub(super) errors: Vec<ConfigError>,
}

pub(super) fn pos_of(node: &Node) -> Pos {
    node.span().start().map(|m| (m.line(), m.column()))
}

pub(super) fn scalar_at(scalar: &marked_yaml::types::MarkedScalarNode) -> At<String> {
    At { value: scalar.as_str().to_string(), position: scalar.span().start().map(|m| (m.line(), m.column())) }
}

impl Checker<'_> {
    pub(super) fn error(&mut self, position: Pos, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        self.errors.push(ConfigError { file: self.file.to_string(), position, message: message.into(), hint: (!hint.is_empty()).then_some(hint) });
    }

    pub(super) fn load_error(&mut self, e: &LoadError) {
        use LoadError::*;
        let marker = match e {
            TopLevelMustBeMapping(m) | TopLevelMustBeSequence(m) | UnexpectedAnchor(m) | MappingKeyMustBeScalar(m) | UnexpectedTag(m) | ScanError(m, _) => {
                Some(*m)
            }
            DuplicateKey(inner) => inner.key.span().start().copied(),
        };
        let position = marker.map(|m| (m.line(), m.column()));
        let text = e.to_string();
        let message = match marker {
            Some(m) => text.strip_prefix(&format!("{m}: ")).unwrap_or(&text).to_string(),
            None => text,
        };
        self.error(position, format!("invalid YAML: {message}"), "the file must be a YAML mapping; anchors and tags are not supported");
    }

    /// Deserializes one node, recording the error (with its position) on failure.
    pub(super) fn parse<T: DeserializeOwned>(&mut self, node: &Node) -> Option<T> {
        match marked_yaml::from_node::<T>(node) {
            Ok(v) => Some(v),
            Err(e) => {
                let position = e.start_mark().map(|m| (m.line(), m.column())).or_else(|| pos_of(node));
                self.error(position, (*e).to_string(), SCHEMA_HINT);
                None
            }
        }
    }

    pub(super) fn number(&mut self, value: &Option<At<u64>>, key: &str, default: u64, range: RangeInclusive<u64>) -> u64 {
        let Some(v) = value else { return default };
        if !range.contains(&v.value) {
            self.error(
                v.position,
                format!("`{key}` is {}, outside the allowed range", v.value),
                format!("use a value from {} to {}", range.start(), range.end()),
            );
            return default;
        }
        v.value
    }

    pub(super) fn path_in_existing_dir(&mut self, p: &At<String>, key: &str) -> PathBuf {
        let path = PathBuf::from(&p.value);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if p.value.is_empty() || path.file_name().is_none() {
            self.error(p.position, format!("`{key}` must name a file"), "e.g. /var/lib/honeyward/honeyward.db");
        } else if !dir.is_dir() {
            self.error(
                p.position,
                format!("directory {} for `{key}` does not exist", dir.display()),
                "create it first (honeyward never creates directories it was not asked to)",
            );
        }
        path
    }

    /// The entries of a list section with their `type`, after checking every entry's
    /// name for duplicates.
    pub(super) fn items<'n>(&mut self, node: &'n Node, section: &str) -> Vec<(&'n Node, At<String>)> {
        if node.as_mapping().is_some_and(|m| m.is_empty()) {
            return Vec::new();
        }
        let Some(seq) = node.as_sequence() else {
            self.error(pos_of(node), format!("`{section}` must be a list"), format!("write each entry as `- type: ...` under `{section}:`"));
            return Vec::new();
        };
        let what = section.trim_end_matches('s');
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for item in seq.iter() {
            let map = item.as_mapping();
            // Names are checked here, on the raw nodes, so that a duplicate is reported
            // even when one of the two entries has another mistake.
            match map.and_then(|m| m.get_scalar("name")) {
                Some(n) => self.unique_name(&mut names, &scalar_at(n), what),
                None => self.error(pos_of(item), format!("every entry of `{section}` needs a `name`"), ""),
            }
            match map.and_then(|m| m.get_scalar("type")) {
                Some(t) => out.push((item, scalar_at(t))),
                None => self.error(pos_of(item), format!("every entry of `{section}` needs a `type`"), ""),
            }
        }
        out
    }

    pub(super) fn unknown_type<T>(&mut self, kind: &At<String>, what: &str, known: &str) -> Option<T> {
        self.error(kind.position, format!("unknown {what} type `{}`", kind.value), format!("{what} types are: {known}"));
        None
    }

    pub(super) fn unique_name(&mut self, seen: &mut HashMap<String, Pos>, name: &At<String>, what: &str) {
        let ok = !name.value.is_empty() && name.value.len() <= 64 && name.value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            self.error(name.position, format!("{what} name {:?} is not usable", name.value), "use 1 to 64 characters from A-Z a-z 0-9 - _ .");
        }
        if let Some(first) = seen.get(&name.value) {
            let at = first.map(|(l, c)| format!(" (first defined at line {l}, column {c})")).unwrap_or_default();
            self.error(name.position, format!("duplicate {what} name `{}`{at}", name.value), format!("each {what} needs its own name"));
        } else {
            seen.insert(name.value.clone(), name.position);
        }
    }
}
