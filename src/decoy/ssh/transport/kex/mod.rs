//! The server side of each key exchange method: read the client's message(s), answer
//! with the host key, the server's public value and a signature over the exchange
//! hash H, and hand back K and H for key derivation (RFC 4253 §7.2, §8; RFC 4419;
//! RFC 5656; RFC 8731; OpenSSH's hybrid post-quantum methods).

pub mod dh;
pub mod ecdh;
mod primes;

use std::sync::Arc;

use ring::digest;

use super::algorithms::{HostKeyAlg, Kex};
use super::hostkey::HostKey;
use super::msg;
use super::wire::{Put, Reader};

/// Why a key exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KexError {
    /// A message that does not parse.
    #[error("malformed key exchange message")]
    Malformed,
    /// A message that is not the one this method expects now.
    #[error("unexpected message {0} during key exchange")]
    Unexpected(u8),
    /// The client's public value is not acceptable (off the curve, out of range...).
    #[error("invalid public value")]
    InvalidPublic,
    /// Group-exchange sizes out of range.
    #[error("DH GEX group out of range")]
    GexRange,
    /// Our own side failed (no host key for the algorithm, RNG failure).
    #[error("key exchange failed")]
    Internal,
}

/// The parts of the exchange hash every method shares.
pub struct Transcript<'a> {
    pub v_c: &'a [u8],
    pub v_s: &'a [u8],
    pub i_c: &'a [u8],
    pub i_s: &'a [u8],
}

/// What a finished exchange gives the transport.
pub struct Finished {
    /// The reply payload to send (ECDH/DH/GEX reply with K_S and the signature).
    pub reply: Vec<u8>,
    /// K as it enters hashes: an mpint, or a string for the hybrid methods.
    pub k: Vec<u8>,
    /// The exchange hash H.
    pub h: Vec<u8>,
}

/// One step of the server's side.
pub enum Step {
    /// Send this and wait for the next client message (group exchange).
    Send(Vec<u8>),
    Done(Finished),
}

/// Group-exchange state after the group was sent.
struct GexSent {
    min: u32,
    wanted: u32,
    max: u32,
    group: Arc<dh::Group>,
}

/// One key exchange in progress.
pub struct ServerKex {
    kex: Kex,
    host_key_alg: HostKeyAlg,
    /// Bits of key material the negotiated algorithms need (sizes the DH exponent).
    need_bits: u32,
    gex: Option<GexSent>,
}

/// The hash function of a method.
pub fn hash_alg(kex: Kex) -> &'static digest::Algorithm {
    match kex {
        Kex::Sntrup761X25519Sha512 | Kex::Sntrup761X25519Sha512OpenSsh | Kex::EcdhNistp521 | Kex::DhGroup16Sha512 | Kex::DhGroup18Sha512 => &digest::SHA512,
        Kex::EcdhNistp384 => &digest::SHA384,
        Kex::DhGexSha1 | Kex::DhGroup14Sha1 | Kex::DhGroup1Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        _ => &digest::SHA256,
    }
}

fn is_gex(kex: Kex) -> bool {
    matches!(kex, Kex::DhGexSha256 | Kex::DhGexSha1)
}

impl ServerKex {
    pub fn new(kex: Kex, host_key_alg: HostKeyAlg, need_bits: u32) -> Self {
        ServerKex { kex, host_key_alg, need_bits, gex: None }
    }

    /// Processes the client's next key-exchange message.
    pub fn step(&mut self, payload: &[u8], t: &Transcript<'_>, host: &HostKey, moduli: &dh::Moduli) -> Result<Step, KexError> {
        let mut r = Reader::new(payload);
        let number = r.u8().map_err(|_| KexError::Malformed)?;
        if is_gex(self.kex) {
            return match (number, self.gex.take()) {
                (msg::KEX_34, None) => self.gex_request(&mut r, moduli),
                (msg::KEX_32, Some(sent)) => self.gex_init(&mut r, sent, t, host),
                (n, sent) => {
                    // Not this step's message: the exchange stays where it was.
                    self.gex = sent;
                    Err(KexError::Unexpected(n))
                }
            };
        }
        if number != msg::KEX_30 {
            return Err(KexError::Unexpected(number));
        }
        match self.kex {
            Kex::DhGroup1Sha1 | Kex::DhGroup14Sha1 | Kex::DhGroup14Sha256 | Kex::DhGroup16Sha512 | Kex::DhGroup18Sha512 => self.fixed_dh(&mut r, t, host),
            _ => self.ecdh(&mut r, t, host),
        }
    }

    fn ecdh(&self, r: &mut Reader<'_>, t: &Transcript<'_>, host: &HostKey) -> Result<Step, KexError> {
        let q_c = r.string().map_err(|_| KexError::Malformed)?;
        let hybrid = matches!(self.kex, Kex::Sntrup761X25519Sha512 | Kex::Sntrup761X25519Sha512OpenSsh | Kex::Mlkem768X25519Sha256);
        let (q_s, shared) = match self.kex {
            Kex::Curve25519Sha256 | Kex::Curve25519Sha256LibSsh => ecdh::x25519(q_c)?,
            Kex::EcdhNistp256 => ecdh::nist(256, q_c)?,
            Kex::EcdhNistp384 => ecdh::nist(384, q_c)?,
            Kex::EcdhNistp521 => ecdh::nist(521, q_c)?,
            Kex::Sntrup761X25519Sha512 | Kex::Sntrup761X25519Sha512OpenSsh => ecdh::sntrup761_x25519(q_c)?,
            _ => ecdh::mlkem768_x25519(q_c)?,
        };
        let mut k = Vec::with_capacity(shared.len() + 5);
        if hybrid {
            k.put_string(&shared);
        } else {
            k.put_mpint(&shared);
        }
        let mut h_in = self.transcript(t, host);
        h_in.put_string(q_c);
        h_in.put_string(&q_s);
        h_in.extend_from_slice(&k);
        self.finish(msg::KEX_31, host, &h_in, k, |reply| reply.put_string(&q_s))
    }

