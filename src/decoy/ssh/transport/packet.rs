//! The binary packet protocol (RFC 4253 §6) for one connection: padding, encryption,
//! MACs (plain, encrypt-then-MAC, AEAD), sequence numbers and compression. Reading is
//! incremental over a buffer of received bytes: a packet's length is checked before
//! anything is allocated for it, and nothing is trusted before its MAC verifies.

use bytes::{Buf, BytesMut};
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::algorithms::Compression;
use super::crypto::cipher::CipherState;
use super::crypto::mac::MacKey;
use super::kexinit::Direction;

/// OpenSSH's largest packet (PACKET_MAX_SIZE).
pub const MAX_PACKET: u32 = 256 * 1024;
/// Largest payload a compressed packet may inflate to.
const MAX_INFLATED: usize = MAX_PACKET as usize;

/// Why the peer's bytes are not a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Length out of range or not a multiple of the block size.
    #[error("bad packet length {0}")]
    BadLength(u32),
    /// Padding shorter than 4 bytes or longer than the packet.
    #[error("corrupted padding length {0}")]
    BadPadding(u8),
    /// The MAC or AEAD tag did not verify.
    #[error("message authentication code incorrect")]
    Mac,
    /// Compressed data that does not inflate, or inflates past the cap.
    #[error("bad compressed data")]
    Decompress,
}

/// Keys and algorithms of one direction, from one NEWKEYS on.
pub struct DirectionKeys {
    pub cipher: CipherState,
    /// None for AEAD ciphers and before the first key exchange. Boxed: a keyed HMAC is
    /// large and most held connections never get one.
    pub mac: Option<Box<MacKey>>,
    pub etm: bool,
    pub compression: Compression,
}

impl DirectionKeys {
    /// No encryption, no MAC: the state before the first NEWKEYS.
    pub fn plain() -> Self {
        DirectionKeys { cipher: CipherState::None, mac: None, etm: false, compression: Compression::None }
    }

    /// Keys a negotiated direction with derived key material.
    pub fn new(dir: &Direction, sealing: bool, iv: &[u8], key: &[u8], mac_key: &[u8]) -> Self {
        let mac = dir.mac.map(|m| Box::new(MacKey::new(m, mac_key)));
        let etm = dir.mac.is_some_and(|m| m.sizes().2);
        DirectionKeys { cipher: CipherState::new(dir.cipher, key, iv, sealing), mac, etm, compression: dir.compression }
    }

    fn aad(&self) -> bool {
        self.etm || self.cipher.is_aead()
    }
}

/// The sending half.
pub struct Outbound {
    pub seq: u32,
    /// Padding of unencrypted packets is zeros (OpenSSH) rather than random (Dropbear).
    pub zero_plain_padding: bool,
    keys: DirectionKeys,
    deflate: Option<Box<Compress>>,
}

/// The receiving half.
pub struct Inbound {
    pub seq: u32,
    keys: DirectionKeys,
    inflate: Option<Box<Decompress>>,
    /// Length and decrypted first block of a packet whose rest has not arrived.
    pending: Option<(u32, Vec<u8>)>,
}

/// Zlib starts at NEWKEYS for `zlib`, after authentication for `zlib@openssh.com`.
fn compressing(c: Compression, authenticated: bool) -> bool {
    c == Compression::Zlib || (c == Compression::ZlibOpenSsh && authenticated)
}

impl Outbound {
    pub fn new() -> Self {
        Outbound { seq: 0, zero_plain_padding: false, keys: DirectionKeys::plain(), deflate: None }
    }

    /// Switches to new keys (at NEWKEYS). Compression starts a fresh zlib stream at
    /// every NEWKEYS, as OpenSSH's does.
    pub fn rekey(&mut self, keys: DirectionKeys, authenticated: bool) {
        let zlib = compressing(keys.compression, authenticated);
        self.deflate = zlib.then(|| Box::new(Compress::new(flate2::Compression::new(6), true)));
        self.keys = keys;
    }

