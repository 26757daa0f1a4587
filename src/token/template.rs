//! Files a token is planted as, rendered with minijinja from `templates/tokens/`
//! (embedded in the binary) or from a directory of the user's own.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::model::{Secrets, Token};
use super::patient::HoneyPatient;
use super::TokenError;

/// A template: name, what it is, file mode, source.
pub struct TemplateInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub mode: u32,
    source: &'static str,
}

macro_rules! tpl {
    ($name:literal, $mode:literal, $desc:literal) => {
        TemplateInfo { name: $name, description: $desc, mode: $mode, source: include_str!(concat!("../../templates/tokens/", $name, ".j2")) }
    };
}

/// Every built-in template (`dicom` is binary and written by code).
pub const TEMPLATES: &[TemplateInfo] = &[
    tpl!("aws_credentials", 0o600, "~/.aws/credentials with the access key id and secret"),
    tpl!("aws_config", 0o600, "~/.aws/config whose endpoint_url points at a decoy"),
    tpl!("env", 0o600, ".env of a web application with database credentials"),
    tpl!("kubeconfig", 0o600, "~/.kube/config: server = a decoy, user token = a bearer token"),
    tpl!("ssh_config", 0o644, "~/.ssh/config entry pointing at a decoy with the key's user"),
    tpl!("ssh_private_key", 0o600, "the OpenSSH private key itself (~/.ssh/id_ed25519)"),
    tpl!("bash_history", 0o600, ".bash_history with sshpass/ssh lines using the password"),
    tpl!("pgpass", 0o600, "~/.pgpass with the password"),
    tpl!("patients_csv", 0o640, "a patients CSV export with the honey patient(s)"),
    tpl!("intranet_html", 0o644, "an intranet links page carrying the canary URL"),
    tpl!("bookmarks_html", 0o644, "a browser bookmarks export carrying the canary URL"),
    tpl!("net_use_bat", 0o644, "a Windows batch file mapping a share with `net use` and the account"),
    tpl!("pscredential_ps1", 0o644, "a PowerShell script building a PSCredential from the password"),
    tpl!("unattend_xml", 0o644, "unattend.xml with domain-join and AutoLogon credentials"),
    tpl!("rdp_file", 0o644, "a saved Remote Desktop connection (.rdp) with the account's user name"),
    tpl!("gpp_groups_xml", 0o644, "a Group Policy Preferences Groups.xml with the password as cpassword"),
    TemplateInfo { name: "dicom", description: "DICOM Part 10 file of the honey patient (binary)", mode: 0o640, source: "" },
];

/// Looks a built-in template up by name.
pub fn find(name: &str) -> Option<&'static TemplateInfo> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// Values a template can use. Absent values are undefined, so a template that needs
/// a secret the token does not have fails instead of rendering a blank.
#[derive(Debug, Default, Serialize)]
pub struct Context {
    pub id: String,
    pub label: String,
    pub host: String,
    pub domain: String,
    pub app_name: String,
    pub target_host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    pub key_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    pub patients: Vec<HoneyPatient>,
    /// The NetBIOS domain of a Windows account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netbios_domain: Option<String>,
    /// The password as Group Policy Preferences hides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpassword: Option<String>,
    /// When the token was made, as Windows tools write it (`2026-12-06 09:14:27`).
    pub changed: String,
    /// A GUID that stays the same for the token (upper-case, without braces).
    pub guid: String,
}

/// `scheme://host:port/path` or `host:port` → (host, port).
fn split_endpoint(endpoint: &str) -> (String, Option<u16>) {
    let rest = endpoint.split_once("://").map(|(_, r)| r).unwrap_or(endpoint);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') => (h.trim_matches(['[', ']']).to_string(), p.parse().ok()),
        _ => (authority.to_string(), None),
    }
}

/// The template context of a token (secrets only when given: they exist only at creation).
pub fn context(token: &Token, secrets: &Secrets, host: &str) -> Context {
    let f = &token.facts;
    let (target_host, target_port) = match &f.endpoint {
        Some(e) => split_endpoint(e),
        None => ("pacs-archive01".to_string(), None),
    };
    let expose = |s: &Option<super::Secret>| s.as_ref().map(|v| v.expose().to_string());
    Context {
        id: token.id.clone(),
        label: token.label.clone(),
        host: host.to_string(),
        domain: "trust.nhs.uk".into(),
        app_name: "RIS integration".into(),
        target_host,
        target_port: target_port.filter(|p| *p != 22),
        endpoint: f.endpoint.clone(),
        url: match (&f.endpoint, &f.url_path) {
            (Some(e), Some(p)) => Some(format!("{}{p}", e.trim_end_matches('/'))),
            _ => None,
        },
        username: f.username.clone(),
        password: expose(&secrets.password),
        private_key: expose(&secrets.private_key),
        public_key: f.public_key.clone(),
        key_type: if f.public_key.as_deref().is_some_and(|k| k.starts_with("ssh-rsa")) { "rsa" } else { "ed25519" }.into(),
        fingerprint: f.key_fingerprint.clone(),
        access_key_id: expose(&secrets.access_key_id),
        secret_access_key: expose(&secrets.secret_access_key),
        bearer: expose(&secrets.bearer),
        patients: f.patient.iter().cloned().collect(),
        netbios_domain: f.domain.clone(),
        cpassword: secrets.password.as_ref().map(|p| super::windows::cpassword(p.expose())),
        changed: chrono::DateTime::from_timestamp_micros(token.created.as_micros()).unwrap_or_default().format("%Y-%m-%d %H:%M:%S").to_string(),
        guid: guid_of(&token.id),
    }
}

