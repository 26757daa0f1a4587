//! Packet MACs (RFC 4253 §6.4): HMAC-SHA1/SHA2 from ring, UMAC from [`super::umac`].
//! HMAC covers the sequence number and the packet; UMAC takes the sequence number as
//! its nonce (OpenSSH's construction).

use ring::hmac;

use super::umac::Umac;
use crate::decoy::ssh::transport::algorithms::Mac;

/// Largest tag (HMAC-SHA-512).
pub const MAX_TAG: usize = 64;

/// A keyed MAC for one direction.
pub enum MacKey {
    Hmac { key: hmac::Key, tag_len: usize },
    Umac { umac: Box<Umac>, tag_len: usize },
}

impl MacKey {
    /// A MAC of kind `mac` keyed with `key` (as long as [`Mac::sizes`] says).
    pub fn new(mac: Mac, key: &[u8]) -> Self {
        let (_, tag_len, _) = mac.sizes();
        let hmac = |alg| MacKey::Hmac { key: hmac::Key::new(alg, key), tag_len };
        match mac {
            Mac::HmacSha256 | Mac::HmacSha256Etm => hmac(hmac::HMAC_SHA256),
            Mac::HmacSha512 | Mac::HmacSha512Etm => hmac(hmac::HMAC_SHA512),
            Mac::HmacSha1 | Mac::HmacSha1Etm => hmac(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
            Mac::Umac64 | Mac::Umac64Etm | Mac::Umac128 | Mac::Umac128Etm => {
                let mut k = [0u8; 16];
                let n = key.len().min(16);
                k[..n].copy_from_slice(&key[..n]);
                MacKey::Umac { umac: Box::new(Umac::new(&k, tag_len)), tag_len }
            }
        }
    }

    /// Tag length in bytes.
    pub fn tag_len(&self) -> usize {
        match self {
            MacKey::Hmac { tag_len, .. } | MacKey::Umac { tag_len, .. } => *tag_len,
        }
    }

    /// The tag of `data` sent or received as packet number `seq`.
    pub fn sign(&self, seq: u32, data: &[u8]) -> ([u8; MAX_TAG], usize) {
        let mut out = [0u8; MAX_TAG];
        match self {
            MacKey::Hmac { key, tag_len } => {
                let mut ctx = hmac::Context::with_key(key);
                ctx.update(&seq.to_be_bytes());
                ctx.update(data);
                let tag = ctx.sign();
                out[..*tag_len].copy_from_slice(&tag.as_ref()[..*tag_len]);
                (out, *tag_len)
            }
            MacKey::Umac { umac, tag_len } => {
                let tag = umac.tag(data, &u64::from(seq).to_be_bytes());
                out[..*tag_len].copy_from_slice(&tag[..*tag_len]);
                (out, *tag_len)
            }
        }
    }

    /// Checks `tag` in constant time.
    pub fn verify(&self, seq: u32, data: &[u8], tag: &[u8]) -> bool {
        let (want, len) = self.sign(seq, data);
        crate::secret_eq::same(tag, &want[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_covers_the_sequence_number_and_umac_uses_it_as_nonce() {
        for mac in Mac::ALL {
            let (key_len, tag_len, _) = mac.sizes();
            let key = MacKey::new(*mac, &vec![7u8; key_len]);
            assert_eq!(key.tag_len(), tag_len);
            let (tag, n) = key.sign(3, b"packet");
            assert!(key.verify(3, b"packet", &tag[..n]), "{mac:?}");
            assert!(!key.verify(4, b"packet", &tag[..n]), "{mac:?}: sequence number not covered");
            assert!(!key.verify(3, b"packe7", &tag[..n]));
            assert!(!key.verify(3, b"packet", &tag[..n - 1]));
        }
        // RFC 4231 test case 2 with a zero sequence number prefix is plain HMAC over it.
        let key = MacKey::new(Mac::HmacSha256, b"Jefe");
        let (tag, n) = key.sign(0, b"what do ya want for nothing?");
        let plain = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"Jefe"), b"\0\0\0\0what do ya want for nothing?");
        assert_eq!(&tag[..n], plain.as_ref());
    }
}
