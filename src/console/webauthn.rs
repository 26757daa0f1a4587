//! Passkeys (WebAuthn Level 2) as a relying party: checks a new credential
//! (registration) and a sign-in (assertion). Keys are ES256 (P-256), EdDSA
//! (Ed25519) or RS256 (RSA PKCS#1 v1.5, 2048 bits or more), verified with ring. Attestation is not asked for (`none`) and any
//! statement sent anyway is ignored: the console trusts the account that registered
//! the key, not the key's maker.
//!
//! Why not a WebAuthn crate: the maintained RP crates link OpenSSL, which this project
//! keeps out (deny.toml); the checks below are the specification's, step by step.

use base64::Engine;
use ring::signature::{RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ED25519, RSA_PKCS1_2048_8192_SHA256};

use super::cbor::{self, Cbor};

/// COSE algorithm ids.
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;

const FLAG_USER_PRESENT: u8 = 0x01;
const FLAG_USER_VERIFIED: u8 = 0x04;
const FLAG_ATTESTED: u8 = 0x40;

/// The relying party: this console as the browser sees it.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    /// The host name passkeys are bound to.
    pub id: String,
    /// Exact origin, e.g. `http://localhost:9080`.
    pub origin: String,
}

/// A verified new passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub algorithm: i64,
    /// ES256: the uncompressed point (65 bytes); EdDSA: the 32-byte key; RS256: the
    /// modulus length (2 bytes, big-endian), the modulus, the exponent.
    pub public_key: Vec<u8>,
    pub sign_count: u32,
}

/// Why a ceremony failed (said to the log, never in detail to the browser).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebauthnError {
    #[error("clientDataJSON: {0}")]
    ClientData(&'static str),
    #[error("authenticator data: {0}")]
    AuthData(&'static str),
    #[error("attestation object: {0}")]
    Attestation(&'static str),
    #[error("credential public key: {0}")]
    Key(&'static str),
    #[error("the signature does not verify")]
    Signature,
    #[error("the signature counter went backwards (a cloned authenticator?)")]
    Counter,
}

/// base64url without padding, as WebAuthn encodes binary in JSON.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url with or without padding.
pub fn from_b64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

#[derive(serde::Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: bool,
}

fn check_client_data(rp: &RelyingParty, raw: &[u8], kind: &str, challenge: &[u8]) -> Result<(), WebauthnError> {
    let c: ClientData = serde_json::from_slice(raw).map_err(|_| WebauthnError::ClientData("not the expected JSON"))?;
    if c.kind != kind {
        return Err(WebauthnError::ClientData("wrong ceremony type"));
    }
    if from_b64url(&c.challenge).as_deref() != Some(challenge) {
        return Err(WebauthnError::ClientData("not the challenge this console issued"));
    }
    if c.origin != rp.origin {
        return Err(WebauthnError::ClientData("wrong origin"));
    }
    if c.cross_origin {
        return Err(WebauthnError::ClientData("cross-origin"));
    }
    Ok(())
}

struct AuthData<'a> {
    flags: u8,
    sign_count: u32,
    /// Attested credential data and extensions.
    rest: &'a [u8],
}

/// The authenticator data, for this relying party, with the user present and verified
/// (PIN or biometric): a passkey alone, without its owner, opens nothing.
fn parse_auth_data<'a>(rp: &RelyingParty, data: &'a [u8]) -> Result<AuthData<'a>, WebauthnError> {
    if data.len() < 37 {
        return Err(WebauthnError::AuthData("too short"));
    }
    if data[..32] != sha256(rp.id.as_bytes()) {
        return Err(WebauthnError::AuthData("for another relying party"));
    }
    let flags = data[32];
    if flags & FLAG_USER_PRESENT == 0 {
        return Err(WebauthnError::AuthData("user not present"));
    }
    if flags & FLAG_USER_VERIFIED == 0 {
        return Err(WebauthnError::AuthData("user not verified"));
    }
    let sign_count = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    Ok(AuthData { flags, sign_count, rest: &data[37..] })
}

