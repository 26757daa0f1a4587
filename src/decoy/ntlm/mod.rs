//! NTLM (MS-NLMP) as the Windows decoys speak it: the NTLMSSP messages a client sends
//! and the CHALLENGE a server answers with, and NTLMv2's check of a response against
//! a planted credential's NT hash.

pub mod login;
pub mod look;
pub mod message;
pub mod spnego;
pub mod v2;

pub use message::{challenge, parse_authenticate, parse_negotiate, windows_flags, Authenticate, Host, Negotiate, NtlmError, Target, Version};
