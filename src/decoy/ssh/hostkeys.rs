//! Host keys per decoy instance: generated on first start, persisted 0600 in the
//! state directory, reused across restarts, never shipped or committed.

use std::path::{Path, PathBuf};

use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::{Algorithm, EcdsaCurve, LineEnding, PrivateKey};

use crate::decoy::error::SetupError;

/// The key files a personality's host-key algorithms need: (file stem, algorithm).
fn needed(host_key_algorithms: &[String]) -> Vec<(&'static str, Algorithm)> {
    let mut out: Vec<(&'static str, Algorithm)> = Vec::new();
    for name in host_key_algorithms {
        let wanted = if name.starts_with("rsa-") || name == "ssh-rsa" {
            ("rsa", Algorithm::Rsa { hash: None })
        } else if name.starts_with("ecdsa-sha2-nistp256") {
            ("ecdsa", Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 })
        } else if name == "ssh-ed25519" {
            ("ed25519", Algorithm::Ed25519)
        } else {
            continue;
        };
        if !out.iter().any(|(stem, _)| *stem == wanted.0) {
            out.push(wanted);
        }
    }
    out
}

/// The directory holding one decoy's host keys.
pub fn key_dir(state_dir: &Path, decoy: &str) -> PathBuf {
    state_dir.join("ssh").join(decoy)
}

/// Loads the decoy's host keys, generating (RSA of `rsa_bits`, ECDSA P-256, Ed25519 as the
/// personality needs) and saving any that are missing.
pub fn load_or_generate(dir: &Path, host_key_algorithms: &[String], rsa_bits: u32) -> Result<Vec<PrivateKey>, SetupError> {
    crate::state_file::private_dir(dir)?;
    let mut keys = Vec::new();
    for (stem, algorithm) in needed(host_key_algorithms) {
        let path = dir.join(format!("ssh_host_{stem}_key"));
        let key = match std::fs::read_to_string(&path) {
            Ok(text) => PrivateKey::from_openssh(&text).map_err(|e| SetupError::Damaged { path: path.clone(), reason: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = generate(algorithm, rsa_bits as usize)?;
                save(&path, &key)?;
                tracing::info!(path = %path.display(), "generated SSH host key");
                key
            }
            Err(cause) => return Err(SetupError::Unreadable { path, cause }),
        };
        keys.push(key);
    }
    Ok(keys)
}

fn generate(algorithm: Algorithm, rsa_bits: usize) -> Result<PrivateKey, SetupError> {
    let mut rng = rand::rng();
    let key = match algorithm {
        Algorithm::Rsa { .. } => RsaKeypair::random(&mut rng, rsa_bits).and_then(|pair| PrivateKey::new(KeypairData::from(pair), "")),
        other => PrivateKey::random(&mut rng, other),
    };
    key.map_err(SetupError::KeyGeneration)
}

fn save(path: &Path, key: &PrivateKey) -> Result<(), SetupError> {
    let text = key.to_openssh(LineEnding::LF).map_err(SetupError::KeyGeneration)?;
    Ok(crate::state_file::write_new(path, text.as_bytes(), 0o600)?)
}
