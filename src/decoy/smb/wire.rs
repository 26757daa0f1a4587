//! SMB on the wire: the NetBIOS session framing both ports use (RFC 1002; port 445
//! keeps only its 4-byte length header), and the SMB2 and SMB1 headers, read from
//! attacker bytes with every length checked and written as the server writes them.

/// A framed message's first byte on the wire (RFC 1002 §4.3.1).
pub mod frame_type {
    /// A session message: an SMB message follows.
    pub const MESSAGE: u8 = 0x00;
    /// A session request (port 139, before any SMB message).
    pub const REQUEST: u8 = 0x81;
    /// The positive answer to a session request.
    pub const POSITIVE: u8 = 0x82;
    /// A keep-alive, which nobody answers.
    pub const KEEP_ALIVE: u8 = 0x85;
}

/// The most a frame can say it holds (24 bits, as Windows reads the header).
pub const MAX_FRAME: usize = 0x00ff_ffff;

/// One frame's header: its type and the length of what follows.
pub fn frame_header(head: [u8; 4]) -> (u8, usize) {
    (head[0], usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]))
}

/// A session message carrying `body`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = body.len().min(MAX_FRAME);
    let mut out = Vec::with_capacity(4 + len);
    out.push(frame_type::MESSAGE);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&body[..len]);
    out
}

/// SMB2 commands (MS-SMB2 §2.2.1.2).
pub mod command {
    pub const NEGOTIATE: u16 = 0x00;
    pub const SESSION_SETUP: u16 = 0x01;
    pub const LOGOFF: u16 = 0x02;
    pub const TREE_CONNECT: u16 = 0x03;
    pub const TREE_DISCONNECT: u16 = 0x04;
    pub const CREATE: u16 = 0x05;
    pub const CLOSE: u16 = 0x06;
    pub const FLUSH: u16 = 0x07;
    pub const READ: u16 = 0x08;
    pub const WRITE: u16 = 0x09;
    pub const LOCK: u16 = 0x0a;
    pub const IOCTL: u16 = 0x0b;
    pub const CANCEL: u16 = 0x0c;
    pub const ECHO: u16 = 0x0d;
    pub const QUERY_DIRECTORY: u16 = 0x0e;
    pub const CHANGE_NOTIFY: u16 = 0x0f;
    pub const QUERY_INFO: u16 = 0x10;
    pub const SET_INFO: u16 = 0x11;
    pub const OPLOCK_BREAK: u16 = 0x12;
}

/// NT status codes the decoy answers with (MS-ERREF §2.3.1).
pub mod status {
    pub const SUCCESS: u32 = 0x0000_0000;
    pub const MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
    pub const INVALID_PARAMETER: u32 = 0xc000_000d;
    pub const ACCESS_DENIED: u32 = 0xc000_0022;
    pub const LOGON_FAILURE: u32 = 0xc000_006d;
    pub const NOT_SUPPORTED: u32 = 0xc000_00bb;
    pub const USER_SESSION_DELETED: u32 = 0xc000_0203;
    pub const REQUEST_NOT_ACCEPTED: u32 = 0xc000_00d0;
    pub const BUFFER_OVERFLOW: u32 = 0x8000_0005;
    pub const NO_MORE_FILES: u32 = 0x8000_0006;
    pub const INVALID_INFO_CLASS: u32 = 0xc000_0003;
    pub const INFO_LENGTH_MISMATCH: u32 = 0xc000_0004;
    pub const NO_SUCH_FILE: u32 = 0xc000_000f;
    pub const INVALID_DEVICE_REQUEST: u32 = 0xc000_0010;
    pub const END_OF_FILE: u32 = 0xc000_0011;
    pub const BUFFER_TOO_SMALL: u32 = 0xc000_0023;
    pub const OBJECT_NAME_INVALID: u32 = 0xc000_0033;
    pub const OBJECT_NAME_NOT_FOUND: u32 = 0xc000_0034;
    pub const OBJECT_NAME_COLLISION: u32 = 0xc000_0035;
    pub const OBJECT_PATH_NOT_FOUND: u32 = 0xc000_003a;
    pub const PRIVILEGE_NOT_HELD: u32 = 0xc000_0061;
    pub const INSUFFICIENT_RESOURCES: u32 = 0xc000_009a;
    pub const FILE_IS_A_DIRECTORY: u32 = 0xc000_00ba;
    pub const NETWORK_NAME_DELETED: u32 = 0xc000_00c9;
    pub const BAD_NETWORK_NAME: u32 = 0xc000_00cc;
    pub const NOT_A_DIRECTORY: u32 = 0xc000_0103;
    pub const FILE_CLOSED: u32 = 0xc000_0128;
    pub const NOT_FOUND: u32 = 0xc000_0225;
    pub const PIPE_EMPTY: u32 = 0xc000_00d9;
    pub const PIPE_DISCONNECTED: u32 = 0xc000_00b0;

