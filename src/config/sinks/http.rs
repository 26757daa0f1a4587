//! Validated settings of the HTTP sinks: Splunk HEC, Elasticsearch `_bulk`, chat and
//! generic webhooks, and plain HTTP POST of encoded lines.

use std::path::PathBuf;
use std::time::Duration;

use super::encoding::{ChatFormat, HecOptions};
use super::output::{EventFormat, SinkFilter};
use crate::config::secret::Secret;
use crate::config::url::SinkUrl;

/// `type:` of an HTTP sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpSinkKind {
    /// POST of encoded lines (any `format`), newline-separated.
    Http,
    /// Splunk HTTP Event Collector.
    SplunkHec,
    /// Elasticsearch / OpenSearch `_bulk` with ECS documents.
    Elastic,
    /// A webhook: generic JSON, Slack or Microsoft Teams.
    Webhook,
}

impl HttpSinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpSinkKind::Http => "http",
            HttpSinkKind::SplunkHec => "splunk_hec",
            HttpSinkKind::Elastic => "elastic",
            HttpSinkKind::Webhook => "webhook",
        }
    }
}

/// What a request body holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpBody {
    /// Encoded events, one per line.
    Lines(EventFormat),
    /// Splunk HEC envelopes.
    Hec(HecOptions),
    /// `_bulk` create actions into this index.
    Bulk { index: String },
    /// `{"events": [...]}` of JSON events, one request per batch.
    JsonEvents,
    /// One chat message per request, per incident.
    Chat(ChatFormat),
}

/// How the sink authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Splunk <token>`.
    Splunk(Secret),
    /// `Authorization: ApiKey <key>` (Elasticsearch API keys, already base64).
    ApiKey(Secret),
    /// `Authorization: Basic` with this user and password.
    Basic {
        username: String,
        password: Secret,
    },
}

/// An HTTP sink.
#[derive(Debug, Clone)]
pub struct HttpSinkConfig {
    pub name: String,
    pub kind: HttpSinkKind,
    pub url: SinkUrl,
    pub body: HttpBody,
    pub auth: HttpAuth,
    /// CA bundle trusted for HTTPS (default: the system's, /etc/ssl/certs/ca-certificates.crt).
    pub ca_file: PathBuf,
    /// Client certificate and key, when the receiver asks for one.
    pub client: Option<(PathBuf, PathBuf)>,
    /// Compress request bodies (turned off by itself if the receiver answers 415).
    pub gzip: bool,
    /// Connect, send and answer, each.
    pub timeout: Duration,
    /// Private, loopback and link-local receivers are refused unless this is set.
    pub allow_private_addresses: bool,
    /// Forward only the first event of each incident (always, for chat formats).
    pub incidents_only: bool,
    pub filter: SinkFilter,
}

/// The system CA bundle on Debian and its derivatives.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// True for addresses that are not on the public internet: loopback, RFC 1918,
/// carrier-grade NAT, link-local, unique local, unspecified.
pub fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(std::net::IpAddr::V4(v4));
            }
            v6.is_loopback() || v6.is_unspecified() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_private_addresses() {
        for (ip, private) in [
            ("127.0.0.1", true),
            ("10.20.0.9", true),
            ("172.16.5.5", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("169.254.169.254", true),
            ("8.8.8.8", false),
            ("::1", true),
            ("fd00::1", true),
            ("fe80::1", true),
            ("::ffff:10.0.0.1", true),
            ("2001:4860::8888", false),
        ] {
            assert_eq!(is_private(ip.parse().unwrap()), private, "{ip}");
        }
    }
}
