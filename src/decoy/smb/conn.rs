//! One SMB connection before anyone is let in, without I/O: NEGOTIATE (SMB1's, which
//! may be answered with SMB2's wildcard, and SMB2's), SESSION_SETUP's NTLM legs inside
//! SPNEGO (or bare), ECHO and LOGOFF, each answered as the personality's server
//! answers. The driver hands in each message and carries out the steps it gets back;
//! an AUTHENTICATE comes back as a [`Login`] for the driver to check against planted
//! accounts and answer with [`SmbConn::answer_login`].

use std::sync::Arc;

use super::negotiate::{self, Answer, WILDCARD};
use super::personality::{Anonymous, Mech, SessionIds, Smb1Only, SmbPersonality};
use super::wire::{self, buffer, command, status, u16_at, Header, Protocol, Smb1Header, SMB2_HEADER};
use crate::decoy::ntlm::{self, spnego, Authenticate, Host};
use crate::event::{AttackerBytes, EventKind};

/// Logins in progress on one connection (more are refused as Windows refuses them
/// when out of resources).
const MAX_PENDING: usize = 8;

/// Kerberos user-to-user, 1.2.840.113554.1.2.2.3 (offered by Windows domain members).
const OID_KRB5_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];

/// SMB2_SESSION_FLAG_IS_NULL.
const SESSION_NULL: u16 = 0x0002;

/// What the driver does next.
#[derive(Debug)]
pub enum Step {
    /// Send this SMB message (the driver frames it).
    Send(Vec<u8>),
    /// Record this.
    Emit(Box<EventKind>),
    /// Check this login, then answer it with [`SmbConn::answer_login`].
    Login(Box<Login>),
    /// Close the connection, as the server would.
    Close,
}

/// An AUTHENTICATE to check.
#[derive(Debug)]
pub struct Login {
    pub header: Header,
    pub session_id: u64,
    pub auth: Authenticate,
    pub server_challenge: [u8; 8],
    spnego: bool,
}

struct Pending {
    id: u64,
    challenge: [u8; 8],
}

/// The server's side of one connection.
pub struct SmbConn {
    p: Arc<SmbPersonality>,
    host: Arc<Host>,
    server_guid: [u8; 16],
    start_time: u64,
    /// The dialect negotiated (the wildcard until the SMB2 NEGOTIATE that follows it).
    dialect: Option<u16>,
    pending: Vec<Pending>,
    sessions_made: u64,
}

