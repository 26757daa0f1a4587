//! NTLM from the client's side, for the poisoner canary's offer: the NEGOTIATE a
//! Windows 10 client sends, a server's CHALLENGE read (an attacker's: every length
//! checked), and the NTLMv2 AUTHENTICATE a planted account answers it with, so that
//! what the poisoner captures is a honeytoken's response (MS-NLMP §3.1.5, §3.3.2).

use hmac::{Hmac, Mac};

use super::message::{av, av_pairs, utf16le, NtlmError};
use super::v2::ntowf_v2;

/// What a Windows 10 client asks for (UNICODE, OEM, REQUEST_TARGET, SIGN, NTLM,
/// ALWAYS_SIGN, EXTENDED_SESSIONSECURITY, VERSION, 128, KEY_EXCH, 56).
const CLIENT_FLAGS: u32 = 0xe208_8297;
/// Windows 10 22H2, NTLM revision 15.
const VERSION: [u8; 8] = [10, 0, 0x45, 0x4a, 0, 0, 0, 15];
const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// NTLMSSP_NEGOTIATE_UNICODE.
const UNICODE: u32 = 0x0000_0001;
/// NTLMSSP_NEGOTIATE_KEY_EXCH: not used here (no session key is sent).
const KEY_EXCH: u32 = 0x4000_0000;

/// A server's CHALLENGE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    /// The AV pairs as sent (echoed in the response's blob).
    pub target_info: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The NEGOTIATE_MESSAGE a Windows 10 client sends (no domain or workstation named).
pub fn negotiate_message() -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(SIGNATURE);
    out.extend(1u32.to_le_bytes());
    out.extend(CLIENT_FLAGS.to_le_bytes());
    out.extend([0u8; 16]); // DomainNameFields, WorkstationFields
    out.extend(VERSION);
    out
}

/// Reads a CHALLENGE_MESSAGE.
pub fn parse_challenge(b: &[u8]) -> Result<Challenge, NtlmError> {
    if b.get(..8) != Some(&SIGNATURE[..]) {
        return Err(NtlmError::Signature);
    }
    match u32_at(b, 8) {
        Some(2) => {}
        Some(other) => return Err(NtlmError::MessageType(other)),
        None => return Err(NtlmError::Short),
    }
    let flags = u32_at(b, 20).ok_or(NtlmError::Short)?;
    let server_challenge: [u8; 8] = b.get(24..32).and_then(|c| c.try_into().ok()).ok_or(NtlmError::Short)?;
    // Target info is optional in old servers' messages.
    let target_info = match (u16_at(b, 40), u32_at(b, 44)) {
        (Some(0), _) | (None, _) | (_, None) => Vec::new(),
        (Some(len), Some(offset)) => {
            let start = offset as usize;
            b.get(start..start.checked_add(usize::from(len)).ok_or(NtlmError::FieldOutside)?).ok_or(NtlmError::FieldOutside)?.to_vec()
        }
    };
    Ok(Challenge { flags, server_challenge, target_info })
}

