//! SSH key pairs for `ssh-key` tokens: the private key is planted, the public key's
//! SHA256 fingerprint is registered (that is what a client's publickey offer shows).

use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};

/// Key algorithm of an `ssh-key` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    /// Ed25519 (what `ssh-keygen` makes by default).
    Ed25519,
    /// RSA, 3072 bits (`ssh-keygen -t rsa` default size).
    Rsa,
}

/// A generated key pair.
pub struct GeneratedKey {
    /// OpenSSH private key file contents.
    pub private_openssh: String,
    /// `ssh-ed25519 AAAA... comment` line.
    pub public_openssh: String,
    /// `SHA256:...`, as `ssh-keygen -l` and sshd logs show it.
    pub fingerprint: String,
}

/// Generates a key pair with `comment` (conventionally `user@host`).
pub fn generate(algorithm: KeyAlgorithm, comment: &str) -> Result<GeneratedKey, ssh_key::Error> {
    let mut rng = rand::rng();
    let mut key = match algorithm {
        KeyAlgorithm::Ed25519 => PrivateKey::random(&mut rng, Algorithm::Ed25519)?,
        KeyAlgorithm::Rsa => PrivateKey::new(KeypairData::from(RsaKeypair::random(&mut rng, 3072)?), comment)?,
    };
    key.set_comment(comment);
    let private_openssh = key.to_openssh(LineEnding::LF)?.to_string();
    let public_openssh = key.public_key().to_openssh()?;
    let fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
    Ok(GeneratedKey { private_openssh, public_openssh, fingerprint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_key_round_trips_and_has_a_sha256_fingerprint() {
        let k = generate(KeyAlgorithm::Ed25519, "backup@pacs-ws-12").unwrap();
        assert!(k.private_openssh.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assert!(k.public_openssh.starts_with("ssh-ed25519 ") && k.public_openssh.ends_with("backup@pacs-ws-12"));
        assert!(k.fingerprint.starts_with("SHA256:"));
        let parsed = PrivateKey::from_openssh(&k.private_openssh).unwrap();
        assert_eq!(parsed.public_key().fingerprint(HashAlg::Sha256).to_string(), k.fingerprint);
    }
}