/// Now as a Windows FILETIME (100 ns since 1601).
pub fn filetime_now() -> u64 {
    let since_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (since_unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(since_unix.subsec_nanos() / 100)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A GUID as text, in its mixed-endian form (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
fn guid(b: &[u8; 16]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{}-{}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        hex(&b[8..10]),
        hex(&b[10..])
    )
}

impl SmbConn {
    pub fn new(p: Arc<SmbPersonality>, host: Arc<Host>, server_guid: [u8; 16], start_time: u64) -> Self {
        SmbConn { p, host, server_guid, start_time, dialect: None, pending: Vec::new(), sessions_made: 0 }
    }

    fn credits(&self, h: &Header) -> u16 {
        h.credits.clamp(1, self.p.max_credits_granted)
    }

    fn mechs(&self) -> Vec<&'static [u8]> {
        self.p
            .spnego_mechs
            .iter()
            .map(|m| match m {
                Mech::Negoex => spnego::OID_NEGOEX,
                Mech::MsKrb5 => spnego::OID_MS_KRB5,
                Mech::Krb5 => spnego::OID_KRB5,
                Mech::Krb5U2u => OID_KRB5_U2U,
                Mech::Ntlmssp => spnego::OID_NTLMSSP,
            })
            .collect()
    }

    /// Handles one SMB message.
    pub fn on_message(&mut self, m: &[u8]) -> Vec<Step> {
        match wire::protocol(m) {
            Protocol::Smb1 => self.on_smb1(m),
            Protocol::Smb2 => match Header::read(m) {
                Some(h) => self.on_smb2(&h, m),
                None => vec![Step::Close],
            },
            Protocol::Other => vec![Step::Close],
        }
    }

    fn on_smb1(&mut self, m: &[u8]) -> Vec<Step> {
        let Some(h) = Smb1Header::read(m) else { return vec![Step::Close] };
        if h.command != 0x72 || self.dialect.is_some() {
            return vec![Step::Close];
        }
        let Some(dialects) = negotiate::smb1_dialects(m) else { return vec![Step::Close] };
        let chosen = negotiate::choose_from_smb1(&self.p, &dialects);
        let event = EventKind::SmbNegotiate {
            protocol: "smb1".into(),
            dialects: AttackerBytes::new(dialects.join(&b","[..])),
            chosen: chosen.map(negotiate::dialect_name),
            client_guid: None,
            signing_required: h.flags2 & 0x0010 != 0,
        };
        let Some(dialect) = chosen else {
            return match self.p.smb1_only {
                Smb1Only::Close => vec![Step::Emit(Box::new(event)), Step::Close],
                Smb1Only::NoDialect => vec![Step::Emit(Box::new(event)), Step::Send(smb1_no_dialect(m)), Step::Close],
            };
        };
        self.dialect = Some(dialect);
        // The SMB2 answer to an SMB1 NEGOTIATE: message 0, one credit, no contexts.
        // Windows writes SMB2's usual process id, 0xfeff.
        let header = Header { command: command::NEGOTIATE, process_id: 0xfeff, ..Header::default() }.response(status::SUCCESS, 1, 0);
        vec![Step::Emit(Box::new(event)), Step::Send(self.negotiate_response(&header, dialect, Vec::new()))]
    }

    fn negotiate_response(&self, header: &Header, dialect: u16, contexts: Vec<(u16, Vec<u8>)>) -> Vec<u8> {
        let blob = spnego::neg_token_init2(&self.mechs(), self.p.spnego_hint.as_deref());
        let answer =
            Answer { dialect, server_guid: self.server_guid, system_time: filetime_now(), start_time: self.start_time, security_blob: &blob, contexts };
        negotiate::response(&self.p, header, &answer)
    }

    fn on_smb2(&mut self, h: &Header, m: &[u8]) -> Vec<Step> {
        let negotiated = self.dialect.filter(|&d| d != WILDCARD);
        match (h.command, negotiated) {
            (command::NEGOTIATE, None) => self.on_negotiate(h, m),
            // A second NEGOTIATE, or anything before the first: dropped.
            (command::NEGOTIATE, Some(_)) | (_, None) => vec![Step::Close],
            (command::SESSION_SETUP, Some(_)) => self.on_session_setup(h, m),
            (command::ECHO, Some(_)) => {
                let mut out = Vec::with_capacity(SMB2_HEADER + 4);
                h.response(status::SUCCESS, self.credits(h), h.session_id).write(&mut out);
                out.extend([4, 0, 0, 0]);
                vec![Step::Send(out)]
            }
            (_, Some(_)) => {
                // Nobody is logged in: every session id is unknown.
                let reply = h.response(status::USER_SESSION_DELETED, self.credits(h), h.session_id);
                vec![Step::Send(wire::error_response(&reply))]
            }
        }
    }

    fn on_negotiate(&mut self, h: &Header, m: &[u8]) -> Vec<Step> {
        let Some(offer) = negotiate::read_offer(m) else { return vec![Step::Close] };
        let mut chosen = negotiate::choose(&self.p, &offer.dialects);
        let preauth = offer.contexts.iter().any(|(k, _)| *k == negotiate::context::PREAUTH_INTEGRITY);
        let invalid = offer.dialects.is_empty() || (chosen == Some(0x0311) && !preauth);
        if invalid {
            chosen = None;
        }
        let names: Vec<String> = offer.dialects.iter().map(|&d| negotiate::dialect_name(d)).collect();
        let event = EventKind::SmbNegotiate {
            protocol: "smb2".into(),
            dialects: AttackerBytes::new(names.join(",")),
            chosen: chosen.map(negotiate::dialect_name),
            client_guid: (offer.client_guid != [0; 16]).then(|| guid(&offer.client_guid)),
            signing_required: offer.security_mode & 0x0002 != 0,
        };
        let reply = h.response(status::SUCCESS, self.credits(h), 0);
        let Some(dialect) = chosen else {
            let refused = Header { status: if invalid { status::INVALID_PARAMETER } else { status::NOT_SUPPORTED }, ..reply };
            return vec![Step::Emit(Box::new(event)), Step::Send(wire::error_response(&refused))];
        };
        self.dialect = Some(dialect);
        let contexts = if dialect == 0x0311 {
            let mut salt = [0u8; 32];
            rand::RngExt::fill(&mut rand::rng(), &mut salt[..]);
            negotiate::answer_contexts(&self.p, &offer, salt)
        } else {
            Vec::new()
        };
        let mut response = self.negotiate_response(&reply, dialect, contexts);
        negotiate::set_capabilities(&self.p, &mut response, dialect, offer.capabilities);
        vec![Step::Emit(Box::new(event)), Step::Send(response)]
    }

    fn new_session_id(&mut self) -> u64 {
        self.sessions_made += 1;
        let r: u64 = rand::RngExt::random(&mut rand::rng());
        match self.p.session_ids {
            // A slot in the high half, a use count low: 0x0000_0c00_0000_0015.
            // 0x0000_a000_0000_0015: a non-zero middle, a low part counting up.
            SessionIds::Windows => ((r & 0xffff) | 0x1000) << 32 | (self.sessions_made + 0x10 + (r >> 59)),
            SessionIds::Random32 => (r & 0xffff_ffff).max(1),
        }
    }

    fn session_setup_response(&self, h: &Header, status: u32, session: u64, flags: u16, token: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(SMB2_HEADER + 8 + token.len());
        h.response(status, self.credits(h), session).write(&mut out);
        out.extend(9u16.to_le_bytes());
        out.extend(flags.to_le_bytes());
        out.extend(((SMB2_HEADER + 8) as u16).to_le_bytes());
        out.extend((token.len() as u16).to_le_bytes());
        out.extend_from_slice(token);
        out
    }

    fn on_session_setup(&mut self, h: &Header, m: &[u8]) -> Vec<Step> {
        let body = SMB2_HEADER;
        let blob = match (u16_at(m, body), u16_at(m, body + 12), u16_at(m, body + 14)) {
            (Some(25), Some(offset), Some(len)) => buffer(m, offset, len),
            _ => None,
        };
        let Some(blob) = blob else {
            let reply = h.response(status::INVALID_PARAMETER, self.credits(h), h.session_id);
            return vec![Step::Send(wire::error_response(&reply))];
        };
        let spnego = !blob.starts_with(b"NTLMSSP\0");
        let Some(token) = spnego::ntlmssp(blob) else {
            // Kerberos or NEGOEX first: steer a client that also offered NTLM to it.
            let offers_ntlm = spnego::parse(blob).is_ok_and(|t| t.mech_types.contains(&spnego::OID_NTLMSSP));
            if offers_ntlm && h.session_id == 0 {
                let id = self.new_session_id();
                let resp = spnego::neg_token_resp(Some(spnego::ACCEPT_INCOMPLETE), Some(spnego::OID_NTLMSSP), None, None);
                return vec![Step::Send(self.session_setup_response(h, status::MORE_PROCESSING_REQUIRED, id, 0, &resp))];
            }
            let reply = h.response(status::LOGON_FAILURE, self.credits(h), h.session_id);
            return vec![Step::Send(wire::error_response(&reply))];
        };
        if let Ok(negotiate) = ntlm::parse_negotiate(token) {
            if self.pending.len() >= MAX_PENDING {
                let reply = h.response(status::REQUEST_NOT_ACCEPTED, self.credits(h), 0);
                return vec![Step::Send(wire::error_response(&reply))];
            }
            let id = if h.session_id != 0 && !self.pending.iter().any(|p| p.id == h.session_id) { h.session_id } else { self.new_session_id() };
            let mut challenge = [0u8; 8];
            rand::RngExt::fill(&mut rand::rng(), &mut challenge[..]);
            self.pending.retain(|p| p.id != id);
            self.pending.push(Pending { id, challenge });
            let flags = ntlm::windows_flags(negotiate.flags, self.host.target);
            let message = ntlm::challenge(flags, challenge, &self.host, filetime_now());
            let token = if spnego { spnego::neg_token_resp(Some(spnego::ACCEPT_INCOMPLETE), Some(spnego::OID_NTLMSSP), Some(&message), None) } else { message };
            return vec![Step::Send(self.session_setup_response(h, status::MORE_PROCESSING_REQUIRED, id, 0, &token))];
        }
        let Some(at) = self.pending.iter().position(|p| p.id == h.session_id) else {
            let reply = h.response(status::USER_SESSION_DELETED, self.credits(h), h.session_id);
            return vec![Step::Send(wire::error_response(&reply))];
        };
        match ntlm::parse_authenticate(token) {
            Ok(auth) => {
                let pending = self.pending.remove(at);
                vec![Step::Login(Box::new(Login { header: *h, session_id: pending.id, auth, server_challenge: pending.challenge, spnego }))]
            }
            Err(_) => {
                let reply = h.response(status::INVALID_PARAMETER, self.credits(h), h.session_id);
                vec![Step::Send(wire::error_response(&reply))]
            }
        }
    }

    /// The answer to a checked login, and the NT status it carries. Nobody is let in
    /// yet: a login that was not anonymous fails as the server fails it.
    pub fn answer_login(&mut self, login: &Login) -> (Vec<u8>, u32) {
        let h = &login.header;
        if login.auth.is_anonymous() {
            match self.p.anonymous {
                Anonymous::Allow => {
                    let token = if login.spnego { spnego::neg_token_resp(Some(spnego::ACCEPT_COMPLETED), None, None, None) } else { Vec::new() };
                    return (self.session_setup_response(h, status::SUCCESS, login.session_id, SESSION_NULL, &token), status::SUCCESS);
                }
                Anonymous::Deny => return (wire::error_response(&h.response(status::ACCESS_DENIED, self.credits(h), login.session_id)), status::ACCESS_DENIED),
                Anonymous::LogonFailure => {}
            }
        }
        (wire::error_response(&h.response(status::LOGON_FAILURE, self.credits(h), login.session_id)), status::LOGON_FAILURE)
    }
}

/// An SMB1 NEGOTIATE response naming no dialect (DialectIndex 0xFFFF).
fn smb1_no_dialect(request: &[u8]) -> Vec<u8> {
    let mut out = request.get(..wire::SMB1_HEADER).map(<[u8]>::to_vec).unwrap_or_default();
    out.resize(wire::SMB1_HEADER, 0);
    out[9] |= 0x80; // Flags: reply
    out.push(1); // WordCount
    out.extend(0xffffu16.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // ByteCount
    out
}

/// What the NTLM record says of an AUTHENTICATE: (`v2`/`v1`/`anonymous`, the client's
/// version, the service it meant, the hashcat line).
pub fn describe(login: &Login) -> (String, Option<String>, Option<AttackerBytes>, Option<AttackerBytes>) {
    let a = &login.auth;
    let kind = if a.is_anonymous() {
        "anonymous"
    } else if a.is_v2() {
        "v2"
    } else {
        "v1"
    };
    let version = a.version.map(|v| format!("{}.{}.{}", v.major, v.minor, v.build));
    let target = a.nt_response.get(44..).and_then(|pairs| {
        ntlm::message::av_pairs(pairs).into_iter().find(|(id, _)| *id == ntlm::message::av::TARGET_NAME).map(|(_, v)| {
            let units: Vec<u16> = v.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            AttackerBytes::new(String::from_utf16_lossy(&units))
        })
    });
    let hashcat = ntlm::v2::hashcat_5600(&a.user, &a.domain, &login.server_challenge, &a.nt_response).filter(|_| a.is_v2()).map(AttackerBytes::new);
    (kind.into(), version, target, hashcat)
}
