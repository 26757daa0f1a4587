//! One SMB connection before anyone is let in, without I/O: NEGOTIATE (SMB1's, which
//! may be answered with SMB2's wildcard, and SMB2's), the SESSION_SETUP legs (see
//! [`super::session`]), ECHO and LOGOFF, each answered as the personality's server
//! answers. The driver hands in each message and carries out the steps it gets back;
//! an AUTHENTICATE comes back as a [`Login`](super::step::Login) for the driver to check against planted
//! accounts and answer with [`SmbConn::answer_login`].

use std::sync::Arc;

use super::logged_in::{Related, Session};
use super::negotiate::{self, Answer, WILDCARD};
use super::personality::{Implementation, Mech, Smb1Only, SmbPersonality};
use super::signing::{Preauth, SigningAlgorithm};
use super::step::{filetime_now, Step};
use super::transform::{self, Cipher};
use super::wire::{self, command, status, Header, Protocol, Smb1Header, FLAG_RELATED, FLAG_SIGNED, SMB2_HEADER};
use crate::decoy::ntlm::{spnego, Authenticate, Host};
use crate::event::{AttackerBytes, EventKind};

/// Kerberos user-to-user, 1.2.840.113554.1.2.2.3 (offered by Windows domain members).
const OID_KRB5_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];

pub(super) struct Pending {
    pub id: u64,
    pub challenge: [u8; 8],
    /// The session's pre-authentication hash so far (3.1.1).
    pub preauth: Preauth,
    /// The DER of the client's SPNEGO mechTypes, which the mechListMIC covers.
    pub mech_types: Option<Vec<u8>>,
}

/// Parts of one compound request handled, at most.
const MAX_COMPOUND: usize = 32;

