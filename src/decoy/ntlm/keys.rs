//! The keys an NTLM login leaves both sides with (MS-NLMP §3.4.5): the exported session
//! key (what SMB signs with), and the signing and sealing keys SPNEGO's mechListMIC is
//! made with (§3.4.4.2), so that a planted credential's login ends as Windows ends it.
//! Extended session security is assumed (every NTLMv2 client negotiates it); NTLMv1's
//! keys and its CRC32 signature are not here. Pure: no I/O.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher};

/// NTLMSSP_NEGOTIATE_KEY_EXCH (MS-NLMP §2.2.2.5 "V"): the client sent a random session key, RC4-encrypted.
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
/// NTLMSSP_NEGOTIATE_128 ("U"): 128-bit sealing keys.
const NEGOTIATE_128: u32 = 0x2000_0000;
/// NTLMSSP_NEGOTIATE_56 ("W"): 56-bit sealing keys, when 128 is not negotiated.
const NEGOTIATE_56: u32 = 0x8000_0000;

/// Which way a message goes: each has its own signing and sealing key.
#[derive(Clone, Copy)]
enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    /// SIGNKEY's magic constant, with its terminating NUL (MS-NLMP §3.4.5.2).
    fn sign_magic(self) -> &'static [u8] {
        match self {
            Direction::ClientToServer => b"session key to client-to-server signing key magic constant\0",
            Direction::ServerToClient => b"session key to server-to-client signing key magic constant\0",
        }
    }

    /// SEALKEY's magic constant, with its terminating NUL (MS-NLMP §3.4.5.3).
    fn seal_magic(self) -> &'static [u8] {
        match self {
            Direction::ClientToServer => b"session key to client-to-server sealing key magic constant\0",
            Direction::ServerToClient => b"session key to server-to-client sealing key magic constant\0",
        }
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// An RC4 handle keyed with `key` (1 to 256 bytes, which every caller here passes).
fn rc4(key: &[u8]) -> Option<Rc4> {
    Rc4::new_from_slice(key).ok()
}

/// SIGNKEY with extended session security (MS-NLMP §3.4.5.2).
fn sign_key(exported: &[u8; 16], direction: Direction) -> [u8; 16] {
    md5(&[exported, direction.sign_magic()])
}

/// SEALKEY with extended session security (MS-NLMP §3.4.5.3): the whole exported key
/// with NEGOTIATE_128, its first 7 bytes with NEGOTIATE_56, else its first 5.
fn seal_key(exported: &[u8; 16], flags: u32, direction: Direction) -> [u8; 16] {
    let len = if flags & NEGOTIATE_128 != 0 {
        16
    } else if flags & NEGOTIATE_56 != 0 {
        7
    } else {
        5
    };
    md5(&[&exported[..len], direction.seal_magic()])
}

/// MAC with extended session security (MS-NLMP §3.4.4.2): the NTLMSSP_MESSAGE_SIGNATURE
/// (Version 1, checksum, SeqNum) of `message`, its checksum RC4-encrypted with `seal`
/// (the direction's sealing handle, in whatever state earlier messages left it) when
/// key exchange was negotiated.
fn mac(sign_key: &[u8; 16], seal: Option<&mut Rc4>, seq: u32, message: &[u8]) -> [u8; 16] {
    // HMAC takes a key of any length; this cannot fail.
    let Ok(mut hmac) = <Hmac<Md5> as Mac>::new_from_slice(sign_key) else { return [0; 16] };
    hmac.update(&seq.to_le_bytes());
    hmac.update(message);
    let digest = hmac.finalize().into_bytes();
    let mut checksum = [0u8; 8];
    checksum.copy_from_slice(&digest[..8]);
    if let Some(handle) = seal {
        handle.apply_keystream(&mut checksum);
    }
    let mut signature = [0u8; 16];
    signature[..4].copy_from_slice(&1u32.to_le_bytes());
    signature[4..12].copy_from_slice(&checksum);
    signature[12..].copy_from_slice(&seq.to_le_bytes());
    signature
}

/// The first signature (SeqNum 0, a fresh sealing handle) in `direction` over `message`.
fn first_signature(exported: &[u8; 16], flags: u32, direction: Direction, message: &[u8]) -> [u8; 16] {
    let mut handle = if flags & NEGOTIATE_KEY_EXCH != 0 { rc4(&seal_key(exported, flags, direction)) } else { None };
    mac(&sign_key(exported, direction), handle.as_mut(), 0, message)
}

