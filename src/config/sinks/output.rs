//! What every sink's configuration says about its output: the format events are
//! written in, and which events it forwards.

use schemars::JsonSchema;
use serde::Deserialize;

/// How events are written by a sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// RFC 5424 syslog with structured data (no framing).
    Rfc5424,
    /// ArcSight CEF.
    Cef,
    /// QRadar LEEF 2.0.
    Leef,
    /// Elastic Common Schema 8.x JSON documents.
    Ecs,
    /// OCSF 1.1 JSON events.
    Ocsf,
}

impl EventFormat {
    /// The name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Json => "json",
            EventFormat::Rfc5424 => "rfc5424",
            EventFormat::Cef => "cef",
            EventFormat::Leef => "leef",
            EventFormat::Ecs => "ecs",
            EventFormat::Ocsf => "ocsf",
        }
    }
}

/// Which events a sink forwards (the others are skipped; its cursor moves past them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkFilter {
    /// Events below this severity are not forwarded (token hits are always critical).
    pub min_severity: Option<crate::event::Severity>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
    /// Only events of these decoys (empty: all, including sensor events).
    pub decoys: Vec<String>,
}

impl SinkFilter {
    /// Whether `event` passes.
    pub fn accepts(&self, event: &crate::event::Event) -> bool {
        self.min_severity.is_none_or(|min| event.severity() >= min)
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == event.kind.name()))
            && (self.decoys.is_empty() || event.decoy.as_ref().is_some_and(|d| self.decoys.contains(d)))
    }
}
