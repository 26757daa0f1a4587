//! SMB 3 encryption (MS-SMB2 §2.2.41, §3.1.4.3, keys §3.2.5.3.1): the TRANSFORM
//! header a session's messages travel in once a client encrypts, as impacket does
//! against any server that offers encryption. AES-128/256 in CCM or GCM, the keys
//! derived from the session key as each dialect says. Pure: no I/O.

use aes::{Aes128, Aes256};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::consts::{U11, U16};
use ring::hmac;

use super::signing::Preauth;

/// The TRANSFORM header's magic and size.
pub const MAGIC: &[u8; 4] = b"\xfdSMB";
pub const HEADER: usize = 52;

type Aes128Ccm = ccm::Ccm<Aes128, U16, U11>;
type Aes256Ccm = ccm::Ccm<Aes256, U16, U11>;

/// A cipher (MS-SMB2 §2.2.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes128Ccm,
    Aes128Gcm,
    Aes256Ccm,
    Aes256Gcm,
}

impl Cipher {
    /// The cipher with this id on the wire.
    pub fn from_id(id: u16) -> Option<Cipher> {
        Some(match id {
            1 => Cipher::Aes128Ccm,
            2 => Cipher::Aes128Gcm,
            3 => Cipher::Aes256Ccm,
            4 => Cipher::Aes256Gcm,
            _ => return None,
        })
    }

    fn key_bits(self) -> u32 {
        match self {
            Cipher::Aes128Ccm | Cipher::Aes128Gcm => 128,
            Cipher::Aes256Ccm | Cipher::Aes256Gcm => 256,
        }
    }

    fn nonce_len(self) -> usize {
        match self {
            Cipher::Aes128Ccm | Cipher::Aes256Ccm => 11,
            Cipher::Aes128Gcm | Cipher::Aes256Gcm => 12,
        }
    }
}

/// SP800-108 counter mode with HMAC-SHA256 for `bits` of key (128 or 256).
fn kdf(key: &[u8], label: &[u8], context: &[u8], bits: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(bits as usize / 8);
    let mut counter = 1u32;
    while out.len() < bits as usize / 8 {
        let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
        ctx.update(&counter.to_be_bytes());
        ctx.update(label);
        ctx.update(&[0]);
        ctx.update(context);
        ctx.update(&bits.to_be_bytes());
        out.extend_from_slice(ctx.sign().as_ref());
        counter += 1;
    }
    out.truncate(bits as usize / 8);
    out
}

/// Why an encrypted message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("shorter than a TRANSFORM header")]
    Short,
    #[error("the original size disagrees with the bytes")]
    Size,
    #[error("the message does not decrypt under the session's key")]
    Decrypt,
}

/// A session's encryption: the key the client encrypts with and the one the server does.
#[derive(Clone)]
pub struct Crypt {
    cipher: Cipher,
    client_to_server: Vec<u8>,
    server_to_client: Vec<u8>,
}

/// The session id a TRANSFORM header names (to find the session's keys).
pub fn session_id(frame: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(frame.get(44..52)?.try_into().ok()?))
}

impl Crypt {
    /// The keys for a session of `dialect` (3.0 and up) on `cipher`.
    pub fn new(dialect: u16, cipher: Cipher, session_key: &[u8; 16], preauth: &Preauth) -> Crypt {
        let bits = cipher.key_bits();
        let (client_to_server, server_to_client) = if dialect == 0x0311 {
            (kdf(session_key, b"SMBC2SCipherKey\0", &preauth.0, bits), kdf(session_key, b"SMBS2CCipherKey\0", &preauth.0, bits))
        } else {
            (kdf(session_key, b"SMB2AESCCM\0", b"ServerIn \0", bits), kdf(session_key, b"SMB2AESCCM\0", b"ServerOut\0", bits))
        };
        Crypt { cipher, client_to_server, server_to_client }
    }

