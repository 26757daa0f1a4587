//! UMAC (RFC 4418) with AES-128, as OpenSSH's `umac-64@openssh.com` and
//! `umac-128@openssh.com` use it: the key is the 16-byte MAC key, the nonce the
//! packet sequence number as 8 big-endian bytes. No maintained crate implements UMAC,
//! so it is written here from the RFC and checked against its test vectors (with
//! the published erratum for the 2^25-byte message).
//!
//! Layers, per 4-byte output stream: NH over 1024-byte chunks (L1), a polynomial
//! hash over the L1 outputs (L2, POLY-64 then POLY-128 past 128 KiB of them), an inner
//! product modulo 2^36 - 5 (L3); the tag is the XOR with a pad from AES (the PDF).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;

const P36: u64 = (1 << 36) - 5;
const P64: u64 = 0u64.wrapping_sub(59);
const P128: u128 = 0u128.wrapping_sub(159);
const M64: u64 = 0x01ff_ffff_01ff_ffff;
const M128: u128 = 0x01ff_ffff_01ff_ffff_01ff_ffff_01ff_ffff;
const L1_CHUNK: usize = 1024;
/// L2 switches from POLY-64 to POLY-128 after this many bytes of L1 output (2^14
/// words, the L1 output of a 16 MiB message).
const POLY64_BYTES: usize = 1 << 17;

/// A keyed UMAC producing `4 * streams` bytes of tag.
pub struct Umac {
    streams: usize,
    /// NH key words (big-endian words of KDF index 1), 256 + 4 per extra stream.
    l1: Vec<u32>,
    l2: Vec<(u64, u128)>,
    l3: Vec<([u64; 8], u32)>,
    pdf: Aes128,
}

fn aes(key: &[u8; 16]) -> Aes128 {
    Aes128::new(&(*key).into())
}

fn encrypt(cipher: &Aes128, block: [u8; 16]) -> [u8; 16] {
    let mut b = block.into();
    cipher.encrypt_block(&mut b);
    b.into()
}

/// KDF(K, index, numbytes): AES of (index as 8 bytes || counter as 8 bytes), counter from 1.
fn kdf(cipher: &Aes128, index: u64, numbytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(numbytes + 16);
    let mut counter = 1u64;
    while out.len() < numbytes {
        let mut t = [0u8; 16];
        t[..8].copy_from_slice(&index.to_be_bytes());
        t[8..].copy_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&encrypt(cipher, t));
        counter += 1;
    }
    out.truncate(numbytes);
    out
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

impl Umac {
    /// UMAC with a `tag_len`-byte tag (4, 8, 12 or 16; SSH uses 8 and 16).
    pub fn new(key: &[u8; 16], tag_len: usize) -> Self {
        assert!(matches!(tag_len, 4 | 8 | 12 | 16), "UMAC tags are 4, 8, 12 or 16 bytes");
        let streams = tag_len / 4;
        let k = aes(key);
        let l1 = kdf(&k, 1, L1_CHUNK + (streams - 1) * 16).chunks_exact(4).map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]])).collect();
        let l2 =
            kdf(&k, 2, streams * 24).chunks_exact(24).map(|c| (be64(c) & M64, u128::from_be_bytes(c[8..24].try_into().unwrap_or([0; 16])) & M128)).collect();
        let k31 = kdf(&k, 3, streams * 64);
        let k32 = kdf(&k, 4, streams * 4);
        let l3 = (0..streams)
            .map(|i| {
                let mut words = [0u64; 8];
                for (j, w) in words.iter_mut().enumerate() {
                    *w = be64(&k31[i * 64 + j * 8..]) % P36;
                }
                (words, u32::from_be_bytes([k32[i * 4], k32[i * 4 + 1], k32[i * 4 + 2], k32[i * 4 + 3]]))
            })
            .collect();
        let pdf_key: [u8; 16] = kdf(&k, 0, 16).try_into().unwrap_or([0; 16]);
        Umac { streams, l1, l2, l3, pdf: aes(&pdf_key) }
    }

    /// The tag of `msg` under `nonce`; the first `4 * streams` bytes are meaningful.
    pub fn tag(&self, msg: &[u8], nonce: &[u8; 8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for s in 0..self.streams {
            let h = self.uhash_stream(s, msg);
            out[s * 4..s * 4 + 4].copy_from_slice(&h.to_be_bytes());
        }
        let pad = self.pdf(nonce);
        for (o, p) in out.iter_mut().zip(pad) {
            *o ^= p;
        }
        out
    }

    /// PDF: AES of the nonce; 4- and 8-byte tags take one slice of that block chosen
    /// by the nonce's low bits (which are cleared before encrypting).
    fn pdf(&self, nonce: &[u8; 8]) -> [u8; 16] {
        let tag_len = self.streams * 4;
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(nonce);
        let index = if tag_len <= 8 { usize::from(nonce[7]) % (16 / tag_len) } else { 0 };
        block[7] ^= index as u8;
        let t = encrypt(&self.pdf, block);
        let mut pad = [0u8; 16];
        pad[..tag_len].copy_from_slice(&t[index * tag_len..index * tag_len + tag_len]);
        pad
    }

    fn uhash_stream(&self, s: usize, msg: &[u8]) -> u32 {
        let key = &self.l1[s * 4..s * 4 + L1_CHUNK / 4];
        let (k64, k128) = self.l2[s];
        let (k31, k32) = &self.l3[s];
        let b = if msg.len() <= L1_CHUNK {
            u128::from(l1_chunk(key, msg))
        } else {
            let l1: Vec<u64> = msg.chunks(L1_CHUNK).map(|chunk| l1_chunk(key, chunk)).collect();
            l2(k64, k128, &l1)
        };
        l3(k31, *k32, b)
    }
}

