//! NTLMSSP messages (MS-NLMP §2.2): the client's NEGOTIATE and AUTHENTICATE read from
//! attacker bytes with every offset and length checked, and the server's CHALLENGE
//! written as the personality's Windows (or Samba) host writes it.

/// NegotiateFlags bits (MS-NLMP §2.2.2.5) the decoy reads or sets.
pub mod flags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ANONYMOUS: u32 = 0x0000_0800;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const N128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const N56: u32 = 0x8000_0000;
}

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Why bytes are not the NTLMSSP message expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NtlmError {
    #[error("not an NTLMSSP message")]
    Signature,
    #[error("NTLMSSP message type {0}, not the one expected")]
    MessageType(u32),
    #[error("NTLMSSP message shorter than its fixed part")]
    Short,
    #[error("a field points outside the message")]
    FieldOutside,
}

/// The product version a message carries (MS-NLMP §2.2.2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
    pub ntlm_revision: u8,
}

impl Version {
    fn read(b: &[u8]) -> Option<Version> {
        let b = b.get(..8)?;
        Some(Version { major: b[0], minor: b[1], build: u16::from_le_bytes([b[2], b[3]]), ntlm_revision: b[7] })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend([self.major, self.minor]);
        out.extend(self.build.to_le_bytes());
        out.extend([0, 0, 0, self.ntlm_revision]);
    }
}

/// A client's NEGOTIATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate {
    pub flags: u32,
    /// The OEM domain and workstation some clients name here (rarely).
    pub domain: String,
    pub workstation: String,
    pub version: Option<Version>,
}

/// A client's AUTHENTICATE_MESSAGE, its strings decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    pub flags: u32,
    pub lm_response: Vec<u8>,
    pub nt_response: Vec<u8>,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub encrypted_session_key: Vec<u8>,
    pub version: Option<Version>,
}

impl Authenticate {
    /// No user and no NT response: an anonymous (null session) attempt.
    pub fn is_anonymous(&self) -> bool {
        self.user.is_empty() && self.nt_response.is_empty()
    }

    /// An NTLMv2 response (longer than NTLMv1's 24 bytes).
    pub fn is_v2(&self) -> bool {
        self.nt_response.len() > 24
    }
}

/// Checks the signature and message type; the message's bytes.
fn expect(bytes: &[u8], kind: u32, fixed: usize) -> Result<&[u8], NtlmError> {
    if bytes.get(..8) != Some(&SIGNATURE[..]) {
        return Err(NtlmError::Signature);
    }
    let got = u32_at(bytes, 8).ok_or(NtlmError::Short)?;
    if got != kind {
        return Err(NtlmError::MessageType(got));
    }
    if bytes.len() < fixed {
        return Err(NtlmError::Short);
    }
    Ok(bytes)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes a (length, max length, offset) field at `at` points to.
fn field(b: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let len = usize::from(u16_at(b, at).ok_or(NtlmError::Short)?);
    let offset = u32_at(b, at + 4).ok_or(NtlmError::Short)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(offset..offset.checked_add(len).ok_or(NtlmError::FieldOutside)?).ok_or(NtlmError::FieldOutside)
}

/// A string in the message's character set: UTF-16LE with NEGOTIATE_UNICODE, else
/// OEM (read as Latin-1, which keeps every byte).
fn text(b: &[u8], unicode: bool) -> String {
    if unicode {
        let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

pub use crate::token::windows::utf16le;

pub fn parse_negotiate(bytes: &[u8]) -> Result<Negotiate, NtlmError> {
    let b = expect(bytes, 1, 16)?;
    let flags = u32_at(b, 12).ok_or(NtlmError::Short)?;
    // Older clients stop after the flags; the fields follow only when there is room.
    let domain = if b.len() >= 24 { text(field(b, 16)?, false) } else { String::new() };
    let workstation = if b.len() >= 32 { text(field(b, 24)?, false) } else { String::new() };
    let version = (flags & flags::VERSION != 0).then(|| b.get(32..40).and_then(Version::read)).flatten();
    Ok(Negotiate { flags, domain, workstation, version })
}

pub fn parse_authenticate(bytes: &[u8]) -> Result<Authenticate, NtlmError> {
    let b = expect(bytes, 3, 64)?;
    let flags = u32_at(b, 60).ok_or(NtlmError::Short)?;
    let unicode = flags & flags::UNICODE != 0;
    Ok(Authenticate {
        flags,
        lm_response: field(b, 12)?.to_vec(),
        nt_response: field(b, 20)?.to_vec(),
        domain: text(field(b, 28)?, unicode),
        user: text(field(b, 36)?, unicode),
        workstation: text(field(b, 44)?, unicode),
        encrypted_session_key: field(b, 52)?.to_vec(),
        version: (flags & flags::VERSION != 0).then(|| b.get(64..72).and_then(Version::read)).flatten(),
    })
}

/// AV_PAIR identifiers (MS-NLMP §2.2.2.1).
pub mod av {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const DNS_TREE_NAME: u16 = 5;
    pub const TIMESTAMP: u16 = 7;
    pub const TARGET_NAME: u16 = 9;
}

/// Reads AV pairs up to MsvAvEOL (or the end); malformed tails are dropped.
pub fn av_pairs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut pairs = Vec::new();
    while let (Some(id), Some(len)) = (u16_at(b, 0), u16_at(b, 2)) {
        if id == av::EOL {
            break;
        }
        let Some(value) = b.get(4..4 + usize::from(len)) else { break };
        pairs.push((id, value));
        b = &b[4 + usize::from(len)..];
    }
    pairs
}

/// What a CHALLENGE names as its target: a domain member names its NetBIOS domain;
/// a standalone (workgroup) server its own name, with no DNS tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Domain,
    Server,
}

/// What the server says of itself in its CHALLENGE: the personality's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub target: Target,
    pub netbios_computer: String,
    pub netbios_domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
    pub dns_tree: String,
    pub version: Version,
}

