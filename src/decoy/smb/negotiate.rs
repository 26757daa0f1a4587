//! NEGOTIATE: the client's offer read (an SMB1 NEGOTIATE's dialect strings, or an SMB2
//! NEGOTIATE with its 3.1.1 contexts), the dialect chosen as the personality's server
//! chooses it, and the SMB2 NEGOTIATE response written as that server writes it.

use super::personality::{Implementation, Preference, SmbPersonality};
use super::wire::{buffer, u16_at, u32_at, Header, SMB1_HEADER, SMB2_HEADER};

/// The most dialects (or contexts) read from one NEGOTIATE.
const MAX_LISTED: usize = 64;

/// SMB2's wildcard revision, answered to an SMB1 NEGOTIATE offering `SMB 2.???`.
pub const WILDCARD: u16 = 0x02ff;

/// 3.1.1 negotiate context types (MS-SMB2 §2.2.3.1).
pub mod context {
    pub const PREAUTH_INTEGRITY: u16 = 1;
    pub const ENCRYPTION: u16 = 2;
    pub const SIGNING: u16 = 8;
}

/// The dialect strings of an SMB1 NEGOTIATE (MS-CIFS §2.2.4.52.1), at most 64.
pub fn smb1_dialects(m: &[u8]) -> Option<Vec<&[u8]>> {
    let word_count = usize::from(*m.get(SMB1_HEADER)?);
    let at = SMB1_HEADER + 1 + 2 * word_count;
    let byte_count = usize::from(u16_at(m, at)?);
    let mut bytes = m.get(at + 2..)?;
    bytes = bytes.get(..byte_count.min(bytes.len()))?;
    let mut out = Vec::new();
    while let Some((&0x02, rest)) = bytes.split_first() {
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        if out.len() < MAX_LISTED {
            out.push(&rest[..end]);
        }
        bytes = rest.get(end + 1..).unwrap_or(&[]);
    }
    Some(out)
}

/// An SMB2 NEGOTIATE request (MS-SMB2 §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer<'a> {
    pub dialects: Vec<u16>,
    pub security_mode: u16,
    pub capabilities: u32,
    pub client_guid: [u8; 16],
    /// 3.1.1 negotiate contexts: (type, data).
    pub contexts: Vec<(u16, &'a [u8])>,
}

/// Reads an SMB2 NEGOTIATE request.
pub fn read_offer(m: &[u8]) -> Option<Offer<'_>> {
    let body = SMB2_HEADER;
    if u16_at(m, body)? != 36 {
        return None;
    }
    let count = usize::from(u16_at(m, body + 2)?);
    let dialects: Vec<u16> = (0..count.min(MAX_LISTED)).map_while(|i| u16_at(m, body + 36 + 2 * i)).collect();
    let mut offer = Offer {
        dialects,
        security_mode: u16_at(m, body + 4)?,
        capabilities: u32_at(m, body + 8)?,
        client_guid: m.get(body + 12..body + 28)?.try_into().ok()?,
        contexts: Vec::new(),
    };
    if offer.dialects.contains(&0x0311) {
        let mut at = u32_at(m, body + 28)? as usize;
        let n = usize::from(u16_at(m, body + 32)?);
        for _ in 0..n.min(MAX_LISTED) {
            let (Some(kind), Some(len)) = (u16_at(m, at), u16_at(m, at + 4 - 2)) else { break };
            let Some(data) = m.get(at + 8..at + 8 + usize::from(len)) else { break };
            offer.contexts.push((kind, data));
            at = (at + 8 + usize::from(len) + 7) & !7;
        }
    }
    Some(offer)
}

/// The revision's dotted name (`3.1.1`), or `0x....` for one SMB2 does not define.
pub fn dialect_name(revision: u16) -> String {
    match revision {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        WILDCARD => "2.???".into(),
        other => format!("0x{other:04x}"),
    }
}

/// The dialect the personality's server picks from an SMB2 offer: the highest it
/// supports among those offered.
pub fn choose(p: &SmbPersonality, offered: &[u16]) -> Option<u16> {
    p.dialects.iter().copied().filter(|d| offered.contains(d)).max()
}

