//! PEM files an operator gives honeyward (and those it generates): certificate chains
//! and CA bundles, private keys. One reader for the configuration's checks, the TLS
//! plumbing and the CLI, with errors that name the file. Imports nothing of honeyward.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A PEM file that cannot be read or holds nothing usable.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct PemError {
    /// The file (or what the text is).
    pub origin: String,
    pub reason: String,
}

/// Every certificate in a PEM file (a chain, leaf first, or a CA bundle); at least one.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let fail = |reason: String| PemError { origin: path.display().to_string(), reason };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(path).map_err(|e| fail(e.to_string()))?.collect::<Result<_, _>>().map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no CERTIFICATE in the file".into()));
    }
    Ok(certs)
}

/// The private key in a PEM file.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| PemError { origin: path.display().to_string(), reason: e.to_string() })
}

/// A certificate chain and its key.
pub fn chain_and_key(cert_file: &Path, key_file: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), PemError> {
    Ok((certificates(cert_file)?, private_key(key_file)?))
}
