//! TLS plumbing shared by the HTTPS decoy, the controller, the console and the sinks:
//! reading the operator's PEM files, generating a believable certificate when none is
//! given, and building rustls server and client configurations.

mod client;
mod server;

pub use client::{client_config, client_config_pem};
pub use server::{load, server_config};

/// Why a certificate, key or TLS configuration could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file (or text) that cannot be read or holds nothing usable.
    #[error(transparent)]
    Pem(#[from] crate::pem::PemError),
    /// The generated certificate could not be kept in the state directory.
    #[error(transparent)]
    State(#[from] crate::state_file::StateFileError),
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration (e.g. a key that does not fit the certificate).
    #[error("{what}: {cause}")]
    Rustls { what: &'static str, cause: rustls::Error },
    /// OpenSSL refused the configuration of a decoy's TLS (`src/decoy/http/tls.rs`).
    #[error("{what}: {cause}")]
    OpenSsl { what: &'static str, cause: openssl::error::ErrorStack },
    #[error("no certificate in the chain")]
    NoCertificate,
}
