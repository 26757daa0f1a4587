//! The decoy's host keys as the transport uses them: the public key blob (K_S) and a
//! signer per key, all on ring (Ed25519, ECDSA P-256, RSA with SHA-2), plus the
//! legacy SHA-1 RSA signature of [`super::crypto::rsa`]. Keys come from the OpenSSH
//! key files the decoy keeps in its state directory.

use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use ssh_key::private::KeypairData;
use ssh_key::PrivateKey;

use super::algorithms::HostKeyAlg;
use super::crypto::rsa::{RsaKeyError, RsaNumbers, RsaSigner};
use super::wire::Put;

/// Why a host key file's key cannot sign for the decoy.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("cannot encode the public key: {0}")]
    Encode(ssh_key::Error),
    #[error("{kind} key rejected: {cause}")]
    Rejected { kind: &'static str, cause: ring::error::KeyRejected },
    #[error("negative RSA number")]
    NegativeRsaNumber,
    #[error(transparent)]
    Rsa(#[from] RsaKeyError),
    #[error("host key type {0} is not supported")]
    Unsupported(String),
}

enum Signer {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair),
    Rsa(Box<RsaSigner>),
}

/// One host key.
pub struct HostKey {
    /// The public key blob sent as K_S.
    pub blob: Vec<u8>,
    signer: Signer,
}

/// All host keys of one decoy.
#[derive(Default)]
pub struct HostKeys(Vec<HostKey>);

impl HostKey {
    /// Builds a signer from an OpenSSH private key.
    pub fn from_private(key: &PrivateKey) -> Result<Self, HostKeyError> {
        let blob = key.public_key().to_bytes().map_err(HostKeyError::Encode)?;
        let signer = match key.key_data() {
            KeypairData::Ed25519(kp) => Signer::Ed25519(
                Ed25519KeyPair::from_seed_and_public_key(&kp.private.to_bytes(), &kp.public.0)
                    .map_err(|cause| HostKeyError::Rejected { kind: "Ed25519", cause })?,
            ),
            KeypairData::Ecdsa(kp) if kp.curve() == ssh_key::EcdsaCurve::NistP256 => {
                let rng = ring::rand::SystemRandom::new();
                let pair = EcdsaKeyPair::from_private_key_and_public_key(&ECDSA_P256_SHA256_FIXED_SIGNING, kp.private_key_bytes(), kp.public_key_bytes(), &rng);
                Signer::EcdsaP256(pair.map_err(|cause| HostKeyError::Rejected { kind: "ECDSA", cause })?)
            }
            KeypairData::Rsa(kp) => {
                let pos = |m: &ssh_key::Mpint| m.as_positive_bytes().map(<[u8]>::to_vec).ok_or(HostKeyError::NegativeRsaNumber);
                let (n, e) = (pos(kp.public().n())?, pos(kp.public().e())?);
                let (d, p, q, iqmp) = (pos(kp.private().d())?, pos(kp.private().p())?, pos(kp.private().q())?, pos(kp.private().iqmp())?);
                Signer::Rsa(Box::new(RsaSigner::new(&RsaNumbers { n: &n, e: &e, d: &d, p: &p, q: &q, iqmp: &iqmp })?))
            }
            other => return Err(HostKeyError::Unsupported(other.algorithm().map(|a| a.to_string()).unwrap_or_default())),
        };
        Ok(HostKey { blob, signer })
    }

    /// True when this key can sign with `alg`.
    pub fn serves(&self, alg: HostKeyAlg) -> bool {
        matches!(
            (&self.signer, alg),
            (Signer::Ed25519(_), HostKeyAlg::Ed25519)
                | (Signer::EcdsaP256(_), HostKeyAlg::EcdsaNistp256)
                | (Signer::Rsa(_), HostKeyAlg::RsaSha512 | HostKeyAlg::RsaSha256 | HostKeyAlg::SshRsa)
        )
    }

    /// The signature blob (`string alg, string sig`) over `data`.
    pub fn sign(&self, alg: HostKeyAlg, data: &[u8]) -> Option<Vec<u8>> {
        let raw = match &self.signer {
            Signer::Ed25519(k) => k.sign(data).as_ref().to_vec(),
            Signer::EcdsaP256(k) => {
                let sig = k.sign(&ring::rand::SystemRandom::new(), data).ok()?;
                let (r, s) = sig.as_ref().split_at(32);
                let mut inner = Vec::with_capacity(74);
                inner.put_mpint(r);
                inner.put_mpint(s);
                inner
            }
            Signer::Rsa(k) => match alg {
                HostKeyAlg::RsaSha512 => k.sign_sha2(true, data),
                HostKeyAlg::RsaSha256 => k.sign_sha2(false, data),
                _ => k.sign_sha1(data)?,
            },
        };
        let mut out = Vec::with_capacity(raw.len() + 32);
        out.put_string(alg.name().as_bytes());
        out.put_string(&raw);
        Some(out)
    }
}

impl HostKeys {
    /// Host keys from OpenSSH private keys.
    pub fn new(keys: &[PrivateKey]) -> Result<Self, HostKeyError> {
        keys.iter().map(HostKey::from_private).collect::<Result<Vec<_>, _>>().map(HostKeys)
    }

    /// The key that signs with `alg`.
    pub fn for_alg(&self, alg: HostKeyAlg) -> Option<&HostKey> {
        self.0.iter().find(|k| k.serves(alg))
    }

    /// The public key blobs, for `hostkeys-00@openssh.com` and tests.
    pub fn blobs(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(|k| k.blob.as_slice())
    }
}
