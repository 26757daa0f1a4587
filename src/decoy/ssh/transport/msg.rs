//! SSH message numbers (RFC 4250 §4.1 and the OpenSSH extensions) and disconnect
//! reason codes (RFC 4250 §4.2.2).

pub const DISCONNECT: u8 = 1;
pub const IGNORE: u8 = 2;
pub const UNIMPLEMENTED: u8 = 3;
pub const DEBUG: u8 = 4;
pub const SERVICE_REQUEST: u8 = 5;
pub const SERVICE_ACCEPT: u8 = 6;
pub const EXT_INFO: u8 = 7;
pub const KEXINIT: u8 = 20;
pub const NEWKEYS: u8 = 21;
/// First kex-method-specific number: ECDH/DH init, GEX request (old), hybrid init.
pub const KEX_30: u8 = 30;
pub const KEX_31: u8 = 31;
pub const KEX_32: u8 = 32;
pub const KEX_33: u8 = 33;
pub const KEX_34: u8 = 34;
pub const USERAUTH_REQUEST: u8 = 50;
pub const USERAUTH_FAILURE: u8 = 51;
pub const USERAUTH_SUCCESS: u8 = 52;
pub const USERAUTH_BANNER: u8 = 53;
/// PK_OK for publickey, INFO_REQUEST for keyboard-interactive.
pub const USERAUTH_60: u8 = 60;
pub const USERAUTH_INFO_RESPONSE: u8 = 61;
pub const GLOBAL_REQUEST: u8 = 80;
pub const REQUEST_SUCCESS: u8 = 81;
pub const REQUEST_FAILURE: u8 = 82;
pub const CHANNEL_OPEN: u8 = 90;
pub const CHANNEL_OPEN_CONFIRMATION: u8 = 91;
pub const CHANNEL_OPEN_FAILURE: u8 = 92;
pub const CHANNEL_WINDOW_ADJUST: u8 = 93;
pub const CHANNEL_DATA: u8 = 94;
pub const CHANNEL_EXTENDED_DATA: u8 = 95;
pub const CHANNEL_EOF: u8 = 96;
pub const CHANNEL_CLOSE: u8 = 97;
pub const CHANNEL_REQUEST: u8 = 98;
pub const CHANNEL_SUCCESS: u8 = 99;
pub const CHANNEL_FAILURE: u8 = 100;
/// OpenSSH's transport-level ping (`ping@openssh.com`).
pub const PING: u8 = 192;
pub const PONG: u8 = 193;

/// Why a side disconnects (RFC 4250 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Reason {
    HostNotAllowedToConnect = 1,
    ProtocolError = 2,
    KeyExchangeFailed = 3,
    MacError = 5,
    ServiceNotAvailable = 7,
    ProtocolVersionNotSupported = 8,
    ConnectionLost = 10,
    ByApplication = 11,
    TooManyConnections = 12,
    AuthCancelledByUser = 13,
    NoMoreAuthMethodsAvailable = 14,
    IllegalUserName = 15,
}

/// What a DISCONNECT payload carries.
pub fn disconnect(reason: Reason, description: &str) -> Vec<u8> {
    use super::wire::Put;
    let mut p = Vec::with_capacity(16 + description.len());
    p.put_u8(DISCONNECT);
    p.put_u32(reason as u32);
    p.put_string(description.as_bytes());
    p.put_string(b"");
    p
}