/// L2 over the L1 outputs (8-byte words): POLY-64 over the first 128 KiB of them, then
/// POLY-128 over that result followed by the rest, 0x80 and zero padding.
fn l2(k64: u64, k128: u128, words: &[u64]) -> u128 {
    let split = words.len().min(POLY64_BYTES / 8);
    let y = words[..split].iter().fold(1u64, |y, &m| poly64_step(k64, y, m));
    if words.len() <= split {
        return u128::from(y);
    }
    let mut tail: Vec<u64> = words[split..].to_vec();
    tail.push(0x80 << 56);
    if tail.len() % 2 == 1 {
        tail.push(0);
    }
    let start = poly128_step(k128, 1, u128::from(y));
    tail.chunks_exact(2).fold(start, |y, pair| poly128_step(k128, y, (u128::from(pair[0]) << 64) | u128::from(pair[1])))
}

/// NH of one L1 chunk plus its length in bits (the chunk is zero-padded to a
/// positive multiple of 32 bytes; message words are little-endian, key words not).
fn l1_chunk(key: &[u32], chunk: &[u8]) -> u64 {
    let bits = (chunk.len() as u64) * 8;
    let mut y = 0u64;
    let mut block = [0u8; 32];
    let blocks = chunk.len().div_ceil(32).max(1);
    for bi in 0..blocks {
        let part = chunk.get(bi * 32..).unwrap_or(&[]);
        let part = &part[..part.len().min(32)];
        block.fill(0);
        block[..part.len()].copy_from_slice(part);
        let k = &key[bi * 8..bi * 8 + 8];
        let m: [u32; 8] = std::array::from_fn(|i| u32::from_le_bytes([block[i * 4], block[i * 4 + 1], block[i * 4 + 2], block[i * 4 + 3]]));
        for i in 0..4 {
            let a = u64::from(m[i].wrapping_add(k[i]));
            let b = u64::from(m[i + 4].wrapping_add(k[i + 4]));
            y = y.wrapping_add(a.wrapping_mul(b));
        }
    }
    y.wrapping_add(bits)
}

/// (k * y + m) mod p64, without a division.
fn mulmod64(k: u64, y: u64, m: u64) -> u64 {
    let x = u128::from(k) * u128::from(y) + u128::from(m);
    // 2^64 = 59 (mod p64): fold the high half three times (x < 2^122, then < 2^65,
    // then < 2^64 + 59), then one conditional subtraction.
    let v = u128::from(x as u64) + (x >> 64) * 59;
    let v = u128::from(v as u64) + (v >> 64) * 59;
    let r = (v as u64).wrapping_add(((v >> 64) as u64) * 59);
    let (sub, borrow) = r.overflowing_sub(P64);
    if borrow {
        r
    } else {
        sub
    }
}

fn poly64_step(k: u64, y: u64, m: u64) -> u64 {
    const MAX_WORD: u64 = 0xffff_ffff_0000_0000;
    if m >= MAX_WORD {
        let y = mulmod64(k, y, P64 - 1);
        mulmod64(k, y, m - (0u64.wrapping_sub(P64)))
    } else {
        mulmod64(k, y, m)
    }
}

/// 128x128 -> 256-bit product as (high, low).
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
    let low = (p00 & u128::from(u64::MAX)) | (mid << 64);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

/// (k * y + m) mod p128.
fn mulmod128(k: u128, y: u128, m: u128) -> u128 {
    let (mut high, low) = mul_wide(k, y);
    let (mut low, carry) = low.overflowing_add(m);
    high += u128::from(carry);
    // 2^128 = 159 (mod p128).
    while high != 0 {
        let (h, l) = mul_wide(high, 159);
        let (sum, carry) = low.overflowing_add(l);
        low = sum;
        high = h + u128::from(carry);
    }
    if low >= P128 {
        low - P128
    } else {
        low
    }
}

