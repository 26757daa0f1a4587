//! TLS client settings shared by the syslog and HTTP sinks: only the configured CA
//! bundle is trusted, and a client certificate is presented when configured.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::TlsError;

/// A rustls client configuration trusting only the CAs in `ca_file`.
pub fn client_config(ca_file: &Path, client: Option<&(PathBuf, PathBuf)>, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    with_roots(crate::pem::certificates(ca_file)?, &ca_file.display().to_string(), client, alpn)
}

/// The same, trusting only the CA certificate(s) in `pem`.
pub fn client_config_pem(pem: &str, client: Option<&(PathBuf, PathBuf)>, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(crate::pem::PemError { origin: "the CA certificate".into(), reason: e.to_string() }))?;
    with_roots(certs, "the CA certificate", client, alpn)
}

fn with_roots(
    certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    origin: &str,
    client: Option<&(PathBuf, PathBuf)>,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        // A system bundle can hold certificates rustls does not accept; skip those.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(TlsError::Pem(crate::pem::PemError { origin: origin.to_string(), reason: "no usable CA certificate".into() }));
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|cause| TlsError::Rustls { what: "protocol versions", cause })?
        .with_root_certificates(roots);
    let mut config = match client {
        Some((cert, key)) => {
            let (chain, key) = crate::pem::chain_and_key(cert, key)?;
            builder.with_client_auth_cert(chain, key).map_err(|cause| TlsError::Rustls { what: "client certificate", cause })?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
