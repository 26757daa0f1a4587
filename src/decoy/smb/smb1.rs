//! SMB1 (NT LM 0.12) as Windows 7 speaks it, for personalities that still serve it:
//! NEGOTIATE, SESSION_SETUP_ANDX (NTLMSSP in SPNEGO, or the older form with the
//! passwords in the request), TREE_CONNECT_ANDX to IPC$, and the transactions MS17-010
//! is checked and exploited with: the check (PeekNamedPipe on FID 0) is answered as
//! the personality's Windows answers it, and the bytes of EternalBlue's oversized
//! transactions and DoublePulsar's requests are collected for the quarantine, never
//! interpreted beyond their lengths.

use super::personality::{Ms17010, Smb1Look};
use super::step::{filetime_now, Login1, Step};
use super::wire::{u16_at, u32_at};
use crate::decoy::ntlm::{self, spnego, Authenticate, Host};
use crate::event::EventKind;

/// SMB1 commands (MS-CIFS §2.2.2.1).
mod cmd {
    pub const TRANSACTION: u8 = 0x25;
    pub const ECHO: u8 = 0x2b;
    pub const TREE_DISCONNECT: u8 = 0x71;
    pub const NEGOTIATE: u8 = 0x72;
    pub const SESSION_SETUP_ANDX: u8 = 0x73;
    pub const LOGOFF_ANDX: u8 = 0x74;
    pub const TREE_CONNECT_ANDX: u8 = 0x75;
    pub const TRANSACTION2: u8 = 0x32;
    pub const TRANSACTION2_SECONDARY: u8 = 0x33;
    pub const NT_TRANSACT: u8 = 0xa0;
    pub const NT_TRANSACT_SECONDARY: u8 = 0xa1;
}

/// NT status codes of SMB1 answers.
mod status {
    pub const SUCCESS: u32 = 0;
    pub const NOT_IMPLEMENTED: u32 = 0xc000_0002;
    pub const INVALID_HANDLE: u32 = 0xc000_0008;
    pub const MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
    pub const ACCESS_DENIED: u32 = 0xc000_0022;
    pub const LOGON_FAILURE: u32 = 0xc000_006d;
    pub const NOT_SUPPORTED: u32 = 0xc000_00bb;
    pub const BAD_NETWORK_NAME: u32 = 0xc000_00cc;
    pub const USER_SESSION_DELETED: u32 = 0xc000_0203;
    pub const INSUFF_SERVER_RESOURCES: u32 = 0xc000_0205;
}

const HEADER: usize = 32;
/// Flags2: NT status and long names; Unicode, extended security and EAs as the
/// request says (nmap's service probe, with 0x4001, gets 0x4001 back from Windows).
const FLAGS2: u16 = 0x4001;
const UNICODE: u16 = 0x8000;
/// The most payload kept from one exploit transaction.
const MAX_CAPTURE: usize = 1 << 20;
/// Windows 7's capabilities (the extended-security bit added when used).
const CAPABILITIES: u32 = 0x0001_e3fc;

/// Payload of an exploit transaction being received.
struct Capture {
    stage: &'static str,
    command: &'static str,
    data: Vec<u8>,
    expected: usize,
}

/// An SMB1 connection after NEGOTIATE.
pub struct Smb1State {
    look: Smb1Look,
    /// The challenge of the older login form (in the NEGOTIATE answer).
    challenge: [u8; 8],
    /// Logins in progress (extended security) and sessions let in (anonymous).
    pending: Vec<(u16, [u8; 8])>,
    sessions: Vec<u16>,
    trees: Vec<u16>,
    next_id: u16,
    capture: Option<Capture>,
}

/// Whether a message's strings are Unicode (Flags2), else OEM.
fn unicode(m: &[u8]) -> bool {
    u16_at(m, 10).unwrap_or(0) & UNICODE != 0
}

/// A NUL-terminated string, in UTF-16LE or OEM (read as Latin-1).
fn string(s: &str, unicode: bool) -> Vec<u8> {
    let mut v = if unicode { ntlm::message::utf16le(s) } else { s.chars().map(|c| u8::try_from(c).unwrap_or(b'?')).collect() };
    v.extend(if unicode { &[0u8, 0][..] } else { &[0u8][..] });
    v
}