    /// Starts delayed compression once the user has authenticated.
    pub fn authenticated(&mut self) {
        if self.deflate.is_none() && compressing(self.keys.compression, true) {
            self.deflate = Some(Box::new(Compress::new(flate2::Compression::new(6), true)));
        }
    }

    /// Appends `payload` as one wire packet to `out`.
    pub fn seal(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let compressed;
        let payload = match self.deflate.as_mut() {
            Some(z) => {
                compressed = deflate(z, payload);
                &compressed[..]
            }
            None => payload,
        };
        let bs = self.keys.cipher.block_size();
        let aligned = if self.keys.aad() { 1 + payload.len() } else { 5 + payload.len() };
        let mut pad = bs - aligned % bs;
        if pad < 4 {
            pad += bs;
        }
        let start = out.len();
        let len = 1 + payload.len() + pad;
        out.reserve(4 + len + 64);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(pad as u8);
        out.extend_from_slice(payload);
        let mut padding = [0u8; 32];
        if !(self.zero_plain_padding && matches!(self.keys.cipher, CipherState::None)) {
            rand::fill(&mut padding[..pad]);
        }
        out.extend_from_slice(&padding[..pad]);
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let keys = &mut self.keys;
        if keys.cipher.is_aead() {
            let tag = keys.cipher.seal(seq, &mut out[start..]);
            out.extend_from_slice(&tag);
            return;
        }
        match keys.mac.as_ref() {
            Some(mac) if keys.etm => {
                keys.cipher.apply(&mut out[start + 4..]);
                let (tag, n) = mac.sign(seq, &out[start..]);
                out.extend_from_slice(&tag[..n]);
            }
            Some(mac) => {
                let (tag, n) = mac.sign(seq, &out[start..]);
                keys.cipher.apply(&mut out[start..]);
                out.extend_from_slice(&tag[..n]);
            }
            None => keys.cipher.apply(&mut out[start..]),
        }
    }
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new()
    }
}

fn deflate(z: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut input = data;
    loop {
        let before_in = z.total_in();
        if out.capacity() - out.len() < 64 {
            out.reserve(256);
        }
        let _ = z.compress_vec(input, &mut out, FlushCompress::Partial);
        let used = (z.total_in() - before_in) as usize;
        input = &input[used..];
        if input.is_empty() && out.capacity() > out.len() {
            return out;
        }
    }
}

impl Inbound {
    pub fn new() -> Self {
        Inbound { seq: 0, keys: DirectionKeys::plain(), inflate: None, pending: None }
    }

    /// Switches to new keys (at NEWKEYS), with a fresh zlib stream when compressing.
    pub fn rekey(&mut self, keys: DirectionKeys, authenticated: bool) {
        let zlib = compressing(keys.compression, authenticated);
        self.inflate = zlib.then(|| Box::new(Decompress::new(true)));
        self.keys = keys;
    }

    /// Starts delayed decompression once the user has authenticated.
    pub fn authenticated(&mut self) {
        if self.inflate.is_none() && compressing(self.keys.compression, true) {
            self.inflate = Some(Box::new(Decompress::new(true)));
        }
    }

    /// True once keys are in use (after the first NEWKEYS).
    pub fn encrypted(&self) -> bool {
        !matches!(self.keys.cipher, CipherState::None)
    }

