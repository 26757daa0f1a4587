//! The certificate a Windows host makes for Remote Desktop: self-signed, RSA 2048 with
//! SHA-256, subject and issuer only the computer's name (its FQDN on a domain member)
//! as a PrintableString, a 16-byte serial, server authentication and key/data
//! encipherment and nothing else, valid for the personality's days from when it was
//! made. Kept in the state directory and made again once expired, as Windows does.

use std::path::Path;

use openssl::asn1::{Asn1Integer, Asn1Time, Asn1Type};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509NameBuilder, X509};

use crate::decoy::error::SetupError;

fn ssl(e: openssl::error::ErrorStack) -> SetupError {
    SetupError::RdpCertificate(e.to_string())
}

/// Makes a certificate for `name`, valid `days` from now.
pub fn make(name: &str, days: u32) -> Result<(X509, PKey<Private>), SetupError> {
    let key = PKey::from_rsa(Rsa::generate(2048).map_err(ssl)?).map_err(ssl)?;
    let mut subject = X509NameBuilder::new().map_err(ssl)?;
    subject.append_entry_by_nid_with_type(Nid::COMMONNAME, name, Asn1Type::PRINTABLESTRING).map_err(ssl)?;
    let subject = subject.build();
    let mut serial = [0u8; 16];
    rand::RngExt::fill(&mut rand::rng(), &mut serial[..]);
    serial[0] &= 0x7f; // a positive INTEGER of 16 bytes
    serial[0] |= 0x01;
    let mut b = X509::builder().map_err(ssl)?;
    b.set_version(2).map_err(ssl)?;
    let serial = Asn1Integer::from_bn(&*BigNum::from_slice(&serial).map_err(ssl)?).map_err(ssl)?;
    b.set_serial_number(&serial).map_err(ssl)?;
    b.set_subject_name(&subject).map_err(ssl)?;
    b.set_issuer_name(&subject).map_err(ssl)?;
    b.set_pubkey(&key).map_err(ssl)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (from, until) = (Asn1Time::from_unix(now).map_err(ssl)?, Asn1Time::from_unix(now + i64::from(days) * 86_400).map_err(ssl)?);
    b.set_not_before(&from).map_err(ssl)?;
    b.set_not_after(&until).map_err(ssl)?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().map_err(ssl)?).map_err(ssl)?;
    b.append_extension(KeyUsage::new().key_encipherment().data_encipherment().build().map_err(ssl)?).map_err(ssl)?;
    b.sign(&key, MessageDigest::sha256()).map_err(ssl)?;
    Ok((b.build(), key))
}

/// The certificate in `dir` (`rdp-cert.der`, `rdp-key.der`) if it is for `name` and
/// still valid, else a new one written there (mode 0600).
pub fn load_or_make(dir: &Path, name: &str, days: u32) -> Result<(X509, PKey<Private>), SetupError> {
    let (cert_path, key_path) = (dir.join("rdp-cert.der"), dir.join("rdp-key.der"));
    if let (Ok(cert), Ok(key)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        if let (Ok(cert), Ok(key)) = (X509::from_der(&cert), PKey::private_key_from_der(&key)) {
            let ours = cert.subject_name().entries_by_nid(Nid::COMMONNAME).next().is_some_and(|e| e.data().as_slice() == name.as_bytes());
            let now = Asn1Time::days_from_now(0).map_err(ssl)?;
            if ours && cert.not_after() > now {
                return Ok((cert, key));
            }
        }
    }
    let (cert, key) = make(name, days)?;
    crate::state_file::replace(&key_path, &key.private_key_to_der().map_err(ssl)?, 0o600)?;
    crate::state_file::replace(&cert_path, &cert.to_der().map_err(ssl)?, 0o600)?;
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_made_once_and_kept_while_valid() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = load_or_make(dir.path(), "RAD-WS-014.nhstrust.local", 183).unwrap();
        let (again, _) = load_or_make(dir.path(), "RAD-WS-014.nhstrust.local", 183).unwrap();
        assert_eq!(cert.to_der().unwrap(), again.to_der().unwrap());
        let days = cert.not_before().diff(cert.not_after()).unwrap().days;
        assert_eq!(days, 183);
        assert_eq!(cert.subject_name().to_der().unwrap(), cert.issuer_name().to_der().unwrap());
        let (renamed, _) = load_or_make(dir.path(), "OTHER.nhstrust.local", 183).unwrap();
        assert_ne!(renamed.to_der().unwrap(), cert.to_der().unwrap(), "a new name gets a new certificate");
    }
}
