//! SESSION_SETUP before anyone is let in: the NTLM NEGOTIATE (inside SPNEGO or bare)
//! answered with the personality's CHALLENGE, the AUTHENTICATE handed to the driver as
//! a [`Login`], and the answer to a checked login, as the personality's server gives
//! it.

use super::conn::{Pending, SmbConn};
use super::personality::{Anonymous, Implementation};
use super::step::{filetime_now, Login, Step};
use super::wire::{self, buffer, status, u16_at, Header, SMB2_HEADER};
use crate::decoy::ntlm::{self, spnego};

/// Logins in progress on one connection (more are refused as Windows refuses them
/// when out of resources).
const MAX_PENDING: usize = 8;

/// SMB2_SESSION_FLAG_IS_NULL.
const SESSION_NULL: u16 = 0x0002;

impl SmbConn {
    fn new_session_id(&mut self) -> u64 {
        self.sessions_made += 1;
        let r: u64 = rand::RngExt::random(&mut rand::rng());
        match self.p.implementation {
            // 0x0000_a000_0000_0015: a non-zero middle, a low part counting up.
            Implementation::Windows => ((r & 0xffff) | 0x1000) << 32 | (self.sessions_made + 0x10 + (r >> 59)),
            Implementation::Samba => (r & 0xffff_ffff).max(1),
        }
    }

    fn session_setup_response(&self, h: &Header, status: u32, session: u64, flags: u16, token: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(SMB2_HEADER + 8 + token.len());
        let credits = if status == wire::status::SUCCESS { h.credits.clamp(1, self.p.max_credits_granted) } else { self.credits(h) };
        self.reply(h, status, credits, session).write(&mut out);
        out.extend(9u16.to_le_bytes());
        out.extend(flags.to_le_bytes());
        out.extend(((SMB2_HEADER + 8) as u16).to_le_bytes());
        out.extend((token.len() as u16).to_le_bytes());
        out.extend_from_slice(token);
        out
    }

    fn error(&self, h: &Header, status: u32, session: u64) -> Vec<Step> {
        vec![Step::Send(wire::error_response(&self.reply(h, status, self.credits(h), session)))]
    }

    /// The NTLM flags answered to a client's NEGOTIATE flags.
    fn challenge_flags(&self, client: u32) -> u32 {
        match self.p.implementation {
            Implementation::Windows => ntlm::windows_flags(client, self.host.target),
            Implementation::Samba => ntlm::message::samba_flags(client),
        }
    }

    pub(super) fn on_session_setup(&mut self, h: &Header, m: &[u8]) -> Vec<Step> {
        let body = SMB2_HEADER;
        let blob = match (u16_at(m, body), u16_at(m, body + 12), u16_at(m, body + 14)) {
            (Some(25), Some(offset), Some(len)) => buffer(m, offset, len),
            _ => None,
        };
        let Some(blob) = blob.filter(|b| !b.is_empty()) else { return self.error(h, status::INVALID_PARAMETER, h.session_id) };
        let spnego = !blob.starts_with(b"NTLMSSP\0");
        let Some(token) = spnego::ntlmssp(blob) else {
            // Kerberos or NEGOEX first: steer a client that also offered NTLM to it.
            let offers_ntlm = spnego::parse(blob).is_ok_and(|t| t.mech_types.contains(&spnego::OID_NTLMSSP));
            if offers_ntlm && h.session_id == 0 {
                let id = self.new_session_id();
                let state = match self.p.implementation {
                    Implementation::Windows => spnego::ACCEPT_INCOMPLETE,
                    Implementation::Samba => spnego::REQUEST_MIC,
                };
                let resp = spnego::neg_token_resp(Some(state), Some(spnego::OID_NTLMSSP), None, None);
                return vec![Step::Send(self.session_setup_response(h, status::MORE_PROCESSING_REQUIRED, id, 0, &resp))];
            }
            let refusal = match self.p.implementation {
                Implementation::Windows => status::LOGON_FAILURE,
                Implementation::Samba => status::INVALID_PARAMETER,
            };
            return self.error(h, refusal, h.session_id);
        };
        if let Ok(negotiate) = ntlm::parse_negotiate(token) {
            if self.pending.len() >= MAX_PENDING {
                return self.error(h, status::REQUEST_NOT_ACCEPTED, 0);
            }
            if h.session_id != 0 {
                // A failed session's id is not taken up again.
                return self.error(h, status::USER_SESSION_DELETED, h.session_id);
            }
            let id = self.new_session_id();
            let mut challenge = [0u8; 8];
            rand::RngExt::fill(&mut rand::rng(), &mut challenge[..]);
            let message = ntlm::challenge(self.challenge_flags(negotiate.flags), challenge, &self.host, filetime_now());
            let token = if spnego { spnego::neg_token_resp(Some(spnego::ACCEPT_INCOMPLETE), Some(spnego::OID_NTLMSSP), Some(&message), None) } else { message };
            let reply = self.session_setup_response(h, status::MORE_PROCESSING_REQUIRED, id, 0, &token);
            let mut preauth = self.preauth;
            preauth.update(m);
            preauth.update(&reply);
            let mech_types = spnego::parse(blob).ok().filter(|t| t.init && !t.mech_types.is_empty()).map(|t| mech_types_der(&t.mech_types));
            self.pending.push(Pending { id, challenge, preauth, mech_types });
            return vec![Step::Send(reply)];
        }
        let Some(at) = self.pending.iter().position(|p| p.id == h.session_id) else {
            return self.error(h, status::USER_SESSION_DELETED, h.session_id);
        };
        match ntlm::parse_authenticate(token) {
            Ok(auth) => {
                let mut pending = self.pending.remove(at);
                pending.preauth.update(m);
                vec![Step::Login(Box::new(Login {
                    header: *h,
                    session_id: pending.id,
                    auth,
                    server_challenge: pending.challenge,
                    spnego,
                    preauth: pending.preauth,
                    mech_types: pending.mech_types,
                }))]
            }
            Err(_) => self.error(h, status::INVALID_PARAMETER, h.session_id),
        }
    }

