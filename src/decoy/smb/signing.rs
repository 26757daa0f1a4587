//! SMB2/3 message signing (MS-SMB2 §3.1.4.1, §3.1.5.1, key derivation §3.1.4.2 and
//! §3.2.5.3.1, the 3.1.1 pre-authentication hash §3.3.5.4/§3.3.5.5): the keys a
//! session's signatures are made with, and signing and checking one message, as
//! Windows, Samba and impacket do for a planted credential's session. Pure: no I/O.

use aes::Aes128;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, KeyInit};
use cmac::{Cmac, Mac};
use ring::{digest, hmac};

use super::wire::{FLAG_RESPONSE, FLAG_SIGNED, SMB2_HEADER};

/// Where the header's Flags are (little-endian u32).
const FLAGS_AT: usize = 16;
/// Where the header's Command is (little-endian u16).
const COMMAND_AT: usize = 12;
/// Where the header's MessageId is (8 bytes).
const MESSAGE_ID_AT: usize = 24;
/// Where the header's Signature is (16 bytes).
const SIGNATURE_AT: usize = 48;
/// SMB2 CANCEL (MS-SMB2 §2.2.1.2).
const CANCEL: u16 = 0x000c;

/// The SMB 3.1.1 pre-authentication integrity hash (SHA-512 chain, MS-SMB2 §3.3.5.4/§3.3.5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preauth(pub [u8; 64]);

impl Preauth {
    /// The hash before any message: 64 zero bytes.
    pub fn new() -> Self {
        Preauth([0; 64])
    }

    /// H = SHA-512(H || message); `message` is one whole SMB2 message (header onwards, no NetBIOS 4-byte framing).
    pub fn update(&mut self, message: &[u8]) {
        let mut ctx = digest::Context::new(&digest::SHA512);
        ctx.update(&self.0);
        ctx.update(message);
        self.0.copy_from_slice(ctx.finish().as_ref());
    }
}

impl Default for Preauth {
    fn default() -> Self {
        Preauth::new()
    }
}

/// How a session's messages are signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256, first 16 bytes (dialects 2.0.2 and 2.1).
    HmacSha256,
    /// AES-128-CMAC (RFC 4493; dialects 3.0, 3.0.2, and 3.1.1 by default).
    AesCmac,
    /// AES-128-GMAC (RFC 4543; 3.1.1 when SMB2_SIGNING_CAPABILITIES agreed on it).
    AesGmac,
}

/// SP800-108 counter-mode KDF with HMAC-SHA256, as SMB 3 uses it: first 16 bytes of HMAC-SHA256(key, 0x00000001 || label || 0x00 || context || 0x00000080).
pub fn kdf(key: &[u8; 16], label: &[u8], context: &[u8]) -> [u8; 16] {
    let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
    ctx.update(&1u32.to_be_bytes());
    ctx.update(label);
    ctx.update(&[0]);
    ctx.update(context);
    ctx.update(&128u32.to_be_bytes());
    first_16(ctx.sign().as_ref())
}

