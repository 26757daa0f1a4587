//! The fleet sections: `controller:` (for `honeyward controller`) and `upstream:`
//! (for `honeyward sensor`: where to forward, with which credential).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::Node;
use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;
use super::url::SinkUrl;

/// `controller:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawController {
    /// HTTPS address sensors and API clients connect to, IP:PORT. Default 0.0.0.0:8443.
    pub listen: Option<At<String>>,
    /// Name sensors use to reach the controller (in its generated certificate).
    /// Default: the listen IP.
    pub server_name: Option<At<String>>,
    /// The controller's own certificate chain and key (PEM); default: generated once
    /// into the state directory, with its CA handed to sensors at enrolment.
    pub cert_file: Option<At<String>>,
    pub key_file: Option<At<String>>,
    /// A sensor not heard from for this long raises a `sensor_silent` event. Default 60.
    pub silent_after_seconds: Option<At<u64>>,
    /// Also consume sensor events from this NATS JetStream server, e.g. nats://10.20.0.4:4222
    pub nats_url: Option<At<String>>,
    /// NATS credentials (a `.creds` file: user JWT and seed), for a server in operator mode.
    pub nats_creds_file: Option<At<String>>,
    /// CA certificate (PEM) the NATS server's certificate must chain to; TLS is then required.
    pub nats_ca_file: Option<At<String>>,
}

/// `upstream:` section.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// The controller, e.g. https://honeyward-controller.trust.nhs.uk:8443
    pub url: At<String>,
    /// The credential file `honeyward controller enrol NAME --out FILE` wrote.
    pub credential_file: At<String>,
    /// Disk budget of the local store used as a spool, in MiB. Default 1024.
    pub spool_max_mb: Option<At<u64>>,
    /// Heartbeat interval. Default 10.
    pub heartbeat_seconds: Option<At<u64>>,
    /// How often the token index is pulled. Default 2.
    pub token_sync_seconds: Option<At<u64>>,
    /// Send events through this NATS JetStream server instead of HTTPS ingest
    /// (heartbeats and the token index still go to `url`).
    pub nats_url: Option<At<String>>,
    /// NATS credentials (a `.creds` file: user JWT and seed), for a server in operator mode.
    pub nats_creds_file: Option<At<String>>,
    /// CA certificate (PEM) the NATS server's certificate must chain to; TLS is then required.
    pub nats_ca_file: Option<At<String>>,
}

/// The controller's settings.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub listen: SocketAddr,
    pub server_name: String,
    pub cert: Option<(PathBuf, PathBuf)>,
    pub silent_after: Duration,
    pub nats: Option<NatsConfig>,
}

/// How to reach a NATS JetStream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// One URL or several separated by commas (may hold a user and password).
    pub url: String,
    /// A `.creds` file (user JWT and nkey seed).
    pub creds_file: Option<PathBuf>,
    /// The CA the server's certificate must chain to (TLS required when set).
    pub ca_file: Option<PathBuf>,
}

/// What a sensor's credential file holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct SensorCredential {
    pub sensor: String,
    /// The signing key, base64.
    pub key: String,
    /// The controller's CA certificate (PEM): the only one the sensor trusts.
    pub controller_ca: String,
}

impl SensorCredential {
    pub fn key_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(&self.key).ok()
    }
}

impl std::fmt::Display for SensorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "credential of sensor {}", self.sensor)
    }
}

/// A sensor's link to its controller.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub url: SinkUrl,
    pub credential: SensorCredential,
    pub spool_max_bytes: u64,
    pub heartbeat: Duration,
    pub token_sync: Duration,
    pub nats: Option<NatsConfig>,
}

