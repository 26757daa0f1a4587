//! Sensor request signing: HMAC-SHA256 (ring) over the method, path, timestamp, a
//! nonce and the body's SHA-256, with the key the controller issued at enrolment.
//!
//! Why HMAC rather than client certificates: revoking a sensor is one row on the
//! controller and takes effect on its next request, there is no CA to run or
//! certificate lifetime to manage on dozens of sensors, and the signature also binds
//! the body and a timestamp, so a captured request cannot be replayed or altered
//! even by something that terminates TLS in between. TLS still protects the content.

use ring::hmac;

/// Request headers carrying the signature.
pub const SENSOR_HEADER: &str = "x-honeyward-sensor";
pub const TIMESTAMP_HEADER: &str = "x-honeyward-timestamp";
pub const NONCE_HEADER: &str = "x-honeyward-nonce";
pub const SIGNATURE_HEADER: &str = "x-honeyward-signature";

/// How far a request's timestamp may be from the controller's clock.
pub const MAX_SKEW_MS: i64 = 300_000;

/// What is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn canonical(s: &Signed<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, s.body);
    canonical_head(&SignedHead { method: s.method, path: s.path, timestamp_ms: s.timestamp_ms, nonce: s.nonce }, digest.as_ref())
}

fn canonical_head(h: &SignedHead<'_>, body_sha256: &[u8]) -> String {
    format!("HONEYWARD-HMAC-SHA256\n{}\n{}\n{}\n{}\n{}", h.method, h.path, h.timestamp_ms, h.nonce, hex(body_sha256))
}

/// What is signed besides the body: the controller checks these (and that the sensor
/// exists) before it reads a body, and hashes the body while reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHead<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
}

/// A fresh random nonce (128 bits, hex).
pub fn nonce() -> String {
    hex(&rand::random::<[u8; 16]>())
}

/// The signature (lowercase hex).
pub fn sign(key: &[u8], s: &Signed<'_>) -> String {
    hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), canonical(s).as_bytes()).as_ref())
}

/// Why a signed request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("missing signature headers")]
    Unsigned,
    #[error("unknown sensor")]
    UnknownSensor,
    #[error("revoked sensor")]
    Revoked,
    #[error("bad signature")]
    BadSignature,
    #[error("stale timestamp ({0} ms off)")]
    Stale(i64),
    #[error("replayed request (nonce seen before)")]
    Replayed,
    /// The timestamp is too far off to be worth reading the body for (the signature
    /// was not checked, so the peer is not told).
    #[error("timestamp too far off ({0} ms), refused before the body")]
    OffClock(i64),
}

impl Refusal {
    /// A short stable name for the kind of refusal (numbers left out).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::UnknownSensor => "unknown_sensor",
            Refusal::Revoked => "revoked",
            Refusal::BadSignature => "bad_signature",
            Refusal::Stale(_) => "stale",
            Refusal::Replayed => "replayed",
            Refusal::OffClock(_) => "off_clock",
        }
    }

    /// What the peer is told. Refusals decided before the signature is known to be
    /// good (missing headers, unknown or revoked sensor, bad signature) all read the
    /// same, so that a prober learns nothing about which sensor names exist; a stale
    /// or replayed request was signed with a sensor's key and is told why.
    pub fn shown_to_peer(&self) -> String {
        match self {
            Refusal::Stale(_) | Refusal::Replayed => self.to_string(),
            Refusal::Unsigned | Refusal::UnknownSensor | Refusal::Revoked | Refusal::BadSignature | Refusal::OffClock(_) => {
                "refused: not a request signed by an enrolled sensor".to_string()
            }
        }
    }
}

/// Checks the signature and the timestamp (the nonce is checked by the caller, which
/// remembers them). Constant-time comparison.
pub fn verify(key: &[u8], s: &Signed<'_>, signature_hex: &str, now_ms: i64) -> Result<(), Refusal> {
    let Some(signature) = unhex(signature_hex) else { return Err(Refusal::BadSignature) };
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), canonical(s).as_bytes(), &signature).map_err(|_| Refusal::BadSignature)?;
    let skew = now_ms - s.timestamp_ms;
    if skew.abs() > MAX_SKEW_MS {
        return Err(Refusal::Stale(skew));
    }
    Ok(())
}

/// Like [`verify`], with the body given by its SHA-256.
pub fn verify_digest(key: &[u8], h: &SignedHead<'_>, body_sha256: &[u8], signature_hex: &str, now_ms: i64) -> Result<(), Refusal> {
    let Some(signature) = unhex(signature_hex) else { return Err(Refusal::BadSignature) };
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), canonical_head(h, body_sha256).as_bytes(), &signature).map_err(|_| Refusal::BadSignature)?;
    let skew = now_ms - h.timestamp_ms;
    if skew.abs() > MAX_SKEW_MS {
        return Err(Refusal::Stale(skew));
    }
    Ok(())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 128 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn request(body: &[u8]) -> Signed<'_> {
        Signed { method: "POST", path: "/v1/ingest", timestamp_ms: 1_795_883_913_000, nonce: "6b1f0c", body }
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let s = request(br#"{"events":[]}"#);
        let sig = sign(KEY, &s);
        assert_eq!(verify(KEY, &s, &sig, s.timestamp_ms + 1000), Ok(()));
        for changed in [
            Signed { body: br#"{"events":[1]}"#, ..s },
            Signed { path: "/v1/heartbeat", ..s },
            Signed { method: "PUT", ..s },
            Signed { nonce: "6b1f0d", ..s },
            Signed { timestamp_ms: s.timestamp_ms + 1, ..s },
        ] {
            assert_eq!(verify(KEY, &changed, &sig, s.timestamp_ms), Err(Refusal::BadSignature), "{changed:?}");
        }
        assert_eq!(verify(b"another key of the same length!!", &s, &sig, s.timestamp_ms), Err(Refusal::BadSignature));
        assert_eq!(verify(KEY, &s, "zz", s.timestamp_ms), Err(Refusal::BadSignature));
        assert_eq!(verify(KEY, &s, &sig, s.timestamp_ms + MAX_SKEW_MS + 1), Err(Refusal::Stale(MAX_SKEW_MS + 1)));
    }
}