/// What an SMB1 NEGOTIATE gets from the personality: the SMB2 wildcard when `SMB 2.???`
/// is offered and the server speaks beyond 2.0.2, 2.0.2 when `SMB 2.002` is, else
/// nothing (the personality's SMB1 answer).
pub fn choose_from_smb1(p: &SmbPersonality, dialects: &[&[u8]]) -> Option<u16> {
    let offered = |name: &[u8]| dialects.contains(&name);
    if offered(b"SMB 2.???") && p.dialects.iter().any(|&d| d > 0x0202) {
        Some(WILDCARD)
    } else if offered(b"SMB 2.002") && p.dialects.contains(&0x0202) {
        Some(0x0202)
    } else {
        None
    }
}

/// The list's ids (u16 count, then ids) from a context's data.
fn ids(data: &[u8], count_at: usize, first_at: usize) -> Vec<u16> {
    let n = u16_at(data, count_at).map_or(0, usize::from);
    (0..n.min(MAX_LISTED)).map_while(|i| u16_at(data, first_at + 2 * i)).collect()
}

fn pick(server: &[u16], client: &[u16], preference: Preference) -> Option<u16> {
    match preference {
        Preference::Server => server.iter().copied().find(|s| client.contains(s)),
        Preference::Client => client.iter().copied().find(|c| server.contains(c)),
    }
}

/// The 3.1.1 contexts a response carries, in the server's order: SHA-512 with a fresh
/// salt, the cipher chosen (0 when none is shared), and the signing algorithm when the
/// client asked and the server has them.
pub fn answer_contexts(p: &SmbPersonality, offer: &Offer<'_>, salt: [u8; 32]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut preauth = vec![1, 0, 32, 0, 1, 0];
    preauth.extend_from_slice(&salt);
    out.push((context::PREAUTH_INTEGRITY, preauth));
    let find = |kind| offer.contexts.iter().find(|(k, _)| *k == kind).map(|(_, d)| *d);
    // Samba answers the cipher only to a client that announced encryption.
    let wants_encryption = p.implementation == Implementation::Windows || offer.capabilities & 0x40 != 0;
    if let Some(data) = find(context::ENCRYPTION).filter(|_| wants_encryption) {
        let server: Vec<u16> = p.ciphers.iter().map(|c| c.id()).collect();
        let cipher = pick(&server, &ids(data, 0, 2), p.cipher_preference).unwrap_or(0);
        let mut enc = vec![1, 0];
        enc.extend(cipher.to_le_bytes());
        out.push((context::ENCRYPTION, enc));
    }
    if let Some(data) = find(context::SIGNING).filter(|_| !p.signing_algorithms.is_empty()) {
        let server: Vec<u16> = p.signing_algorithms.iter().map(|a| a.id()).collect();
        if let Some(alg) = pick(&server, &ids(data, 0, 2), Preference::Server) {
            let mut sign = vec![1, 0];
            sign.extend(alg.to_le_bytes());
            out.push((context::SIGNING, sign));
        }
    }
    out
}

/// What a NEGOTIATE response says besides the dialect.
pub struct Answer<'a> {
    pub dialect: u16,
    pub server_guid: [u8; 16],
    /// Now and the server's start, as Windows FILETIMEs.
    pub system_time: u64,
    pub start_time: u64,
    pub security_blob: &'a [u8],
    pub contexts: Vec<(u16, Vec<u8>)>,
}

/// The capabilities answered on `dialect` to a client that announced `client`; on
/// 3.1.1 encryption is announced this way only when no cipher was agreed in a context
/// (Windows never: its clients always send one).
pub fn capabilities(p: &SmbPersonality, dialect: u16, client: u32, cipher_agreed: bool) -> u32 {
    const DFS: u32 = 0x01;
    const ENCRYPTION: u32 = 0x40;
    match dialect {
        0x0202 => p.capabilities & DFS,
        0x0300 | 0x0302 => p.capabilities | (p.capabilities_if_asked & client),
        0x0311 if cipher_agreed || p.implementation == Implementation::Windows => p.capabilities | (p.capabilities_if_asked & client & !ENCRYPTION),
        0x0311 => p.capabilities | (p.capabilities_if_asked & client),
        _ => p.capabilities,
    }
}