/// The flags a Windows server answers a client's NEGOTIATE flags with: the client's
/// own among those it supports (OEM only without Unicode), never LM_KEY, and always
/// its version, its target info and what its target is.
pub fn windows_flags(client: u32, target: Target) -> u32 {
    let kept = flags::N56
        | flags::KEY_EXCH
        | flags::N128
        | flags::EXTENDED_SESSIONSECURITY
        | flags::ALWAYS_SIGN
        | flags::NTLM
        | flags::SEAL
        | flags::SIGN
        | flags::REQUEST_TARGET
        | flags::UNICODE;
    let oem = if client & flags::UNICODE == 0 { flags::OEM } else { 0 };
    let kind = match target {
        Target::Domain => flags::TARGET_TYPE_DOMAIN,
        Target::Server => flags::TARGET_TYPE_SERVER,
    };
    client & kept | oem | flags::VERSION | flags::TARGET_INFO | kind
}

/// The flags Samba answers a client's NEGOTIATE flags with: the client's own among
/// those it supports (OEM only without Unicode), always NTLM and its version, and its
/// target (always a server) and target info only when the client asked for a target.
pub fn samba_flags(client: u32) -> u32 {
    let kept = flags::UNICODE | flags::SIGN | flags::SEAL | flags::ALWAYS_SIGN | flags::EXTENDED_SESSIONSECURITY | flags::N128 | flags::N56 | flags::KEY_EXCH;
    let oem = if client & flags::UNICODE == 0 { client & flags::OEM } else { 0 };
    let target = if client & flags::REQUEST_TARGET != 0 { flags::REQUEST_TARGET | flags::TARGET_TYPE_SERVER | flags::TARGET_INFO } else { 0 };
    client & kept | oem | flags::NTLM | flags::VERSION | target
}

