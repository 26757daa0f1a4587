//! Client public keys in USERAUTH_REQUEST: the `SHA256:` fingerprint a planted key
//! token is matched by, and the signature check (ring) that lets a planted key in
//! when the decoy accepts tokens. Key blobs and signatures are attacker bytes.

use base64::Engine;
use ring::signature::{self, UnparsedPublicKey};

use super::auth::{Method, Request};
use super::transport::wire::{Put, Reader};

/// OpenSSH's fingerprint of a key blob: `SHA256:` and unpadded base64.
pub fn fingerprint(blob: &[u8]) -> Option<String> {
    // Only blobs that at least name a key type are keys.
    Reader::new(blob).string().ok().filter(|t| !t.is_empty())?;
    let digest = ring::digest::digest(&ring::digest::SHA256, blob);
    Some(format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest.as_ref())))
}

/// The data a publickey signature covers (RFC 4252 §7, plus OpenSSH's host key for
/// the hostbound method).
fn signed_data(session_id: &[u8], req: &Request<'_>, algorithm: &[u8], blob: &[u8], hostbound: Option<&[u8]>) -> Vec<u8> {
    let mut d = Vec::with_capacity(256 + blob.len());
    d.put_string(session_id);
    d.put_u8(50);
    d.put_string(req.user);
    d.put_string(req.service);
    d.put_string(if hostbound.is_some() { b"publickey-hostbound-v00@openssh.com" } else { b"publickey" });
    d.put_bool(true);
    d.put_string(algorithm);
    d.put_string(blob);
    if let Some(h) = hostbound {
        d.put_string(h);
    }
    d
}

/// True when `sig` is a valid signature by the key `blob` over this request.
pub fn verify(session_id: &[u8], req: &Request<'_>, algorithm: &[u8], blob: &[u8], hostbound: Option<&[u8]>, sig: &[u8]) -> bool {
    debug_assert!(matches!(req.method, Method::Publickey { .. }));
    let data = signed_data(session_id, req, algorithm, blob, hostbound);
    let mut s = Reader::new(sig);
    let (Ok(sig_alg), Ok(raw)) = (s.string(), s.string()) else { return false };
    if sig_alg != algorithm {
        return false;
    }
    let mut k = Reader::new(blob);
    let Ok(key_type) = k.string() else { return false };
    match (key_type, algorithm) {
        (b"ssh-ed25519", b"ssh-ed25519") => k.string().is_ok_and(|pk| UnparsedPublicKey::new(&signature::ED25519, pk).verify(&data, raw).is_ok()),
        (b"ecdsa-sha2-nistp256", b"ecdsa-sha2-nistp256") => ecdsa(&mut k, raw, 32, &signature::ECDSA_P256_SHA256_FIXED, &data),
        (b"ecdsa-sha2-nistp384", b"ecdsa-sha2-nistp384") => ecdsa(&mut k, raw, 48, &signature::ECDSA_P384_SHA384_FIXED, &data),
        (b"ssh-rsa", alg) => {
            let params: &signature::RsaParameters = match alg {
                b"rsa-sha2-256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                b"rsa-sha2-512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                b"ssh-rsa" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                _ => return false,
            };
            let (Ok(e), Ok(n)) = (k.mpint_positive(), k.mpint_positive()) else { return false };
            signature::RsaPublicKeyComponents { n, e }.verify(params, &data, raw).is_ok()
        }
        _ => false,
    }
}

/// ECDSA: the key blob's point, the signature's two mpints as fixed-width r || s.
fn ecdsa(k: &mut Reader<'_>, raw: &[u8], width: usize, alg: &'static signature::EcdsaVerificationAlgorithm, data: &[u8]) -> bool {
    let (Ok(_curve), Ok(point)) = (k.string(), k.string()) else { return false };
    let mut r = Reader::new(raw);
    let (Ok(rv), Ok(sv)) = (r.mpint_positive(), r.mpint_positive()) else { return false };
    if rv.len() > width || sv.len() > width {
        return false;
    }
    let mut fixed = vec![0u8; width * 2];
    fixed[width - rv.len()..width].copy_from_slice(rv);
    fixed[2 * width - sv.len()..].copy_from_slice(sv);
    UnparsedPublicKey::new(alg, point).verify(data, &fixed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;

    #[test]
    fn an_ed25519_signature_over_the_request_verifies_and_a_forged_one_does_not() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let mut blob = Vec::new();
        blob.put_string(b"ssh-ed25519");
        blob.put_string(pair.public_key().as_ref());
        let req = Request {
            user: b"svc_ris",
            service: b"ssh-connection",
            method: Method::Publickey { algorithm: b"ssh-ed25519", blob: &blob, hostbound: None, signature: None },
        };
        let data = signed_data(b"session", &req, b"ssh-ed25519", &blob, None);
        let mut sig = Vec::new();
        sig.put_string(b"ssh-ed25519");
        sig.put_string(pair.sign(&data).as_ref());
        assert!(verify(b"session", &req, b"ssh-ed25519", &blob, None, &sig));
        assert!(!verify(b"other session", &req, b"ssh-ed25519", &blob, None, &sig));
        assert!(!verify(b"session", &req, b"ssh-ed25519", &blob, None, &sig[..sig.len() - 1]));
        assert!(fingerprint(&blob).unwrap().starts_with("SHA256:"));
        assert_eq!(fingerprint(b""), None);
    }
}