    /// The status's name, as an analyst looks it up.
    pub fn name(code: u32) -> String {
        let known = match code {
            BUFFER_OVERFLOW => "BUFFER_OVERFLOW",
            NO_MORE_FILES => "NO_MORE_FILES",
            INVALID_INFO_CLASS => "INVALID_INFO_CLASS",
            INFO_LENGTH_MISMATCH => "INFO_LENGTH_MISMATCH",
            NO_SUCH_FILE => "NO_SUCH_FILE",
            INVALID_DEVICE_REQUEST => "INVALID_DEVICE_REQUEST",
            END_OF_FILE => "END_OF_FILE",
            BUFFER_TOO_SMALL => "BUFFER_TOO_SMALL",
            OBJECT_NAME_INVALID => "OBJECT_NAME_INVALID",
            OBJECT_NAME_NOT_FOUND => "OBJECT_NAME_NOT_FOUND",
            OBJECT_NAME_COLLISION => "OBJECT_NAME_COLLISION",
            OBJECT_PATH_NOT_FOUND => "OBJECT_PATH_NOT_FOUND",
            PRIVILEGE_NOT_HELD => "PRIVILEGE_NOT_HELD",
            INSUFFICIENT_RESOURCES => "INSUFFICIENT_RESOURCES",
            FILE_IS_A_DIRECTORY => "FILE_IS_A_DIRECTORY",
            NETWORK_NAME_DELETED => "NETWORK_NAME_DELETED",
            BAD_NETWORK_NAME => "BAD_NETWORK_NAME",
            NOT_A_DIRECTORY => "NOT_A_DIRECTORY",
            FILE_CLOSED => "FILE_CLOSED",
            NOT_FOUND => "NOT_FOUND",
            PIPE_EMPTY => "PIPE_EMPTY",
            PIPE_DISCONNECTED => "PIPE_DISCONNECTED",
            _ => "",
        };
        if !known.is_empty() {
            return format!("STATUS_{known}");
        }
        match code {
            SUCCESS => "STATUS_SUCCESS".into(),
            MORE_PROCESSING_REQUIRED => "STATUS_MORE_PROCESSING_REQUIRED".into(),
            INVALID_PARAMETER => "STATUS_INVALID_PARAMETER".into(),
            ACCESS_DENIED => "STATUS_ACCESS_DENIED".into(),
            LOGON_FAILURE => "STATUS_LOGON_FAILURE".into(),
            NOT_SUPPORTED => "STATUS_NOT_SUPPORTED".into(),
            USER_SESSION_DELETED => "STATUS_USER_SESSION_DELETED".into(),
            REQUEST_NOT_ACCEPTED => "STATUS_REQUEST_NOT_ACCEPTED".into(),
            other => format!("0x{other:08x}"),
        }
    }
}

/// The SMB2 header's size.
pub const SMB2_HEADER: usize = 64;
const SMB2_MAGIC: &[u8; 4] = b"\xfeSMB";
const SMB1_MAGIC: &[u8; 4] = b"\xffSMB";
/// SMB2_FLAGS_SERVER_TO_REDIR: set on every response.
pub const FLAG_RESPONSE: u32 = 0x0000_0001;
/// SMB2_FLAGS_RELATED_OPERATIONS: a compound's part that works on the one before.
pub const FLAG_RELATED: u32 = 0x0000_0004;
/// SMB2_FLAGS_SIGNED.
pub const FLAG_SIGNED: u32 = 0x0000_0008;

/// What protocol a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smb1,
    Smb2,
    /// An SMB 3 TRANSFORM header: an encrypted SMB2 message follows.
    Transform,
    /// Neither: not SMB at all.
    Other,
}

/// The protocol of a message, from its magic.
pub fn protocol(message: &[u8]) -> Protocol {
    match message.get(..4) {
        Some(m) if m == SMB2_MAGIC => Protocol::Smb2,
        Some(m) if m == SMB1_MAGIC => Protocol::Smb1,
        Some(m) if m == b"\xfdSMB" => Protocol::Transform,
        _ => Protocol::Other,
    }
}

/// A sync SMB2 header, as a request carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub credit_charge: u16,
    pub status: u32,
    pub command: u16,
    pub credits: u16,
    pub flags: u32,
    pub next_command: u32,
    pub message_id: u64,
    pub process_id: u32,
    pub tree_id: u32,
    pub session_id: u64,
    pub signature: [u8; 16],
}

pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

pub fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// The bytes an (offset from the header, length) pair points to, if inside `message`.
pub fn buffer(message: &[u8], offset: u16, len: u16) -> Option<&[u8]> {
    let (offset, len) = (usize::from(offset), usize::from(len));
    if len == 0 {
        return Some(&[]);
    }
    message.get(offset..offset.checked_add(len)?)
}

