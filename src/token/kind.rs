//! The kinds of matching material a token registers, and what each token kind plants
//! by default.

use serde::{Deserialize, Serialize};

use crate::event::{EventKind, HttpCredential};

pub use crate::event::{TokenKind, TOKEN_KINDS as ALL};

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
    /// A Windows account name, lower-cased (its NT hash is kept sealed beside it).
    WindowsAccount,
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
            MaterialKind::WindowsAccount => "windows_account",
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
            MaterialKind::WindowsAccount,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The template planted when none is named.
pub fn default_template(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::SshPassword => "bash_history",
        TokenKind::SshKey => "ssh_private_key",
        TokenKind::AwsKey => "aws_credentials",
        TokenKind::Bearer => "kubeconfig",
        TokenKind::HttpBasic => "env",
        TokenKind::Url => "intranet_html",
        TokenKind::File => "env",
        TokenKind::Patient => "patients_csv",
        TokenKind::WindowsPassword => "net_use_bat",
    }
}

/// The material in an observation a token could be recognised by: (what it is, the
/// observed bytes), most specific first.
pub fn material_of(event: &EventKind) -> Vec<(MaterialKind, &[u8])> {
    match event {
        EventKind::FileOpened { path } => vec![(MaterialKind::FilePath, path.as_bytes())],
        EventKind::SshAuth { password: Some(p), .. } => vec![(MaterialKind::Password, p.as_bytes())],
        EventKind::SshAuth { key_fingerprint: Some(f), .. } => vec![(MaterialKind::KeyFingerprint, f.as_bytes())],
        EventKind::HttpRequest { credential, target, .. } => {
            let mut out = Vec::new();
            if let Some(HttpCredential { scheme, secret: Some(secret), .. }) = credential {
                let kind = match scheme.as_str() {
                    "bearer" => MaterialKind::BearerToken,
                    "aws-sigv4" => MaterialKind::AccessKeyId,
                    _ => MaterialKind::Password,
                };
                out.push((kind, secret.as_bytes()));
            }
            let path = target.as_bytes();
            let path = path.iter().position(|&b| b == b'?').map_or(path, |q| &path[..q]);
            out.push((MaterialKind::UrlPath, path));
            out
        }
        _ => Vec::new(),
    }
}
