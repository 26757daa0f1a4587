//! Configuration: one YAML file → raw serde types → validated types.
//!
//! Parsing collects every mistake in the file before giving up, each with
//! `file:line:col` and a one-line hint. Nothing downstream re-checks a value.

mod checker;
mod console;
mod decoys;
mod encoding;
mod error;
mod fleet;
mod http_sink;
mod load;
mod output;
mod raw;
mod secret;
mod sinks;
mod spanned;
mod types;

pub use console::ConsoleConfig;
pub use encoding::{ChatFormat, HecOptions, SyslogOptions, DEFAULT_ENTERPRISE_NUMBER};
pub use error::{ConfigError, ConfigErrors};
pub use fleet::{ControllerConfig, SensorCredential, UpstreamConfig};
pub use http_sink::{is_private, HttpAuth, HttpBody, HttpSinkConfig, HttpSinkKind, SinkUrl, SYSTEM_CA_BUNDLE};
pub use load::{host_name, load_file, parse_str, EMBEDDED_DEFAULT, EMBEDDED_DEFAULT_NAME, EXAMPLE_COMPLETE};
pub use raw::json_schema;
pub use secret::{Secret, SecretError};
pub use types::{
    AcceptPolicy, CanaryConfig, Config, ConnectionLimits, DecoyConfig, DicomDecoyConfig, EventFormat, FileSinkConfig, HttpDecoyConfig, PersonalityChoice,
    SensorConfig, SinkConfig, SinkFilter, SshDecoyConfig, StdoutSinkConfig, StoreConfig, StoreSync, SyslogSinkConfig, SyslogTls, SyslogTransport,
    TcpDecoyConfig,
};

#[cfg(test)]
mod tests;