impl Header {
    /// Reads an SMB2 header (None when the message is shorter or not SMB2, or its
    /// StructureSize is not 64).
    pub fn read(m: &[u8]) -> Option<Header> {
        if protocol(m) != Protocol::Smb2 || u16_at(m, 4)? != 64 {
            return None;
        }
        Some(Header {
            credit_charge: u16_at(m, 6)?,
            status: u32_at(m, 8)?,
            command: u16_at(m, 12)?,
            credits: u16_at(m, 14)?,
            flags: u32_at(m, 16)?,
            next_command: u32_at(m, 20)?,
            message_id: u64_at(m, 24)?,
            process_id: u32_at(m, 32)?,
            tree_id: u32_at(m, 36)?,
            session_id: u64_at(m, 40)?,
            signature: m.get(48..64)?.try_into().ok()?,
        })
    }

    /// The response header to this request: same command, message id, process, tree
    /// and session (unless given), with the server's status and credits.
    pub fn response(&self, status: u32, credits: u16, session_id: u64) -> Header {
        Header {
            credit_charge: self.credit_charge,
            status,
            command: self.command,
            credits,
            flags: FLAG_RESPONSE,
            next_command: 0,
            message_id: self.message_id,
            process_id: self.process_id,
            tree_id: self.tree_id,
            session_id,
            signature: [0; 16],
        }
    }

    /// Writes the header's 64 bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(SMB2_MAGIC);
        out.extend(64u16.to_le_bytes());
        out.extend(self.credit_charge.to_le_bytes());
        out.extend(self.status.to_le_bytes());
        out.extend(self.command.to_le_bytes());
        out.extend(self.credits.to_le_bytes());
        out.extend(self.flags.to_le_bytes());
        out.extend(self.next_command.to_le_bytes());
        out.extend(self.message_id.to_le_bytes());
        out.extend(self.process_id.to_le_bytes());
        out.extend(self.tree_id.to_le_bytes());
        out.extend(self.session_id.to_le_bytes());
        out.extend_from_slice(&self.signature);
    }
}

/// An SMB2 error response body (MS-SMB2 §2.2.2) after `header`.
pub fn error_response(header: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(SMB2_HEADER + 9);
    header.write(&mut out);
    out.extend(9u16.to_le_bytes());
    out.extend([0, 0]); // ErrorContextCount, Reserved
    out.extend(0u32.to_le_bytes()); // ByteCount
    out.push(0); // ErrorData: one byte, as servers send it
    out
}

/// An SMB2 error response carrying `data` (STATUS_BUFFER_TOO_SMALL's needed size).
pub fn error_response_with(header: &Header, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SMB2_HEADER + 8 + data.len());
    header.write(&mut out);
    out.extend(9u16.to_le_bytes());
    out.extend([0, 0]);
    out.extend((data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The parts of an SMB1 header the decoy reads (MS-CIFS §2.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Smb1Header {
    pub command: u8,
    pub flags2: u16,
    pub tid: u16,
    pub pid_low: u16,
    pub uid: u16,
    pub mid: u16,
}

/// SMB1's header size.
pub const SMB1_HEADER: usize = 32;

impl Smb1Header {
    /// Reads an SMB1 header.
    pub fn read(m: &[u8]) -> Option<Smb1Header> {
        if protocol(m) != Protocol::Smb1 || m.len() < SMB1_HEADER {
            return None;
        }
        Some(Smb1Header { command: *m.get(4)?, flags2: u16_at(m, 10)?, tid: u16_at(m, 24)?, pid_low: u16_at(m, 26)?, uid: u16_at(m, 28)?, mid: u16_at(m, 30)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_a_24_bit_length() {
        let f = frame(b"abc");
        assert_eq!(f, [0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(frame_header([0, 0x01, 0x02, 0x03]), (0, 0x010203));
        assert_eq!(frame_header([0x85, 0, 0, 0]), (frame_type::KEEP_ALIVE, 0));
    }

    #[test]
    fn a_header_reads_back_what_was_written() {
        let h = Header { command: command::SESSION_SETUP, credits: 31, message_id: 7, session_id: 0x1234, process_id: 0xfeff, ..Header::default() };
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out.len(), SMB2_HEADER);
        assert_eq!(Header::read(&out), Some(h));
        assert_eq!(Header::read(&out[..63]), None);
        let r = h.response(status::LOGON_FAILURE, 1, 0x1234);
        assert_eq!((r.flags, r.status, r.message_id), (FLAG_RESPONSE, status::LOGON_FAILURE, 7));
        assert_eq!(error_response(&r).len(), SMB2_HEADER + 9);
    }

    #[test]
    fn buffers_outside_the_message_are_none() {
        let m = [0u8; 80];
        assert_eq!(buffer(&m, 72, 8).map(<[u8]>::len), Some(8));
        assert_eq!(buffer(&m, 72, 9), None);
        assert_eq!(buffer(&m, 0xffff, 0xffff), None);
        assert_eq!(buffer(&m, 0xffff, 0), Some(&[][..]));
        assert_eq!(u64_at(&m, usize::MAX - 2), None);
    }
}