fn poly128_step(k: u128, y: u128, m: u128) -> u128 {
    const MAX_WORD: u128 = 0xffff_ffff_0000_0000_0000_0000_0000_0000;
    if m >= MAX_WORD {
        let y = mulmod128(k, y, P128 - 1);
        mulmod128(k, y, m - (0u128.wrapping_sub(P128)))
    } else {
        mulmod128(k, y, m)
    }
}

/// L3: inner product of the 16-byte L2 output's 2-byte words with the key, mod
/// 2^36 - 5, cut to 32 bits, XOR the second key.
fn l3(k: &[u64; 8], k2: u32, b: u128) -> u32 {
    let bytes = b.to_be_bytes();
    let mut y = 0u64;
    for (i, ki) in k.iter().enumerate() {
        let m = u64::from(u16::from_be_bytes([bytes[i * 2], bytes[i * 2 + 1]]));
        y = (y + m * ki) % P36;
    }
    (y as u32) ^ k2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }

    /// RFC 4418 appendix: key "abcdefghijklmnop", nonce "bcdefghi"; 32-, 64- and
    /// 96-bit tags, and the 128-bit ones (whose first 12 bytes are the 96-bit tag).
    #[test]
    fn rfc_4418_test_vectors() {
        let umacs: Vec<Umac> = [4, 8, 12, 16].iter().map(|&n| Umac::new(b"abcdefghijklmnop", n)).collect();
        let a = |n: usize| vec![b'a'; n];
        let table: Vec<(Vec<u8>, [&str; 4])> = vec![
            (vec![], ["113145FB", "6E155FAD26900BE1", "32FEDB100C79AD58F07FF764", "32FEDB100C79AD58F07FF7643CC60465"]),
            (a(3), ["3B91D102", "44B5CB542F220104", "185E4FE905CBA7BD85E4C2DC", "185E4FE905CBA7BD85E4C2DC3D117D8D"]),
            (a(1 << 10), ["599B350B", "26BF2F5D60118BD9", "7A54ABE04AF82D60FB298C3C", "7A54ABE04AF82D60FB298C3CBD195BCB"]),
            (a(1 << 15), ["58DCF532", "27F8EF643B0D118D", "7B136BD911E4B734286EF2BE", "7B136BD911E4B734286EF2BE501F2C3C"]),
            (a(1 << 20), ["DB6364D1", "A4477E87E9F55853", "F8ACFA3AC31CFEEA047F7B11", "F8ACFA3AC31CFEEA047F7B115B03BEF5"]),
            (b"abc".to_vec(), ["ABF3A3A0", "D4D7B9F6BD4FBFCF", "883C3D4B97A61976FFCF2323", ""]),
            (b"abc".repeat(500), ["ABEB3C8B", "D4CF26DDEFD5C01A", "8824A260C53C66A36C9260A6", ""]),
        ];
        for (msg, tags) in &table {
            for (umac, want) in umacs.iter().zip(tags) {
                let len = umac.streams * 4;
                if !want.is_empty() {
                    assert_eq!(hex(&umac.tag(msg, b"bcdefghi")[..len]), *want, "{}-byte message, {len}-byte tag", msg.len());
                }
            }
        }
    }

    /// The 2^25-byte vector crosses into POLY-128; the RFC's printed value was wrong
    /// and its erratum gives this one.
    #[test]
    fn the_32_mib_vector_of_the_rfc_erratum_exercises_poly_128() {
        let umac = Umac::new(b"abcdefghijklmnop", 8);
        assert_eq!(hex(&umac.tag(&vec![b'a'; 1 << 25], b"bcdefghi")[..8]), "FACA46F856E9B45F");
    }

    #[test]
    fn modular_reductions_agree_with_plain_arithmetic() {
        let samples = [0u64, 1, 58, 59, 60, P64 - 1, P64, u64::MAX, 0x0123_4567_89ab_cdef, 0x01ff_ffff_01ff_ffff];
        for &k in &samples {
            for &y in &samples {
                for &m in &samples {
                    let want = ((u128::from(k) * u128::from(y) + u128::from(m)) % u128::from(P64)) as u64;
                    assert_eq!(mulmod64(k, y, m), want, "{k} {y} {m}");
                }
            }
        }
        let big = [0u128, 1, 159, P128 - 1, P128, u128::MAX, M128, 0x1234_5678_9abc_def0_1234_5678_9abc_def0];
        for &k in &big {
            for &y in &big {
                // Check against a slow reduction: (k*y + 1) computed by repeated doubling.
                let mut acc = 1u128 % P128;
                let mut base = k % P128;
                let mut e = y;
                while e > 0 {
                    if e & 1 == 1 {
                        acc = add_mod(acc, base);
                    }
                    base = add_mod(base, base);
                    e >>= 1;
                }
                assert_eq!(mulmod128(k, y, 1), acc);
            }
        }
    }

    fn add_mod(a: u128, b: u128) -> u128 {
        let (s, c) = a.overflowing_add(b);
        if c || s >= P128 {
            s.wrapping_sub(P128)
        } else {
            s
        }
    }
}
