//! One NTLM login as every Windows decoy records it: checked against the planted
//! Windows accounts (a critical token hit when the NTLMv2 response proves the planted
//! password), and stored as `ntlm_auth` with what the AUTHENTICATE says of the client.

use super::{message, v2, Authenticate};
use crate::decoy::Recorder;
use crate::event::{AttackerBytes, EventKind};
use crate::token::TokenMatch;

/// An AUTHENTICATE and the challenge it answers.
pub struct Attempt<'a> {
    pub auth: &'a Authenticate,
    pub server_challenge: [u8; 8],
}

impl Attempt<'_> {
    /// The planted account this login proves the password of, if any: the account's
    /// NT hash checks the NTLMv2 response (constant time).
    pub fn planted(&self, recorder: &Recorder) -> Option<TokenMatch> {
        self.planted_with_key(recorder).map(|(found, _)| found)
    }

    /// [`Attempt::planted`], with the NTLMv2 session base key the login leaves.
    pub fn planted_with_key(&self, recorder: &Recorder) -> Option<(TokenMatch, [u8; 16])> {
        let a = self.auth;
        let (found, hash) = recorder.context().events.tokens().windows_account(&a.user)?;
        if !a.is_v2() {
            return None;
        }
        v2::verify(&hash, &a.user, &a.domain, &self.server_challenge, &a.nt_response).map(|key| (found, key))
    }

    /// `v2`, `v1` or `anonymous`.
    fn kind(&self) -> &'static str {
        if self.auth.is_anonymous() {
            "anonymous"
        } else if self.auth.is_v2() {
            "v2"
        } else {
            "v1"
        }
    }

    /// The service the client meant (MsvAvTargetName in its NTLMv2 blob).
    fn target(&self) -> Option<AttackerBytes> {
        let pairs = self.auth.nt_response.get(44..)?;
        message::av_pairs(pairs).into_iter().find(|(id, _)| *id == message::av::TARGET_NAME).map(|(_, v)| {
            let units: Vec<u16> = v.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            AttackerBytes::new(String::from_utf16_lossy(&units))
        })
    }

    /// The `ntlm_auth` event for this login, answered with `status` over `protocol`.
    pub fn event(&self, protocol: &str, status: String, accepted: bool) -> EventKind {
        let a = self.auth;
        let hashcat = v2::hashcat_5600(&a.user, &a.domain, &self.server_challenge, &a.nt_response).filter(|_| a.is_v2());
        EventKind::NtlmAuth {
            protocol: protocol.into(),
            username: AttackerBytes::new(a.user.as_str()),
            domain: AttackerBytes::new(a.domain.as_str()),
            workstation: AttackerBytes::new(a.workstation.as_str()),
            ntlm: self.kind().into(),
            flags: format!("0x{:08x}", a.flags),
            client_version: a.version.map(|v| format!("{}.{}.{}", v.major, v.minor, v.build)),
            target: self.target(),
            hashcat: hashcat.map(AttackerBytes::new),
            accepted,
            status,
        }
    }

    /// Checks the login and records it, answered with `status`.
    pub async fn record(&self, recorder: &Recorder, protocol: &str, status: String, accepted: bool) {
        let planted = self.planted(recorder);
        let mut event = recorder.event(self.event(protocol, status, accepted));
        event.token = planted.map(|m| m.hit());
        recorder.context().events.emit(event).await;
    }
}
