//! A token hit: which planted token an observation used, and where it was planted.

use serde::{Deserialize, Serialize};

use super::kind::TokenKind;
use super::model::TokenState;
use crate::event::Technique;

/// Where the used token had been planted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantRef {
    pub host: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// Filled in on an event by token matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHit {
    /// Token id (`tok-...`).
    pub id: String,
    pub kind: TokenKind,
    pub label: String,
    /// `revoked` hits are still reported, marked as such.
    pub state: TokenState,
    /// The plant(s) the secret came from: exactly the opened file for canary files;
    /// every plant of the token for a credential (one token per plant tells them apart).
    pub plants: Vec<PlantRef>,
}

impl TokenHit {
    /// The ATT&CK technique a use of this token is evidence of.
    pub fn technique(&self, file_opened: bool) -> Technique {
        let from_history = self.plants.iter().any(|p| p.template.as_deref() == Some("bash_history"));
        match self.kind {
            _ if file_opened => Technique::CredentialsInFiles,
            TokenKind::SshKey => Technique::PrivateKeys,
            TokenKind::SshPassword if from_history => Technique::ShellHistory,
            TokenKind::Patient => Technique::DataFromInformationRepositories,
            TokenKind::Url | TokenKind::File => Technique::CredentialsInFiles,
            TokenKind::SshPassword | TokenKind::AwsKey | TokenKind::Bearer | TokenKind::HttpBasic => Technique::ValidAccounts,
        }
    }
}
