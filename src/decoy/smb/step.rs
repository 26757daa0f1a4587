//! What the SMB state machines (SMB2's connection, SMB1's session) hand back to the
//! driver: the steps to carry out, and the logins to check.

use super::wire::Header;
pub use crate::decoy::ntlm::filetime_now;
use crate::decoy::ntlm::Authenticate;
use crate::event::EventKind;

/// What the driver does next.
#[derive(Debug)]
pub enum Step {
    /// Send this SMB message (the driver frames it).
    Send(Vec<u8>),
    /// Record this.
    Emit(Box<EventKind>),
    /// Record this step inside a session; a read of a honey patient's image (its NHS
    /// number) is a hit on the patient's token.
    Touch { kind: Box<EventKind>, patient: Option<String> },
    /// Check this login, then answer it with `SmbConn::answer_login`.
    Login(Box<Login>),
    /// Check this SMB1 login (the AUTHENTICATE, the challenge it answers), then answer
    /// it with `SmbConn::answer_login1`.
    Login1(Box<(Authenticate, [u8; 8], Login1)>),
    /// Quarantine an exploit's payload and record the step.
    Quarantine { stage: &'static str, command: &'static str, data: Vec<u8> },
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
    pub(super) spnego: bool,
    /// The session's pre-authentication hash, AUTHENTICATE included (3.1.1).
    pub(super) preauth: super::signing::Preauth,
    /// The DER of the client's SPNEGO mechTypes, which the mechListMIC covers.
    pub(super) mech_types: Option<Vec<u8>>,
}

/// A SESSION_SETUP_ANDX login to check, and how to answer it.
#[derive(Debug)]
pub struct Login1 {
    pub request: [u8; 32],
    pub uid: u16,
    /// SPNEGO (extended security) rather than passwords in the request.
    pub extended: bool,
}
