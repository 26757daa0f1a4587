//! Reads a YAML configuration and turns it into a validated [`Config`],
//! collecting every mistake (with `file:line:col`) before giving up.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::{LoaderOptions, Node};

use super::checker::{scalar_at, Checker};
use super::error::{ConfigError, ConfigErrors};
use super::raw::{RawAlerts, RawCanary, RawDicomDecoy, RawHttpDecoy, RawSensor, RawSshDecoy, RawStore, RawTcpDecoy};
use super::types::*;

/// The configuration `honeyward run` uses when no file is given and none is found.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../examples/quickstart.yaml");
/// How the embedded default is named in messages.
pub const EMBEDDED_DEFAULT_NAME: &str = "<embedded quickstart>";
/// The annotated complete example printed by `honeyward example-config`.
pub const EXAMPLE_COMPLETE: &str = include_str!("../../examples/hospital.yaml");

const SECTIONS: &[&str] = &["sensor", "store", "decoys", "sinks", "canaries", "alerts", "controller", "upstream", "console"];
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

impl Checker<'_> {
    fn config(&mut self, origin: &str, root: &Node) -> Config {
        let empty = Node::from(marked_yaml::types::MarkedMappingNode::new_empty(marked_yaml::Span::new_blank()));
        let map = root.as_mapping();
        if let Some(map) = map {
            for (key, _) in map.iter() {
                if !SECTIONS.contains(&key.as_str()) {
                    self.error(
                        scalar_at(key).position,
                        format!("unknown section `{}`", key.as_str()),
                        format!("top-level sections are: {}", SECTIONS.join(", ")),
                    );
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
                self.error(
                    None,
                    format!("sensor.name `{}` differs from the credential's sensor `{}`", sensor.name, u.credential.sensor),
                    "remove sensor.name, or enrol the sensor under that name",
                );
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
                    self.error(
                        n.position,
                        format!("sensor name {:?} is not usable", n.value),
                        "use 1 to 255 printable ASCII characters without spaces (it becomes the syslog HOSTNAME)",
                    );
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
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
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
