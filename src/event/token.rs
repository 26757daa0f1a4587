//! The token vocabulary an event carries: which planted token an observation used,
//! what kind of token it is, whether it is still live, and where it was planted.
//! The registry (`token/`) creates and matches tokens; this is only what an alert says.

use serde::{Deserialize, Serialize};

use super::attack::Technique;
use super::time::Timestamp;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[value(rename_all = "kebab-case")]
pub enum TokenKind {
    /// An SSH username and password (e.g. planted in a shell history).
    SshPassword,
    /// An SSH private key (OpenSSH format); its public key's fingerprint is registered.
    SshKey,
    /// An AWS-style access key id and secret access key.
    AwsKey,
    /// An API bearer token (e.g. in a kubeconfig).
    Bearer,
    /// A username and password for a web portal.
    HttpBasic,
    /// A canary URL served by an HTTP decoy.
    Url,
    /// A canary file watched for opens on this host.
    File,
    /// A synthetic honey patient served by the DICOM and HTTP decoys.
    Patient,
    /// A Windows / Active Directory account (domain, user, password), recognised from
    /// the NTLM exchange of an SMB, RDP or HTTP login.
    WindowsPassword,
}

impl TokenKind {
    /// The name used on the command line and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::SshPassword => "ssh-password",
            TokenKind::SshKey => "ssh-key",
            TokenKind::AwsKey => "aws-key",
            TokenKind::Bearer => "bearer",
            TokenKind::HttpBasic => "http-basic",
            TokenKind::Url => "url",
            TokenKind::File => "file",
            TokenKind::Patient => "patient",
            TokenKind::WindowsPassword => "windows-password",
        }
    }

    /// Parses [`TokenKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        TOKEN_KINDS.iter().copied().find(|k| k.as_str() == s)
    }
}

/// Every token kind.
pub const TOKEN_KINDS: &[TokenKind] = &[
    TokenKind::SshPassword,
    TokenKind::SshKey,
    TokenKind::AwsKey,
    TokenKind::Bearer,
    TokenKind::HttpBasic,
    TokenKind::Url,
    TokenKind::File,
    TokenKind::Patient,
    TokenKind::WindowsPassword,
];

/// Whether hits on a token are live alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Active,
    /// Still recognised; hits are marked revoked.
    Revoked,
}

impl TokenState {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Revoked => "revoked",
        }
    }
}

/// One place a token was put.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plant {
    pub host: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The template it was rendered from (decides the ATT&CK technique of a hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub created: Timestamp,
}

/// Filled in on an event by token matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenHit {
    /// Token id (`tok-...`).
    pub id: String,
    pub kind: TokenKind,
    pub label: String,
    /// `revoked` hits are still reported, marked as such.
    pub state: TokenState,
    /// The plant(s) the secret came from: exactly the opened file for canary files;
    /// every plant of the token for a credential (one token per plant tells them apart).
    pub plants: Vec<Plant>,
    /// The controller could not check this hit itself (the sensor had removed the
    /// secret, as it must): it stands on the sensor's word.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub claimed_by_sensor: bool,
    /// From a sensor: the digest (under that sensor's own key) it recognised the token
    /// by, which its controller checks and removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// An active hit on token `id` with no plant: a fixture for tests.
#[cfg(test)]
pub(crate) fn hit_fixture(id: &str, kind: TokenKind, label: &str) -> TokenHit {
    TokenHit { id: id.into(), kind, label: label.into(), state: TokenState::Active, plants: vec![], claimed_by_sensor: false, digest: None }
}

impl TokenHit {
    /// The ATT&CK technique a use of this token is evidence of.
    pub fn technique(&self, file_opened: bool) -> Technique {
        let planted_as = |name: &str| self.plants.iter().any(|p| p.template.as_deref() == Some(name));
        let from_history = planted_as("bash_history");
        match self.kind {
            _ if file_opened => Technique::CredentialsInFiles,
            TokenKind::WindowsPassword if planted_as("gpp_groups_xml") => Technique::GroupPolicyPreferences,
            TokenKind::SshKey => Technique::PrivateKeys,
            TokenKind::SshPassword if from_history => Technique::ShellHistory,
            TokenKind::Patient => Technique::DataFromInformationRepositories,
            TokenKind::Url | TokenKind::File => Technique::CredentialsInFiles,
            TokenKind::SshPassword | TokenKind::AwsKey | TokenKind::Bearer | TokenKind::HttpBasic | TokenKind::WindowsPassword => Technique::ValidAccounts,
        }
    }
}
