//! Packet encryption for one direction: OpenSSH's chacha20-poly1305 and AES-GCM
//! (RFC 5647) from ring, AES-CTR (RFC 4344) and the legacy CBC modes from RustCrypto.
//! Stream and block ciphers keep their state across packets, as SSH requires.

use aes::{Aes128, Aes192, Aes256};
use cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, StreamCipher};
use ring::aead::{self, chacha20_poly1305_openssh as chacha};

use crate::decoy::ssh::transport::algorithms::Cipher;

/// A keyed cipher state for one direction.
pub enum CipherState {
    None,
    Chacha { seal: Box<chacha::SealingKey>, open: Box<chacha::OpeningKey> },
    Gcm { key: Box<aead::LessSafeKey>, iv: [u8; 12] },
    Ctr128(Box<ctr::Ctr128BE<Aes128>>),
    Ctr192(Box<ctr::Ctr128BE<Aes192>>),
    Ctr256(Box<ctr::Ctr128BE<Aes256>>),
    Cbc(Box<Cbc>),
}

/// CBC state: an encryptor or a decryptor (one direction uses one of them).
pub enum Cbc {
    Enc128(cbc::Encryptor<Aes128>),
    Enc192(cbc::Encryptor<Aes192>),
    Enc256(cbc::Encryptor<Aes256>),
    Enc3Des(cbc::Encryptor<des::TdesEde3>),
    Dec128(cbc::Decryptor<Aes128>),
    Dec192(cbc::Decryptor<Aes192>),
    Dec256(cbc::Decryptor<Aes256>),
    Dec3Des(cbc::Decryptor<des::TdesEde3>),
}

/// An AEAD tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

impl CipherState {
    /// Keys `cipher` for encrypting (`sealing`) or decrypting.
    pub fn new(cipher: Cipher, key: &[u8], iv: &[u8], sealing: bool) -> Self {
        match cipher {
            Cipher::Chacha20Poly1305 => {
                let k = arr::<64>(key);
                CipherState::Chacha { seal: Box::new(chacha::SealingKey::new(&k)), open: Box::new(chacha::OpeningKey::new(&k)) }
            }
            Cipher::Aes128Gcm | Cipher::Aes256Gcm => {
                let alg = if cipher == Cipher::Aes128Gcm { &aead::AES_128_GCM } else { &aead::AES_256_GCM };
                let unbound = aead::UnboundKey::new(alg, key).unwrap_or_else(|_| unreachable!("key length comes from Cipher::sizes"));
                CipherState::Gcm { key: Box::new(aead::LessSafeKey::new(unbound)), iv: arr::<12>(iv) }
            }
            Cipher::Aes128Ctr => CipherState::Ctr128(Box::new(ctr::Ctr128BE::new(&arr::<16>(key).into(), &arr::<16>(iv).into()))),
            Cipher::Aes192Ctr => CipherState::Ctr192(Box::new(ctr::Ctr128BE::new(&arr::<24>(key).into(), &arr::<16>(iv).into()))),
            Cipher::Aes256Ctr => CipherState::Ctr256(Box::new(ctr::Ctr128BE::new(&arr::<32>(key).into(), &arr::<16>(iv).into()))),
            Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc | Cipher::TripleDesCbc => {
                let iv16 = arr::<16>(iv).into();
                let iv8 = arr::<8>(iv).into();
                let state = match (cipher, sealing) {
                    (Cipher::Aes128Cbc, true) => Cbc::Enc128(cbc::Encryptor::new(&arr::<16>(key).into(), &iv16)),
                    (Cipher::Aes192Cbc, true) => Cbc::Enc192(cbc::Encryptor::new(&arr::<24>(key).into(), &iv16)),
                    (Cipher::Aes256Cbc, true) => Cbc::Enc256(cbc::Encryptor::new(&arr::<32>(key).into(), &iv16)),
                    (_, true) => Cbc::Enc3Des(cbc::Encryptor::new(&arr::<24>(key).into(), &iv8)),
                    (Cipher::Aes128Cbc, false) => Cbc::Dec128(cbc::Decryptor::new(&arr::<16>(key).into(), &iv16)),
                    (Cipher::Aes192Cbc, false) => Cbc::Dec192(cbc::Decryptor::new(&arr::<24>(key).into(), &iv16)),
                    (Cipher::Aes256Cbc, false) => Cbc::Dec256(cbc::Decryptor::new(&arr::<32>(key).into(), &iv16)),
                    (_, false) => Cbc::Dec3Des(cbc::Decryptor::new(&arr::<24>(key).into(), &iv8)),
                };
                CipherState::Cbc(Box::new(state))
            }
        }
    }

    /// Block size for padding: at least 8.
    pub fn block_size(&self) -> usize {
        match self {
            CipherState::None | CipherState::Chacha { .. } => 8,
            CipherState::Cbc(c) if matches!(**c, Cbc::Enc3Des(_) | Cbc::Dec3Des(_)) => 8,
            _ => 16,
        }
    }

