//! `sinks:` section: what each sink is once checked (here and in [`http`]), as written
//! ([`raw`]), the checks between the two ([`check`]), and the encoders' options.

mod check;
mod encoding;
mod http;
mod output;
mod raw;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use encoding::{ChatFormat, HecOptions, SyslogOptions, DEFAULT_ENTERPRISE_NUMBER};
pub use http::{is_private, HttpAuth, HttpBody, HttpSinkConfig, HttpSinkKind, SYSTEM_CA_BUNDLE};
pub use output::{EventFormat, SinkFilter};
pub(super) use raw::RawSink;

/// One destination for the event stream.
#[derive(Debug, Clone)]
pub enum SinkConfig {
    Stdout(StdoutSinkConfig),
    File(FileSinkConfig),
    Syslog(SyslogSinkConfig),
    Http(HttpSinkConfig),
    /// A sensor's link to its controller (from `upstream:`; named `controller`).
    Controller(super::fleet::UpstreamConfig),
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

/// The filter that lets everything through.
static NO_FILTER: SinkFilter = SinkFilter { min_severity: None, kinds: Vec::new(), decoys: Vec::new() };

/// Writes events to standard output.
#[derive(Debug, Clone)]
pub struct StdoutSinkConfig {
    pub name: String,
    pub format: EventFormat,
    pub filter: SinkFilter,
    pub incidents_only: bool,
}

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

/// A syslog sink.
#[derive(Debug, Clone)]
pub struct SyslogSinkConfig {
    pub name: String,
    pub address: SocketAddr,
    pub transport: SyslogTransport,
    pub options: SyslogOptions,
    /// Message body: `rfc5424` (structured data, default), `cef`, `leef` or `json`.
    pub format: EventFormat,
    /// For `transport: tls`.
    pub tls: Option<SyslogTls>,
    pub filter: SinkFilter,
    pub incidents_only: bool,
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