    /// The SMB2 message (or compound) inside a client's TRANSFORM frame.
    pub fn decrypt(&self, frame: &[u8]) -> Result<Vec<u8>, TransformError> {
        if frame.len() < HEADER {
            return Err(TransformError::Short);
        }
        let (header, body) = frame.split_at(HEADER);
        let size = u32::from_le_bytes([header[36], header[37], header[38], header[39]]) as usize;
        if size != body.len() {
            return Err(TransformError::Size);
        }
        let nonce = &header[20..20 + self.cipher.nonce_len()];
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&header[4..20]);
        let mut plain = body.to_vec();
        seal(self.cipher, &self.client_to_server, nonce, &header[20..HEADER], &mut plain, Some(&tag))?;
        Ok(plain)
    }

    /// `message` in a TRANSFORM frame for the client, under a fresh nonce.
    pub fn encrypt(&self, session_id: u64, message: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 16];
        rand::RngExt::fill(&mut rand::rng(), &mut nonce[..self.cipher.nonce_len()]);
        let mut out = Vec::with_capacity(HEADER + message.len());
        out.extend_from_slice(MAGIC);
        out.extend([0; 16]);
        out.extend_from_slice(&nonce);
        out.extend((message.len() as u32).to_le_bytes());
        out.extend([0, 0]);
        // 3.1.1: Flags = Encrypted; 3.0: EncryptionAlgorithm = AES-128-CCM. Both 1.
        out.extend(1u16.to_le_bytes());
        out.extend(session_id.to_le_bytes());
        let mut body = message.to_vec();
        let tag = seal(self.cipher, &self.server_to_client, &nonce[..self.cipher.nonce_len()], &out[20..HEADER], &mut body, None).unwrap_or([0; 16]);
        out[4..20].copy_from_slice(&tag);
        out.extend_from_slice(&body);
        out
    }
}

/// Encrypts `data` in place and gives the tag (`tag` None), or checks `tag` and
/// decrypts in place.
fn seal(cipher: Cipher, key: &[u8], nonce: &[u8], aad: &[u8], data: &mut [u8], tag: Option<&[u8; 16]>) -> Result<[u8; 16], TransformError> {
    macro_rules! run {
        ($ty:ty) => {{
            let c = <$ty>::new_from_slice(key).map_err(|_| TransformError::Decrypt)?;
            let nonce = nonce.try_into().map_err(|_| TransformError::Decrypt)?;
            match tag {
                None => c.encrypt_inout_detached(nonce, aad, data.into()).map(|t| t.into()).map_err(|_| TransformError::Decrypt),
                Some(t) => c.decrypt_inout_detached(nonce, aad, data.into(), t.into()).map(|()| *t).map_err(|_| TransformError::Decrypt),
            }
        }};
    }
    match cipher {
        Cipher::Aes128Ccm => run!(Aes128Ccm),
        Cipher::Aes256Ccm => run!(Aes256Ccm),
        Cipher::Aes128Gcm => run!(Aes128Gcm),
        Cipher::Aes256Gcm => run!(Aes256Gcm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_encrypted_for_the_client_decrypts_with_the_client_side_keys_and_tampering_is_caught() {
        for cipher in [Cipher::Aes128Ccm, Cipher::Aes128Gcm, Cipher::Aes256Ccm, Cipher::Aes256Gcm] {
            let server = Crypt::new(0x0311, cipher, &[7; 16], &Preauth([3; 64]));
            // The client's view: its keys swapped.
            let client = Crypt { cipher, client_to_server: server.server_to_client.clone(), server_to_client: server.client_to_server.clone() };
            let frame = server.encrypt(0x1234, b"\xfeSMB hello");
            assert_eq!(session_id(&frame), Some(0x1234));
            assert_eq!(client.decrypt(&frame).unwrap(), b"\xfeSMB hello", "{cipher:?}");
            for at in [4, 25, 44, HEADER + 2] {
                let mut bad = frame.clone();
                bad[at] ^= 1;
                assert_eq!(client.decrypt(&bad), Err(TransformError::Decrypt), "{cipher:?} byte {at}");
            }
            assert_eq!(client.decrypt(&frame[..HEADER - 1]), Err(TransformError::Short));
            assert_eq!(client.decrypt(&frame[..frame.len() - 1]), Err(TransformError::Size));
        }
    }

    #[test]
    fn the_3_0_keys_are_the_published_ones() {
        // MS-SMB2's 3.0 labels give the same 128-bit key as the signing KDF for the
        // same inputs: one HMAC block, truncated.
        let k = kdf(&[0x11; 16], b"SMB2AESCCM\0", b"ServerIn \0", 128);
        assert_eq!(k.as_slice(), &super::super::signing::kdf(&[0x11; 16], b"SMB2AESCCM\0", b"ServerIn \0")[..]);
        assert_eq!(kdf(&[0x11; 16], b"L\0", b"C\0", 256).len(), 32);
    }
}