    /// Tag bytes an AEAD cipher appends (0 otherwise).
    pub fn aead_tag_len(&self) -> usize {
        match self {
            CipherState::Chacha { .. } | CipherState::Gcm { .. } => 16,
            _ => 0,
        }
    }

    /// True when the packet length travels unencrypted (GCM) or is handled by the
    /// AEAD itself (chacha20-poly1305): padding then aligns the rest of the packet.
    pub fn is_aead(&self) -> bool {
        self.aead_tag_len() > 0
    }

    /// Encrypts or decrypts `buf` in place with a stream or block cipher (`buf` is a
    /// whole number of blocks for CBC). No-op for `None`; not for AEADs.
    pub fn apply(&mut self, buf: &mut [u8]) {
        match self {
            CipherState::Ctr128(c) => c.apply_keystream(buf),
            CipherState::Ctr192(c) => c.apply_keystream(buf),
            CipherState::Ctr256(c) => c.apply_keystream(buf),
            CipherState::Cbc(c) => c.apply(buf),
            CipherState::None | CipherState::Chacha { .. } | CipherState::Gcm { .. } => {}
        }
    }

    /// Seals a whole packet (length field first) in place with an AEAD; returns the tag.
    pub fn seal(&mut self, seq: u32, packet: &mut [u8]) -> [u8; 16] {
        let mut tag = [0u8; 16];
        match self {
            CipherState::Chacha { seal, .. } => seal.seal_in_place(seq, packet, &mut tag),
            CipherState::Gcm { key, iv } => {
                let nonce = aead::Nonce::assume_unique_for_key(*iv);
                let (len, body) = packet.split_at_mut(4);
                let t =
                    key.seal_in_place_separate_tag(nonce, aead::Aad::from(&*len), body).unwrap_or_else(|_| unreachable!("packets are far below GCM's limit"));
                tag.copy_from_slice(t.as_ref());
                increment(iv);
            }
            _ => {}
        }
        tag
    }

    /// The packet length of an AEAD packet from its first 4 bytes.
    pub fn aead_length(&self, seq: u32, first4: [u8; 4]) -> u32 {
        match self {
            CipherState::Chacha { open, .. } => u32::from_be_bytes(open.decrypt_packet_length(seq, first4)),
            _ => u32::from_be_bytes(first4),
        }
    }

    /// Opens a whole AEAD packet (length field, ciphertext, tag) in place; on success
    /// `packet` holds the plaintext after the length field.
    pub fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), Corrupt> {
        let n = packet.len().checked_sub(16).ok_or(Corrupt)?;
        let (data, tag) = packet.split_at_mut(n);
        match self {
            CipherState::Chacha { open, .. } => {
                let tag: [u8; 16] = arr(tag);
                open.open_in_place(seq, data, &tag).map(|_| ()).map_err(|_| Corrupt)
            }
            CipherState::Gcm { key, iv } => {
                let nonce = aead::Nonce::assume_unique_for_key(*iv);
                let (len, body) = data.split_at_mut(4);
                let tag = aead::Tag::from(arr::<16>(tag));
                key.open_in_place_separate_tag(nonce, aead::Aad::from(&*len), tag, body, 0..).map_err(|_| Corrupt)?;
                increment(iv);
                Ok(())
            }
            _ => Err(Corrupt),
        }
    }
}

/// RFC 5647 §7.1: the invocation counter is the IV's last 8 bytes, big-endian.
fn increment(iv: &mut [u8; 12]) {
    let mut counter = [0u8; 8];
    counter.copy_from_slice(&iv[4..]);
    iv[4..].copy_from_slice(&u64::from_be_bytes(counter).wrapping_add(1).to_be_bytes());
}

macro_rules! blocks {
    ($mode:expr, $buf:expr, $n:literal, $method:ident) => {{
        for chunk in $buf.chunks_exact_mut($n) {
            let mut block = arr::<$n>(chunk).into();
            $mode.$method(&mut block);
            chunk.copy_from_slice(&<[u8; $n]>::from(block));
        }
    }};
}

impl Cbc {
    fn apply(&mut self, buf: &mut [u8]) {
        match self {
            Cbc::Enc128(c) => blocks!(c, buf, 16, encrypt_block),
            Cbc::Enc192(c) => blocks!(c, buf, 16, encrypt_block),
            Cbc::Enc256(c) => blocks!(c, buf, 16, encrypt_block),
            Cbc::Enc3Des(c) => blocks!(c, buf, 8, encrypt_block),
            Cbc::Dec128(c) => blocks!(c, buf, 16, decrypt_block),
            Cbc::Dec192(c) => blocks!(c, buf, 16, decrypt_block),
            Cbc::Dec256(c) => blocks!(c, buf, 16, decrypt_block),
            Cbc::Dec3Des(c) => blocks!(c, buf, 8, decrypt_block),
        }
    }
}