/// Writes the capabilities answered to a client that announced `client` into a
/// NEGOTIATE response.
pub fn set_capabilities(p: &SmbPersonality, response: &mut [u8], dialect: u16, client: u32, cipher_agreed: bool) {
    if let Some(field) = response.get_mut(SMB2_HEADER + 24..SMB2_HEADER + 28) {
        field.copy_from_slice(&capabilities(p, dialect, client, cipher_agreed).to_le_bytes());
    }
}

/// The SMB2 NEGOTIATE response (MS-SMB2 §2.2.4) after `header`.
pub fn response(p: &SmbPersonality, header: &Header, a: &Answer<'_>) -> Vec<u8> {
    let capabilities = capabilities(p, a.dialect, 0, false);
    // 2.0.2 has no multi-credit: its sizes stop at 64 KiB.
    let size = |s: u32| if a.dialect == 0x0202 { s.min(65536) } else { s };
    let mut out = Vec::with_capacity(256);
    header.write(&mut out);
    out.extend(65u16.to_le_bytes());
    out.extend(p.security_mode().to_le_bytes());
    out.extend(a.dialect.to_le_bytes());
    out.extend((a.contexts.len() as u16).to_le_bytes());
    out.extend_from_slice(&a.server_guid);
    out.extend(capabilities.to_le_bytes());
    out.extend(size(p.max_transact_size).to_le_bytes());
    out.extend(size(p.max_read_size).to_le_bytes());
    out.extend(size(p.max_write_size).to_le_bytes());
    out.extend(a.system_time.to_le_bytes());
    out.extend(if p.start_time_zero { 0 } else { a.start_time }.to_le_bytes());
    let blob_at = SMB2_HEADER + 64;
    out.extend((blob_at as u16).to_le_bytes());
    out.extend((a.security_blob.len() as u16).to_le_bytes());
    let contexts_at = if a.contexts.is_empty() { 0 } else { (blob_at + a.security_blob.len() + 7) & !7 };
    out.extend((contexts_at as u32).to_le_bytes());
    out.extend_from_slice(a.security_blob);
    for (i, (kind, data)) in a.contexts.iter().enumerate() {
        // Each context starts 8-byte aligned; nothing pads the last.
        out.resize((out.len() + 7) & !7, 0);
        debug_assert!(i > 0 || out.len() == contexts_at);
        out.extend(kind.to_le_bytes());
        out.extend((data.len() as u16).to_le_bytes());
        out.extend([0u8; 4]);
        out.extend_from_slice(data);
    }
    out
}

/// The security blob of a negotiate request, if any (unused by servers, read for
/// completeness of the record).
pub fn request_blob(m: &[u8]) -> Option<&[u8]> {
    buffer(m, u16_at(m, SMB2_HEADER + 4)?, 0)
}

#[cfg(test)]
mod tests {
    use super::super::personality::{SmbPersonality, BUILT_IN};
    use super::*;

    fn windows() -> SmbPersonality {
        SmbPersonality::parse(BUILT_IN[0].1).unwrap()
    }

    fn smb1_negotiate(dialects: &[&str]) -> Vec<u8> {
        let mut m = b"\xffSMB\x72".to_vec();
        m.resize(SMB1_HEADER, 0);
        m.push(0);
        let bytes: Vec<u8> = dialects.iter().flat_map(|d| [&[2u8][..], d.as_bytes(), &[0]].concat()).collect();
        m.extend((bytes.len() as u16).to_le_bytes());
        m.extend(bytes);
        m
    }

