//! One SMB connection before anyone is let in, without I/O: NEGOTIATE (SMB1's, which
//! may be answered with SMB2's wildcard, and SMB2's), the SESSION_SETUP legs (see
//! [`super::session`]), ECHO and LOGOFF, each answered as the personality's server
//! answers. The driver hands in each message and carries out the steps it gets back;
//! an AUTHENTICATE comes back as a [`Login`](super::step::Login) for the driver to check against planted
//! accounts and answer with [`SmbConn::answer_login`].

use std::sync::Arc;

use super::negotiate::{self, Answer, WILDCARD};
use super::personality::{Implementation, Mech, Smb1Only, SmbPersonality};
use super::step::{filetime_now, Step};
use super::wire::{self, command, status, Header, Protocol, Smb1Header, SMB2_HEADER};
use crate::decoy::ntlm::{spnego, Authenticate, Host};
use crate::event::{AttackerBytes, EventKind};

/// Kerberos user-to-user, 1.2.840.113554.1.2.2.3 (offered by Windows domain members).
const OID_KRB5_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];

pub(super) struct Pending {
    pub id: u64,
    pub challenge: [u8; 8],
}

/// The server's side of one connection.
pub struct SmbConn {
    pub(super) p: Arc<SmbPersonality>,
    pub(super) host: Arc<Host>,
    server_guid: [u8; 16],
    start_time: u64,
    /// The dialect negotiated (the wildcard until the SMB2 NEGOTIATE that follows it).
    dialect: Option<u16>,
    pub(super) pending: Vec<Pending>,
    pub(super) sessions_made: u64,
    /// The SMB1 side, once an SMB1 NEGOTIATE was answered in SMB1.
    smb1: Option<super::smb1::Smb1State>,
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
        SmbConn { p, host, server_guid, start_time, dialect: None, pending: Vec::new(), sessions_made: 0, smb1: None }
    }

    /// Credits granted on an answer that lets nobody in: Samba grants one until a
    /// login succeeds; Windows what was asked for.
    pub(super) fn credits(&self, h: &Header) -> u16 {
        match self.p.implementation {
            Implementation::Windows => h.credits.clamp(1, self.p.max_credits_granted),
            Implementation::Samba => 1,
        }
    }

    /// The response header to `h`, as the implementation fills it in.
    pub(super) fn reply(&self, h: &Header, status: u32, credits: u16, session: u64) -> Header {
        let mut r = h.response(status, credits, session);
        if self.p.implementation == Implementation::Samba {
            // Samba copies the request's flags and signature into an unsigned answer.
            r.flags |= h.flags;
            r.signature = h.signature;
        }
        r
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

    /// What is left to do when the connection ends (an exploit payload cut short).
    pub fn finish(&mut self) -> Vec<Step> {
        self.smb1.as_mut().map(|s| s.capture_end()).unwrap_or_default()
    }

    /// The answer to a checked SMB1 login, and the NT status it carries.
    pub fn answer_login1(&mut self, auth: &Authenticate, login: &super::step::Login1) -> (Vec<u8>, u32) {
        match self.smb1.as_mut() {
            Some(s) => s.answer_login(auth, login, &self.host),
            None => (Vec::new(), status::LOGON_FAILURE),
        }
    }

    fn on_smb1(&mut self, m: &[u8]) -> Vec<Step> {
        if let Some(state) = self.smb1.as_mut() {
            return state.on_message(m, &self.host);
        }
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
            if let (Smb1Only::Serve, Some(look)) = (self.p.smb1_only, &self.p.smb1) {
                let blob = spnego::neg_token_init2(&self.mechs(), self.p.spnego_hint.as_deref());
                if let Some((state, reply)) = super::smb1::Smb1State::negotiate(look, m, &dialects, self.server_guid, &blob, &self.host) {
                    self.smb1 = Some(state);
                    let event = match event {
                        EventKind::SmbNegotiate { protocol, dialects, client_guid, signing_required, .. } => {
                            EventKind::SmbNegotiate { protocol, dialects, chosen: Some("NT LM 0.12".into()), client_guid, signing_required }
                        }
                        other => other,
                    };
                    return vec![Step::Emit(Box::new(event)), Step::Send(reply)];
                }
            }
            return match self.p.smb1_only {
                Smb1Only::Close | Smb1Only::Serve => vec![Step::Emit(Box::new(event)), Step::Close],
                Smb1Only::NoDialect => vec![Step::Emit(Box::new(event)), Step::Send(smb1_no_dialect(m)), Step::Close],
            };
        };
        self.dialect = Some(dialect);
        // The SMB2 answer to an SMB1 NEGOTIATE: message 0, one credit, no contexts;
        // Windows writes SMB2's usual process id 0xfeff, Samba nothing.
        let process_id = if self.p.implementation == Implementation::Windows { 0xfeff } else { 0 };
        let header = Header { command: command::NEGOTIATE, process_id, ..Header::default() }.response(status::SUCCESS, 1, 0);
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
            // The first request must be message 0 (1 after SMB1's NEGOTIATE).
            (command::NEGOTIATE, None) if h.message_id != u64::from(self.dialect.is_some()) => vec![Step::Close],
            (command::NEGOTIATE, None) => self.on_negotiate(h, m),
            // A second NEGOTIATE, or anything before the first: dropped.
            (command::NEGOTIATE, Some(_)) | (_, None) => vec![Step::Close],
            (command::SESSION_SETUP, Some(_)) => self.on_session_setup(h, m),
            (command::ECHO, Some(_)) => {
                let mut out = Vec::with_capacity(SMB2_HEADER + 4);
                self.reply(h, status::SUCCESS, self.credits(h), h.session_id).write(&mut out);
                out.extend([4, 0, 0, 0]);
                vec![Step::Send(out)]
            }
            (_, Some(_)) => {
                // Nobody is logged in: every session id is unknown.
                let reply = self.reply(h, status::USER_SESSION_DELETED, self.credits(h), h.session_id);
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
        // One credit on NEGOTIATE (Samba: as many as the request's charge).
        let credits = match self.p.implementation {
            Implementation::Windows => 1,
            Implementation::Samba => h.credit_charge.max(1),
        };
        let reply = self.reply(h, status::SUCCESS, credits, 0);
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
        let cipher_agreed = contexts.iter().any(|(k, d)| *k == negotiate::context::ENCRYPTION && d.get(2..4) != Some(&[0, 0]));
        let mut response = self.negotiate_response(&reply, dialect, contexts);
        negotiate::set_capabilities(&self.p, &mut response, dialect, offer.capabilities, cipher_agreed);
        vec![Step::Emit(Box::new(event)), Step::Send(response)]
    }
}

/// An SMB1 NEGOTIATE response naming no dialect (DialectIndex 0xFFFF), as Samba writes
/// it: the request's header with status 0, Flags REPLY (and the request's
/// case-insensitivity), Flags2 Unicode, NT status and long names (and the request's
/// extended-security, signature and Unicode bits).
fn smb1_no_dialect(request: &[u8]) -> Vec<u8> {
    let mut out = request.get(..wire::SMB1_HEADER).map(<[u8]>::to_vec).unwrap_or_default();
    out.resize(wire::SMB1_HEADER, 0);
    out[5..9].fill(0);
    out[9] = 0x80 | (out[9] & 0x08);
    let flags2 = 0x4003 | (u16::from_le_bytes([out[10], out[11]]) & 0x8014);
    out[10..12].copy_from_slice(&flags2.to_le_bytes());
    out.push(1); // WordCount
    out.extend(0xffffu16.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // ByteCount
    out
}