fn cose_key(key: &Cbor) -> Result<(i64, Vec<u8>), WebauthnError> {
    let int = |k| key.int_key(k).and_then(Cbor::as_int);
    let bytes = |k| key.int_key(k).and_then(Cbor::as_bytes);
    match (int(1), int(3)) {
        (Some(2), Some(-7)) => {
            if int(-1) != Some(1) {
                return Err(WebauthnError::Key("ES256 on a curve other than P-256"));
            }
            let (Some(x), Some(y)) = (bytes(-2), bytes(-3)) else { return Err(WebauthnError::Key("missing coordinates")) };
            if x.len() != 32 || y.len() != 32 {
                return Err(WebauthnError::Key("coordinates are not 32 bytes"));
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            Ok((ES256, point))
        }
        (Some(1), Some(-8)) => match (int(-1), bytes(-2)) {
            (Some(6), Some(x)) if x.len() == 32 => Ok((EDDSA, x.to_vec())),
            _ => Err(WebauthnError::Key("EdDSA key that is not Ed25519")),
        },
        (Some(3), Some(-257)) => match (bytes(-1), bytes(-2)) {
            (Some(n), Some(e)) if (256..=1024).contains(&n.len()) && (1..=8).contains(&e.len()) => {
                let mut key = (n.len() as u16).to_be_bytes().to_vec();
                key.extend_from_slice(n);
                key.extend_from_slice(e);
                Ok((RS256, key))
            }
            _ => Err(WebauthnError::Key("RS256 key under 2048 bits or malformed")),
        },
        _ => Err(WebauthnError::Key("only ES256, Ed25519 and RS256 passkeys are accepted")),
    }
}

/// Checks a registration (`navigator.credentials.create`) against the challenge this
/// console issued.
pub fn verify_registration(rp: &RelyingParty, challenge: &[u8], client_data_json: &[u8], attestation_object: &[u8]) -> Result<NewPasskey, WebauthnError> {
    check_client_data(rp, client_data_json, "webauthn.create", challenge)?;
    let att = cbor::decode(attestation_object).map_err(|_| WebauthnError::Attestation("not CBOR"))?;
    let auth_data = att.text_key("authData").and_then(Cbor::as_bytes).ok_or(WebauthnError::Attestation("no authData"))?;
    let ad = parse_auth_data(rp, auth_data)?;
    if ad.flags & FLAG_ATTESTED == 0 || ad.rest.len() < 18 {
        return Err(WebauthnError::AuthData("no attested credential"));
    }
    let id_len = usize::from(u16::from_be_bytes([ad.rest[16], ad.rest[17]]));
    let after_id = 18usize.checked_add(id_len).filter(|&e| e <= ad.rest.len()).ok_or(WebauthnError::AuthData("credential id overruns"))?;
    if !(16..=1023).contains(&id_len) {
        return Err(WebauthnError::AuthData("credential id length out of range"));
    }
    let credential_id = ad.rest[18..after_id].to_vec();
    let (key, _) = cbor::decode_prefix(&ad.rest[after_id..]).map_err(|_| WebauthnError::Key("not CBOR"))?;
    let (algorithm, public_key) = cose_key(&key)?;
    Ok(NewPasskey { credential_id, algorithm, public_key, sign_count: ad.sign_count })
}

/// What the browser answers to `navigator.credentials.get`.
pub struct Assertion<'a> {
    pub client_data_json: &'a [u8],
    pub authenticator_data: &'a [u8],
    pub signature: &'a [u8],
}

/// A registered passkey as the console keeps it.
pub struct StoredKey<'a> {
    pub algorithm: i64,
    pub public_key: &'a [u8],
    pub sign_count: u32,
}

/// Checks a sign-in (`navigator.credentials.get`) made with a stored passkey; returns
/// the new signature counter to store.
pub fn verify_assertion(rp: &RelyingParty, challenge: &[u8], a: &Assertion<'_>, key: &StoredKey<'_>) -> Result<u32, WebauthnError> {
    let (client_data_json, authenticator_data, signature) = (a.client_data_json, a.authenticator_data, a.signature);
    let (algorithm, public_key, stored_count) = (key.algorithm, key.public_key, key.sign_count);
    check_client_data(rp, client_data_json, "webauthn.get", challenge)?;
    let ad = parse_auth_data(rp, authenticator_data)?;
    let mut signed = authenticator_data.to_vec();
    signed.extend_from_slice(&sha256(client_data_json));
    let verified = match algorithm {
        ES256 => UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key).verify(&signed, signature),
        EDDSA => UnparsedPublicKey::new(&ED25519, public_key).verify(&signed, signature),
        RS256 => {
            let split = public_key.get(..2).map(|l| 2 + usize::from(u16::from_be_bytes([l[0], l[1]])));
            let (n, e) = match split.filter(|&at| at < public_key.len()) {
                Some(at) => (&public_key[2..at], &public_key[at..]),
                None => return Err(WebauthnError::Key("stored RSA key is malformed")),
            };
            RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, &signed, signature)
        }
        _ => return Err(WebauthnError::Key("unknown algorithm")),
    };
    verified.map_err(|_| WebauthnError::Signature)?;
    if (ad.sign_count != 0 || stored_count != 0) && ad.sign_count <= stored_count {
        return Err(WebauthnError::Counter);
    }
    Ok(ad.sign_count)
}

#[cfg(test)]
#[path = "webauthn_tests.rs"]
mod tests;