/// ExportedSessionKey: RC4(KeyExchangeKey, EncryptedRandomSessionKey) when the AUTHENTICATE's flags have NEGOTIATE_KEY_EXCH and it carries a 16-byte encrypted key; else the key exchange key itself. For NTLMv2 the KeyExchangeKey is the SessionBaseKey (which the caller already has: HMAC-MD5(NTOWFv2, NTProofStr)).
pub fn exported_session_key(session_base_key: &[u8; 16], flags: u32, encrypted_session_key: &[u8]) -> [u8; 16] {
    if flags & NEGOTIATE_KEY_EXCH == 0 || encrypted_session_key.len() != 16 {
        return *session_base_key;
    }
    let Some(mut handle) = rc4(session_base_key) else { return *session_base_key };
    let mut key = [0u8; 16];
    key.copy_from_slice(encrypted_session_key);
    handle.apply_keystream(&mut key);
    key
}

/// The server's SPNEGO mechListMIC after the NTLM login (MS-SPNG §3.1.5.1 / MS-NLMP §3.4.4.2 with extended session security): the 16-byte NTLMSSP_MESSAGE_SIGNATURE (Version 1, checksum, SeqNum 0) over `mech_types_der` (the DER SEQUENCE OF OID of the client's mechTypes, exactly as the client sent it) with the server-to-client signing key, the checksum RC4-encrypted with the server-to-client sealing key when NEGOTIATE_KEY_EXCH is in `flags` (sealing key length per NEGOTIATE_128 / NEGOTIATE_56 as MS-NLMP SEALKEY says).
pub fn server_mech_list_mic(exported: &[u8; 16], flags: u32, mech_types_der: &[u8]) -> [u8; 16] {
    first_signature(exported, flags, Direction::ServerToClient, mech_types_der)
}