impl Checker<'_> {
    pub(super) fn controller(&mut self, node: Option<&Node>) -> Option<ControllerConfig> {
        let raw: RawController = self.parse(node?)?;
        let listen = match &raw.listen {
            Some(l) => l
                .value
                .parse::<SocketAddr>()
                .map_err(|_| self.error(l.position, format!("invalid listen address {:?}", l.value), "write IP:PORT, e.g. 0.0.0.0:8443"))
                .ok()?,
            None => SocketAddr::from(([0, 0, 0, 0], 8443)),
        };
        let cert = match (&raw.cert_file, &raw.key_file) {
            (Some(c), Some(k)) => Some((c.value.clone().into(), k.value.clone().into())),
            (None, None) => None,
            (Some(c), None) | (None, Some(c)) => {
                self.error(c.position, "set both `cert_file` and `key_file`, or neither (a certificate is then generated)", "");
                None
            }
        };
        let server_name =
            raw.server_name.map(|s| s.value).unwrap_or_else(|| if listen.ip().is_unspecified() { super::sensor::host_name() } else { listen.ip().to_string() });
        let silent_after = Duration::from_secs(self.number(&raw.silent_after_seconds, "silent_after_seconds", 60, 5..=86_400));
        let nats = self.nats(&raw.nats_url, &raw.nats_creds_file, &raw.nats_ca_file);
        Some(ControllerConfig { listen, server_name, cert, silent_after, nats })
    }

    pub(super) fn upstream(&mut self, node: Option<&Node>) -> Option<UpstreamConfig> {
        let raw: RawUpstream = self.parse(node?)?;
        let uri = raw.url.value.parse::<hyper::Uri>().ok().filter(|u| u.scheme_str() == Some("https") && u.host().is_some());
        let Some(uri) = uri else {
            self.error(
                raw.url.position,
                format!("invalid controller URL {:?}", raw.url.value),
                "write https://HOST:PORT (sensors only talk to the controller over TLS)",
            );
            return None;
        };
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let url = SinkUrl { https: true, host, port: uri.port_u16().unwrap_or(443), path: "/".into(), secret: false };
        let credential = std::fs::read_to_string(&raw.credential_file.value)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<SensorCredential>(&text).map_err(|e| e.to_string()))
            .and_then(|c| if c.key_bytes().is_some_and(|k| k.len() >= 32) { Ok(c) } else { Err("the key is not valid base64 of 32 bytes".into()) });
        let credential = match credential {
            Ok(c) => c,
            Err(e) => {
                self.error(
                    raw.credential_file.position,
                    format!("cannot use the sensor credential {}: {e}", raw.credential_file.value),
                    "write it with `honeyward controller enrol NAME --out FILE` on the controller",
                );
                return None;
            }
        };
        Some(UpstreamConfig {
            url,
            credential,
            spool_max_bytes: self.number(&raw.spool_max_mb, "spool_max_mb", 1024, 16..=1_048_576) * 1024 * 1024,
            heartbeat: Duration::from_secs(self.number(&raw.heartbeat_seconds, "heartbeat_seconds", 10, 1..=3600)),
            token_sync: Duration::from_secs(self.number(&raw.token_sync_seconds, "token_sync_seconds", 2, 1..=3600)),
            nats: self.nats(&raw.nats_url, &raw.nats_creds_file, &raw.nats_ca_file),
        })
    }

    fn nats(&mut self, url: &Option<At<String>>, creds: &Option<At<String>>, ca: &Option<At<String>>) -> Option<NatsConfig> {
        let Some(url) = url.as_ref() else {
            if let Some(extra) = creds.as_ref().or(ca.as_ref()) {
                self.error(extra.position, "NATS credentials or a CA without `nats_url`", "set `nats_url` too, or remove this");
            }
            return None;
        };
        if !url.value.split(',').all(|u| u.trim().starts_with("nats://") || u.trim().starts_with("tls://")) {
            self.error(url.position, format!("invalid NATS URL {:?}", url.value), "write nats://HOST:4222 (or tls://HOST:4222)");
            return None;
        }
        let creds_file = creds.as_ref().and_then(|c| {
            self.pem_like(
                c,
                &["-----BEGIN NATS USER JWT-----", "-----BEGIN USER NKEY SEED-----"],
                "a NATS .creds file (user JWT and seed), e.g. from `nsc generate creds`",
            )
        });
        let ca_file = ca.as_ref().and_then(|c| self.pem_like(c, &["-----BEGIN CERTIFICATE-----"], "a PEM CA certificate"));
        Some(NatsConfig { url: url.value.clone(), creds_file, ca_file })
    }

    /// A file that must be readable now and hold each of `markers`.
    fn pem_like(&mut self, file: &At<String>, markers: &[&str], what: &str) -> Option<PathBuf> {
        match std::fs::read_to_string(&file.value) {
            Ok(text) if markers.iter().all(|m| text.contains(m)) => Some(PathBuf::from(&file.value)),
            Ok(_) => {
                self.error(file.position, format!("{} is not {what}", file.value), "");
                None
            }
            Err(e) => {
                self.error(file.position, format!("cannot read {}: {e}", file.value), "");
                None
            }
        }
    }
}