    /// Takes one packet's payload off the front of `input`; `Ok(None)` until a whole
    /// packet is there.
    pub fn open(&mut self, input: &mut BytesMut) -> Result<Option<Vec<u8>>, PacketError> {
        let keys = &mut self.keys;
        let bs = keys.cipher.block_size();
        let mac_len = keys.mac.as_ref().map_or(0, |m| m.tag_len()) + keys.cipher.aead_tag_len();
        let (len, first) = match self.pending.take() {
            Some(p) => p,
            None if keys.aad() => {
                if input.len() < 4 {
                    return Ok(None);
                }
                let first4 = [input[0], input[1], input[2], input[3]];
                let len = keys.cipher.aead_length(self.seq, first4);
                check_length(len, len as usize, bs)?;
                (len, Vec::new())
            }
            None => {
                if input.len() < bs {
                    return Ok(None);
                }
                let mut block = input[..bs].to_vec();
                keys.cipher.apply(&mut block);
                let len = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                check_length(len, len as usize + 4, bs)?;
                (len, block)
            }
        };
        let total = 4 + len as usize + mac_len;
        if input.len() < total {
            self.pending = Some((len, first));
            return Ok(None);
        }
        let seq = self.seq;
        let mut packet = input.split_to(total);
        if keys.cipher.is_aead() {
            keys.cipher.open(seq, &mut packet).map_err(|_| PacketError::Mac)?;
        } else {
            let body = 4 + len as usize;
            let (data, tag) = packet.split_at_mut(body);
            match keys.mac.as_ref() {
                Some(mac) if keys.etm => {
                    if !mac.verify(seq, data, tag) {
                        return Err(PacketError::Mac);
                    }
                    keys.cipher.apply(&mut data[4..]);
                }
                mac => {
                    data[..first.len()].copy_from_slice(&first);
                    keys.cipher.apply(&mut data[first.len()..]);
                    if let Some(mac) = mac {
                        if !mac.verify(seq, data, tag) {
                            return Err(PacketError::Mac);
                        }
                    }
                }
            }
        }
        self.seq = self.seq.wrapping_add(1);
        packet.advance(4);
        let pad = packet[0];
        if pad < 4 || usize::from(pad) + 1 > len as usize {
            return Err(PacketError::BadPadding(pad));
        }
        let payload = &packet[1..len as usize - usize::from(pad)];
        match self.inflate.as_mut() {
            Some(z) => inflate(z, payload).map(Some),
            None => Ok(Some(payload.to_vec())),
        }
    }
}

impl Default for Inbound {
    fn default() -> Self {
        Self::new()
    }
}

/// `aligned` must be a multiple of the block size; the length itself within bounds.
fn check_length(len: u32, aligned: usize, bs: usize) -> Result<(), PacketError> {
    if !(5..=MAX_PACKET).contains(&len) || aligned % bs != 0 {
        return Err(PacketError::BadLength(len));
    }
    Ok(())
}