/// Whether a client's mechListMIC over the same bytes is right (client-to-server keys, SeqNum 0), constant time.
pub fn client_mech_list_mic_ok(exported: &[u8; 16], flags: u32, mech_types_der: &[u8], mic: &[u8]) -> bool {
    let want = first_signature(exported, flags, Direction::ClientToServer, mech_types_der);
    crate::secret_eq::same(mic, &want)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secret_eq::hex;

    fn key(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    /// MS-NLMP §4.2.4's NTLMv2 example flags (KEY_EXCH, 56, 128, extended session security, …).
    const SPEC_FLAGS: u32 = 0xe28a_8233;

    #[test]
    fn the_ms_nlmp_ntlmv2_example_keys() {
        // §4.2.4.1 the session base key; §4.2.4.2 the RandomSessionKey 55…55, RC4-encrypted.
        let base = key("8de40ccadbc14a82f15cb0ad0de95ca3");
        let encrypted = hex("c5dad2544fc9799094ce1ce90bc9d03e");
        let exported = exported_session_key(&base, SPEC_FLAGS, &encrypted);
        assert_eq!(exported, [0x55; 16]);
        // Without key exchange, or without a 16-byte key, the base key is the session key.
        assert_eq!(exported_session_key(&base, SPEC_FLAGS & !NEGOTIATE_KEY_EXCH, &encrypted), base);
        assert_eq!(exported_session_key(&base, SPEC_FLAGS, &[]), base);
        assert_eq!(exported_session_key(&base, SPEC_FLAGS, &encrypted[..15]), base);
        // §4.2.4.4 (GSS_WrapEx): the client-to-server keys, and the signature of "Plaintext"
        // made after sealing it with the same RC4 handle.
        let sign = sign_key(&exported, Direction::ClientToServer);
        let seal = seal_key(&exported, SPEC_FLAGS, Direction::ClientToServer);
        assert_eq!(sign, key("4788dc861b4782f35d43fd98fe1a2d39"));
        assert_eq!(seal, key("59f600973cc4960a25480a7c196e4c58"));
        let plaintext: Vec<u8> = "Plaintext".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut handle = rc4(&seal).unwrap();
        let mut sealed = plaintext.clone();
        handle.apply_keystream(&mut sealed);
        assert_eq!(sealed, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
        assert_eq!(mac(&sign, Some(&mut handle), 0, &plaintext)[..], hex("01000000 7fb38ec5c55d4976 00000000")[..]);
    }

    // Microsoft's "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and
    // cryptographic keys" (Open Specifications blog, 2017): a Windows 8.1 client's NTLMv2
    // login to a Windows 10 server, appendix "NTLMv2 SessionKey calculation example",
    // and the SPNEGO mechListMICs both sides sent in its SESSION_SETUP trace.
    const WINDOWS_FLAGS: u32 = 0xe288_8215;
    const WINDOWS_EXPORTED: &str = "270E1BA896585EEB7AF3472D3B4C75A7";
    /// The client's NegTokenInit mechTypes: NTLMSSP alone.
    const NTLM_ONLY: &str = "300C060A2B06010401823702020A";

    #[test]
    fn a_windows_login_keys_and_mech_list_mics() {
        let base = key("B4CF22566926B1C069ACD80E4D73C814");
        let exported = exported_session_key(&base, WINDOWS_FLAGS, &hex("3B9BDFF38F5EE8F9663F11A0F4C03A78"));
        assert_eq!(exported, key(WINDOWS_EXPORTED));
        assert_eq!(sign_key(&exported, Direction::ServerToClient), key("E1BD8B416B0B709D295E12F2CF18E6C5"));
        assert_eq!(sign_key(&exported, Direction::ClientToServer), key("D43F36C44BCE0630250A09EA0C2E8C2C"));
        assert_eq!(seal_key(&exported, WINDOWS_FLAGS, Direction::ServerToClient), key("B0F5A0B32C81FF34A878E1409B3B0EF2"));
        assert_eq!(seal_key(&exported, WINDOWS_FLAGS, Direction::ClientToServer), key("31E5557D99BE13F1B2665C7C7C52CE70"));
        // The server's final SESSION_SETUP response carries A3 12 04 10 <this>.
        let mech_types = hex(NTLM_ONLY);
        assert_eq!(server_mech_list_mic(&exported, WINDOWS_FLAGS, &mech_types)[..], hex("01000000 3B453CDC35241642 00000000")[..]);
        // The client's AUTHENTICATE carried this one.
        let client_mic = hex("01000000 63775A9A5FD97F06 00000000");
        assert!(client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &client_mic));
    }

    // Made at development time with impacket 0.13.1: ntlm.MAC(flags, ARC4.new(ntlm.SEALKEY(
    // flags, key, mode)).encrypt, ntlm.SIGNKEY(flags, key, mode), 0, mech_types) with the
    // Windows login's exported key and mechTypes above, mode 'Server' and 'Client'.
    #[test]
    fn mech_list_mics_match_impacket_for_other_flags() {
        let exported = key(WINDOWS_EXPORTED);
        let mech_types = hex(NTLM_ONLY);
        for (flags, server, client) in [
            (WINDOWS_FLAGS & !NEGOTIATE_KEY_EXCH, "01000000ecc9ff5df7d8e96b00000000", "01000000a4054627833289b500000000"),
            (WINDOWS_FLAGS & !NEGOTIATE_128, "010000007bd5fbea8b9b36e600000000", "01000000ff0a7b103ac42ca400000000"),
            (WINDOWS_FLAGS & !(NEGOTIATE_128 | NEGOTIATE_56), "01000000fc58952ec680735500000000", "01000000e1cd8c93845b36f800000000"),
        ] {
            assert_eq!(server_mech_list_mic(&exported, flags, &mech_types)[..], hex(server)[..], "{flags:#x}");
            assert!(client_mech_list_mic_ok(&exported, flags, &mech_types, &hex(client)), "{flags:#x}");
        }
    }

    #[test]
    fn a_wrong_client_mic_is_refused() {
        let exported = key(WINDOWS_EXPORTED);
        let mech_types = hex(NTLM_ONLY);
        let good = hex("01000000 63775A9A5FD97F06 00000000");
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x80;
            assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &bad), "byte {i}");
        }
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &good[..15]));
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &[good.clone(), vec![0]].concat()));
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &[]));
        // The server's own MIC is not the client's, nor is one over other mechTypes or flags.
        let server = server_mech_list_mic(&exported, WINDOWS_FLAGS, &mech_types);
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types, &server));
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS, &mech_types[..mech_types.len() - 1], &good));
        assert!(!client_mech_list_mic_ok(&exported, WINDOWS_FLAGS & !NEGOTIATE_KEY_EXCH, &mech_types, &good));
        assert!(!client_mech_list_mic_ok(&[0; 16], WINDOWS_FLAGS, &mech_types, &good));
    }
}
