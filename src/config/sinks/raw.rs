//! The `sinks:` entries as written in YAML, one type per `type:`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::output::EventFormat;
use crate::config::spanned::At;

/// One sink, tagged by `type`.
#[derive(JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RawSink {
    /// Events as lines on standard output.
    Stdout(RawStdoutSink),
    /// Events appended to a file.
    File(RawFileSink),
    /// RFC 5424 syslog to a collector or SIEM.
    Syslog(RawSyslogSink),
    /// POST of encoded event lines to any HTTP(S) receiver.
    Http(RawHttpSink),
    /// Splunk HTTP Event Collector.
    SplunkHec(RawHttpSink),
    /// Elasticsearch / OpenSearch `_bulk` (ECS documents).
    Elastic(RawHttpSink),
    /// Webhook: `format: json`, `slack` or `teams` (one message per incident).
    Webhook(RawHttpSink),
}

/// `type: stdout` sink.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStdoutSink {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name; also names the sink's delivery cursor in the store.
    pub name: At<String>,
    /// Encoding of each line. Default `json`.
    pub format: Option<EventFormat>,
    /// Which events to forward (default: all).
    pub filter: Option<RawSinkFilter>,
    /// Forward only the first event of each incident. Default false.
    pub incidents_only: Option<bool>,
}

/// `type: file` sink.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFileSink {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name; also names the sink's delivery cursor in the store.
    pub name: At<String>,
    /// File to append to (its directory must exist).
    pub path: At<String>,
    /// Encoding of each line. Default `json`.
    pub format: Option<EventFormat>,
    /// fsync the file after each batch. Default true.
    pub fsync: Option<bool>,
    /// Which events to forward (default: all).
    pub filter: Option<RawSinkFilter>,
    /// Forward only the first event of each incident. Default false.
    pub incidents_only: Option<bool>,
}

/// `type: syslog` sink.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSyslogSink {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name; also names the sink's delivery cursor in the store.
    pub name: At<String>,
    /// The collector, `IP:PORT` (514 for UDP/TCP; 6514 for TLS).
    pub address: At<String>,
    /// `tcp` (default; octet-counting framing, RFC 6587), `tls` (RFC 5425) or `udp`
    /// (one datagram per event).
    pub transport: Option<At<String>>,
    /// For `transport: tls`: `ca_file` (required; only this CA is trusted),
    /// `server_name` (default: the address's IP), `cert_file` and `key_file` (client
    /// certificate, optional).
    pub tls: Option<At<RawSyslogTls>>,
    /// Syslog facility code, 0-23. Default 10 (authpriv).
    pub facility: Option<At<u64>>,
    /// Private enterprise number in the SD-ID `honeyward@N`. Default 32473.
    pub enterprise_number: Option<At<u64>>,
    /// Message body: `rfc5424` (structured data; default), `cef`, `leef` or `json`.
    pub format: Option<EventFormat>,
    /// Which events to forward (default: all).
    pub filter: Option<RawSinkFilter>,
    /// Forward only the first event of each incident. Default false.
    pub incidents_only: Option<bool>,
}

/// `tls:` of a syslog sink.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSyslogTls {
    pub ca_file: At<String>,
    pub server_name: Option<String>,
    pub cert_file: Option<At<String>>,
    pub key_file: Option<At<String>>,
}

/// `type: http`, `splunk_hec`, `elastic` or `webhook` sink.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSink {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name; also names the sink's delivery cursor in the store.
    pub name: At<String>,
    /// Receiver URL, e.g. https://splunk.trust.nhs.uk:8088 (HEC path added if missing).
    pub url: Option<At<String>>,
    /// Read the URL from this environment variable instead (chat webhook URLs are secrets).
    pub url_env: Option<At<String>>,
    /// Read the URL from this file instead.
    pub url_file: Option<At<String>>,
    /// http: any event format (default json). splunk_hec: json (default), ecs, ocsf,
    /// cef, leef, rfc5424. elastic: ecs. webhook: json (default), slack, teams.
    pub format: Option<At<String>>,
    /// Token from this environment variable: HEC token (splunk_hec), API key
    /// (elastic), bearer token (http, webhook).
    pub token_env: Option<At<String>>,
    /// Token from this file instead.
    pub token_file: Option<At<String>>,
    /// Basic authentication user (elastic, http), with `password_env` or `password_file`.
    pub username: Option<At<String>>,
    pub password_env: Option<At<String>>,
    pub password_file: Option<At<String>>,
    /// splunk_hec: index (default: the token's); elastic: index (default honeyward-events).
    pub index: Option<At<String>>,
    /// splunk_hec: sourcetype (default honeyward:event).
    pub sourcetype: Option<At<String>>,
    /// HTTPS: `ca_file` (default: the system bundle), `cert_file` and `key_file`.
    pub tls: Option<At<RawHttpSinkTls>>,
    /// gzip request bodies. Default true for splunk_hec and elastic, false otherwise.
    pub gzip: Option<bool>,
    /// Time allowed to connect, and to get an answer. Default 10.
    pub timeout_seconds: Option<At<u64>>,
    /// Allow receivers on private, loopback or link-local addresses (internal SIEMs).
    /// Default false.
    pub allow_private_addresses: Option<bool>,
    /// Send credentials (a token, a password, a secret URL) over plain `http://`:
    /// allowed only to a receiver on this host's loopback. Default false: credentials
    /// travel over https only.
    pub allow_plain_http: Option<bool>,
    /// Forward only the first event of each incident. Always on for slack and teams.
    pub incidents_only: Option<bool>,
    /// Which events to forward (default: all).
    pub filter: Option<RawSinkFilter>,
}

/// `tls:` of an HTTP sink.
#[derive(Deserialize, JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSinkTls {
    pub ca_file: Option<At<String>>,
    pub cert_file: Option<At<String>>,
    pub key_file: Option<At<String>>,
}

/// `filter:` of a sink: which events it forwards.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSinkFilter {
    /// `info`, `low`, `medium`, `high` or `critical`: events below are not forwarded.
    pub min_severity: Option<At<String>>,
    /// Event kinds to forward (default: all), e.g. [ssh_auth, http_request].
    pub kinds: Option<Vec<At<String>>>,
    /// Decoys whose events are forwarded (default: all).
    pub decoys: Option<Vec<At<String>>>,
}
