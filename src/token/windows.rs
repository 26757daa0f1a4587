//! What a Windows credential token needs beyond its password: the NT hash decoys check
//! NTLM responses with, that hash sealed for the registry, and the `cpassword` a Group
//! Policy Preferences file hides a password in.
//!
//! An NTLMv2 response is an HMAC keyed by the NT hash, so no one-way digest of the
//! hash can check one: the registry keeps the hash sealed (AES-256-GCM) under a key
//! derived from `token.key`, bound to the token's id. Without `token.key` the sealed
//! hash is as useless as the other digests.

use aes::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
use md4::{Digest as _, Md4};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};

use super::keyed_hash::MaterialKey;

/// Length of an NT hash.
pub const NT_HASH_LEN: usize = 16;

/// An NT hash: MD4 of the password in UTF-16LE.
pub type NtHash = [u8; NT_HASH_LEN];

const SEAL_PURPOSE: &[u8] = b"honeyward nt-hash seal v1";

/// The string in UTF-16LE, as Windows puts names and passwords on the wire.
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// MD4 of the password in UTF-16LE.
pub fn nt_hash(password: &str) -> NtHash {
    Md4::digest(utf16le(password)).into()
}

fn sealing_key(key: &MaterialKey) -> Option<LessSafeKey> {
    UnboundKey::new(&aead::AES_256_GCM, &key.derive(SEAL_PURPOSE)).ok().map(LessSafeKey::new)
}

/// The NT hash sealed under `key` for token `token_id`: nonce, ciphertext, tag.
pub fn seal(key: &MaterialKey, token_id: &str, hash: &NtHash) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::RngExt::fill(&mut rand::rng(), &mut nonce[..]);
    let mut out = nonce.to_vec();
    let mut body = hash.to_vec();
    let Some(k) = sealing_key(key) else { return Vec::new() };
    if k.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(token_id.as_bytes()), &mut body).is_err() {
        return Vec::new();
    }
    out.extend_from_slice(&body);
    out
}

/// The NT hash [`seal`] sealed, if `sealed` was sealed under `key` for `token_id`.
pub fn unseal(key: &MaterialKey, token_id: &str, sealed: &[u8]) -> Option<NtHash> {
    let (nonce, body) = (sealed.get(..NONCE_LEN)?, sealed.get(NONCE_LEN..)?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = sealing_key(key)?.open_in_place(nonce, Aad::from(token_id.as_bytes()), &mut body).ok()?;
    NtHash::try_from(&plain[..]).ok()
}

/// The AES-256 key Microsoft published for Group Policy Preferences passwords
/// ([MS-GPPREF] §2.2.1.1.4), which is why a `cpassword` protects nothing.
const GPP_KEY: [u8; 32] = [
    0x4e, 0x99, 0x06, 0xe8, 0xfc, 0xb6, 0x6c, 0xc9, 0xfa, 0xf4, 0x93, 0x10, 0x62, 0x0f, 0xfe, 0xe8, 0xf4, 0x96, 0xe8, 0x06, 0xcc, 0x05, 0x79, 0x90, 0x20, 0x9b,
    0x09, 0xa4, 0x33, 0xb6, 0x6c, 0x1b,
];

/// A password as a Groups.xml `cpassword`: AES-256-CBC under the published key with a
/// zero IV, of the UTF-16LE password, PKCS#7-padded, base64 without its `=` padding.
pub fn cpassword(password: &str) -> String {
    use base64::Engine as _;
    let cipher = cbc::Encryptor::<aes::Aes256>::new(&GPP_KEY.into(), &[0u8; 16].into());
    let plain = utf16le(password);
    let mut buf = plain.clone();
    buf.resize(plain.len() + 16, 0);
    match cipher.encrypt_padded::<Pkcs7>(&mut buf, plain.len()) {
        Ok(sealed) => base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_hash_matches_ms_nlmp_vector() {
        // MS-NLMP §4.2.1: the password "Password".
        let hex: String = nt_hash("Password").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "a4f49c406510bdcab6824ee7c30fd852");
    }

    #[test]
    fn a_sealed_hash_opens_only_with_its_key_and_token() {
        let key = MaterialKey::from_bytes(&[7; 32]);
        let hash = nt_hash("Trevolka-Mistan-Baiper47!");
        let sealed = seal(&key, "tok-a", &hash);
        assert_eq!(sealed.len(), NONCE_LEN + NT_HASH_LEN + 16);
        assert_eq!(unseal(&key, "tok-a", &sealed), Some(hash));
        assert_eq!(unseal(&key, "tok-b", &sealed), None, "bound to its token");
        assert_eq!(unseal(&MaterialKey::from_bytes(&[8; 32]), "tok-a", &sealed), None);
        assert_eq!(unseal(&key, "tok-a", &sealed[..10]), None);
        assert_ne!(seal(&key, "tok-a", &hash), sealed, "a fresh nonce each time");
    }

    #[test]
    fn cpassword_is_what_gpp_decrypt_tools_expect() {
        // Decrypting this with the published key (e.g. gpp-decrypt, or
        // Get-GPPPassword) gives back the password; checked here by decrypting.
        use aes::cipher::{BlockModeDecrypt, KeyIvInit};
        use base64::Engine as _;
        let c = cpassword("Local*P4ssword!");
        // The example published with the first write-ups of the flaw.
        assert_eq!(c, "j1Uyj3Vx8TY9LtLZil2uAuZkFQA/4latT76ZwgdHdhw");
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&c).unwrap();
        let mut buf = bytes.clone();
        let plain = cbc::Decryptor::<aes::Aes256>::new(&GPP_KEY.into(), &[0u8; 16].into()).decrypt_padded::<Pkcs7>(&mut buf).unwrap();
        assert_eq!(plain, &utf16le("Local*P4ssword!")[..]);
    }
}