fn first_16(bytes: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// One session's signing key and algorithm.
#[derive(Clone)]
pub struct Signer {
    algorithm: SigningAlgorithm,
    key: [u8; 16],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("Signer").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl Signer {
    /// dialect 0x0202 / 0x0210: HMAC-SHA256 keyed with the session key itself (signature = first 16 bytes);
    /// 0x0300 / 0x0302: AES-128-CMAC with kdf(session_key, b"SMB2AESCMAC\0", b"SmbSign\0");
    /// 0x0311: kdf(session_key, b"SMBSigningKey\0", &preauth.0) with `algorithm` (AesCmac, or AesGmac when the SMB2_SIGNING_CAPABILITIES negotiate context agreed on it; HmacSha256 is not used for 3.x — treat it as AesCmac there).
    ///
    /// Any other dialect below 0x0300 signs as 2.x does, anything from 0x0300 below
    /// 0x0311 as 3.0 does, and anything above as 3.1.1 does. `preauth` is the session's
    /// hash up to and including the last SESSION_SETUP request (the caller's to keep);
    /// it is only read for 3.1.1.
    pub fn new(dialect: u16, session_key: &[u8; 16], preauth: &Preauth, algorithm: SigningAlgorithm) -> Signer {
        match dialect {
            0x0311.. => {
                let algorithm = if algorithm == SigningAlgorithm::AesGmac { SigningAlgorithm::AesGmac } else { SigningAlgorithm::AesCmac };
                Signer { algorithm, key: kdf(session_key, b"SMBSigningKey\0", &preauth.0) }
            }
            0x0300.. => Signer { algorithm: SigningAlgorithm::AesCmac, key: kdf(session_key, b"SMB2AESCMAC\0", b"SmbSign\0") },
            _ => Signer { algorithm: SigningAlgorithm::HmacSha256, key: *session_key },
        }
    }

    /// The algorithm this session signs with (after the dialect's rules above).
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Sets SMB2_FLAGS_SIGNED (0x0000_0008 in the little-endian Flags field at byte offset 16) and writes the 16-byte signature at bytes 48..64, computed over the whole message with those 16 bytes zeroed. A message shorter than 64 bytes is left alone.
    pub fn sign(&self, message: &mut [u8]) {
        if message.len() < SMB2_HEADER {
            return;
        }
        let flags = u32::from_le_bytes([message[FLAGS_AT], message[FLAGS_AT + 1], message[FLAGS_AT + 2], message[FLAGS_AT + 3]]);
        message[FLAGS_AT..FLAGS_AT + 4].copy_from_slice(&(flags | FLAG_SIGNED).to_le_bytes());
        message[SIGNATURE_AT..SIGNATURE_AT + 16].fill(0);
        let signature = self.mac(message, &[message]);
        message[SIGNATURE_AT..SIGNATURE_AT + 16].copy_from_slice(&signature);
    }

    /// Whether the message's signature (bytes 48..64) is right; constant-time compare.
    pub fn verify(&self, message: &[u8]) -> bool {
        if message.len() < SMB2_HEADER {
            return false;
        }
        let zero = [0u8; 16];
        let want = self.mac(message, &[&message[..SIGNATURE_AT], &zero, &message[SIGNATURE_AT + 16..]]);
        crate::secret_eq::same(&want, &message[SIGNATURE_AT..SIGNATURE_AT + 16])
    }

    /// The MAC of the concatenated `parts` (the message with its signature zeroed);
    /// `header` is the message itself, read only for GMAC's nonce.
    fn mac(&self, header: &[u8], parts: &[&[u8]]) -> [u8; 16] {
        match self.algorithm {
            SigningAlgorithm::HmacSha256 => {
                let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &self.key));
                for part in parts {
                    ctx.update(part);
                }
                first_16(ctx.sign().as_ref())
            }
            SigningAlgorithm::AesCmac => {
                // A 16-byte key always fits AES-128.
                let Ok(mut mac) = <Cmac<Aes128> as KeyInit>::new_from_slice(&self.key) else { return [0; 16] };
                for part in parts {
                    mac.update(part);
                }
                first_16(&mac.finalize().into_bytes())
            }
            SigningAlgorithm::AesGmac => {
                let Ok(gcm) = Aes128Gcm::new_from_slice(&self.key) else { return [0; 16] };
                let nonce = gmac_nonce(header);
                // GMAC is GCM with nothing to encrypt: the whole message is associated data.
                let aad = parts.concat();
                let mut nothing: [u8; 0] = [];
                match gcm.encrypt_inout_detached(&nonce.into(), &aad, (&mut nothing[..]).into()) {
                    Ok(tag) => first_16(&tag),
                    Err(_) => [0; 16],
                }
            }
        }
    }
}