fn inflate(z: &mut Decompress, data: &[u8]) -> Result<Vec<u8>, PacketError> {
    let mut out = Vec::with_capacity((data.len() * 4).min(MAX_INFLATED));
    let mut input = data;
    loop {
        if out.len() >= MAX_INFLATED {
            return Err(PacketError::Decompress);
        }
        if out.capacity() == out.len() {
            out.reserve((out.len()).clamp(256, MAX_INFLATED - out.len()));
        }
        let before_in = z.total_in();
        let before_out = z.total_out();
        let status = z.decompress_vec(input, &mut out, FlushDecompress::Sync).map_err(|_| PacketError::Decompress)?;
        input = &input[(z.total_in() - before_in) as usize..];
        let progressed = z.total_out() != before_out || z.total_in() != before_in;
        if status == Status::StreamEnd || (input.is_empty() && out.capacity() > out.len()) {
            return Ok(out);
        }
        if !progressed && out.capacity() > out.len() {
            return Err(PacketError::Decompress);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoy::ssh::transport::algorithms::{Cipher, Mac};

    fn keys(cipher: Cipher, mac: Option<Mac>, compression: Compression, sealing: bool) -> DirectionKeys {
        let (key_len, iv_len, _) = cipher.sizes();
        let mac_len = mac.map_or(0, |m| m.sizes().0);
        let dir = Direction { cipher, mac: if cipher.is_aead() { None } else { mac }, compression };
        DirectionKeys::new(&dir, sealing, &vec![3u8; iv_len], &vec![5u8; key_len], &vec![7u8; mac_len])
    }

    /// Every cipher with every MAC (and zlib) carries payloads of every size across,
    /// arriving one byte at a time, with sequence numbers in step.
    #[test]
    fn every_cipher_and_mac_round_trips_byte_by_byte() {
        for &cipher in Cipher::ALL {
            let macs: Vec<Option<Mac>> = if cipher.is_aead() { vec![None] } else { Mac::ALL.iter().map(|m| Some(*m)).collect() };
            for mac in macs {
                for compression in [Compression::None, Compression::Zlib] {
                    let mut out = Outbound::new();
                    let mut inb = Inbound::new();
                    out.rekey(keys(cipher, mac, compression, true), false);
                    inb.rekey(keys(cipher, mac, compression, false), false);
                    let mut wire = Vec::new();
                    let payloads: Vec<Vec<u8>> = (0..40).map(|n| (0..n * 7).map(|i| (i * 13 + n) as u8).collect()).collect();
                    for p in &payloads {
                        out.seal(p, &mut wire);
                    }
                    let mut buf = BytesMut::new();
                    let mut got = Vec::new();
                    for b in wire {
                        buf.extend_from_slice(&[b]);
                        while let Some(p) = inb.open(&mut buf).unwrap_or_else(|e| panic!("{cipher:?} {mac:?}: {e}")) {
                            got.push(p);
                        }
                    }
                    assert_eq!(got, payloads, "{cipher:?} {mac:?} {compression:?}");
                    assert_eq!(out.seq, inb.seq);
                }
            }
        }
    }

    #[test]
    fn a_flipped_bit_fails_the_mac_and_nothing_is_returned() {
        for (cipher, mac) in [
            (Cipher::Chacha20Poly1305, None),
            (Cipher::Aes128Gcm, None),
            (Cipher::Aes128Ctr, Some(Mac::HmacSha256Etm)),
            (Cipher::Aes256Ctr, Some(Mac::Umac64)),
            (Cipher::Aes128Cbc, Some(Mac::HmacSha1)),
        ] {
            let mut out = Outbound::new();
            out.rekey(keys(cipher, mac, Compression::None, true), false);
            let mut wire = Vec::new();
            out.seal(b"USERAUTH_REQUEST with a password", &mut wire);
            let last = wire.len() - 1;
            wire[last] ^= 1;
            let mut inb = Inbound::new();
            inb.rekey(keys(cipher, mac, Compression::None, false), false);
            assert_eq!(inb.open(&mut BytesMut::from(&wire[..])), Err(PacketError::Mac), "{cipher:?}");
        }
    }

    #[test]
    fn plaintext_packets_are_padded_like_openssh_and_lengths_are_checked() {
        let mut out = Outbound::new();
        let mut wire = Vec::new();
        out.seal(&[20; 520], &mut wire);
        // 4 + 1 + 520 = 525 -> 11 bytes of padding to 536, a multiple of 8.
        assert_eq!(&wire[..5], &[0, 0, 2, 20, 11]);
        let mut inb = Inbound::new();
        for bad in [[0u8, 0, 0, 0], [0, 0, 0, 3], [0x41, 0x41, 0x41, 0x41], [0, 4, 0, 4]] {
            let mut buf = BytesMut::from(&[&bad[..], &[0u8; 12]].concat()[..]);
            assert!(matches!(inb.open(&mut buf), Err(PacketError::BadLength(_))), "{bad:?}");
        }
        let mut buf = BytesMut::from(&[0u8, 0, 0, 12, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11][..]);
        assert_eq!(inb.open(&mut buf), Err(PacketError::BadPadding(2)));
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let mut z = Compress::new(flate2::Compression::new(9), true);
        let big = vec![0u8; 4 * MAX_INFLATED];
        let bomb = deflate(&mut z, &big);
        assert!(bomb.len() < 10_000);
        let mut d = Decompress::new(true);
        assert_eq!(inflate(&mut d, &bomb), Err(PacketError::Decompress));
    }
}
