//! Raw configuration types, exactly as written in YAML (before validation).
//!
//! These also generate the JSON Schema printed by `honeyward schema`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::spanned::At;
use super::types::{EventFormat, StoreSync};

/// A honeyward configuration file.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read through per-section parsing; the whole type documents the schema
pub struct RawConfig {
    /// This host's identity.
    #[serde(default)]
    pub sensor: Option<RawSensor>,
    /// The event store.
    #[serde(default)]
    pub store: Option<RawStore>,
    /// The decoys this sensor runs.
    #[serde(default)]
    pub decoys: Vec<RawDecoy>,
    /// Where events are forwarded.
    #[serde(default)]
    pub sinks: Vec<RawSink>,
    /// Files on this host to watch for opens, besides planted `file` tokens.
    #[serde(default)]
    pub canaries: Vec<RawCanary>,
    /// Incidents and the allow-list.
    #[serde(default)]
    pub alerts: Option<RawAlerts>,
    /// `honeyward controller`: where sensors and API clients connect.
    #[serde(default)]
    pub controller: Option<super::fleet::RawController>,
    /// `honeyward sensor`: the controller this sensor forwards to.
    #[serde(default)]
    pub upstream: Option<super::fleet::RawUpstream>,
    /// The web console and Prometheus `/metrics` (loopback, plain HTTP).
    #[serde(default)]
    pub console: Option<super::console::RawConsole>,
}

/// One entry of `canaries:`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCanary {
    /// The file (its directory must exist; the file may appear later).
    pub path: At<String>,
    /// What it is, shown in alerts.
    pub label: Option<String>,
}

/// `sensor:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSensor {
    /// Name put in every event. Default: the host name.
    pub name: Option<At<String>>,
    /// Resident memory budget of the whole process, MiB (32..=1048576). At or over it,
    /// every decoy refuses new connections (recorded as `connections_refused` with
    /// limit `max_memory`) until memory is back under. Default: no budget.
    pub max_memory_mb: Option<At<u64>>,
}

/// `store:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// SQLite database file. Default: `./honeyward.db`.
    pub path: Option<At<String>>,
    /// `full` (fsync every commit, survives power loss; default) or `normal`
    /// (survives a process crash only).
    pub sync: Option<StoreSync>,
    /// Most events in one commit (1..=100000). Default 4096.
    pub batch_max_events: Option<At<u64>>,
    /// Longest an event waits for its batch before commit, in ms (0..=1000). Default 2.
    pub flush_interval_ms: Option<At<u64>>,
    /// honeyward's own state (token digest key, host keys), created 0700 if missing.
    /// Default: `./honeyward-state`.
    pub state_dir: Option<At<String>>,
    /// Events queued between decoys and the store before decoys stop accepting
    /// (16..=10000000). Default 65536.
    pub queue_capacity_events: Option<At<u64>>,
}

/// One decoy, tagged by `type`.
#[derive(JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RawDecoy {
    /// A TCP listener that sends a banner and records what the peer sends.
    Tcp(RawTcpDecoy),
    /// An SSH server that passes for OpenSSH and records every login attempt.
    Ssh(RawSshDecoy),
    /// A web server that answers like a real product and records every request.
    Http(RawHttpDecoy),
    /// A PACS that answers DICOM like a real product and serves honey patients.
    Dicom(RawDicomDecoy),
}

/// `type: dicom` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDicomDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (104, 11112 or 4242 on a real sensor).
    pub listen: At<String>,
    /// Built-in personality (`orthanc`, default; `dcm4chee`, `dcmtk-storescp`) or the
    /// path of your own YAML.
    pub personality: Option<At<String>>,
    /// Our AE title (default: the personality's, e.g. ORTHANC).
    pub ae_title: Option<At<String>>,
    /// Synthetic patients in the archive besides the honey-patient tokens (default 40).
    pub cohort_size: Option<At<u64>>,
    /// DICOM UID root of the cohort's studies (default 2.25).
    pub uid_root: Option<At<String>>,
    /// Most C-STORE objects kept in quarantine (default 1000).
    pub quarantine_max_objects: Option<At<u64>>,
    /// Most bytes kept in quarantine (default 256 MiB).
    pub quarantine_max_bytes: Option<At<u64>>,
    /// C-MOVE destinations honeyward may send honey instances to: AE title →
    /// `IP:PORT`. A move to any other AE is refused (0xA801) without a connection.
    pub move_destinations: Option<std::collections::BTreeMap<String, At<String>>>,
    /// Connection (association) limits; `idle_timeout_seconds` is the per-PDU deadline.
    pub limits: Option<RawLimits>,
}