    fn fixed_dh(&self, r: &mut Reader<'_>, t: &Transcript<'_>, host: &HostKey) -> Result<Step, KexError> {
        let e = r.mpint_positive().map_err(|_| KexError::Malformed)?;
        let groups = dh::FixedGroups::get();
        let group = match self.kex {
            Kex::DhGroup1Sha1 => &groups.group1,
            Kex::DhGroup16Sha512 => &groups.group16,
            Kex::DhGroup18Sha512 => &groups.group18,
            _ => &groups.group14,
        };
        let (f, shared) = group.exchange(e, self.need_bits * 2)?;
        let mut k = Vec::new();
        k.put_mpint(&shared);
        let mut h_in = self.transcript(t, host);
        h_in.put_mpint(e);
        h_in.put_mpint(&f);
        h_in.extend_from_slice(&k);
        self.finish(msg::KEX_31, host, &h_in, k, |reply| reply.put_mpint(&f))
    }

    /// SSH_MSG_KEX_DH_GEX_REQUEST: min, n, max; answered with a group (OpenSSH clamps
    /// to 2048..8192 after refusing inconsistent requests).
    fn gex_request(&mut self, r: &mut Reader<'_>, moduli: &dh::Moduli) -> Result<Step, KexError> {
        let (min, wanted, max) = (r.u32(), r.u32(), r.u32());
        let (Ok(min), Ok(wanted), Ok(max)) = (min, wanted, max) else { return Err(KexError::Malformed) };
        if max < min || wanted < min || max < wanted || max < dh::GEX_MIN_BITS {
            return Err(KexError::GexRange);
        }
        let cmin = min.max(dh::GEX_MIN_BITS);
        let cmax = max.min(dh::GEX_MAX_BITS);
        let cwanted = wanted.clamp(dh::GEX_MIN_BITS, dh::GEX_MAX_BITS);
        let group = moduli.choose(cmin, cwanted, cmax);
        let mut out = Vec::with_capacity(group.p.len() + 16);
        out.put_u8(msg::KEX_31);
        out.put_mpint(&group.p);
        out.put_mpint(&group.g);
        self.gex = Some(GexSent { min, wanted, max, group });
        Ok(Step::Send(out))
    }

    fn gex_init(&self, r: &mut Reader<'_>, sent: GexSent, t: &Transcript<'_>, host: &HostKey) -> Result<Step, KexError> {
        let e = r.mpint_positive().map_err(|_| KexError::Malformed)?;
        let (f, shared) = sent.group.exchange(e, self.need_bits * 2)?;
        let mut k = Vec::new();
        k.put_mpint(&shared);
        let mut h_in = self.transcript(t, host);
        h_in.put_u32(sent.min);
        h_in.put_u32(sent.wanted);
        h_in.put_u32(sent.max);
        h_in.put_mpint(&sent.group.p);
        h_in.put_mpint(&sent.group.g);
        h_in.put_mpint(e);
        h_in.put_mpint(&f);
        h_in.extend_from_slice(&k);
        self.finish(msg::KEX_33, host, &h_in, k, |reply| reply.put_mpint(&f))
    }

    fn transcript(&self, t: &Transcript<'_>, host: &HostKey) -> Vec<u8> {
        let mut h_in = Vec::with_capacity(4096);
        for part in [t.v_c, t.v_s, t.i_c, t.i_s, &host.blob] {
            h_in.put_string(part);
        }
        h_in
    }

    /// H = HASH(transcript), signed; the reply is `number, K_S, <value>, signature`.
    fn finish(&self, number: u8, host: &HostKey, h_in: &[u8], k: Vec<u8>, value: impl FnOnce(&mut Vec<u8>)) -> Result<Step, KexError> {
        let h = digest::digest(hash_alg(self.kex), h_in).as_ref().to_vec();
        let signature = host.sign(self.host_key_alg, &h).ok_or(KexError::Internal)?;
        let mut reply = Vec::with_capacity(host.blob.len() + signature.len() + 1200);
        reply.put_u8(number);
        reply.put_string(&host.blob);
        value(&mut reply);
        reply.put_string(&signature);
        Ok(Step::Done(Finished { reply, k, h }))
    }
}

/// RFC 4253 §7.2: HASH(K || H || letter || session_id), extended with
/// HASH(K || H || K1 || ...) until `len` bytes.
pub fn derive(kex: Kex, k: &[u8], h: &[u8], letter: u8, session_id: &[u8], len: usize) -> Vec<u8> {
    let alg = hash_alg(kex);
    let mut ctx = digest::Context::new(alg);
    ctx.update(k);
    ctx.update(h);
    ctx.update(&[letter]);
    ctx.update(session_id);
    let mut out = ctx.finish().as_ref().to_vec();
    while out.len() < len {
        let mut ctx = digest::Context::new(alg);
        ctx.update(k);
        ctx.update(h);
        ctx.update(&out);
        out.extend_from_slice(ctx.finish().as_ref());
    }
    out.truncate(len);
    out
}
