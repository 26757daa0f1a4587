//! Ceremonies built here with real keys (ring), then broken one property at a time.

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

use super::*;

fn rp() -> RelyingParty {
    RelyingParty { id: "localhost".into(), origin: "http://localhost:9080".into() }
}

/// Minimal CBOR writer for building test inputs.
fn head(major: u8, n: usize, out: &mut Vec<u8>) {
    if n < 24 {
        out.push(major << 5 | n as u8);
    } else if n < 256 {
        out.extend_from_slice(&[major << 5 | 24, n as u8]);
    } else {
        out.push(major << 5 | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
}
fn int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        head(0, i as usize, out)
    } else {
        head(1, (-1 - i) as usize, out)
    }
}
fn bytes(b: &[u8], out: &mut Vec<u8>) {
    head(2, b.len(), out);
    out.extend_from_slice(b);
}
fn text(t: &str, out: &mut Vec<u8>) {
    head(3, t.len(), out);
    out.extend_from_slice(t.as_bytes());
}

fn cose_es256(point: &[u8]) -> Vec<u8> {
    let mut k = Vec::new();
    head(5, 5, &mut k);
    int(1, &mut k);
    int(2, &mut k);
    int(3, &mut k);
    int(-7, &mut k);
    int(-1, &mut k);
    int(1, &mut k);
    int(-2, &mut k);
    bytes(&point[1..33], &mut k);
    int(-3, &mut k);
    bytes(&point[33..], &mut k);
    k
}

fn cose_ed25519(public: &[u8]) -> Vec<u8> {
    let mut k = Vec::new();
    head(5, 4, &mut k);
    int(1, &mut k);
    int(1, &mut k);
    int(3, &mut k);
    int(-8, &mut k);
    int(-1, &mut k);
    int(6, &mut k);
    int(-2, &mut k);
    bytes(public, &mut k);
    k
}

fn auth_data(rp_id: &str, flags: u8, count: u32, attested: Option<(&[u8], &[u8])>) -> Vec<u8> {
    let mut d = sha256(rp_id.as_bytes()).to_vec();
    d.push(flags);
    d.extend_from_slice(&count.to_be_bytes());
    if let Some((id, key)) = attested {
        d.extend_from_slice(&[0u8; 16]);
        d.extend_from_slice(&(id.len() as u16).to_be_bytes());
        d.extend_from_slice(id);
        d.extend_from_slice(key);
    }
    d
}

fn attestation(auth: &[u8]) -> Vec<u8> {
    let mut a = Vec::new();
    head(5, 3, &mut a);
    text("fmt", &mut a);
    text("none", &mut a);
    text("attStmt", &mut a);
    head(5, 0, &mut a);
    text("authData", &mut a);
    bytes(auth, &mut a);
    a
}

fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    serde_json::json!({"type": kind, "challenge": b64url(challenge), "origin": origin, "crossOrigin": false}).to_string().into_bytes()
}

const CHALLENGE: &[u8] = b"0123456789abcdef0123456789abcdef";
const CRED_ID: &[u8] = b"credential-id-of-sixteen+";

fn p256() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

#[test]
fn an_es256_passkey_registers_and_signs_in() {
    let key = p256();
    let point = key.public_key().as_ref().to_vec();
    let reg = verify_registration(
        &rp(),
        CHALLENGE,
        &client_data("webauthn.create", CHALLENGE, "http://localhost:9080"),
        &attestation(&auth_data("localhost", 0x45, 0, Some((CRED_ID, &cose_es256(&point))))),
    )
    .unwrap();
    assert_eq!(reg, NewPasskey { credential_id: CRED_ID.to_vec(), algorithm: ES256, public_key: point.clone(), sign_count: 0 });

    let challenge = b"another challenge, for sign-in..";
    let cd = client_data("webauthn.get", challenge, "http://localhost:9080");
    let ad = auth_data("localhost", 0x05, 7, None);
    let mut signed = ad.clone();
    signed.extend_from_slice(&sha256(&cd));
    let sig = key.sign(&SystemRandom::new(), &signed).unwrap();
    assert_eq!(
        verify_assertion(
            &rp(),
            challenge,
            &Assertion { client_data_json: &cd, authenticator_data: &ad, signature: sig.as_ref() },
            &StoredKey { algorithm: ES256, public_key: &point, sign_count: 0 }
        ),
        Ok(7)
    );
    // The same assertion again: the counter did not move.
    assert_eq!(
        verify_assertion(
            &rp(),
            challenge,
            &Assertion { client_data_json: &cd, authenticator_data: &ad, signature: sig.as_ref() },
            &StoredKey { algorithm: ES256, public_key: &point, sign_count: 7 }
        ),
        Err(WebauthnError::Counter)
    );
    // A flipped bit in the signed data.
    let mut bad = ad.clone();
    bad[36] ^= 1;
    assert_eq!(
        verify_assertion(
            &rp(),
            challenge,
            &Assertion { client_data_json: &cd, authenticator_data: &bad, signature: sig.as_ref() },
            &StoredKey { algorithm: ES256, public_key: &point, sign_count: 0 }
        ),
        Err(WebauthnError::Signature)
    );
    // Another key.
    let other = p256().public_key().as_ref().to_vec();
    assert_eq!(
        verify_assertion(
            &rp(),
            challenge,
            &Assertion { client_data_json: &cd, authenticator_data: &ad, signature: sig.as_ref() },
            &StoredKey { algorithm: ES256, public_key: &other, sign_count: 0 }
        ),
        Err(WebauthnError::Signature)
    );
}