/// `type: http` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttpDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT`.
    pub listen: At<String>,
    /// Built-in personality (`nginx-default`, default; `ehr-login`, `pacs-viewer`,
    /// `nas-login`) or the path of your own YAML.
    pub personality: Option<At<String>>,
    /// Serve HTTPS (h2 too when the personality offers it).
    pub tls: Option<At<RawHttpTls>>,
    /// Connection limits (`idle_timeout_seconds` is also the header-read timeout).
    pub limits: Option<RawLimits>,
}

/// `tls:` of an HTTP decoy: your certificate, or one generated for this decoy.
#[derive(Deserialize, JsonSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawHttpTls {
    /// PEM certificate chain (leaf first). With `key_file`.
    pub cert_file: Option<At<String>>,
    /// PEM private key. With `cert_file`.
    pub key_file: Option<At<String>>,
    /// Subject of a generated certificate (default: this host's name).
    pub common_name: Option<String>,
    /// Organisation of a generated certificate and its issuing CA (default `IT Services`).
    pub organisation: Option<String>,
}

/// `type: ssh` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSshDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs (and to name its host keys).
    pub name: At<String>,
    /// Address to listen on, `IP:PORT`.
    pub listen: At<String>,
    /// Built-in personality (`openssh-debian12`, default; `openssh-debian13`,
    /// `openssh-ubuntu2204`, `openssh-ubuntu2404`, `dropbear-debian12`) or the path of
    /// your own personality YAML.
    pub personality: Option<At<String>>,
    /// Override the personality's failure-delay model (sshd's per-user PAM timing,
    /// Dropbear's 250-350 ms) with this fixed delay, in ms (0..=10000).
    pub failure_delay_ms: Option<At<u64>>,
    /// Who gets the fake shell: `nobody` (default), `tokens` (planted ssh-password and
    /// ssh-key tokens log in), or a list of `{username, password}`.
    pub accept: Option<RawAccept>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `type: tcp` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTcpDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (port 0 picks a free port).
    pub listen: At<String>,
    /// Text sent when a peer connects (YAML escapes such as `\r\n` work in double quotes).
    pub banner: Option<String>,
    /// Read the banner from this file instead (exact bytes).
    pub banner_file: Option<At<String>>,
    /// How many of the peer's first bytes to keep in the event (0..=1048576). Default 4096.
    pub capture_bytes: Option<At<u64>>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `accept:` of an SSH decoy.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(untagged)]
pub enum RawAccept {
    /// `nobody` or `tokens`.
    Mode(String),
    /// These username/password pairs log in.
    Credentials(Vec<RawCredential>),
}

/// One accepted username/password pair.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub username: String,
    pub password: String,
}

/// Connection limits of a decoy.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Most simultaneous connections (1..=1000000). Default 1024.
    pub max_connections: Option<At<u64>>,
    /// Most simultaneous connections from one IP address (1..=1000000). Default 64.
    pub max_connections_per_source: Option<At<u64>>,
    /// Close a connection that sends nothing for this long (1..=86400). Default 30.
    pub idle_timeout_seconds: Option<At<u64>>,
    /// Close any connection after this long (1..=86400). Default 300.
    pub session_timeout_seconds: Option<At<u64>>,
    /// Close a connection after it sent this many bytes (1..=1073741824). Default 1048576.
    pub max_session_bytes: Option<At<u64>>,
}

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

/// `tls:` of a syslog sink.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSyslogTls {
    pub ca_file: At<String>,
    pub server_name: Option<String>,
    pub cert_file: Option<At<String>>,
    pub key_file: Option<At<String>>,
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

/// `alerts:`: incidents and the allow-list.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// An incident stays open while its events are at most this far apart (default 900).
    pub incident_window_seconds: Option<At<u64>>,
    /// Events to suppress (kept, in suppressed incidents): e.g. the authorised
    /// vulnerability scanner.
    pub ignore: Option<RawIgnore>,
}

/// `alerts.ignore`.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIgnore {
    /// Source addresses or networks, e.g. [10.20.0.50, 10.99.0.0/24].
    pub sources: Option<Vec<At<String>>>,
    pub decoys: Option<Vec<At<String>>>,
    pub kinds: Option<Vec<At<String>>>,
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

/// The JSON Schema of the configuration file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawConfig);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
