//! Reads a YAML configuration and turns it into a validated [`Config`],
//! collecting every mistake (with `file:line:col`) before giving up.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::{LoadError, LoaderOptions, Node};
use serde::de::DeserializeOwned;

use super::error::{ConfigError, ConfigErrors};
use super::raw::{RawAlerts, RawCanary, RawSensor, RawStore, RawSshDecoy, RawTcpDecoy, RawHttpDecoy, RawDicomDecoy};
use super::spanned::At;
use super::types::*;

/// The configuration `honeyward run` uses when no file is given and none is found.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../examples/quickstart.yaml");
/// How the embedded default is named in messages.
pub const EMBEDDED_DEFAULT_NAME: &str = "<embedded quickstart>";
/// The annotated complete example printed by `honeyward example-config`.
pub const EXAMPLE_COMPLETE: &str = include_str!("../../examples/hospital.yaml");

const SECTIONS: &[&str] = &["sensor", "store", "decoys", "sinks", "canaries", "alerts", "controller", "upstream", "console"];
const SCHEMA_HINT: &str = "`honeyward example-config` prints an annotated example of every key";

type Pos = Option<(usize, usize)>;

/// Reads and validates a configuration file.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_str(&origin, &text),
        Err(e) => Err(ConfigErrors(vec![ConfigError {
            file: origin,
            position: None,
            message: format!("cannot read the configuration file: {e}"),
            hint: Some("pass an existing file with -c, or run without -c to use the embedded quick-start".into()),
        }])),
    }
}

/// Parses and validates configuration text; `origin` names it in errors.
pub fn parse_str(origin: &str, text: &str) -> Result<Config, ConfigErrors> {
    let mut cx = Checker { file: origin, errors: Vec::new() };
    let options = LoaderOptions::default().error_on_duplicate_keys(true).toplevel_mapping();
    let root = match marked_yaml::parse_yaml_with_options(0, text, options) {
        Ok(root) => root,
        Err(e) => {
            cx.load_error(&e);
            return Err(ConfigErrors(cx.errors));
        }
    };
    let config = cx.config(origin, &root);
    if cx.errors.is_empty() {
        Ok(config)
    } else {
        cx.errors.sort_by_key(|e| e.position.unwrap_or((usize::MAX, 0)));
        Err(ConfigErrors(cx.errors))
    }
}

pub(super) struct Checker<'a> {
    file: &'a str,
    errors: Vec<ConfigError>,
}

fn pos_of(node: &Node) -> Pos {
    node.span().start().map(|m| (m.line(), m.column()))
}

fn scalar_at(scalar: &marked_yaml::types::MarkedScalarNode) -> At<String> {
    At { value: scalar.as_str().to_string(), position: scalar.span().start().map(|m| (m.line(), m.column())) }
}

