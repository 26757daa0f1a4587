//! Generating a new token of any kind: its public facts, its secrets, and the
//! material it will be recognised by.

use super::clinical;
use super::generate as gen;
use super::kind::{MaterialKind, TokenKind};
use super::model::{NewToken, Secrets, Token, TokenFacts, UrlResponse};
use super::secret::Secret;
use super::sshkey::{self, KeyAlgorithm};
use super::windows;
use super::TokenError;
use crate::event::Timestamp;
use crate::event::TokenState;

/// What to generate.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub kind: TokenKind,
    /// A memo for the team: what it is and where it goes.
    pub label: String,
    /// Chosen username (credentials); generated when absent.
    pub username: Option<String>,
    /// Chosen password (credentials); generated when absent.
    pub password: Option<String>,
    pub key_algorithm: KeyAlgorithm,
    /// DICOM UID root for honey patients' studies.
    pub uid_root: String,
    /// Studies per honey patient.
    pub studies: usize,
    /// URL of the decoy that planted credentials point at.
    pub endpoint: Option<String>,
    /// Host name used in key comments and templates.
    pub host: String,
    /// How a canary URL is answered.
    pub url_response: UrlResponse,
    /// NetBIOS domain of a Windows account.
    pub domain: Option<String>,
}

impl CreateOptions {
    /// Defaults for a kind and label.
    pub fn new(kind: TokenKind, label: impl Into<String>) -> Self {
        CreateOptions {
            kind,
            label: label.into(),
            username: None,
            password: None,
            key_algorithm: KeyAlgorithm::Ed25519,
            uid_root: "2.25".into(),
            studies: 1,
            endpoint: None,
            host: "localhost".into(),
            url_response: UrlResponse::default(),
            domain: None,
        }
    }
}

/// The NetBIOS domain of a Windows account when none is given.
pub const DEFAULT_DOMAIN: &str = "NHSTRUST";

fn hint(access_key_id: &str) -> String {
    let n = access_key_id.len();
    format!("{}…{}", &access_key_id[..4.min(n)], &access_key_id[n.saturating_sub(4)..])
}

/// Generates a token (nothing is stored or written yet).
pub fn generate(opts: &CreateOptions) -> Result<NewToken, TokenError> {
    if opts.label.trim().is_empty() {
        return Err(TokenError::Invalid("a token needs a --label saying what it is and where it goes".into()));
    }
    let mut rng = rand::rng();
    let mut facts = TokenFacts { endpoint: opts.endpoint.clone(), ..Default::default() };
    let mut secrets = Secrets::default();
    let mut material: Vec<(MaterialKind, Vec<u8>)> = Vec::new();
    let mut nt_hash = None;
    match opts.kind {
        TokenKind::SshPassword | TokenKind::HttpBasic | TokenKind::File => {
            let password = opts.password.clone().unwrap_or_else(|| gen::password(&mut rng));
            facts.username = Some(opts.username.clone().unwrap_or_else(|| gen::username(&mut rng)));
            material.push((MaterialKind::Password, password.clone().into_bytes()));
            secrets.password = Some(Secret::new(password));
        }
        TokenKind::WindowsPassword => {
            let password = opts.password.clone().unwrap_or_else(|| gen::password(&mut rng));
            let user = opts.username.clone().unwrap_or_else(|| gen::windows_username(&mut rng));
            let domain = opts.domain.clone().unwrap_or_else(|| DEFAULT_DOMAIN.to_string());
            if user.is_empty() || user.len() > 20 || user.contains(['\\', '/', '"', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@']) {
                return Err(TokenError::Invalid(format!("`{user}` is not a Windows account name (at most 20 characters, none of \\/\"[]:;|=,+*?<>@)")));
            }
            if domain.is_empty() || domain.len() > 15 || !domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(TokenError::Invalid(format!("`{domain}` is not a NetBIOS domain name (1 to 15 letters, digits or '-')")));
            }
            nt_hash = Some(windows::nt_hash(&password));
            material.push((MaterialKind::Password, password.clone().into_bytes()));
            material.push((MaterialKind::WindowsAccount, user.to_lowercase().into_bytes()));
            facts.username = Some(user);
            facts.domain = Some(domain);
            secrets.password = Some(Secret::new(password));
        }
        TokenKind::SshKey => {
            let user = opts.username.clone().unwrap_or_else(|| gen::username(&mut rng));
            let key = sshkey::generate(opts.key_algorithm, &format!("{user}@{}", opts.host))?;
            material.push((MaterialKind::KeyFingerprint, key.fingerprint.clone().into_bytes()));
            facts.username = Some(user);
            facts.key_fingerprint = Some(key.fingerprint);
            facts.public_key = Some(key.public_openssh);
            secrets.private_key = Some(Secret::new(key.private_openssh));
        }
        TokenKind::AwsKey => {
            let id = gen::aws_access_key_id(&mut rng);
            facts.access_key_hint = Some(hint(&id));
            material.push((MaterialKind::AccessKeyId, id.clone().into_bytes()));
            secrets.access_key_id = Some(Secret::new(id));
            secrets.secret_access_key = Some(Secret::new(gen::aws_secret_access_key(&mut rng)));
        }
        TokenKind::Bearer => {
            let token = gen::bearer(&mut rng);
            facts.username = opts.username.clone();
            material.push((MaterialKind::BearerToken, token.clone().into_bytes()));
            secrets.bearer = Some(Secret::new(token));
        }
        TokenKind::Url => {
            let path = gen::url_path(&mut rng, opts.url_response == UrlResponse::Pixel);
            material.push((MaterialKind::UrlPath, path.clone().into_bytes()));
            facts.url_path = Some(path);
            facts.url_response = Some(opts.url_response);
        }
        TokenKind::Patient => {
            let site = clinical::Site { uid_root: opts.uid_root.clone(), ..clinical::Site::default() };
            let today = chrono::Utc::now().date_naive();
            let p = clinical::patient(&mut rng, &site, opts.studies, today - chrono::Duration::days(5 * 365), today);
            material.extend(p.identifiers().into_iter().map(|id| (MaterialKind::PatientId, id.into_bytes())));
            facts.patient = Some(p);
        }
    }
    let token = Token {
        id: gen::token_id(&mut rng),
        kind: opts.kind,
        label: opts.label.clone(),
        created: Timestamp::now(),
        state: TokenState::Active,
        facts,
        plants: Vec::new(),
    };
    Ok(NewToken { token, secrets, material, nt_hash })
}
