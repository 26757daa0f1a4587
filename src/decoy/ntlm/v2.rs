//! NTLMv2 (MS-NLMP §3.3.2): the NT hash of a password, the check of a client's
//! NTLMv2 response against a known NT hash (how a planted Windows credential is
//! recognised), the session base key, and the response in hashcat's NetNTLMv2 (5600)
//! form for the analyst.

use hmac::{Hmac, Mac};

pub use crate::token::windows::nt_hash;

type HmacMd5 = Hmac<md5::Md5>;

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC takes a key of any length; this cannot fail.
    let Ok(mut mac) = <HmacMd5 as Mac>::new_from_slice(key) else { return [0; 16] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// NTOWFv2: the NT hash keyed with the upper-cased user and the domain as sent.
pub fn ntowf_v2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let identity = super::message::utf16le(&(user.to_uppercase() + domain));
    hmac_md5(nt_hash, &[&identity])
}

/// Whether `nt_response` (NTProofStr then the client's blob) was made from `nt_hash`
/// for this user, domain and `server_challenge`; the session base key when it was.
pub fn verify(nt_hash: &[u8; 16], user: &str, domain: &str, server_challenge: &[u8; 8], nt_response: &[u8]) -> Option<[u8; 16]> {
    if nt_response.len() <= 16 {
        return None;
    }
    let (proof, blob) = nt_response.split_at(16);
    let key = ntowf_v2(nt_hash, user, domain);
    let mut mac = <HmacMd5 as Mac>::new_from_slice(&key).ok()?;
    mac.update(server_challenge);
    mac.update(blob);
    // The HMAC crate compares in constant time: the proof is the attacker's.
    mac.verify_slice(proof).ok()?;
    Some(hmac_md5(&key, &[proof]))
}

/// The response as hashcat mode 5600 (NetNTLMv2) takes it:
/// `user::domain:server challenge:NTProofStr:blob`, bytes in hex.
pub fn hashcat_5600(user: &str, domain: &str, server_challenge: &[u8; 8], nt_response: &[u8]) -> Option<String> {
    if nt_response.len() <= 16 {
        return None;
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(format!("{user}::{domain}:{}:{}:{}", hex(server_challenge), hex(&nt_response[..16]), hex(&nt_response[16..])))
}

/// What the client's NTLMv2 blob says (MS-NLMP §2.2.2.7): its time (FILETIME) and
/// challenge, and its AV pairs (the target name it meant, e.g. `cifs/host`).
pub fn blob_time_and_challenge(nt_response: &[u8]) -> Option<(u64, [u8; 8])> {
    let blob = nt_response.get(16..)?;
    if blob.first() != Some(&1) {
        return None;
    }
    let time = u64::from_le_bytes(blob.get(8..16)?.try_into().ok()?);
    let challenge = blob.get(16..24)?.try_into().ok()?;
    Some((time, challenge))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secret_eq::hex;

    /// MS-NLMP §4.2.4: user "User", domain "Domain", password "Password", server
    /// challenge 0123456789abcdef, client challenge aa…, time 0, target info naming
    /// NetBIOS domain "Domain" and computer "Server".
    fn spec_response() -> Vec<u8> {
        let mut r = hex("68cd0ab851e51c96aabc927bebef6a1c");
        r.extend(hex("0101 0000 0000 0000 0000000000000000 aaaaaaaaaaaaaaaa 00000000"));
        r.extend(hex("02000c00 44006f006d00610069006e00 01000c00 53006500720076006500720000000000"));
        r.extend(hex("00000000"));
        r
    }

    #[test]
    fn the_ms_nlmp_ntlmv2_vectors_verify() {
        let nt = nt_hash("Password");
        assert_eq!(nt.to_vec(), hex("a4f49c406510bdcab6824ee7c30fd852"));
        assert_eq!(ntowf_v2(&nt, "User", "Domain").to_vec(), hex("0c868a403bfd7a93a3001ef22ef02e3f"));
        let challenge: [u8; 8] = hex("0123456789abcdef").try_into().unwrap();
        let key = verify(&nt, "User", "Domain", &challenge, &spec_response()).expect("the spec's response verifies");
        assert_eq!(key.to_vec(), hex("8de40ccadbc14a82f15cb0ad0de95ca3"));
        // The user's case does not matter; the password, domain and challenge do.
        assert!(verify(&nt, "user", "Domain", &challenge, &spec_response()).is_some());
        assert!(verify(&nt_hash("password"), "User", "Domain", &challenge, &spec_response()).is_none());
        assert!(verify(&nt, "User", "DOMAIN2", &challenge, &spec_response()).is_none());
        assert!(verify(&nt, "User", "Domain", &[0; 8], &spec_response()).is_none());
        assert!(verify(&nt, "User", "Domain", &challenge, &spec_response()[..16]).is_none());
        assert_eq!(blob_time_and_challenge(&spec_response()), Some((0, [0xaa; 8])));
    }

    #[test]
    fn the_hashcat_line_has_hashcats_five_fields() {
        let challenge: [u8; 8] = hex("0123456789abcdef").try_into().unwrap();
        let line = hashcat_5600("User", "Domain", &challenge, &spec_response()).unwrap();
        let parts: Vec<&str> = line.split(':').collect();
        assert_eq!(parts[..5], ["User", "", "Domain", "0123456789abcdef", "68cd0ab851e51c96aabc927bebef6a1c"]);
        assert!(parts[5].starts_with("0101000000000000"));
    }
}
