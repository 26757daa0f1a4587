//! `canaries:` section: files on this host watched for opens, besides planted tokens.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// One entry of `canaries:`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCanary {
    /// The file (its directory must exist; the file may appear later).
    pub path: At<String>,
    /// What it is, shown in alerts.
    pub label: Option<String>,
}

/// A watched file that is not a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryConfig {
    /// Absolute path.
    pub path: PathBuf,
    pub label: String,
}

impl Checker<'_> {
    pub(super) fn canaries(&mut self, raw: Vec<RawCanary>) -> Vec<CanaryConfig> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        raw.into_iter()
            .map(|c| {
                let path = cwd.join(self.path_in_existing_dir(&c.path, "canaries.path"));
                let label = c.label.unwrap_or_else(|| format!("canary file {}", path.display()));
                CanaryConfig { path, label }
            })
            .collect()
    }
}
