//! NTLM (MS-NLMP) as the Windows decoys speak it: the NTLMSSP messages a client sends
//! and the CHALLENGE a server answers with, and NTLMv2's check of a response against
//! a planted credential's NT hash.

pub mod client;
pub mod keys;
pub mod login;
pub mod look;
pub mod message;
pub mod spnego;
pub mod v2;

pub use message::{challenge, parse_authenticate, parse_negotiate, windows_flags, Authenticate, Host, Negotiate, NtlmError, Target, Version};

/// Now as a Windows FILETIME (100 ns since 1601).
pub fn filetime_now() -> u64 {
    let since_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (since_unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(since_unix.subsec_nanos() / 100)
}