/// The server's side of one connection.
pub struct SmbConn {
    pub(super) p: Arc<SmbPersonality>,
    pub(super) host: Arc<Host>,
    server_guid: [u8; 16],
    start_time: u64,
    /// The dialect negotiated (the wildcard until the SMB2 NEGOTIATE that follows it).
    pub(super) dialect: Option<u16>,
    pub(super) pending: Vec<Pending>,
    pub(super) sessions_made: u64,
    /// The SMB1 side, once an SMB1 NEGOTIATE was answered in SMB1.
    smb1: Option<super::smb1::Smb1State>,
    /// The connection's pre-authentication hash after NEGOTIATE (3.1.1).
    pub(super) preauth: Preauth,
    /// The signing algorithm agreed (AES-CMAC unless 3.1.1's context said otherwise).
    pub(super) signing: SigningAlgorithm,
    /// The client's NEGOTIATE required signing.
    pub(super) client_requires_signing: bool,
    /// Sessions a planted credential opened.
    pub(super) sessions: Vec<Session>,
    /// The cipher agreed (3.1.1's context; AES-128-CCM for 3.0 when offered).
    pub(super) cipher: Option<Cipher>,
    /// The request being answered came encrypted (its answer is not signed).
    pub(super) in_transform: bool,
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
        SmbConn {
            p,
            host,
            server_guid,
            start_time,
            dialect: None,
            pending: Vec::new(),
            sessions_made: 0,
            smb1: None,
            preauth: Preauth::new(),
            signing: SigningAlgorithm::AesCmac,
            client_requires_signing: false,
            sessions: Vec::new(),
            cipher: None,
            in_transform: false,
        }
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
            Protocol::Smb2 => self.on_smb2_frame(m, None),
            Protocol::Transform => self.on_transform(m),
            Protocol::Other => vec![Step::Close],
        }
    }

    /// What is left to do when the connection ends (an exploit payload cut short,
    /// files still open).
    pub fn finish(&mut self) -> Vec<Step> {
        let mut steps = self.smb1.as_mut().map(|s| s.capture_end()).unwrap_or_default();
        for si in 0..self.sessions.len() {
            steps.extend(self.close_all(si));
        }
        steps
    }

    /// The session a planted credential opened with this id.
    fn session_index(&self, id: u64) -> Option<usize> {
        self.sessions.iter().position(|s| s.id == id)
    }

    /// An encrypted frame: decrypted with its session's keys, answered, and the answer
    /// encrypted. One that does not decrypt ends the connection, as Windows ends it.
    fn on_transform(&mut self, m: &[u8]) -> Vec<Step> {
        let Some(si) = transform::session_id(m).and_then(|id| self.session_index(id)) else { return vec![Step::Close] };
        let id = self.sessions[si].id;
        let Some(crypt) = self.sessions[si].crypt.clone() else { return vec![Step::Close] };
        let Ok(plain) = crypt.decrypt(m) else { return vec![Step::Close] };
        if wire::protocol(&plain) != Protocol::Smb2 {
            return vec![Step::Close];
        }
        self.in_transform = true;
        let steps = self.on_smb2_frame(&plain, Some(id));
        self.in_transform = false;
        steps
            .into_iter()
            .map(|step| match step {
                Step::Send(bytes) => Step::Send(crypt.encrypt(id, &bytes)),
                other => other,
            })
            .collect()
    }

    /// One SMB2 frame: a request, or a compound of them (each part answered in turn,
    /// the answers compounded the same way). Answers inside a session are signed when
    /// the request was or the session requires it; a request with a wrong signature is
    /// refused with STATUS_ACCESS_DENIED.
    fn on_smb2_frame(&mut self, m: &[u8], encrypted: Option<u64>) -> Vec<Step> {
        let mut parts = Vec::new();
        let mut rest = m;
        loop {
            let Some(h) = Header::read(rest) else { return vec![Step::Close] };
            let next = h.next_command as usize;
            if next == 0 || parts.len() + 1 >= MAX_COMPOUND {
                parts.push((h, rest));
                break;
            }
            if next < SMB2_HEADER || next % 8 != 0 || next > rest.len() {
                return vec![Step::Close];
            }
            parts.push((h, &rest[..next]));
            rest = &rest[next..];
        }
        let mut steps = Vec::new();
        let mut answers: Vec<(Vec<u8>, bool)> = Vec::new();
        let mut related = Related::default();
        for (mut h, part) in parts {
            if h.flags & FLAG_RELATED != 0 && h.session_id == u64::MAX {
                h.session_id = related.session;
            }
            let session = self.session_index(h.session_id);
            let signed = h.flags & FLAG_SIGNED != 0;
            // Inside a TRANSFORM the encryption vouches for the message: no signatures.
            let sign = encrypted.is_none() && session.is_some_and(|si| signed || self.sessions[si].signing_required);
            let bad_signature = encrypted.is_none()
                && session.is_some_and(|si| {
                    let s = &self.sessions[si];
                    (signed && !s.signer.verify(part)) || (!signed && s.signing_required && h.command != command::CANCEL)
                });
            let out = if bad_signature {
                vec![Step::Send(wire::error_response(&self.reply(&h, status::ACCESS_DENIED, 1, h.session_id)))]
            } else {
                match session {
                    Some(si) if h.command != command::NEGOTIATE && h.command != command::SESSION_SETUP => self.on_session_command(si, &h, part, &mut related),
                    _ => self.on_smb2(&h, part),
                }
            };
            for step in out {
                match step {
                    Step::Send(mut bytes) => {
                        if h.flags & FLAG_RELATED != 0 {
                            if let Some(flags) = bytes.get_mut(16) {
                                *flags |= FLAG_RELATED as u8;
                            }
                        }
                        answers.push((bytes, sign && !bad_signature));
                    }
                    other => steps.push(other),
                }
            }
        }
        if answers.is_empty() {
            return steps;
        }
        let count = answers.len();
        let mut frame = Vec::new();
        for (i, (mut bytes, sign)) in answers.into_iter().enumerate() {
            if i + 1 < count {
                bytes.resize(bytes.len().next_multiple_of(8), 0);
                let next = (bytes.len() as u32).to_le_bytes();
                if let Some(field) = bytes.get_mut(20..24) {
                    field.copy_from_slice(&next);
                }
            }
            if sign {
                let id = wire::u64_at(&bytes, 40).unwrap_or(0);
                if let Some(si) = self.session_index(id) {
                    self.sessions[si].signer.sign(&mut bytes);
                }
            }
            frame.extend_from_slice(&bytes);
        }
        steps.push(Step::Send(frame));
        steps
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
        let signing = contexts.iter().find(|(k, _)| *k == negotiate::context::SIGNING).and_then(|(_, d)| wire::u16_at(d, 2));
        let contexts_cipher = contexts.iter().find(|(k, _)| *k == negotiate::context::ENCRYPTION).and_then(|(_, d)| wire::u16_at(d, 2));
        self.signing = if signing == Some(2) { SigningAlgorithm::AesGmac } else { SigningAlgorithm::AesCmac };
        self.client_requires_signing = offer.security_mode & 0x0002 != 0;
        let mut response = self.negotiate_response(&reply, dialect, contexts);
        negotiate::set_capabilities(&self.p, &mut response, dialect, offer.capabilities, cipher_agreed);
        if dialect == 0x0311 {
            self.preauth.update(m);
            self.preauth.update(&response);
            let cipher = contexts_cipher.and_then(Cipher::from_id);
            self.cipher = cipher;
        } else if dialect >= 0x0300 && wire::u32_at(&response, SMB2_HEADER + 24).is_some_and(|caps| caps & 0x40 != 0) {
            self.cipher = Some(Cipher::Aes128Ccm);
        }
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
