//! Validated configuration: every value already has its real type.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

pub use super::output::{EventFormat, SinkFilter};

/// A complete, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (a path, or the embedded default's name).
    pub origin: String,
    pub sensor: SensorConfig,
    pub store: StoreConfig,
    pub decoys: Vec<DecoyConfig>,
    pub sinks: Vec<SinkConfig>,
    /// Files watched for opens (besides planted `file` tokens).
    pub canaries: Vec<CanaryConfig>,
    /// How events are grouped into incidents, and the allow-list.
    pub alerts: crate::incident::IncidentConfig,
    /// `honeyward controller`: where it listens.
    pub controller: Option<super::fleet::ControllerConfig>,
    /// `honeyward sensor`: the controller it forwards to.
    pub upstream: Option<super::fleet::UpstreamConfig>,
    /// The web console and `/metrics`.
    pub console: Option<super::console::ConsoleConfig>,
}

/// A watched file that is not a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryConfig {
    /// Absolute path.
    pub path: PathBuf,
    pub label: String,
}

/// This host's identity.
#[derive(Debug, Clone)]
pub struct SensorConfig {
    /// Names this sensor in every event.
    pub name: String,
    /// Resident memory budget of the process, MiB; decoys refuse new connections at it.
    pub max_memory_mb: Option<u64>,
}

/// How SQLite commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreSync {
    /// fsync every commit: survives power loss.
    Full,
    /// fsync at checkpoints only: survives a process crash (kill -9), not power loss.
    Normal,
}

/// The event store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    /// honeyward's own state: the token digest key, host keys.
    pub state_dir: PathBuf,
    pub sync: StoreSync,
    /// Most events in one commit.
    pub batch_max_events: NonZeroUsize,
    /// Longest a received event waits for its batch to fill before commit.
    pub flush_interval: Duration,
    /// Events that may wait between the decoys and the store before decoys stop accepting.
    pub queue_capacity_events: NonZeroUsize,
}

/// Limits every decoy enforces on its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_connections_per_source: usize,
    pub idle_timeout: Duration,
    pub session_timeout: Duration,
    pub max_session_bytes: u64,
}

/// A TCP banner decoy.
#[derive(Debug, Clone)]
pub struct TcpDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    /// Sent as soon as a peer connects (may be empty).
    pub banner: Vec<u8>,
    /// How many of the peer's first bytes are kept in the `data_received` event.
    pub capture_bytes: usize,
    pub limits: ConnectionLimits,
}

/// Who an SSH decoy lets into its fake shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AcceptPolicy {
    /// Nobody: every attempt is refused.
    #[default]
    Nobody,
    /// Active planted `ssh-password` and `ssh-key` tokens log in (ATT&CK T1078).
    Tokens,
    /// These username/password pairs log in.
    Credentials(Vec<(String, String)>),
}

/// Which personality a decoy wears, as the configuration names it: a built-in by name
/// or the path of a YAML file. The decoy that wears it reads and checks it (the
/// personality's types are the decoy's); `at` points back into the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalityChoice {
    pub name: String,
    pub at: super::ConfigError,
}

impl PersonalityChoice {
    /// A mistake in the chosen personality, reported at the configuration's line.
    pub fn error(&self, message: impl Into<String>, hint: impl Into<String>) -> super::ConfigError {
        let hint = hint.into();
        super::ConfigError { message: message.into(), hint: (!hint.is_empty()).then_some(hint), ..self.at.clone() }
    }

    /// The path of the personality's file, when it names one (not a built-in).
    pub fn is_path(&self) -> bool {
        self.name.contains('/') || self.name.ends_with(".yaml")
    }
}

/// An SSH decoy.
#[derive(Debug, Clone)]
pub struct SshDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// `failure_delay_ms`: one fixed delay for every counted failure, instead of the
    /// personality's model.
    pub failure_delay_ms: Option<u64>,
    pub accept: AcceptPolicy,
    pub limits: ConnectionLimits,
}

/// An HTTP decoy.
#[derive(Debug, Clone)]
pub struct HttpDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// HTTPS, when set.
    pub tls: Option<crate::tls::TlsSource>,
    pub limits: ConnectionLimits,
}

/// A DICOM decoy.
#[derive(Debug, Clone)]
pub struct DicomDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    pub ae_title: Option<String>,
    pub cohort_size: usize,
    pub uid_root: String,
    pub quarantine_max_objects: u64,
    pub quarantine_max_bytes: u64,
    /// C-MOVE destinations: (AE title, address). Others are refused.
    pub move_destinations: Vec<(String, SocketAddr)>,
    pub limits: ConnectionLimits,
}

/// One decoy, by protocol.
#[derive(Debug, Clone)]
pub enum DecoyConfig {
    Tcp(TcpDecoyConfig),
    Ssh(SshDecoyConfig),
    Http(HttpDecoyConfig),
    Dicom(DicomDecoyConfig),
}