impl Checker<'_> {
    pub(super) fn error(&mut self, position: Pos, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            position,
            message: message.into(),
            hint: (!hint.is_empty()).then_some(hint),
        });
    }

    fn load_error(&mut self, e: &LoadError) {
        use LoadError::*;
        let marker = match e {
            TopLevelMustBeMapping(m) | TopLevelMustBeSequence(m) | UnexpectedAnchor(m) | MappingKeyMustBeScalar(m)
            | UnexpectedTag(m) | ScanError(m, _) => Some(*m),
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

    fn config(&mut self, origin: &str, root: &Node) -> Config {
        let empty = Node::from(marked_yaml::types::MarkedMappingNode::new_empty(marked_yaml::Span::new_blank()));
        let map = root.as_mapping();
        if let Some(map) = map {
            for (key, _) in map.iter() {
                if !SECTIONS.contains(&key.as_str()) {
                    self.error(scalar_at(key).position, format!("unknown section `{}`", key.as_str()), format!("top-level sections are: {}", SECTIONS.join(", ")));
                }
            }
        }
        let section = |name: &str| map.and_then(|m| m.get_node(name));
        let sensor: RawSensor = section("sensor").map(|n| self.parse(n).unwrap_or_default()).unwrap_or_default();
        let store: RawStore = section("store").map(|n| self.parse(n).unwrap_or_default()).unwrap_or_default();
        let decoys = self.decoys(section("decoys").unwrap_or(&empty));
        let sinks = self.sinks(section("sinks").unwrap_or(&empty));
        let canaries = match section("canaries") {
            Some(n) => self.parse::<Vec<RawCanary>>(n).map(|c| self.canaries(c)).unwrap_or_default(),
            None => Vec::new(),
        };
        let alerts: RawAlerts = section("alerts").map(|n| self.parse(n).unwrap_or_default()).unwrap_or_default();
        let alerts = self.alerts(alerts);
        let controller = self.controller(section("controller"));
        let upstream = self.upstream(section("upstream"));
        let console = self.console(section("console"));
        let mut sensor = self.sensor(sensor);
        if let Some(u) = &upstream {
            // The sensor's name is the one it was enrolled under.
            if section("sensor").is_some_and(|n| n.as_mapping().is_some_and(|m| m.get_node("name").is_some())) && sensor.name != u.credential.sensor {
                self.error(None, format!("sensor.name `{}` differs from the credential's sensor `{}`", sensor.name, u.credential.sensor), "remove sensor.name, or enrol the sensor under that name");
            }
            sensor.name = u.credential.sensor.clone();
        }
        let mut sinks = sinks;
        if let Some(u) = &upstream {
            if sinks.iter().any(|s| s.name() == "controller") {
                self.error(None, "a sink is named `controller`, the name of the link to the controller", "rename that sink");
            }
            sinks.push(SinkConfig::Controller(u.clone()));
        }
        Config { origin: origin.to_string(), sensor, store: self.store(store), decoys, sinks, canaries, alerts, controller, upstream, console }
    }

    fn alerts(&mut self, raw: RawAlerts) -> crate::incident::IncidentConfig {
        let window = self.number(&raw.incident_window_seconds, "incident_window_seconds", 900, 1..=7 * 86_400);
        let ignore = raw.ignore.unwrap_or_default();
        let sources = ignore
            .sources
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| {
                let cidr = crate::incident::Cidr::parse(&s.value);
                if cidr.is_none() {
                    self.error(s.position, format!("{:?} is not an address or network", s.value), "e.g. 10.20.0.50 or 10.99.0.0/24");
                }
                cidr
            })
            .collect();
        let kinds = ignore
            .kinds
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| {
                if crate::event::EventKind::id_of(&k.value).is_none() {
                    self.error(k.position, format!("unknown event kind `{}`", k.value), "see `honeyward events list --help` for the kinds");
                    return None;
                }
                Some(k.value)
            })
            .collect();
        let decoys = ignore.decoys.unwrap_or_default().into_iter().map(|d| d.value).collect();
        crate::incident::IncidentConfig { window_us: window as i64 * 1_000_000, ignore: crate::incident::Ignore { sources, decoys, kinds } }
    }

    fn canaries(&mut self, raw: Vec<RawCanary>) -> Vec<CanaryConfig> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        raw.into_iter()
            .map(|c| {
                let path = cwd.join(self.path_in_existing_dir(&c.path, "canaries.path"));
                let label = c.label.unwrap_or_else(|| format!("canary file {}", path.display()));
                CanaryConfig { path, label }
            })
            .collect()
    }

    fn sensor(&mut self, raw: RawSensor) -> SensorConfig {
        let name = match raw.name {
            Some(n) => {
                if n.value.is_empty() || n.value.len() > 255 || !n.value.bytes().all(|b| b.is_ascii_graphic()) {
                    self.error(n.position, format!("sensor name {:?} is not usable", n.value), "use 1 to 255 printable ASCII characters without spaces (it becomes the syslog HOSTNAME)");
                }
                n.value
            }
            None => host_name(),
        };
        let max_memory_mb = raw.max_memory_mb.as_ref().map(|_| self.number(&raw.max_memory_mb, "max_memory_mb", 0, 32..=1_048_576));
        SensorConfig { name, max_memory_mb }
    }

    fn store(&mut self, raw: RawStore) -> StoreConfig {
        let path = match &raw.path {
            Some(p) => self.path_in_existing_dir(p, "store.path"),
            None => PathBuf::from("./honeyward.db"),
        };
        let batch = self.number(&raw.batch_max_events, "batch_max_events", 4096, 1..=100_000);
        let flush_ms = self.number(&raw.flush_interval_ms, "flush_interval_ms", 2, 0..=1000);
        let queue = self.number(&raw.queue_capacity_events, "queue_capacity_events", 65536, 16..=10_000_000);
        let state_dir = match &raw.state_dir {
            Some(d) if d.value.is_empty() => {
                self.error(d.position, "`state_dir` must name a directory", "e.g. /var/lib/honeyward/state");
                PathBuf::from("./honeyward-state")
            }
            Some(d) => PathBuf::from(&d.value),
            None => PathBuf::from("./honeyward-state"),
        };
        StoreConfig {
            path,
            state_dir,
            sync: raw.sync.unwrap_or(StoreSync::Full),
            batch_max_events: NonZeroUsize::new(batch as usize).unwrap_or(NonZeroUsize::MIN),
            flush_interval: Duration::from_millis(flush_ms),
            queue_capacity_events: NonZeroUsize::new(queue as usize).unwrap_or(NonZeroUsize::MIN),
        }
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
            self.error(p.position, format!("directory {} for `{key}` does not exist", dir.display()), "create it first (honeyward never creates directories it was not asked to)");
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

    fn unique_name(&mut self, seen: &mut HashMap<String, Pos>, name: &At<String>, what: &str) {
        let ok = !name.value.is_empty()
            && name.value.len() <= 64
            && name.value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
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

    fn decoys(&mut self, node: &Node) -> Vec<DecoyConfig> {
        let mut listens: Vec<(SocketAddr, String)> = Vec::new();
        let mut out = Vec::new();
        for (item, kind) in self.items(node, "decoys") {
            let decoy = match kind.value.as_str() {
                "tcp" => self.parse::<RawTcpDecoy>(item).map(|raw| self.tcp_decoy(raw, &mut listens)),
                "ssh" => self.parse::<RawSshDecoy>(item).and_then(|raw| self.ssh_decoy(raw, &mut listens)),
                "http" => self.parse::<RawHttpDecoy>(item).and_then(|raw| self.http_decoy(raw, &mut listens)),
                "dicom" => self.parse::<RawDicomDecoy>(item).and_then(|raw| self.dicom_decoy(raw, &mut listens)),
                _ => self.unknown_type(&kind, "decoy", "tcp, ssh, http, dicom"),
            };
            out.extend(decoy);
        }
        out
    }

}

/// This machine's host name, or `honeyward` if it cannot be read.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string(),
        _ => "honeyward".to_string(),
    }
}