/// The CHALLENGE_MESSAGE answering `flags` (see [`windows_flags`]): `challenge`, the
/// host's names as target name and target info, its version, and the server's time
/// (Windows FILETIME) in the target info.
pub fn challenge(flags: u32, challenge: [u8; 8], host: &Host, filetime: u64) -> Vec<u8> {
    let unicode = flags & flags::UNICODE != 0;
    let name = |s: &str| if unicode { utf16le(s) } else { s.bytes().collect() };
    // A server that names itself as target (standalone) names itself as domain too.
    let nb_domain = match host.target {
        Target::Domain => &host.netbios_domain,
        Target::Server => &host.netbios_computer,
    };
    let asked = flags & flags::TARGET_INFO != 0;
    let target_name = if asked { name(nb_domain) } else { Vec::new() };
    let mut info = Vec::new();
    for (id, value) in [
        (av::NB_DOMAIN_NAME, nb_domain),
        (av::NB_COMPUTER_NAME, &host.netbios_computer),
        (av::DNS_DOMAIN_NAME, &host.dns_domain),
        (av::DNS_COMPUTER_NAME, &host.dns_computer),
        (av::DNS_TREE_NAME, &host.dns_tree),
    ] {
        if id == av::DNS_TREE_NAME && (value.is_empty() || host.target == Target::Server) {
            continue;
        }
        let v = utf16le(value);
        info.extend(id.to_le_bytes());
        info.extend((v.len() as u16).to_le_bytes());
        info.extend(v);
    }
    info.extend(av::TIMESTAMP.to_le_bytes());
    info.extend(8u16.to_le_bytes());
    info.extend(filetime.to_le_bytes());
    info.extend([0, 0, 0, 0]); // MsvAvEOL
    if !asked {
        info.clear();
    }
    const FIXED: usize = 56;
    let mut out = Vec::with_capacity(FIXED + target_name.len() + info.len());
    out.extend_from_slice(SIGNATURE);
    out.extend(2u32.to_le_bytes());
    let field = |out: &mut Vec<u8>, len: usize, offset: usize| {
        out.extend((len as u16).to_le_bytes());
        out.extend((len as u16).to_le_bytes());
        out.extend((offset as u32).to_le_bytes());
    };
    field(&mut out, target_name.len(), FIXED);
    out.extend(flags.to_le_bytes());
    out.extend(challenge);
    out.extend([0u8; 8]);
    field(&mut out, info.len(), FIXED + target_name.len());
    host.version.write(&mut out);
    out.extend(target_name);
    out.extend(info);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            target: Target::Domain,
            netbios_computer: "PACS-FS01".into(),
            netbios_domain: "TRUST".into(),
            dns_computer: "pacs-fs01.trust.nhs.uk".into(),
            dns_domain: "trust.nhs.uk".into(),
            dns_tree: "trust.nhs.uk".into(),
            version: Version { major: 10, minor: 0, build: 17763, ntlm_revision: 15 },
        }
    }

    #[test]
    fn a_challenge_carries_the_hosts_names_and_version_where_clients_read_them() {
        let f = windows_flags(flags::UNICODE | flags::EXTENDED_SESSIONSECURITY | flags::KEY_EXCH, Target::Domain);
        let c = challenge(f, [1, 2, 3, 4, 5, 6, 7, 8], &host(), 0x01d9_0000_0000_0000);
        assert_eq!(&c[..8], SIGNATURE);
        assert_eq!(u32_at(&c, 8), Some(2));
        assert_eq!(&c[24..32], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let flags = u32_at(&c, 20).unwrap();
        assert_eq!(
            flags & (flags::UNICODE | flags::TARGET_INFO | flags::VERSION | flags::KEY_EXCH),
            flags::UNICODE | flags::TARGET_INFO | flags::VERSION | flags::KEY_EXCH
        );
        assert_eq!(text(field(&c, 12).unwrap(), true), "TRUST");
        let info = field(&c, 40).unwrap();
        let pairs = av_pairs(info);
        let get = |id| pairs.iter().find(|(i, _)| *i == id).map(|(_, v)| text(v, true));
        assert_eq!(get(av::NB_COMPUTER_NAME).as_deref(), Some("PACS-FS01"));
        assert_eq!(get(av::DNS_COMPUTER_NAME).as_deref(), Some("pacs-fs01.trust.nhs.uk"));
        assert_eq!(Version::read(&c[48..56]), Some(host().version));
        assert!(info.ends_with(&[0, 0, 0, 0]));
    }

    #[test]
    fn the_flags_answered_are_those_windows_answers_each_client_with() {
        // (client's NEGOTIATE flags, member's answer, workgroup server's answer), as
        // captured from Windows Server 2019 (Windows client, smbclient, impacket, nmap).
        for (client, member, workgroup) in [
            (0xe208_8297, 0xe289_8215, 0xe28a_8215u32),
            (0x6208_8215, 0x6289_8215, 0x628a_8215),
            (0xa088_0205, 0xa289_0205, 0xa28a_0205),
            (0xe008_8237, 0xe289_8235, 0xe28a_8235),
            (0x6288_0205, 0x6289_0205, 0x628a_0205),
        ] {
            assert_eq!(windows_flags(client, Target::Domain), member, "{client:#x}");
            assert_eq!(windows_flags(client, Target::Server), workgroup, "{client:#x}");
        }
    }

    #[test]
    fn the_flags_answered_are_those_samba_answers_each_client_with() {
        // Captured from Debian 12's smbd 4.17 (client flags → challenge flags).
        for (client, answer) in [
            (0xe208_8297u32, 0xe28a_8215u32),
            (0x6208_8215, 0x628a_8215),
            (0x6008_8215, 0x628a_8215),
            (0xa088_0205, 0xa28a_0205),
            (0x0000_0207, 0x0282_0205),
            (0x0000_0201, 0x0200_0201),
            (0x0000_0202, 0x0200_0202),
            (0x6280_8215, 0x6282_8215),
            (0xe208_82b7, 0xe28a_8235),
        ] {
            assert_eq!(samba_flags(client), answer, "{client:#x}");
        }
        // Without REQUEST_TARGET: no target name and no target info.
        let c = challenge(samba_flags(0x201), [0; 8], &host(), 0);
        assert_eq!(c.len(), 56);
    }

    #[test]
    fn an_authenticate_message_is_read_with_its_fields_checked() {
        // Built by hand: user "alice", domain "TRUST", workstation "WS1", a 40-byte NT response.
        let (domain, user, ws) = (utf16le("TRUST"), utf16le("alice"), utf16le("WS1"));
        let nt = vec![7u8; 40];
        let mut payload = Vec::new();
        let mut fields = Vec::new();
        let base = 88usize;
        for part in [&vec![0u8; 24], &nt, &domain, &user, &ws, &vec![9u8; 16]] {
            fields.push((part.len(), base + payload.len()));
            payload.extend_from_slice(part);
        }
        let mut msg = SIGNATURE.to_vec();
        msg.extend(3u32.to_le_bytes());
        for (len, off) in &fields {
            msg.extend((*len as u16).to_le_bytes());
            msg.extend((*len as u16).to_le_bytes());
            msg.extend((*off as u32).to_le_bytes());
        }
        msg.extend((flags::UNICODE | flags::VERSION).to_le_bytes());
        msg.extend([10, 0, 0x63, 0x45, 0, 0, 0, 15]);
        msg.extend([0u8; 16]); // MIC
        msg.extend(payload);
        let a = parse_authenticate(&msg).unwrap();
        assert_eq!((a.user.as_str(), a.domain.as_str(), a.workstation.as_str()), ("alice", "TRUST", "WS1"));
        assert_eq!(a.nt_response, nt);
        assert!(a.is_v2() && !a.is_anonymous());
        assert_eq!(a.version.map(|v| v.build), Some(17763));
        // A field pointing past the end, a wrong type, a short message.
        let mut bad = msg.clone();
        bad[24..28].copy_from_slice(&10_000u32.to_le_bytes());
        assert_eq!(parse_authenticate(&bad), Err(NtlmError::FieldOutside));
        assert_eq!(parse_negotiate(&msg), Err(NtlmError::MessageType(3)));
        assert_eq!(parse_authenticate(&msg[..40]), Err(NtlmError::Short));
        assert_eq!(parse_authenticate(b"NTLMSSX\0"), Err(NtlmError::Signature));
    }

    #[test]
    fn a_negotiate_message_is_read_short_or_long() {
        let mut msg = SIGNATURE.to_vec();
        msg.extend(1u32.to_le_bytes());
        msg.extend((flags::UNICODE | flags::NTLM).to_le_bytes());
        assert_eq!(parse_negotiate(&msg).unwrap().flags, flags::UNICODE | flags::NTLM);
        msg.extend([0u8; 16]);
        msg.extend([6, 1, 0xb1, 0x1d, 0, 0, 0, 15]);
        msg[12..16].copy_from_slice(&(flags::UNICODE | flags::VERSION).to_le_bytes());
        assert_eq!(parse_negotiate(&msg).unwrap().version.map(|v| (v.major, v.build)), Some((6, 7601)));
    }
}
