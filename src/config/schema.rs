//! The whole file as written in YAML, section by section: it generates the JSON Schema
//! printed by `honeyward schema`. Each section's raw type lives with its checks.

use schemars::JsonSchema;

use super::alerts::RawAlerts;
use super::canaries::RawCanary;
use super::cohort::RawCohort;
use super::console::RawConsole;
use super::decoys::RawDecoy;
use super::fleet::{RawController, RawUpstream};
use super::sensor::RawSensor;
use super::sinks::RawSink;
use super::store::RawStore;

/// A honeyward configuration file.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read through per-section parsing; the whole type documents the schema
pub struct RawConfig {
    /// This host's identity.
    #[serde(default)]
    pub sensor: Option<RawSensor>,
    /// The event store.
    #[serde(default)]
    pub store: Option<RawStore>,
    /// The decoys this sensor runs.
    #[serde(default)]
    pub decoys: Vec<RawDecoy>,
    /// Where events are forwarded.
    #[serde(default)]
    pub sinks: Vec<RawSink>,
    /// Files on this host to watch for opens, besides planted `file` tokens.
    #[serde(default)]
    pub canaries: Vec<RawCanary>,
    /// Incidents and the allow-list.
    #[serde(default)]
    pub alerts: Option<RawAlerts>,
    /// Names for the trust's address ranges, shown beside source addresses, e.g.
    /// `10.20.14.0/24: Radiology VLAN`.
    #[serde(default)]
    pub networks: Option<super::networks::RawNetworks>,
    /// `honeyward controller`: where sensors and API clients connect.
    #[serde(default)]
    pub controller: Option<RawController>,
    /// `honeyward sensor`: the controller this sensor forwards to.
    #[serde(default)]
    pub upstream: Option<RawUpstream>,
    /// The web console and Prometheus `/metrics` (loopback, plain HTTP).
    #[serde(default)]
    pub console: Option<RawConsole>,
    /// The synthetic patients the PACS-like decoys (DICOM, Orthanc) serve.
    #[serde(default)]
    pub cohort: Option<RawCohort>,
}

/// The JSON Schema of the configuration file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawConfig);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
