//! Configuration: one YAML file → raw serde types → validated types, one file (or
//! folder) per section: `sensor`, `store`, `decoys/`, `sinks/`, `canaries`, `alerts`,
//! `fleet` (controller and upstream), `console`, `cohort`.
//!
//! Parsing collects every mistake in the file before giving up, each with
//! `file:line:col` and a one-line hint. Nothing downstream re-checks a value.
//! Configuration is a leaf: it names no decoy, sink or other part of honeyward.

mod alerts;
mod canaries;
mod checker;
mod cohort;
mod console;
mod decoys;
mod error;
mod fleet;
mod load;
mod networks;
mod schema;
mod secret;
mod sensor;
mod sinks;
mod spanned;
mod store;
mod url;

pub use alerts::{Cidr, Ignore, IncidentConfig};
pub use canaries::CanaryConfig;
pub use cohort::CohortConfig;
pub use console::ConsoleConfig;
pub use decoys::{
    AcceptPolicy, ConnectionLimits, DecoyConfig, DicomDecoyConfig, Hl7DecoyConfig, Hl7Engine, HoneyShare, HttpDecoyConfig, OfferAccount, PersonalityChoice,
    PoisonCanaryConfig, RdpDecoyConfig, ResolutionProtocol, ShareContent, ShareFile, SmbDecoyConfig, SshDecoyConfig, TcpDecoyConfig, TlsSource,
    UnknownAeQueries, WindowsNames,
};
pub use error::{ConfigError, ConfigErrors};
pub use fleet::{ControllerConfig, NatsConfig, SensorCredential, UpstreamConfig};
pub use load::{load_file, parse_str, Config, EMBEDDED_DEFAULT, EMBEDDED_DEFAULT_NAME, EXAMPLE_COMPLETE};
pub use networks::NetworkMap;
pub use schema::json_schema;
pub use secret::{Secret, SecretError};
pub use sensor::{host_name, SensorConfig};
pub use sinks::{
    is_private, ChatFormat, EventFormat, FileSinkConfig, HecOptions, HttpAuth, HttpBody, HttpSinkConfig, HttpSinkKind, SinkConfig, SinkFilter,
    StdoutSinkConfig, SyslogOptions, SyslogSinkConfig, SyslogTls, SyslogTransport, DEFAULT_ENTERPRISE_NUMBER, SYSTEM_CA_BUNDLE,
};
pub use store::{RetentionConfig, StoreConfig, StoreSync};
pub use url::SinkUrl;

#[cfg(test)]
mod tests;