/// The string at `at` (Unicode ones aligned to 2 from the header), up to its NUL or
/// 256 characters, and where it ends.
fn read_string(m: &[u8], mut at: usize, unicode: bool) -> (String, usize) {
    let mut units = Vec::new();
    if unicode {
        at += at % 2;
        while let Some(u) = u16_at(m, at) {
            at += 2;
            if u == 0 || units.len() >= 256 {
                break;
            }
            units.push(u);
        }
        return (String::from_utf16_lossy(&units), at);
    }
    while let Some(&b) = m.get(at) {
        at += 1;
        if b == 0 || units.len() >= 256 {
            break;
        }
        units.push(u16::from(b));
    }
    (units.iter().map(|&u| char::from(u as u8)).collect(), at)
}

/// An SMB1 answer to `req`: its header with `status`, our flags, `uid` and `tid`, then
/// the words and bytes.
fn answer(req: &[u8], status: u32, uid: u16, tid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut out = req.get(..HEADER).map(<[u8]>::to_vec).unwrap_or_else(|| vec![0; HEADER]);
    out[5..9].copy_from_slice(&status.to_le_bytes());
    // REPLY and case-insensitive paths; canonicalized paths too after NEGOTIATE.
    out[9] = if req.get(4) == Some(&cmd::NEGOTIATE) { 0x88 } else { 0x98 };
    let flags2 = FLAGS2 | (u16_at(req, 10).unwrap_or(0) & (UNICODE | 0x0800 | 0x0002));
    out[10..12].copy_from_slice(&flags2.to_le_bytes());
    out[24..26].copy_from_slice(&tid.to_le_bytes());
    out[28..30].copy_from_slice(&uid.to_le_bytes());
    out.push((words.len() / 2) as u8);
    out.extend_from_slice(words);
    out.extend((bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
    out
}

fn error(req: &[u8], status: u32) -> Vec<u8> {
    answer(req, status, u16_at(req, 28).unwrap_or(0), u16_at(req, 24).unwrap_or(0), &[], &[])
}

/// The words and bytes of a request: (words, bytes, offset of the bytes in it).
fn parts(m: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let count = usize::from(*m.get(HEADER)?);
    let words = m.get(HEADER + 1..HEADER + 1 + 2 * count)?;
    let at = HEADER + 1 + 2 * count;
    let n = usize::from(u16_at(m, at)?);
    let bytes = m.get(at + 2..)?;
    Some((words, bytes.get(..n.min(bytes.len()))?, at + 2))
}

impl Smb1State {
    /// Answers an SMB1 NEGOTIATE that offers NT LM 0.12; None when it does not.
    pub fn negotiate(look: &Smb1Look, m: &[u8], dialects: &[&[u8]], server_guid: [u8; 16], blob: &[u8], host: &Host) -> Option<(Self, Vec<u8>)> {
        let index = dialects.iter().position(|d| *d == b"NT LM 0.12")? as u16;
        let extended = u16_at(m, 10).unwrap_or(0) & 0x0800 != 0;
        let mut challenge = [0u8; 8];
        rand::RngExt::fill(&mut rand::rng(), &mut challenge[..]);
        let mut words = Vec::with_capacity(34);
        words.extend(index.to_le_bytes());
        words.push(0x03); // user-level security, encrypted passwords
        words.extend(50u16.to_le_bytes()); // MaxMpxCount
        words.extend(1u16.to_le_bytes()); // MaxNumberVcs
        words.extend(4_356u32.to_le_bytes()); // MaxBufferSize (Windows 7 to 10)
        words.extend(65_536u32.to_le_bytes()); // MaxRawSize
        words.extend(0u32.to_le_bytes()); // SessionKey
        words.extend((CAPABILITIES | if extended { 0x8000_0000 } else { 0 }).to_le_bytes());
        words.extend(filetime_now().to_le_bytes());
        words.extend(0u16.to_le_bytes()); // ServerTimeZone: UTC
        let bytes = if extended {
            words.push(0);
            [&server_guid[..], blob].concat()
        } else {
            words.push(8);
            // The domain and server names are Unicode here whatever the request says.
            [&challenge[..], &string(&host.netbios_domain, true), &string(&host.netbios_computer, true)].concat()
        };
        let reply = answer(m, status::SUCCESS, 0, 0, &words, &bytes);
        let state = Smb1State { look: look.clone(), challenge, pending: Vec::new(), sessions: Vec::new(), trees: Vec::new(), next_id: 0x0800, capture: None };
        Some((state, reply))
    }

    fn new_id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1).max(0x0800);
        self.next_id
    }

    /// Handles one SMB1 message after NEGOTIATE.
    pub fn on_message(&mut self, m: &[u8], host: &Host) -> Vec<Step> {
        let Some(&command) = m.get(4) else { return vec![Step::Close] };
        let uid = u16_at(m, 28).unwrap_or(0);
        let tid = u16_at(m, 24).unwrap_or(0);
        match command {
            cmd::SESSION_SETUP_ANDX => self.session_setup(m, host),
            cmd::TREE_CONNECT_ANDX => self.tree_connect(m, uid),
            cmd::TRANSACTION | cmd::TRANSACTION2 | cmd::NT_TRANSACT => self.transaction(m, command, uid, tid),
            cmd::TRANSACTION2_SECONDARY | cmd::NT_TRANSACT_SECONDARY => self.secondary(m, command),
            cmd::ECHO => match parts(m) {
                Some((words, bytes, _)) => vec![Step::Send(answer(m, status::SUCCESS, uid, tid, &words[..words.len().min(2)], bytes))],
                None => vec![Step::Close],
            },
            cmd::TREE_DISCONNECT => {
                self.trees.retain(|t| *t != tid);
                vec![Step::Send(answer(m, status::SUCCESS, uid, tid, &[], &[]))]
            }
            cmd::LOGOFF_ANDX => {
                self.sessions.retain(|s| *s != uid);
                vec![Step::Send(answer(m, status::SUCCESS, uid, tid, &[0xff, 0, 0, 0], &[]))]
            }
            cmd::NEGOTIATE => vec![Step::Close],
            _ => vec![Step::Send(error(m, status::NOT_SUPPORTED))],
        }
    }

    fn native(&self, unicode: bool) -> Vec<u8> {
        [string(&self.look.native_os, unicode), string(&self.look.native_lanman, unicode)].concat()
    }

    fn session_setup(&mut self, m: &[u8], host: &Host) -> Vec<Step> {
        let Some((words, bytes, bytes_at)) = parts(m) else { return vec![Step::Close] };
        if words.len() == 24 {
            // Extended security: the NTLMSSP legs in SPNEGO.
            let blob_len = usize::from(u16_at(words, 14).unwrap_or(0));
            let Some(token) = bytes.get(..blob_len).and_then(spnego::ntlmssp) else { return vec![Step::Send(error(m, status::LOGON_FAILURE))] };
            if let Ok(negotiate) = ntlm::parse_negotiate(token) {
                let uid = self.new_id();
                let mut challenge = [0u8; 8];
                rand::RngExt::fill(&mut rand::rng(), &mut challenge[..]);
                self.pending.truncate(7);
                self.pending.push((uid, challenge));
                let message = ntlm::challenge(ntlm::windows_flags(negotiate.flags, host.target), challenge, host, filetime_now());
                let blob = spnego::neg_token_resp(Some(spnego::ACCEPT_INCOMPLETE), Some(spnego::OID_NTLMSSP), Some(&message), None);
                return vec![Step::Send(self.setup_answer(m, status::MORE_PROCESSING_REQUIRED, uid, &blob))];
            }
            let uid = u16_at(m, 28).unwrap_or(0);
            let Some(at) = self.pending.iter().position(|(u, _)| *u == uid) else { return vec![Step::Send(error(m, status::USER_SESSION_DELETED))] };
            let Ok(auth) = ntlm::parse_authenticate(token) else { return vec![Step::Send(error(m, status::LOGON_FAILURE))] };
            let (_, challenge) = self.pending.remove(at);
            let request = m.get(..HEADER).and_then(|h| h.try_into().ok()).unwrap_or([0; HEADER]);
            return vec![Step::Login1(Box::new((auth, challenge, Login1 { request, uid, extended: true })))];
        }
        if words.len() != 26 {
            return vec![Step::Send(error(m, status::NOT_SUPPORTED))];
        }
        // The older form: the passwords (LM, then NT) and the names in the request.
        let (oem_len, nt_len) = (usize::from(u16_at(words, 14).unwrap_or(0)), usize::from(u16_at(words, 16).unwrap_or(0)));
        let lm = bytes.get(..oem_len).unwrap_or(&[]).to_vec();
        let nt = bytes.get(oem_len..oem_len + nt_len).unwrap_or(&[]).to_vec();
        let u = unicode(m);
        let (user, next) = read_string(m, bytes_at + oem_len + nt_len, u);
        let (domain, _) = read_string(m, next, u);
        let uid = self.new_id();
        let auth = Authenticate {
            flags: 0,
            lm_response: lm,
            nt_response: nt,
            domain,
            user,
            workstation: String::new(),
            encrypted_session_key: Vec::new(),
            version: None,
        };
        let request = m.get(..HEADER).and_then(|h| h.try_into().ok()).unwrap_or([0; HEADER]);
        vec![Step::Login1(Box::new((auth, self.challenge, Login1 { request, uid, extended: false })))]
    }

    fn setup_answer(&self, m: &[u8], status: u32, uid: u16, blob: &[u8]) -> Vec<u8> {
        let mut words = vec![0xff, 0, 0, 0, 0, 0];
        words.extend((blob.len() as u16).to_le_bytes());
        // The strings after the blob start 2-aligned from the header.
        let mut bytes = blob.to_vec();
        let u = unicode(m);
        if u && (HEADER + 1 + words.len() + 2 + bytes.len()) % 2 == 1 {
            bytes.push(0);
        }
        bytes.extend(self.native(u));
        answer(m, status, uid, 0, &words, &bytes)
    }

    /// The answer to a checked login: anonymous ones are let in (a null session),
    /// others refused with STATUS_LOGON_FAILURE. The status is returned with it.
    pub fn answer_login(&mut self, auth: &Authenticate, login: &Login1, host: &Host) -> (Vec<u8>, u32) {
        let anonymous = auth.user.is_empty() && auth.nt_response.iter().all(|&b| b == 0) && auth.lm_response.iter().all(|&b| b == 0);
        let req = &login.request[..];
        if !anonymous {
            return (answer(req, status::LOGON_FAILURE, 0, 0, &[], &[]), status::LOGON_FAILURE);
        }
        self.sessions.truncate(15);
        self.sessions.push(login.uid);
        let reply = if login.extended {
            let blob = spnego::neg_token_resp(Some(spnego::ACCEPT_COMPLETED), None, None, None);
            self.setup_answer(req, status::SUCCESS, login.uid, &blob)
        } else {
            let u = unicode(req);
            // Unicode strings start 2-aligned: the bytes begin at offset 41.
            let mut bytes = if u { vec![0] } else { Vec::new() };
            bytes.extend(self.native(u));
            bytes.extend(string(&host.netbios_domain, u));
            answer(req, status::SUCCESS, login.uid, 0, &[0xff, 0, 0, 0, 0, 0], &bytes)
        };
        (reply, status::SUCCESS)
    }

    fn tree_connect(&mut self, m: &[u8], uid: u16) -> Vec<Step> {
        let Some((words, _, bytes_at)) = parts(m) else { return vec![Step::Close] };
        if !self.sessions.contains(&uid) {
            return vec![Step::Send(error(m, status::USER_SESSION_DELETED))];
        }
        let password_len = usize::from(u16_at(words, 6).unwrap_or(0));
        let u = unicode(m);
        let (path, _) = read_string(m, bytes_at + password_len, u);
        if !path.to_ascii_uppercase().ends_with("\\IPC$") {
            let status = if path.matches('\\').count() >= 3 { status::ACCESS_DENIED } else { status::BAD_NETWORK_NAME };
            return vec![Step::Send(error(m, status))];
        }
        let tid = self.new_id();
        self.trees.truncate(15);
        self.trees.push(tid);
        let extended = u16_at(words, 4).unwrap_or(0) & 0x0008 != 0;
        let mut reply_words = vec![0xff, 0, 0, 0, 0x01, 0x00];
        if extended {
            reply_words.extend(0x001f_01ffu32.to_le_bytes());
            reply_words.extend(0u32.to_le_bytes());
        }
        let bytes: &[u8] = if u { b"IPC\0\0\0" } else { b"IPC\0\0" };
        vec![Step::Send(answer(m, status::SUCCESS, uid, tid, &reply_words, bytes))]
    }

    /// A transaction's data (DataCount bytes at DataOffset), and its total.
    fn transaction_data<'m>(m: &'m [u8], command: u8, words: &[u8]) -> (&'m [u8], usize) {
        let (total, count, offset) = match command {
            // MaxSetupCount(1) Reserved(2) TotalParameterCount TotalDataCount MaxParameterCount
            // MaxDataCount ParameterCount ParameterOffset DataCount DataOffset (4 each).
            cmd::NT_TRANSACT => (u32_at(words, 7).unwrap_or(0) as usize, u32_at(words, 27).unwrap_or(0) as usize, u32_at(words, 31).unwrap_or(0) as usize),
            _ => (usize::from(u16_at(words, 2).unwrap_or(0)), usize::from(u16_at(words, 22).unwrap_or(0)), usize::from(u16_at(words, 24).unwrap_or(0))),
        };
        (m.get(offset..offset.saturating_add(count)).unwrap_or(&[]), total)
    }

    fn transaction(&mut self, m: &[u8], command: u8, uid: u16, tid: u16) -> Vec<Step> {
        let Some((words, _, _)) = parts(m) else { return vec![Step::Close] };
        if !self.sessions.contains(&uid) {
            return vec![Step::Send(error(m, status::USER_SESSION_DELETED))];
        }
        let (data, total) = Self::transaction_data(m, command, words);
        match command {
            cmd::TRANSACTION => {
                // Setup words start at word 14: PeekNamedPipe (0x23) on FID 0 is the check.
                let (sub, fid) = (u16_at(words, 28), u16_at(words, 30));
                if sub == Some(0x0023) && fid == Some(0) && self.trees.contains(&tid) {
                    let event = exploit("ms17-010-check", "SMB_COM_TRANSACTION");
                    let status = match self.look.ms17_010 {
                        Ms17010::Unpatched => status::INSUFF_SERVER_RESOURCES,
                        Ms17010::Patched => status::INVALID_HANDLE,
                    };
                    return vec![Step::Emit(Box::new(event)), Step::Send(error(m, status))];
                }
                vec![Step::Send(error(m, status::ACCESS_DENIED))]
            }
            cmd::TRANSACTION2 if u16_at(words, 28) == Some(0x000e) => {
                // Trans2 SESSION_SETUP: DoublePulsar's ping (no data) or its upload.
                // A clean host answers NOT_IMPLEMENTED with the request's MID.
                let stage = if data.is_empty() { "doublepulsar-ping" } else { "doublepulsar-exec" };
                let mut steps = self.capture_start(stage, "SMB_COM_TRANSACTION2", data, total);
                steps.push(Step::Send(error(m, status::NOT_IMPLEMENTED)));
                steps
            }
            cmd::NT_TRANSACT if total > 0xffff => {
                // EternalBlue: an NT transaction whose FEA list is larger than fits.
                let mut steps = self.capture_start("eternalblue", "SMB_COM_NT_TRANSACT", data, total);
                // The interim answer a server sends while it waits for the rest.
                steps.push(Step::Send(answer(m, status::SUCCESS, uid, tid, &[], &[])));
                steps
            }
            _ => vec![Step::Send(error(m, status::NOT_SUPPORTED))],
        }
    }

    fn capture_start(&mut self, stage: &'static str, command: &'static str, data: &[u8], total: usize) -> Vec<Step> {
        let mut steps = self.capture_end();
        let mut capture = Capture { stage, command, data: Vec::new(), expected: total.min(MAX_CAPTURE) };
        capture.data.extend_from_slice(&data[..data.len().min(MAX_CAPTURE)]);
        self.capture = Some(capture);
        if self.capture.as_ref().is_some_and(|c| c.data.len() >= c.expected) {
            steps.extend(self.capture_end());
        }
        steps
    }

    fn secondary(&mut self, m: &[u8], command: u8) -> Vec<Step> {
        let Some((words, _, _)) = parts(m) else { return vec![Step::Close] };
        // Secondaries carry their DataCount/DataOffset where their primaries do, minus
        // the fields they lack: Trans2 words 5 and 6; NT Trans words at bytes 23 and 27.
        let (count, offset) = match command {
            cmd::NT_TRANSACT_SECONDARY => (u32_at(words, 23).unwrap_or(0) as usize, u32_at(words, 27).unwrap_or(0) as usize),
            _ => (usize::from(u16_at(words, 10).unwrap_or(0)), usize::from(u16_at(words, 12).unwrap_or(0))),
        };
        let data = m.get(offset..offset.saturating_add(count)).unwrap_or(&[]);
        let Some(capture) = self.capture.as_mut() else { return Vec::new() };
        let room = MAX_CAPTURE.saturating_sub(capture.data.len());
        capture.data.extend_from_slice(&data[..data.len().min(room)]);
        // Secondaries get no answer; the transaction ends once all its data is in.
        if capture.data.len() >= capture.expected {
            return self.capture_end();
        }
        Vec::new()
    }

    /// Hands a captured payload to the quarantine (when the connection ends too).
    pub fn capture_end(&mut self) -> Vec<Step> {
        match self.capture.take() {
            Some(c) => vec![Step::Quarantine { stage: c.stage, command: c.command, data: c.data }],
            None => Vec::new(),
        }
    }
}

fn exploit(stage: &str, command: &str) -> EventKind {
    EventKind::SmbExploit { stage: stage.into(), command: command.into(), bytes: 0, sha256: None, quarantined: false }
}
