//! Elliptic-curve and hybrid post-quantum key agreement, server side: the server's
//! public value (Q_S) and the shared secret for the client's Q_C. X25519, P-256 and
//! P-384 are ring's; P-521 is RustCrypto's `p521`; the hybrids put Streamlined NTRU
//! Prime (`sntrup761` crate) or ML-KEM-768 (`ml-kem`) in front of X25519, as OpenSSH's
//! `sntrup761x25519-sha512` and `mlkem768x25519-sha256` do: the server encapsulates
//! to the client's KEM key and the secret is the hash of both shared keys.

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::digest;

use super::KexError;

/// X25519 public key length.
const X25519_LEN: usize = 32;

/// ECDH with ring: (Q_S, shared secret).
fn ring_ecdh(alg: &'static agreement::Algorithm, client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    let rng = ring::rand::SystemRandom::new();
    let private = EphemeralPrivateKey::generate(alg, &rng).map_err(|_| KexError::Internal)?;
    let public = private.compute_public_key().map_err(|_| KexError::Internal)?.as_ref().to_vec();
    // ring refuses points off the curve, the identity, and an all-zero X25519 result.
    let shared = agreement::agree_ephemeral(private, &UnparsedPublicKey::new(alg, client), |k| k.to_vec()).map_err(|_| KexError::InvalidPublic)?;
    Ok((public, shared))
}

/// curve25519-sha256: K is the 32-byte X25519 output (RFC 8731).
pub fn x25519(client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    if client.len() != X25519_LEN {
        return Err(KexError::InvalidPublic);
    }
    ring_ecdh(&agreement::X25519, client)
}

/// ecdh-sha2-nistp256/384/521 (RFC 5656): uncompressed points; K is the x-coordinate.
pub fn nist(curve_bits: u32, client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    match curve_bits {
        256 => ring_ecdh(&agreement::ECDH_P256, client),
        384 => ring_ecdh(&agreement::ECDH_P384, client),
        _ => p521(client),
    }
}

fn p521(client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    use p521::elliptic_curve::sec1::ToSec1Point;
    use p521::elliptic_curve::Generate;
    // Only uncompressed points, as OpenSSH sends and accepts.
    if client.first() != Some(&4) {
        return Err(KexError::InvalidPublic);
    }
    let peer = p521::PublicKey::from_sec1_bytes(client).map_err(|_| KexError::InvalidPublic)?;
    let secret = p521::ecdh::EphemeralSecret::generate_from_rng(&mut rand::rng());
    let public = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
    let shared = secret.diffie_hellman(&peer);
    Ok((public, shared.raw_secret_bytes().to_vec()))
}

/// Splits a hybrid client value into (KEM public key, X25519 public key).
fn split_hybrid(client: &[u8], kem_len: usize) -> Result<(&[u8], &[u8]), KexError> {
    if client.len() != kem_len + X25519_LEN {
        return Err(KexError::InvalidPublic);
    }
    Ok(client.split_at(kem_len))
}

/// sntrup761x25519-sha512: Q_C = sntrup761 key || X25519 key; Q_S = ciphertext ||
/// X25519 key; K = SHA-512(sntrup761 secret || X25519 secret).
pub fn sntrup761_x25519(client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    let (kem, x) = split_hybrid(client, sntrup761::PUBLIC_KEY_SIZE)?;
    let key = sntrup761::EncapsulationKey::try_from(kem).map_err(|_| KexError::InvalidPublic)?;
    let (ciphertext, kem_secret) = key.encapsulate(rand::rng());
    let (x_public, x_secret) = x25519(x)?;
    let mut q_s = ciphertext.as_ref().to_vec();
    q_s.extend_from_slice(&x_public);
    let mut ctx = digest::Context::new(&digest::SHA512);
    ctx.update(kem_secret.as_ref());
    ctx.update(&x_secret);
    Ok((q_s, ctx.finish().as_ref().to_vec()))
}

/// mlkem768x25519-sha256: Q_C = ML-KEM-768 encapsulation key || X25519 key; Q_S =
/// ciphertext || X25519 key; K = SHA-256(ML-KEM secret || X25519 secret).
pub fn mlkem768_x25519(client: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KexError> {
    use ml_kem::{Encapsulate, EncapsulationKey768};
    const EK_LEN: usize = 1184;
    let (kem, x) = split_hybrid(client, EK_LEN)?;
    let encoded = ml_kem::Key::<EncapsulationKey768>::try_from(kem).map_err(|_| KexError::InvalidPublic)?;
    let key = EncapsulationKey768::new(&encoded).map_err(|_| KexError::InvalidPublic)?;
    let (ciphertext, kem_secret) = key.encapsulate_with_rng(&mut rand::rng());
    let (x_public, x_secret) = x25519(x)?;
    let mut q_s = ciphertext.to_vec();
    q_s.extend_from_slice(&x_public);
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(kem_secret.as_slice());
    ctx.update(&x_secret);
    Ok((q_s, ctx.finish().as_ref().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_secrets_match_the_clients_decapsulation() {
        let (pk, sk) = sntrup761::generate_key(rand::rng());
        let x_client = EphemeralPrivateKey::generate(&agreement::X25519, &ring::rand::SystemRandom::new()).unwrap();
        let mut q_c = pk.as_ref().to_vec();
        q_c.extend_from_slice(x_client.compute_public_key().unwrap().as_ref());
        let (q_s, k) = sntrup761_x25519(&q_c).unwrap();
        let (ct, x_server) = q_s.split_at(sntrup761::CIPHERTEXT_SIZE);
        let kem = sk.decapsulate(&sntrup761::Ciphertext::try_from(ct).unwrap());
        let x = agreement::agree_ephemeral(x_client, &UnparsedPublicKey::new(&agreement::X25519, x_server), |k| k.to_vec()).unwrap();
        let want = digest::digest(&digest::SHA512, &[kem.as_ref(), &x[..]].concat());
        assert_eq!(k, want.as_ref());
        assert_eq!(sntrup761_x25519(&q_c[1..]).unwrap_err(), KexError::InvalidPublic);
    }

    #[test]
    fn bad_points_are_refused() {
        assert_eq!(x25519(&[0u8; 32]).unwrap_err(), KexError::InvalidPublic, "low-order point");
        assert_eq!(x25519(&[9u8; 31]).unwrap_err(), KexError::InvalidPublic);
        for bits in [256, 384, 521] {
            assert_eq!(nist(bits, &[4u8; 65]).unwrap_err(), KexError::InvalidPublic);
            assert_eq!(nist(bits, &[]).unwrap_err(), KexError::InvalidPublic);
        }
        assert_eq!(mlkem768_x25519(&[0u8; 1216]).map(|_| ()).unwrap_err(), KexError::InvalidPublic);
    }
}