/// The AUTHENTICATE_MESSAGE answering `ch` for `user` in `domain` with the account's
/// NT hash: an NTLMv2 response whose blob carries the server's time (or `now`, a
/// FILETIME) and `client_challenge`, LMv2 zeroed as Windows sends it when the server
/// gave a time; no session key, no MIC.
pub fn authenticate(ch: &Challenge, nt_hash: &[u8; 16], user: &str, domain: &str, workstation: &str, client_challenge: [u8; 8], now: u64) -> Vec<u8> {
    let pairs = av_pairs(&ch.target_info);
    let server_time = pairs.iter().find(|(id, _)| *id == av::TIMESTAMP).and_then(|(_, v)| v.get(..8)?.try_into().ok()).map(u64::from_le_bytes);
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend(server_time.unwrap_or(now).to_le_bytes());
    blob.extend(client_challenge);
    blob.extend([0; 4]);
    blob.extend_from_slice(&ch.target_info);
    blob.extend([0; 4]);
    let key = ntowf_v2(nt_hash, user, domain);
    let proof: [u8; 16] = match <Hmac<md5::Md5> as Mac>::new_from_slice(&key) {
        Ok(mut mac) => {
            mac.update(&ch.server_challenge);
            mac.update(&blob);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 16],
    };
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(&blob);
    let flags = (ch.flags & CLIENT_FLAGS & !KEY_EXCH) | UNICODE;
    let text = |s: &str| if flags & UNICODE != 0 { utf16le(s) } else { s.as_bytes().to_vec() };
    let fields: [Vec<u8>; 6] = [vec![0; 24], nt_response, text(domain), text(user), text(workstation), Vec::new()];
    let mut head = Vec::with_capacity(72);
    head.extend_from_slice(SIGNATURE);
    head.extend(3u32.to_le_bytes());
    let mut payload = Vec::new();
    let mut at = 72u32;
    for field in &fields {
        let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
        head.extend(len.to_le_bytes());
        head.extend(len.to_le_bytes());
        head.extend(at.to_le_bytes());
        at += u32::from(len);
        payload.extend_from_slice(&field[..usize::from(len)]);
    }
    head.extend(flags.to_le_bytes());
    head.extend(VERSION);
    head.extend(payload);
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoy::ntlm::{self, v2};

    #[test]
    fn the_decoys_own_parser_reads_what_the_client_side_writes_and_the_response_checks_out() {
        let host = ntlm::Host {
            target: ntlm::Target::Domain,
            netbios_computer: "FS01".into(),
            netbios_domain: "TRUST".into(),
            dns_computer: "fs01.trust.local".into(),
            dns_domain: "trust.local".into(),
            dns_tree: "trust.local".into(),
            version: ntlm::Version { major: 10, minor: 0, build: 17763, ntlm_revision: 15 },
        };
        let negotiate = ntlm::parse_negotiate(&negotiate_message()).unwrap();
        assert_eq!(negotiate.flags, CLIENT_FLAGS);
        let message = ntlm::challenge(ntlm::windows_flags(negotiate.flags, host.target), [5; 8], &host, 133_000_000_000_000_000);
        let ch = parse_challenge(&message).unwrap();
        assert_eq!(ch.server_challenge, [5; 8]);
        let hash = v2::nt_hash("Trevolka-Mistan-Baiper47!");
        let auth = ntlm::parse_authenticate(&authenticate(&ch, &hash, "svc_backup", "NHSTRUST", "WS-0042", [6; 8], 1)).unwrap();
        assert_eq!((auth.user.as_str(), auth.domain.as_str(), auth.workstation.as_str()), ("svc_backup", "NHSTRUST", "WS-0042"));
        assert!(auth.is_v2());
        assert!(v2::verify(&hash, &auth.user, &auth.domain, &[5; 8], &auth.nt_response).is_some());
        assert!(v2::verify(&v2::nt_hash("wrong"), &auth.user, &auth.domain, &[5; 8], &auth.nt_response).is_none());
        // The server's own time is in the blob.
        assert_eq!(v2::blob_time_and_challenge(&auth.nt_response), Some((133_000_000_000_000_000, [6; 8])));
    }

    #[test]
    fn hostile_challenges_are_refused_without_panicking() {
        assert_eq!(parse_challenge(b"NTLMSSP\0\x02\0\0\0"), Err(NtlmError::Short));
        assert_eq!(parse_challenge(b"NTLMSSP\0\x03\0\0\0"), Err(NtlmError::MessageType(3)));
        let mut m = b"NTLMSSP\0\x02\0\0\0".to_vec();
        m.resize(48, 0);
        m[40] = 0xff;
        m[44] = 0xf0;
        assert_eq!(parse_challenge(&m), Err(NtlmError::FieldOutside));
        for n in 0..60 {
            let _ = parse_challenge(&m[..n.min(m.len())]);
        }
    }
}
