//! Bytes an attacker sent, kept exactly as received.
//!
//! Serialized as an object: `{"text": <lossy UTF-8>}` when the bytes are valid UTF-8,
//! plus `"base64": <exact bytes>` when they are not. The object shape never changes
//! type (good for SIEM field mappings) and reading it back gives the exact bytes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Untrusted bytes from the network.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AttackerBytes(Vec<u8>);

impl AttackerBytes {
    /// Wraps received bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        AttackerBytes(bytes.into())
    }

    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing was received.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lossy UTF-8 text (invalid sequences become U+FFFD).
    pub fn to_text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// The bytes lower-cased, with `%xx` escapes decoded once: enough to see a pattern
/// through simple encoding.
pub fn decoded_lower(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b.to_ascii_lowercase());
        i += 1;
    }
    out
}

impl std::fmt::Debug for AttackerBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttackerBytes({:?})", String::from_utf8_lossy(&self.0))
    }
}

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    text: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
}

impl Serialize for AttackerBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let wire = match std::str::from_utf8(&self.0) {
            Ok(text) => Wire { text: text.into(), base64: None },
            Err(_) => Wire { text: String::from_utf8_lossy(&self.0), base64: Some(B64.encode(&self.0)) },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for AttackerBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(d)?;
        match wire.base64 {
            Some(b) => B64.decode(b).map(AttackerBytes).map_err(D::Error::custom),
            None => Ok(AttackerBytes(wire.text.into_owned().into_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bytes_serialize_as_text_only() {
        let json = serde_json::to_string(&AttackerBytes::new("GET /\r\n")).unwrap();
        assert_eq!(json, r#"{"text":"GET /\r\n"}"#);
    }

    #[test]
    fn invalid_utf8_round_trips_exactly_through_base64() {
        let raw = vec![0xff, 0x00, b'a', 0xc3];
        let json = serde_json::to_string(&AttackerBytes::new(raw.clone())).unwrap();
        assert!(json.contains("base64"));
        let back: AttackerBytes = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_bytes(), &raw[..]);
    }

    #[test]
    fn every_byte_string_round_trips() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..500 {
            let len = rng.random_range(0..64);
            let raw: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let json = serde_json::to_string(&AttackerBytes::new(raw.clone())).unwrap();
            let back: AttackerBytes = serde_json::from_str(&json).unwrap();
            assert_eq!(back.as_bytes(), &raw[..]);
        }
    }
}