    /// Lets in a login that proved a planted account's password (`exported` is the
    /// session key NTLM left both sides with): the session on the honey shares, and
    /// the SESSION_SETUP answer, signed as 3.1.1 (or required signing) demands, with
    /// SPNEGO's mechListMIC when the client's token listed mechanisms.
    pub fn accept_login(&mut self, login: &Login, exported: &[u8; 16], view: std::sync::Arc<super::share::View>) -> Vec<u8> {
        let h = &login.header;
        let dialect = self.dialect.unwrap_or(0x0202);
        let signer = super::signing::Signer::new(dialect, exported, &login.preauth, self.signing);
        let signing_required = self.client_requires_signing || self.p.signing == super::personality::Signing::Required;
        let user = format!("{}\\{}", login.auth.domain, login.auth.user);
        let token = if login.spnego {
            let mic = login.mech_types.as_deref().map(|der| ntlm::keys::server_mech_list_mic(exported, login.auth.flags, der));
            spnego::neg_token_resp(Some(spnego::ACCEPT_COMPLETED), None, None, mic.as_ref().map(|m| &m[..]))
        } else {
            Vec::new()
        };
        let mut reply = self.session_setup_response(h, status::SUCCESS, login.session_id, 0, &token);
        if dialect == 0x0311 || signing_required || h.flags & wire::FLAG_SIGNED != 0 {
            signer.sign(&mut reply);
        }
        if self.sessions.len() >= MAX_PENDING {
            self.sessions.remove(0);
        }
        let crypt = self.cipher.filter(|_| dialect >= 0x0300).map(|c| super::transform::Crypt::new(dialect, c, exported, &login.preauth));
        self.sessions.push(super::logged_in::Session::new(login.session_id, user, signer, crypt, signing_required, view));
        reply
    }

    /// The answer to a checked login, and the NT status it carries, when it is not let
    /// in: a login that was not anonymous fails as the server fails a wrong password.
    pub fn answer_login(&mut self, login: &Login) -> (Vec<u8>, u32) {
        let h = &login.header;
        if login.auth.is_anonymous() {
            match self.p.anonymous {
                Anonymous::Allow => {
                    let token = if login.spnego { spnego::neg_token_resp(Some(spnego::ACCEPT_COMPLETED), None, None, None) } else { Vec::new() };
                    let flags = if self.p.implementation == Implementation::Windows { SESSION_NULL } else { 0 };
                    // A null session: IPC$ only, nothing signed.
                    let signer = super::signing::Signer::new(0x0202, &[0; 16], &login.preauth, self.signing);
                    let view = std::sync::Arc::new(super::share::View::new(&[], &[], 0));
                    if self.sessions.len() >= MAX_PENDING {
                        self.sessions.remove(0);
                    }
                    let mut session = super::logged_in::Session::new(login.session_id, String::new(), signer, None, false, view);
                    session.anonymous = true;
                    self.sessions.push(session);
                    return (self.session_setup_response(h, status::SUCCESS, login.session_id, flags, &token), status::SUCCESS);
                }
                Anonymous::Deny => {
                    return (wire::error_response(&self.reply(h, status::ACCESS_DENIED, self.credits(h), login.session_id)), status::ACCESS_DENIED)
                }
                Anonymous::LogonFailure => {}
            }
        }
        (wire::error_response(&self.reply(h, status::LOGON_FAILURE, self.credits(h), login.session_id)), status::LOGON_FAILURE)
    }
}

/// The DER SEQUENCE OF OID the client's mechTypes were (as it sent them: DER has one
/// encoding).
fn mech_types_der(oids: &[&[u8]]) -> Vec<u8> {
    let inner: Vec<u8> = oids.iter().flat_map(|oid| crate::decoy::der::tlv(0x06, oid)).collect();
    crate::decoy::der::tlv(0x30, &inner)
}
