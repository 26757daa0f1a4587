//! What the registry knows about a token: public facts, plants, state — and the
//! secrets that exist only in memory between creation and planting.

use serde::{Deserialize, Serialize};

use super::kind::MaterialKind;
use super::patient::HoneyPatient;
use super::secret::Secret;
use crate::event::{Plant, Timestamp, TokenKind, TokenState};

/// What an HTTP decoy answers when a canary URL is fetched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum UrlResponse {
    /// A redirect to the decoy's sign-in page, as a document behind a login would.
    #[default]
    Redirect,
    /// A 1x1 transparent GIF (for web bugs in pages and e-mails); the path ends `.gif`.
    Pixel,
    /// The decoy's usual 404 page.
    NotFound,
}

/// Facts about a token that are not secret (stored, shown, put in alerts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// First and last four characters of an access key id (`AKIA…WXYZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_path: Option<String>,
    /// How the HTTP decoy answers the canary URL (url tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_response: Option<UrlResponse>,
    /// Where planted credentials point (an HTTP decoy's URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<HoneyPatient>,
    /// The NetBIOS domain of a Windows account (`windows-password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The secrets of a freshly generated token. Never stored once the token is planted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Secrets {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secret")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secret")]
    pub private_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secret")]
    pub access_key_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secret")]
    pub secret_access_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secret")]
    pub bearer: Option<Secret>,
}

mod opt_secret {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(secret) => s.serialize_some(secret.expose()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Secret::new))
    }
}

/// A token as the registry holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub id: String,
    pub kind: TokenKind,
    pub label: String,
    pub created: Timestamp,
    pub state: TokenState,
    pub facts: TokenFacts,
    pub plants: Vec<Plant>,
}

/// A token just generated: everything needed to register and plant it.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: Token,
    pub secrets: Secrets,
    /// (kind, plaintext) pairs the registry stores as keyed digests.
    pub material: Vec<(MaterialKind, Vec<u8>)>,
    /// A Windows account's NT hash, which the registry keeps sealed beside the
    /// account's [`MaterialKind::WindowsAccount`] digest.
    pub nt_hash: Option<super::windows::NtHash>,
}