#[test]
fn an_ed25519_passkey_registers_and_signs_in() {
    let rng = SystemRandom::new();
    let key = Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let public = key.public_key().as_ref().to_vec();
    let reg = verify_registration(
        &rp(),
        CHALLENGE,
        &client_data("webauthn.create", CHALLENGE, "http://localhost:9080"),
        &attestation(&auth_data("localhost", 0x45, 0, Some((CRED_ID, &cose_ed25519(&public))))),
    )
    .unwrap();
    assert_eq!(reg.algorithm, EDDSA);
    let cd = client_data("webauthn.get", CHALLENGE, "http://localhost:9080");
    let ad = auth_data("localhost", 0x05, 0, None);
    let mut signed = ad.clone();
    signed.extend_from_slice(&sha256(&cd));
    let sig = key.sign(&signed);
    assert_eq!(
        verify_assertion(
            &rp(),
            CHALLENGE,
            &Assertion { client_data_json: &cd, authenticator_data: &ad, signature: sig.as_ref() },
            &StoredKey { algorithm: EDDSA, public_key: &public, sign_count: 0 }
        ),
        Ok(0)
    );
}

#[test]
fn a_passkey_used_without_its_owner_verifying_is_refused_in_both_ceremonies() {
    // User present (0x01) but not verified (0x04 unset): a stolen security key alone.
    let rng = SystemRandom::new();
    let key = Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let public = key.public_key().as_ref().to_vec();
    let registered = verify_registration(
        &rp(),
        CHALLENGE,
        &client_data("webauthn.create", CHALLENGE, "http://localhost:9080"),
        &attestation(&auth_data("localhost", 0x41, 0, Some((CRED_ID, &cose_ed25519(&public))))),
    );
    assert!(matches!(registered, Err(WebauthnError::AuthData("user not verified"))));
    let cd = client_data("webauthn.get", CHALLENGE, "http://localhost:9080");
    let ad = auth_data("localhost", 0x01, 0, None);
    let mut signed = ad.clone();
    signed.extend_from_slice(&sha256(&cd));
    let sig = key.sign(&signed);
    let signed_in = verify_assertion(
        &rp(),
        CHALLENGE,
        &Assertion { client_data_json: &cd, authenticator_data: &ad, signature: sig.as_ref() },
        &StoredKey { algorithm: EDDSA, public_key: &public, sign_count: 0 },
    );
    assert_eq!(signed_in, Err(WebauthnError::AuthData("user not verified")));
}

#[test]
fn table_of_refused_registrations() {
    let point = p256().public_key().as_ref().to_vec();
    let good_key = cose_es256(&point);
    let good_auth = auth_data("localhost", 0x45, 0, Some((CRED_ID, &good_key)));
    let cd = |kind: &str, ch: &[u8], origin: &str| client_data(kind, ch, origin);
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, WebauthnError)> = vec![
        (
            "sign-in data for a registration",
            cd("webauthn.get", CHALLENGE, "http://localhost:9080"),
            attestation(&good_auth),
            WebauthnError::ClientData("wrong ceremony type"),
        ),
        (
            "old challenge",
            cd("webauthn.create", b"a challenge this console never issued", "http://localhost:9080"),
            attestation(&good_auth),
            WebauthnError::ClientData("not the challenge this console issued"),
        ),
        (
            "phishing origin",
            cd("webauthn.create", CHALLENGE, "http://localhost.evil.example"),
            attestation(&good_auth),
            WebauthnError::ClientData("wrong origin"),
        ),
        (
            "another relying party",
            cd("webauthn.create", CHALLENGE, "http://localhost:9080"),
            attestation(&auth_data("evil.example", 0x45, 0, Some((CRED_ID, &good_key)))),
            WebauthnError::AuthData("for another relying party"),
        ),
        (
            "no user presence",
            cd("webauthn.create", CHALLENGE, "http://localhost:9080"),
            attestation(&auth_data("localhost", 0x44, 0, Some((CRED_ID, &good_key)))),
            WebauthnError::AuthData("user not present"),
        ),
        (
            "no credential",
            cd("webauthn.create", CHALLENGE, "http://localhost:9080"),
            attestation(&auth_data("localhost", 0x05, 0, None)),
            WebauthnError::AuthData("no attested credential"),
        ),
        ("not CBOR", cd("webauthn.create", CHALLENGE, "http://localhost:9080"), vec![0xff, 0x00], WebauthnError::Attestation("not CBOR")),
    ];
    for (what, client, att, want) in cases {
        assert_eq!(verify_registration(&rp(), CHALLENGE, &client, &att), Err(want), "{what}");
    }
    let mut overrun = auth_data("localhost", 0x45, 0, Some((CRED_ID, &good_key)));
    overrun[37 + 16] = 0xff;
    assert!(verify_registration(&rp(), CHALLENGE, &cd("webauthn.create", CHALLENGE, "http://localhost:9080"), &attestation(&overrun)).is_err());
}
