//! `console:` section: the web console (and `/metrics`) of `run` and `controller`.

use std::net::SocketAddr;
use std::time::Duration;

use marked_yaml::Node;
use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// `console:` section.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConsole {
    /// Loopback address, IP:PORT (plain HTTP). Reach it through an SSH tunnel, or put a
    /// TLS reverse proxy in front and set `public_url`.
    pub listen: At<String>,
    /// The URL people type, e.g. https://honeyward.trust.nhs.uk (passkeys are bound to
    /// its host name). Default: http://localhost:PORT.
    pub public_url: Option<At<String>>,
    /// Also allow password sign-in (argon2id). Default false: passkeys only.
    pub password_login: Option<bool>,
    /// How long a sign-in lasts, hours (1..=168). Default 12.
    pub session_hours: Option<At<u64>>,
}

/// The web console.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub listen: SocketAddr,
    /// Scheme, host and port as the browser sees them, without a trailing slash, when a
    /// proxy fronts the console; otherwise `http://localhost:PORT`.
    pub public_url: Option<String>,
    pub password_login: bool,
    pub session: Duration,
}

impl ConsoleConfig {
    /// The origin browsers use, with `port` the port actually bound.
    pub fn origin(&self, port: u16) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://localhost:{port}"))
    }

    /// The WebAuthn relying-party id: the origin's host name.
    pub fn rp_id(&self) -> String {
        self.public_url.as_deref().and_then(|u| u.parse::<hyper::Uri>().ok()).and_then(|u| u.host().map(str::to_string)).unwrap_or_else(|| "localhost".into())
    }
}

impl Checker<'_> {
    pub(super) fn console(&mut self, node: Option<&Node>) -> Option<ConsoleConfig> {
        let raw: RawConsole = self.parse(node?)?;
        let listen = match raw.listen.value.parse::<SocketAddr>() {
            Ok(a) if a.ip().is_loopback() => a,
            Ok(_) => {
                self.error(
                    raw.listen.position,
                    format!("the console listens on {}, which is not loopback", raw.listen.value),
                    "the console serves plain HTTP: listen on 127.0.0.1 and reach it with an SSH tunnel or a TLS reverse proxy (then set public_url)",
                );
                return None;
            }
            Err(_) => {
                self.error(raw.listen.position, format!("invalid listen address {:?}", raw.listen.value), "write IP:PORT, e.g. 127.0.0.1:9080");
                return None;
            }
        };
        let public_url = match &raw.public_url {
            Some(u) => match u.value.trim_end_matches('/').parse::<hyper::Uri>() {
                Ok(uri) if matches!(uri.scheme_str(), Some("https" | "http")) && uri.host().is_some() && uri.path() == "/" && uri.query().is_none() => {
                    Some(u.value.trim_end_matches('/').to_string())
                }
                _ => {
                    self.error(
                        u.position,
                        format!("invalid public_url {:?}", u.value),
                        "write the scheme, host and port only, e.g. https://honeyward.trust.nhs.uk",
                    );
                    return None;
                }
            },
            None => None,
        };
        let hours = self.number(&raw.session_hours, "session_hours", 12, 1..=168);
        let console = ConsoleConfig { listen, public_url, password_login: raw.password_login.unwrap_or(false), session: Duration::from_secs(hours * 3600) };
        let rp_id = console.rp_id();
        if rp_id.parse::<std::net::IpAddr>().is_ok() || rp_id.starts_with('[') {
            self.error(
                raw.public_url.as_ref().and_then(|u| u.position),
                format!("public_url names an IP address ({rp_id})"),
                "passkeys need a host name: use localhost or the DNS name people type",
            );
            return None;
        }
        Some(console)
    }
}