impl DecoyConfig {
    /// The decoy's unique name.
    pub fn name(&self) -> &str {
        match self {
            DecoyConfig::Tcp(c) => &c.name,
            DecoyConfig::Ssh(c) => &c.name,
            DecoyConfig::Http(c) => &c.name,
            DecoyConfig::Dicom(c) => &c.name,
        }
    }

    /// The protocol, as written in `type:`.
    pub fn type_name(&self) -> &'static str {
        match self {
            DecoyConfig::Tcp(_) => "tcp",
            DecoyConfig::Ssh(_) => "ssh",
            DecoyConfig::Http(_) => "http",
            DecoyConfig::Dicom(_) => "dicom",
        }
    }

    /// Where it listens.
    pub fn listen(&self) -> SocketAddr {
        match self {
            DecoyConfig::Tcp(c) => c.listen,
            DecoyConfig::Ssh(c) => c.listen,
            DecoyConfig::Http(c) => c.listen,
            DecoyConfig::Dicom(c) => c.listen,
        }
    }

    /// Its connection limits.
    pub fn limits(&self) -> ConnectionLimits {
        match self {
            DecoyConfig::Tcp(c) => c.limits,
            DecoyConfig::Ssh(c) => c.limits,
            DecoyConfig::Http(c) => c.limits,
            DecoyConfig::Dicom(c) => c.limits,
        }
    }
}

/// Writes events to standard output.
#[derive(Debug, Clone)]
pub struct StdoutSinkConfig {
    pub name: String,
    pub format: EventFormat,
    pub filter: SinkFilter,
    pub incidents_only: bool,
}

/// The filter that lets everything through.
static NO_FILTER: SinkFilter = SinkFilter { min_severity: None, kinds: Vec::new(), decoys: Vec::new() };

/// Appends events to a file.
#[derive(Debug, Clone)]
pub struct FileSinkConfig {
    pub name: String,
    pub path: PathBuf,
    pub format: EventFormat,
    pub filter: SinkFilter,
    /// fsync after each batch.
    pub fsync: bool,
    pub incidents_only: bool,
}

/// One destination for the event stream.
#[derive(Debug, Clone)]
pub enum SinkConfig {
    Stdout(StdoutSinkConfig),
    File(FileSinkConfig),
    Syslog(SyslogSinkConfig),
    Http(super::http_sink::HttpSinkConfig),
    /// A sensor's link to its controller (from `upstream:`; named `controller`).
    Controller(super::fleet::UpstreamConfig),
}

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// TCP with octet-counting framing (RFC 6587 §3.4.1).
    Tcp,
    /// One UDP datagram per message (RFC 5426).
    Udp,
    /// TLS (RFC 5425) with octet-counting framing.
    Tls,
}

/// TLS settings of a syslog sink.
#[derive(Debug, Clone)]
pub struct SyslogTls {
    /// PEM file of the CA(s) the collector's certificate must chain to: only these are
    /// trusted (pinning; the system's roots are not used).
    pub ca_file: std::path::PathBuf,
    /// Name the certificate must carry (default: the address's IP).
    pub server_name: String,
    /// Our client certificate and key, when the collector asks for one.
    pub client: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// A syslog sink.
#[derive(Debug, Clone)]
pub struct SyslogSinkConfig {
    pub name: String,
    pub address: SocketAddr,
    pub transport: SyslogTransport,
    pub options: super::encoding::SyslogOptions,
    /// Message body: `rfc5424` (structured data, default), `cef`, `leef` or `json`.
    pub format: EventFormat,
    /// For `transport: tls`.
    pub tls: Option<SyslogTls>,
    pub filter: SinkFilter,
    pub incidents_only: bool,
}

impl SinkConfig {
    /// The sink's unique name (also the name of its cursor in the store).
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Stdout(c) => &c.name,
            SinkConfig::File(c) => &c.name,
            SinkConfig::Syslog(c) => &c.name,
            SinkConfig::Http(c) => &c.name,
            SinkConfig::Controller(_) => "controller",
        }
    }

    /// Forwards only the first event of each incident.
    pub fn incidents_only(&self) -> bool {
        match self {
            SinkConfig::Stdout(c) => c.incidents_only,
            SinkConfig::File(c) => c.incidents_only,
            SinkConfig::Syslog(c) => c.incidents_only,
            SinkConfig::Http(c) => c.incidents_only,
            SinkConfig::Controller(_) => false,
        }
    }

    /// Which events it forwards.
    pub fn filter(&self) -> &SinkFilter {
        match self {
            SinkConfig::Stdout(c) => &c.filter,
            SinkConfig::File(c) => &c.filter,
            SinkConfig::Syslog(c) => &c.filter,
            SinkConfig::Http(c) => &c.filter,
            SinkConfig::Controller(_) => &NO_FILTER,
        }
    }

    /// The transport, as written in `type:`.
    pub fn type_name(&self) -> &'static str {
        match self {
            SinkConfig::Stdout(_) => "stdout",
            SinkConfig::File(_) => "file",
            SinkConfig::Syslog(_) => "syslog",
            SinkConfig::Http(c) => c.kind.as_str(),
            SinkConfig::Controller(_) => "controller",
        }
    }
}