/// A GUID derived from the token id: the same on every render of that token.
fn guid_of(id: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let h: String = d.as_ref()[..16].iter().map(|b| format!("{b:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Renders template `name` (from `user_dir/NAME.j2` if that exists, else built in).
pub fn render(name: &str, cx: &Context, user_dir: Option<&Path>) -> Result<Vec<u8>, TokenError> {
    let user_source = match user_dir.map(|d| d.join(format!("{name}.j2"))) {
        Some(p) if p.is_file() => Some(std::fs::read_to_string(&p).map_err(|e| TokenError::Io(format!("{}: {e}", p.display())))?),
        _ => None,
    };
    let source = match (&user_source, find(name)) {
        (Some(s), _) => s.as_str(),
        (None, Some(t)) if t.name != "dicom" => t.source,
        _ => return Err(TokenError::Invalid(format!("no template named `{name}` (see `honeyward token templates`)"))),
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let rendered = env.render_str(source, cx).map_err(|e| {
        TokenError::Invalid(format!("template `{name}` cannot be rendered for token {}: {e} (a secret is only available when the token is created)", cx.id))
    })?;
    Ok(rendered.into_bytes())
}

/// A token's file as `template_name` renders it (the `dicom` template is the honey
/// patient's Part 10 file), with the mode it should be written with.
pub fn artifact(token: &Token, secrets: &Secrets, template_name: &str, host: &str, user_dir: Option<&Path>) -> Result<(Vec<u8>, u32), TokenError> {
    let mode = find(template_name).map(|i| i.mode).unwrap_or(0o600);
    let bytes = if template_name == "dicom" {
        let p = token.facts.patient.as_ref().ok_or_else(|| TokenError::Invalid("the dicom template needs a patient token".into()))?;
        super::patient_file(p)?
    } else {
        render(template_name, &context(token, secrets, host), user_dir)?
    };
    Ok((bytes, mode))
}

/// For each built-in template, the kinds whose tokens it can hold: found once, by
/// rendering it for a throwaway token of each kind (generated, never registered).
pub fn kinds_of_templates() -> &'static [(&'static str, Vec<super::TokenKind>)] {
    static FITS: std::sync::OnceLock<Vec<(&'static str, Vec<super::TokenKind>)>> = std::sync::OnceLock::new();
    FITS.get_or_init(|| {
        let probes: Vec<(super::TokenKind, super::NewToken)> = super::ALL_KINDS
            .iter()
            .filter_map(|&kind| {
                let opts =
                    super::CreateOptions { endpoint: Some("http://127.0.0.1:8080".into()), host: "host".into(), ..super::CreateOptions::new(kind, "probe") };
                super::create_token(&opts).ok().map(|n| (kind, n))
            })
            .collect();
        TEMPLATES
            .iter()
            .map(|t| (t.name, probes.iter().filter(|(_, n)| artifact(&n.token, &n.secrets, t.name, "host", None).is_ok()).map(|(k, _)| *k).collect()))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_default_template_among_those_that_fit_it() {
        let fits = kinds_of_templates();
        for &kind in super::super::ALL_KINDS {
            let default = super::super::default_template(kind);
            if let Some((_, kinds)) = fits.iter().find(|(name, _)| *name == default) {
                assert!(kinds.contains(&kind), "{default} holds {kind:?}");
            }
        }
        let ssh_config = fits.iter().find(|(n, _)| *n == "ssh_config").map(|(_, k)| k.clone()).unwrap_or_default();
        assert!(!ssh_config.contains(&super::super::TokenKind::AwsKey), "ssh_config cannot hold an AWS key: {ssh_config:?}");
    }

    #[test]
    fn endpoints_split_into_host_and_port() {
        assert_eq!(split_endpoint("http://127.0.0.1:8080/x"), ("127.0.0.1".into(), Some(8080)));
        assert_eq!(split_endpoint("pacs01:2222"), ("pacs01".into(), Some(2222)));
        assert_eq!(split_endpoint("https://[::1]:443"), ("::1".into(), Some(443)));
        assert_eq!(split_endpoint("https://portal.example"), ("portal.example".into(), None));
    }
}
