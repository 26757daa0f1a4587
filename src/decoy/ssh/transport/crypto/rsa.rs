//! RSA host keys. rsa-sha2-256/512 are signed by ring (constant time, blinded). ring
//! does not sign PKCS#1 v1.5 with SHA-1, which legacy `ssh-rsa` needs, so that one
//! signature is made here: RSASP1 with CRT on crypto-bigint's constant-time
//! Montgomery exponentiation, checked with the public exponent before it is sent
//! (a faulty CRT result would leak a factor).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd, Resize};

/// DigestInfo prefix for SHA-1 (RFC 8017 §9.2 note 1).
const SHA1_DIGEST_INFO: [u8; 15] = [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

/// An RSA private key's numbers (big-endian magnitudes), as stored in an OpenSSH key.
pub struct RsaNumbers<'a> {
    pub n: &'a [u8],
    pub e: &'a [u8],
    pub d: &'a [u8],
    pub p: &'a [u8],
    pub q: &'a [u8],
    /// q^-1 mod p.
    pub iqmp: &'a [u8],
}

/// Why an RSA key's numbers cannot make a signer.
#[derive(Debug, thiserror::Error)]
pub enum RsaKeyError {
    #[error("RSA number too large")]
    TooLarge,
    /// A number that no valid key has (the text says which).
    #[error("RSA {0}")]
    Degenerate(&'static str),
    #[error("RSA key rejected: {0}")]
    Rejected(ring::error::KeyRejected),
}

/// A key ready to sign: ring for SHA-2, the CRT parts for SHA-1.
pub struct RsaSigner {
    ring: ring::rsa::KeyPair,
    n: Odd<BoxedUint>,
    e: BoxedUint,
    p: BoxedMontyParams,
    q: BoxedMontyParams,
    p_int: NonZero<BoxedUint>,
    q_int: BoxedUint,
    dp: BoxedUint,
    dq: BoxedUint,
    iqmp: BoxedUint,
    modulus_len: usize,
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

fn uint(b: &[u8], bits: u32) -> Result<BoxedUint, RsaKeyError> {
    BoxedUint::from_be_slice(trim(b), bits).map_err(|_| RsaKeyError::TooLarge)
}

fn bits_for(b: &[u8]) -> u32 {
    (trim(b).len().max(1) * 8).next_multiple_of(64) as u32
}

impl RsaSigner {
    /// Builds the signer; dP and dQ (absent from OpenSSH key files) are derived here.
    pub fn new(k: &RsaNumbers<'_>) -> Result<Self, RsaKeyError> {
        let nbits = bits_for(k.n);
        let pbits = bits_for(k.p).max(bits_for(k.q));
        let p = uint(k.p, pbits)?;
        let q = uint(k.q, pbits)?;
        let d = uint(k.d, nbits)?;
        let one = BoxedUint::one_with_precision(pbits);
        let p1 = NonZero::new(p.wrapping_sub(&one)).into_option().ok_or(RsaKeyError::Degenerate("prime p is 1"))?;
        let q1 = NonZero::new(q.wrapping_sub(&one)).into_option().ok_or(RsaKeyError::Degenerate("prime q is 1"))?;
        let dp = d.rem(&p1);
        let dq = d.rem(&q1);
        let be = |x: &BoxedUint| x.to_be_bytes().to_vec();
        let (dp_b, dq_b) = (be(&dp), be(&dq));
        let components = ring::rsa::KeyPairComponents {
            public_key: ring::rsa::PublicKeyComponents { n: trim(k.n), e: trim(k.e) },
            d: trim(k.d),
            p: trim(k.p),
            q: trim(k.q),
            dP: trim(&dp_b),
            dQ: trim(&dq_b),
            qInv: trim(k.iqmp),
        };
        let ring = ring::rsa::KeyPair::from_components(&components).map_err(RsaKeyError::Rejected)?;
        let n = Odd::new(uint(k.n, nbits)?).into_option().ok_or(RsaKeyError::Degenerate("modulus is even"))?;
        let p_odd = Odd::new(p.clone()).into_option().ok_or(RsaKeyError::Degenerate("prime p is even"))?;
        let q_odd = Odd::new(q.clone()).into_option().ok_or(RsaKeyError::Degenerate("prime q is even"))?;
        Ok(RsaSigner {
            ring,
            e: uint(k.e, nbits)?,
            n,
            p: BoxedMontyParams::new(p_odd),
            q: BoxedMontyParams::new(q_odd),
            p_int: NonZero::new(p).into_option().ok_or(RsaKeyError::Degenerate("prime p is zero"))?,
            q_int: q,
            dp,
            dq,
            iqmp: uint(k.iqmp, pbits)?,
            modulus_len: trim(k.n).len(),
        })
    }

    /// A PKCS#1 v1.5 signature over `msg` with SHA-256 or SHA-512 (by ring).
    pub fn sign_sha2(&self, sha512: bool, msg: &[u8]) -> Vec<u8> {
        let alg: &'static dyn ring::signature::RsaEncoding = if sha512 { &ring::signature::RSA_PKCS1_SHA512 } else { &ring::signature::RSA_PKCS1_SHA256 };
        let mut sig = vec![0u8; self.ring.public().modulus_len()];
        // Only fails for a signature buffer of the wrong size, which cannot happen here.
        let _ = self.ring.sign(alg, &ring::rand::SystemRandom::new(), msg, &mut sig);
        sig
    }

    /// A PKCS#1 v1.5 signature over `msg` with SHA-1 (legacy `ssh-rsa`).
    pub fn sign_sha1(&self, msg: &[u8]) -> Option<Vec<u8>> {
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, msg);
        let k = self.modulus_len;
        let t_len = SHA1_DIGEST_INFO.len() + digest.as_ref().len();
        if k < t_len + 11 {
            return None;
        }
        let mut em = vec![0xffu8; k];
        em[0] = 0;
        em[1] = 1;
        em[k - t_len - 1] = 0;
        em[k - t_len..k - digest.as_ref().len()].copy_from_slice(&SHA1_DIGEST_INFO);
        em[k - digest.as_ref().len()..].copy_from_slice(digest.as_ref());
        let nbits = self.n.bits_precision();
        let m = BoxedUint::from_be_slice(&em, nbits).ok()?;
        // m1 = m^dP mod p, m2 = m^dQ mod q, h = qInv (m1 - m2) mod p, s = m2 + h q.
        let pbits = self.p_int.bits_precision();
        let m_p = m.rem(&NonZero::new(self.p_int.as_ref().clone().resize(nbits)).into_option()?);
        let m_q = m.rem(&NonZero::new(self.q_int.clone().resize(nbits)).into_option()?);
        let m1 = BoxedMontyForm::new(m_p.resize(pbits), &self.p).pow(&self.dp).retrieve();
        let m2 = BoxedMontyForm::new(m_q.resize(pbits), &self.q).pow(&self.dq).retrieve();
        let m2_mod_p = m2.rem(&self.p_int);
        let h = m1.sub_mod(&m2_mod_p, &self.p_int).mul_mod(&self.iqmp, &self.p_int);
        let s = m2.resize(nbits).wrapping_add(h.resize(nbits).wrapping_mul(self.q_int.clone().resize(nbits)));
        // Fault check: s^e mod n must give back the encoded message.
        let params = BoxedMontyParams::new(self.n.clone());
        let back = BoxedMontyForm::new(s.clone(), &params).pow(&self.e).retrieve();
        if back != m {
            return None;
        }
        let bytes = s.to_be_bytes();
        Some(bytes[bytes.len() - k..].to_vec())
    }
}
