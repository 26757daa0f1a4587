//! The kinds of honeytoken, and the kinds of matching material a token registers.

use serde::{Deserialize, Serialize};

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
        }
    }

    /// Parses [`TokenKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The template planted when none is named.
    pub fn default_template(self) -> &'static str {
        match self {
            TokenKind::SshPassword => "bash_history",
            TokenKind::SshKey => "ssh_private_key",
            TokenKind::AwsKey => "aws_credentials",
            TokenKind::Bearer => "kubeconfig",
            TokenKind::HttpBasic => "env",
            TokenKind::Url => "intranet_html",
            TokenKind::File => "env",
            TokenKind::Patient => "patients_csv",
        }
    }
}

/// Every token kind.
pub const ALL: &[TokenKind] = &[
    TokenKind::SshPassword,
    TokenKind::SshKey,
    TokenKind::AwsKey,
    TokenKind::Bearer,
    TokenKind::HttpBasic,
    TokenKind::Url,
    TokenKind::File,
    TokenKind::Patient,
];

/// What a piece of matching material is: decoys look tokens up by one of these plus
/// the keyed hash of the value they observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    /// A password on its own (recognised whatever username comes with it).
    Password,
    /// An SSH public key fingerprint (`SHA256:...`).
    KeyFingerprint,
    /// An AWS access key id.
    AccessKeyId,
    /// A bearer token.
    BearerToken,
    /// A URL path (without query).
    UrlPath,
    /// An absolute file path on a sensor host.
    FilePath,
    /// A patient identifier: NHS number, MRN, or a study instance UID.
    PatientId,
}

impl MaterialKind {
    /// Stable name, used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::Password => "password",
            MaterialKind::KeyFingerprint => "key_fingerprint",
            MaterialKind::AccessKeyId => "access_key_id",
            MaterialKind::BearerToken => "bearer_token",
            MaterialKind::UrlPath => "url_path",
            MaterialKind::FilePath => "file_path",
            MaterialKind::PatientId => "patient_id",
        }
    }

    /// Parses [`MaterialKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            MaterialKind::Password,
            MaterialKind::KeyFingerprint,
            MaterialKind::AccessKeyId,
            MaterialKind::BearerToken,
            MaterialKind::UrlPath,
            MaterialKind::FilePath,
            MaterialKind::PatientId,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}
