//! A token hit: which planted token an observation used, and where it was planted.

use serde::{Deserialize, Serialize};

use super::kind::TokenKind;
use super::model::{Plant, TokenState};
use crate::event::Technique;

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
