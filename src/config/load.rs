//! Reads a YAML configuration and turns it into a validated [`Config`], section by
//! section, collecting every mistake (with `file:line:col`) before giving up.

use std::path::Path;

use marked_yaml::{LoaderOptions, Node};

use super::alerts::{IncidentConfig, RawAlerts};
use super::canaries::{CanaryConfig, RawCanary};
use super::checker::{scalar_at, Checker};
use super::cohort::{CohortConfig, RawCohort};
use super::console::ConsoleConfig;
use super::decoys::DecoyConfig;
use super::error::{ConfigError, ConfigErrors};
use super::fleet::{ControllerConfig, UpstreamConfig};
use super::networks::{NetworkMap, RawNetworks};
use super::sensor::{RawSensor, SensorConfig};
use super::sinks::SinkConfig;
use super::store::{RawStore, StoreConfig};

/// The configuration `honeyward run` uses when no file is given and none is found.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../examples/quickstart.yaml");

/// How the embedded default is named in messages.
pub const EMBEDDED_DEFAULT_NAME: &str = "<embedded quickstart>";

/// The annotated complete example printed by `honeyward example-config`.
pub const EXAMPLE_COMPLETE: &str = include_str!("../../examples/hospital.yaml");

/// A complete, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (a path, or the embedded default's name).
    pub origin: String,
    pub sensor: SensorConfig,
    pub store: StoreConfig,
    pub decoys: Vec<DecoyConfig>,
    pub sinks: Vec<SinkConfig>,
    /// Files watched for opens (besides planted `file` tokens).
    pub canaries: Vec<CanaryConfig>,
    /// How events are grouped into incidents, and the allow-list.
    pub alerts: IncidentConfig,
    /// `honeyward controller`: where it listens.
    pub controller: Option<ControllerConfig>,
    /// `honeyward sensor`: the controller it forwards to.
    pub upstream: Option<UpstreamConfig>,
    /// The web console and `/metrics`.
    pub console: Option<ConsoleConfig>,
    /// The synthetic patients the PACS-like decoys serve.
    pub cohort: CohortConfig,
    /// Names of the trust's address ranges.
    pub networks: NetworkMap,
}

const SECTIONS: &[&str] = &["sensor", "store", "decoys", "sinks", "canaries", "alerts", "networks", "controller", "upstream", "console", "cohort"];

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
        let networks: RawNetworks = section("networks").map(|n| self.parse(n).unwrap_or_default()).unwrap_or_default();
        let networks = self.networks(networks);
        let controller = self.controller(section("controller"));
        let upstream = self.upstream(section("upstream"));
        let console = self.console(section("console"));
        let cohort: RawCohort = section("cohort").map(|n| self.parse(n).unwrap_or_default()).unwrap_or_default();
        let cohort = self.cohort(cohort);
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
        Config {
            origin: origin.to_string(),
            sensor,
            store: self.store(store),
            decoys,
            sinks,
            canaries,
            alerts,
            controller,
            upstream,
            console,
            cohort,
            networks,
        }
    }
}