/// AES-GMAC's nonce (MS-SMB2 §3.1.4.1): the MessageId as it is in the message, then a
/// little-endian u32 whose bit 0 says the sender is the server (SMB2_FLAGS_SERVER_TO_REDIR)
/// and bit 1 that the message is a CANCEL request; the rest zero. (Samba builds it from
/// the same header bits; the spec words bit 0 as "the sender is the server".)
fn gmac_nonce(message: &[u8]) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    if message.len() < SMB2_HEADER {
        return nonce;
    }
    nonce[..8].copy_from_slice(&message[MESSAGE_ID_AT..MESSAGE_ID_AT + 8]);
    let flags = u32::from_le_bytes([message[FLAGS_AT], message[FLAGS_AT + 1], message[FLAGS_AT + 2], message[FLAGS_AT + 3]]);
    let command = u16::from_le_bytes([message[COMMAND_AT], message[COMMAND_AT + 1]]);
    let mut role = flags & FLAG_RESPONSE;
    if command == CANCEL && flags & FLAG_RESPONSE == 0 {
        role |= 0x2;
    }
    nonce[8..].copy_from_slice(&role.to_le_bytes());
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secret_eq::hex;

    fn key(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    fn preauth(s: &str) -> Preauth {
        Preauth(hex(s).try_into().unwrap())
    }

    // Microsoft's "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and
    // cryptographic keys" (Open Specifications blog, E. Olougouna, 2017), appendix "Key
    // derivation example for SMB 3.1.1 multichannel": a Windows 10 client and server.
    const NEGOTIATE_REQUEST: &str = "FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F326276024F9F7752B89BB33F3A7000
        0000020000000202100200030203110300000100260000000000010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0
        E5A118225C15887F32FF00000200060000000000020002000100";
    const AFTER_NEGOTIATE_REQUEST: &str = "DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C736
        2B8C47122594CDE0CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426";
    const AFTER_NEGOTIATE_RESPONSE: &str = "324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE
        3C94A79F36011E997E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513";
    const SESSION_SETUP_REQUEST_1: &str = "FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000019000001010000000000000058004A000000000000000000604806062B06
        01050502A03E303CA00E300C060A2B06010401823702020AA22A04284E544C4D5353500001000000978208E200000000000000000000
        000000000000060380250000000F";
    const AFTER_SESSION_SETUP_REQUEST_1: &str = "AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5
        D432F8ED42C55E33197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9";
    /// The session's hash after its last SESSION_SETUP request: the signing key's context.
    const SESSION_PREAUTH: &str = "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79
        28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01";
    /// The server's final SESSION_SETUP response, signed (AES-CMAC) with the key below.
    const SESSION_SETUP_RESPONSE: &str = "FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000
        1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A0100A3120410010000003B453CDC35
        24164200000000";
    const SESSION_KEY: &str = "270E1BA896585EEB7AF3472D3B4C75A7";
    const SIGNING_KEY: &str = "73FE7A9A77BEF0BDE49C650D8CCB5F76";

    #[test]
    fn the_preauth_hash_chains_as_windows_does() {
        let mut h = Preauth::default();
        assert_eq!(h, Preauth([0; 64]));
        h.update(&hex(NEGOTIATE_REQUEST));
        assert_eq!(h, preauth(AFTER_NEGOTIATE_REQUEST));
        let mut h = preauth(AFTER_NEGOTIATE_RESPONSE);
        h.update(&hex(SESSION_SETUP_REQUEST_1));
        assert_eq!(h, preauth(AFTER_SESSION_SETUP_REQUEST_1));
    }

    #[test]
    fn the_published_signing_keys_derive() {
        // Same article: SMB 3.0 multichannel, the master session and a second channel.
        for (session, signing) in
            [("7CD451825D0450D235424E44BA6E78CC", "0B7E9C5CAC36C0F6EA9AB275298CEDCE"), ("4E01A2B313BCF660CC250BEF021AEDE6", "BA1A17DBBFEC349BCA105563D598952F")]
        {
            assert_eq!(kdf(&key(session), b"SMB2AESCMAC\0", b"SmbSign\0"), key(signing));
            for dialect in [0x0300, 0x0302] {
                let signer = Signer::new(dialect, &key(session), &Preauth::new(), SigningAlgorithm::AesGmac);
                assert_eq!((signer.key, signer.algorithm()), (key(signing), SigningAlgorithm::AesCmac));
            }
        }
        // SMB 3.1.1: the master session, and the second channel's binding session.
        let signer = Signer::new(0x0311, &key(SESSION_KEY), &preauth(SESSION_PREAUTH), SigningAlgorithm::AesCmac);
        assert_eq!((signer.key, signer.algorithm()), (key(SIGNING_KEY), SigningAlgorithm::AesCmac));
        let binding =
            preauth("EA3BF912B11CBFEC5B1889E8209614218687F82FA5294521AD3063425E49E88A10BD022124CE25123BC9111F52D9566BA88BF46344E6063DC5E3FF0389026F6C");
        let signer = Signer::new(0x0311, &key("84B9DBB730116A8FA6E9889555C265F9"), &binding, SigningAlgorithm::HmacSha256);
        assert_eq!((signer.key, signer.algorithm()), (key("C962BCA1A9DD1697B030644199705431"), SigningAlgorithm::AesCmac));
        // 2.x signs with the session key itself.
        let signer = Signer::new(0x0210, &key(SESSION_KEY), &Preauth::new(), SigningAlgorithm::AesCmac);
        assert_eq!((signer.key, signer.algorithm()), (key(SESSION_KEY), SigningAlgorithm::HmacSha256));
    }

    #[test]
    fn windows_signatures_verify_and_are_reproduced() {
        let signer = Signer::new(0x0311, &key(SESSION_KEY), &preauth(SESSION_PREAUTH), SigningAlgorithm::AesCmac);
        let signed = hex(SESSION_SETUP_RESPONSE);
        assert!(signer.verify(&signed));
        let mut unsigned = signed.clone();
        unsigned[16] &= !0x08;
        unsigned[48..64].fill(0xaa);
        signer.sign(&mut unsigned);
        assert_eq!(unsigned, signed);
        // The second channel's final SESSION_SETUP response, with its channel's key.
        let binding =
            preauth("EA3BF912B11CBFEC5B1889E8209614218687F82FA5294521AD3063425E49E88A10BD022124CE25123BC9111F52D9566BA88BF46344E6063DC5E3FF0389026F6C");
        let channel = Signer::new(0x0311, &key("84B9DBB730116A8FA6E9889555C265F9"), &binding, SigningAlgorithm::AesCmac);
        let response = hex("FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000
            19000000001000008D604217FFBACF40635BF9D8729921500900000048001D00A11B3019A0030A0100A312041001000000CFB046FC5D
            368E2200000000");
        assert!(channel.verify(&response));
        assert!(!signer.verify(&response));
    }

    /// A client's TREE_CONNECT to \\10.0.0.5\IPC$ (MessageId 4, SessionId 0x40000000005),
    /// unsigned: SMB2_FLAGS_SIGNED clear and the signature zero.
    const TREE_CONNECT: &str = "fe534d424000010000000000030001000000000000000000040000000000000
        0fffe0000000000000500000000040000000000000000000000000000000000000900000048001e005c005c00310030002e00300
        02e0030002e0035005c004900500043002400";

    /// Signs `message` and checks the signature against `want`, and that it verifies.
    fn signs_as(signer: &Signer, message: &str, want: &str) {
        let mut m = hex(message);
        signer.sign(&mut m);
        assert_eq!(m[16] & 0x08, 0x08);
        assert_eq!(m[48..64], hex(want)[..], "{:?}", signer.algorithm());
        assert!(signer.verify(&m));
    }

    // Made at development time with impacket 0.13.1 (the signature its SMB3.signSMB
    // makes: hmac-sha256 of the session key for 2.x; crypto.KDF_CounterMode and
    // crypto.AES_CMAC for 3.0.2), over TREE_CONNECT with the SIGNED flag set.
    #[test]
    fn signatures_match_impacket() {
        let k = key(SESSION_KEY);
        signs_as(&Signer::new(0x0210, &k, &Preauth::new(), SigningAlgorithm::HmacSha256), TREE_CONNECT, "5daa7b78dfeb00b16aa7f537aa16e11b");
        signs_as(&Signer::new(0x0202, &k, &Preauth::new(), SigningAlgorithm::HmacSha256), TREE_CONNECT, "5daa7b78dfeb00b16aa7f537aa16e11b");
        let cmac = Signer::new(0x0302, &k, &Preauth::new(), SigningAlgorithm::AesCmac);
        assert_eq!(cmac.key, key("4eeaf9e6bc024e1adf4a560f01570deb"));
        signs_as(&cmac, TREE_CONNECT, "36ff9785686819f8d09bd38b512acda3");
    }

    /// A client's CANCEL of MessageId 7.
    const CANCEL_REQUEST: &str = "fe534d4240000000000000000c00000000000000000000000700000000000000fffe000000000000
        0500000000040000 00000000000000000000000000000000 04000000";

    // No published SMB GMAC vector was found. Made at development time with Python
    // cryptography 44's AESGCM(signing key).encrypt(nonce, b"", message) (an independent
    // GCM), the nonce built per MS-SMB2 §3.1.4.1 (MessageId, then bit 0 = from the server,
    // bit 1 = CANCEL request), over messages with the SIGNED flag set.
    #[test]
    fn gmac_signatures_match_an_independent_gcm() {
        let gmac = Signer::new(0x0311, &key(SESSION_KEY), &preauth(SESSION_PREAUTH), SigningAlgorithm::AesGmac);
        assert_eq!((gmac.key, gmac.algorithm()), (key(SIGNING_KEY), SigningAlgorithm::AesGmac));
        signs_as(&gmac, TREE_CONNECT, "9fd20b96191d070b542a400af2614eed");
        signs_as(&gmac, SESSION_SETUP_RESPONSE, "75d05bac99ff7fcc52a44c354381d559");
        signs_as(&gmac, CANCEL_REQUEST, "f8a5f4f2bf1a52a3a7e1320eabec1d3d");
        let cmac = Signer::new(0x0311, &key(SESSION_KEY), &preauth(SESSION_PREAUTH), SigningAlgorithm::AesCmac);
        signs_as(&cmac, CANCEL_REQUEST, "8ea79401a48880fce5debe83b1715b3e");
        // The nonce's role bits: a response from the server, a client's CANCEL.
        assert_eq!(gmac_nonce(&hex(SESSION_SETUP_RESPONSE))[..], hex("0300000000000000 01000000")[..]);
        assert_eq!(gmac_nonce(&hex(CANCEL_REQUEST))[..], hex("0700000000000000 02000000")[..]);
        assert_eq!(gmac_nonce(&hex(TREE_CONNECT))[..], hex("0400000000000000 00000000")[..]);
    }

    #[test]
    fn any_changed_byte_fails_verification() {
        let preauth = preauth(SESSION_PREAUTH);
        for (dialect, algorithm) in [(0x0210, SigningAlgorithm::HmacSha256), (0x0302, SigningAlgorithm::AesCmac), (0x0311, SigningAlgorithm::AesGmac)] {
            let signer = Signer::new(dialect, &key(SESSION_KEY), &preauth, algorithm);
            let mut m = hex(TREE_CONNECT);
            signer.sign(&mut m);
            assert!(signer.verify(&m));
            for i in 0..m.len() {
                let mut bad = m.clone();
                bad[i] ^= 0x01;
                assert!(!signer.verify(&bad), "{algorithm:?}: byte {i} not covered");
            }
            assert!(!signer.verify(&m[..m.len() - 1]));
            let other = Signer::new(dialect, &key(SIGNING_KEY), &preauth, algorithm);
            assert!(!other.verify(&m));
        }
        // 3.1.1 keys depend on the preauth hash.
        let mut m = hex(TREE_CONNECT);
        Signer::new(0x0311, &key(SESSION_KEY), &preauth, SigningAlgorithm::AesCmac).sign(&mut m);
        assert!(!Signer::new(0x0311, &key(SESSION_KEY), &Preauth::new(), SigningAlgorithm::AesCmac).verify(&m));
    }

    #[test]
    fn a_short_message_is_left_alone() {
        let signer = Signer::new(0x0311, &key(SESSION_KEY), &Preauth::new(), SigningAlgorithm::AesGmac);
        for len in [0, 1, 47, 63] {
            let mut m = vec![0x5a; len];
            signer.sign(&mut m);
            assert_eq!(m, vec![0x5a; len]);
            assert!(!signer.verify(&m));
        }
        assert!(!format!("{signer:?}").contains("key"), "the key stays out of Debug");
    }
}
