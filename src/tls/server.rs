//! A server's certificate (the HTTPS decoy's, the controller's): the operator's, or one
//! generated per instance that looks like an internal CA's work (an issuing CA named
//! after the organisation, the host's name as subject, a random serial, validity that
//! started weeks ago), never a library's default subject. Generated files live in the
//! directory the caller names (key 0600) and are reused across restarts.

use std::path::Path;
use std::sync::Arc;

use rand::{Rng, RngExt};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;
use crate::config::TlsSource;
use crate::state_file;

/// The certificate chain and key, from files or generated into `dir`.
pub fn load(source: &TlsSource, dir: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    match source {
        TlsSource::Files { cert_file, key_file } => Ok(crate::pem::chain_and_key(cert_file, key_file)?),
        TlsSource::Generated { common_name, organisation } => {
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            if !cert.exists() {
                state_file::private_dir(dir)?;
                let (chain, key_pem) = generate(common_name, organisation)?;
                state_file::write_new(&key, key_pem.as_bytes(), 0o600)?;
                state_file::write_new(&cert, chain.as_bytes(), 0o644)?;
                tracing::info!(path = %cert.display(), subject = %common_name, "generated TLS certificate");
            }
            Ok(crate::pem::chain_and_key(&cert, &key)?)
        }
    }
}

/// A TLS server configuration offering the `alpn` protocols (none: no ALPN).
pub fn server_config(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>, alpn: &[&[u8]]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|cause| TlsError::Rustls { what: "protocol versions", cause })?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|cause| TlsError::Rustls { what: "certificate and key do not fit together", cause })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn name(common_name: &str, organisation: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "GB");
    dn.push(DnType::OrganizationName, organisation);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn serial(rng: &mut impl Rng) -> SerialNumber {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x10; // no leading zero byte
    SerialNumber::from_slice(&bytes)
}

/// Generates (chain PEM: leaf then issuing CA, leaf key PEM).
fn generate(common_name: &str, organisation: &str) -> Result<(String, String), rcgen::Error> {
    let mut rng = rand::rng();
    // A date so many days before today (whole days; a closure, as rcgen's date type
    // comes from a crate we do not depend on).
    let days_ago = |days: i64| {
        use chrono::Datelike;
        let d = (chrono::Utc::now() - chrono::Duration::days(days)).date_naive();
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name = name(&format!("{organisation} Issuing CA 01"), organisation);
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_age = rng.random_range(400..1400);
    ca.not_before = days_ago(ca_age);
    ca.not_after = days_ago(ca_age - 3652);
    ca.serial_number = Some(serial(&mut rng));
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec![common_name.to_string()])?;
    if let Ok(ip) = common_name.parse::<std::net::IpAddr>() {
        leaf.subject_alt_names = vec![SanType::IpAddress(ip)];
    }
    leaf.distinguished_name = name(common_name, organisation);
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let age = rng.random_range(20..300);
    leaf.not_before = days_ago(age);
    leaf.not_after = days_ago(age - 730);
    leaf.serial_number = Some(serial(&mut rng));
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok((format!("{}{}", cert.pem(), ca_cert.pem()), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_persist_and_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let source = TlsSource::Generated { common_name: "ehr.example-trust.nhs.uk".into(), organisation: "Example NHS Trust".into() };
        let (chain, _) = load(&source, dir.path()).unwrap();
        assert_eq!(chain.len(), 2, "leaf and issuing CA");
        let (again, _) = load(&source, dir.path()).unwrap();
        assert_eq!(chain, again, "reused across restarts");
        let pem = std::fs::read_to_string(dir.path().join("cert.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dir.path().join("key.pem")).unwrap().permissions().mode() & 0o777, 0o600);
        let (chain, key) = load(&source, dir.path()).unwrap();
        assert!(server_config(chain, key, &[b"h2", b"http/1.1"]).is_ok());
    }
}
