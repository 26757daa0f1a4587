//! Host keys per decoy instance: generated on first start, persisted 0600 in the
//! state directory, reused across restarts, never shipped or committed.

use std::path::{Path, PathBuf};

use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::{Algorithm, EcdsaCurve, LineEnding, PrivateKey};

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
pub fn load_or_generate(dir: &Path, host_key_algorithms: &[String], rsa_bits: u32) -> Result<Vec<PrivateKey>, String> {
    crate::state_file::private_dir(dir).map_err(|e| e.to_string())?;
    let mut keys = Vec::new();
    for (stem, algorithm) in needed(host_key_algorithms) {
        let path = dir.join(format!("ssh_host_{stem}_key"));
        let key = match std::fs::read_to_string(&path) {
            Ok(text) => PrivateKey::from_openssh(&text).map_err(|e| format!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = generate(algorithm, rsa_bits as usize)?;
                save(&path, &key)?;
                tracing::info!(path = %path.display(), "generated SSH host key");
                key
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        keys.push(key);
    }
    Ok(keys)
}

fn generate(algorithm: Algorithm, rsa_bits: usize) -> Result<PrivateKey, String> {
    let mut rng = rand::rng();
    let key = match algorithm {
        Algorithm::Rsa { .. } => {
            let pair = RsaKeypair::random(&mut rng, rsa_bits).map_err(|e| e.to_string())?;
            PrivateKey::new(KeypairData::from(pair), "").map_err(|e| e.to_string())?
        }
        other => PrivateKey::random(&mut rng, other).map_err(|e| e.to_string())?,
    };
    Ok(key)
}

fn save(path: &Path, key: &PrivateKey) -> Result<(), String> {
    let text = key.to_openssh(LineEnding::LF).map_err(|e| e.to_string())?;
    crate::state_file::write_new(path, text.as_bytes(), 0o600).map_err(|e| e.to_string())
}