    #[test]
    fn smb1_offers_get_the_wildcard_or_nothing() {
        let p = windows();
        let m = smb1_negotiate(&["NT LM 0.12", "SMB 2.002", "SMB 2.???"]);
        let d = smb1_dialects(&m).unwrap();
        assert_eq!(d, vec![&b"NT LM 0.12"[..], b"SMB 2.002", b"SMB 2.???"]);
        assert_eq!(choose_from_smb1(&p, &d), Some(WILDCARD));
        assert_eq!(choose_from_smb1(&p, &smb1_dialects(&smb1_negotiate(&["NT LM 0.12", "SMB 2.002"])).unwrap()), Some(0x0202));
        assert_eq!(choose_from_smb1(&p, &smb1_dialects(&smb1_negotiate(&["NT LM 0.12"])).unwrap()), None);
        // Truncated byte counts and unterminated strings end the list, never panic.
        let mut cut = smb1_negotiate(&["NT LM 0.12"]);
        cut.truncate(cut.len() - 3);
        assert!(smb1_dialects(&cut).is_some());
        assert_eq!(smb1_dialects(&cut[..SMB1_HEADER]), None);
    }

    fn smb2_negotiate(dialects: &[u16], contexts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = Vec::new();
        Header::default().write(&mut m);
        m.extend(36u16.to_le_bytes());
        m.extend((dialects.len() as u16).to_le_bytes());
        m.extend(1u16.to_le_bytes());
        m.extend([0, 0]);
        m.extend(0x7fu32.to_le_bytes());
        m.extend([0xab; 16]);
        let ctx_at = (SMB2_HEADER + 36 + 2 * dialects.len() + 7) & !7;
        m.extend((ctx_at as u32).to_le_bytes());
        m.extend((contexts.len() as u16).to_le_bytes());
        m.extend([0, 0]);
        for d in dialects {
            m.extend(d.to_le_bytes());
        }
        for (kind, data) in contexts {
            m.resize((m.len() + 7) & !7, 0);
            m.extend(kind.to_le_bytes());
            m.extend((data.len() as u16).to_le_bytes());
            m.extend([0; 4]);
            m.extend(data);
        }
        m
    }

    #[test]
    fn the_highest_shared_dialect_and_the_clients_first_shared_cipher_are_chosen() {
        let p = windows();
        let enc = vec![3, 0, 4, 0, 1, 0, 2, 0]; // AES-256-GCM, AES-128-CCM, AES-128-GCM
        let m = smb2_negotiate(&[0x0202, 0x0210, 0x0300, 0x0302, 0x0311], &[(1, vec![1, 0, 32, 0, 1, 0]), (2, enc), (8, vec![1, 0, 1, 0])]);
        let offer = read_offer(&m).unwrap();
        assert_eq!(offer.contexts.len(), 3);
        assert_eq!(choose(&p, &offer.dialects), Some(0x0311));
        let ctx = answer_contexts(&p, &offer, [9; 32]);
        assert_eq!(ctx[1], (context::ENCRYPTION, vec![1, 0, 1, 0]), "Windows takes the client's first cipher it has: 2019 has no AES-256");
        assert_eq!(ctx.len(), 2, "2019 answers no signing context");
        let blob = [0x60, 0];
        let a = Answer { dialect: 0x0311, server_guid: [1; 16], system_time: 5, start_time: 6, security_blob: &blob, contexts: ctx };
        let r = response(&p, &Header::default().response(0, 1, 0), &a);
        assert_eq!(u16_at(&r, 64), Some(65));
        assert_eq!(u16_at(&r, 68), Some(0x0311));
        assert_eq!(u32_at(&r, 64 + 60), Some(136), "contexts start 8-aligned after the blob");
        assert_eq!(u16_at(&r, 136), Some(context::PREAUTH_INTEGRITY));
        assert_eq!(choose(&p, &[0x0300, 0x0210]), Some(0x0300));
        assert_eq!(choose(&p, &[0x0201]), None);
    }

    #[test]
    fn hostile_offers_are_read_without_panics() {
        let m = smb2_negotiate(&[0x0311], &[(2, vec![0xff, 0xff])]);
        for cut in 0..m.len() {
            let _ = read_offer(&m[..cut]);
        }
        let mut huge = m.clone();
        huge[66..68].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(read_offer(&huge).is_some_and(|o| o.dialects.len() <= MAX_LISTED));
        let offer = read_offer(&m).unwrap();
        assert_eq!(answer_contexts(&windows(), &offer, [0; 32])[1].1, vec![1, 0, 0, 0], "no shared cipher: 0");
    }
}
