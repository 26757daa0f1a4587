//! Why a decoy cannot start: its personality cannot be read, what it keeps in the
//! state directory (host keys, certificate, cohort seed, quarantine) cannot be had, or
//! its socket cannot be bound.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::ssh::transport::hostkey::HostKeyError;
use crate::state_file::StateFileError;
use crate::tls::TlsError;

/// A personality (built in or a YAML file) that cannot be worn.
#[derive(Debug, thiserror::Error)]
pub enum PersonalityError {
    #[error("{0}")]
    Yaml(#[from] marked_yaml::FromYamlError),
    /// A rule of the personality format is broken; the text names which.
    #[error("{0}")]
    Invalid(String),
    #[error("no built-in {kind} personality `{name}`")]
    Unknown { kind: &'static str, name: String },
    #[error("cannot read {}: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: std::io::Error },
    #[error("{} is larger than 1 MiB", path.display())]
    TooLarge { path: PathBuf },
    #[error("page file {name} not found (next to the personality file, or built in: {built_in})")]
    PageMissing { name: String, built_in: String },
    #[error("error page set {set}: {cause}")]
    ErrorPageSet { set: String, cause: marked_yaml::FromYamlError },
}

/// What a decoy keeps in the state directory cannot be read, made or kept.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    State(#[from] StateFileError),
    #[error("cannot read {}: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: std::io::Error },
    /// A file honeyward wrote that no longer parses (edited or damaged).
    #[error("{}: {reason}", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error("host key: {0}")]
    HostKey(#[from] HostKeyError),
    #[error("generating a host key: {0}")]
    KeyGeneration(ssh_key::Error),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The poisoner canary's interface cannot be used.
    #[error("interface {0}")]
    Interface(String),
    /// OpenSSL could not make or use the RDP decoy's certificate.
    #[error("RDP certificate: {0}")]
    RdpCertificate(String),
    /// The blocking set-up task panicked or was cancelled.
    #[error("set-up interrupted: {0}")]
    Interrupted(#[from] tokio::task::JoinError),
}

/// Why a decoy could not start.
#[derive(Debug, thiserror::Error)]
pub enum DecoyError {
    /// Its personality, reported at the configuration line that names it.
    #[error("decoy `{decoy}` cannot start: {cause}")]
    Personality { decoy: String, cause: Box<crate::config::ConfigError> },
    #[error("decoy `{decoy}` cannot start: {cause}")]
    Setup { decoy: String, cause: SetupError },
    #[error("decoy `{decoy}` cannot listen on {addr}: {cause}")]
    Bind { decoy: String, addr: SocketAddr, cause: std::io::Error },
}
