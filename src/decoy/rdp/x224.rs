//! RDP's first exchange on the wire: TPKT (RFC 1006) around X.224 (T.123) Connection Request and Confirm, with the RDP negotiation structures (MS-RDPBCGR 2.2.1.1, 2.2.1.2).

/// TPKT's version, the first byte of every TPKT header.
pub const TPKT_VERSION: u8 = 3;

/// The longest cookie (routing token) line kept, and the longest mstshash value (a one-octet LI already limits the line to 246 bytes).
pub const MAX_COOKIE: usize = 256;

/// A TPKT header's size.
const TPKT_HEADER: usize = 4;
/// The fixed part of a CR or CC TPDU after its LI byte: code, DST-REF, SRC-REF, class option.
const TPDU_FIXED: usize = 6;
/// X.224 Connection Request code (high nibble; the low nibble is the credit, 0 in class 0).
const CR_CODE: u8 = 0xe0;
/// X.224 Connection Confirm code.
const CC_CODE: u8 = 0xd0;
/// The SRC-REF our Connection Confirm carries.
const SRC_REF: [u8; 2] = [0x12, 0x34];
/// How the cookie line of mstsc and most tools starts.
const MSTSHASH: &[u8] = b"Cookie: mstshash=";

const TYPE_NEG_REQ: u8 = 0x01;
const TYPE_NEG_RSP: u8 = 0x02;
const TYPE_NEG_FAILURE: u8 = 0x03;
const TYPE_CORRELATION_INFO: u8 = 0x06;
/// Size of RDP_NEG_REQ, RDP_NEG_RSP and RDP_NEG_FAILURE.
const NEG_LENGTH: usize = 8;
/// Size of RDP_NEG_CORRELATION_INFO.
const CORRELATION_LENGTH: usize = 36;

/// A TPKT header's total length (4-byte header included), if `head` is a TPKT header (version 3); None otherwise.
pub fn tpkt_length(head: [u8; 4]) -> Option<usize> {
    let [version, _reserved, high, low] = head;
    let length = usize::from(u16::from_be_bytes([high, low]));
    (version == TPKT_VERSION && length >= TPKT_HEADER).then_some(length)
}

/// requestedProtocols / selectedProtocol bits (MS-RDPBCGR 2.2.1.1.1).
pub mod protocol {
    /// Standard RDP security (no bit set).
    pub const RDP: u32 = 0;
    /// TLS.
    pub const SSL: u32 = 1;
    /// CredSSP (NLA), which implies TLS.
    pub const HYBRID: u32 = 2;
    /// RDSTLS.
    pub const RDSTLS: u32 = 4;
    /// CredSSP with the Early User Authorization Result PDU.
    pub const HYBRID_EX: u32 = 8;
    /// RDS AAD authentication (Azure AD joined hosts).
    pub const RDSAAD: u32 = 0x10;
}

/// RDP_NEG_FAILURE codes (MS-RDPBCGR 2.2.1.2.2).
pub mod failure {
    /// The server requires TLS.
    pub const SSL_REQUIRED_BY_SERVER: u32 = 1;
    /// The server only allows standard RDP security.
    pub const SSL_NOT_ALLOWED_BY_SERVER: u32 = 2;
    /// The server has no certificate for TLS.
    pub const SSL_CERT_NOT_ON_SERVER: u32 = 3;
    /// The requested protocols are inconsistent.
    pub const INCONSISTENT_FLAGS: u32 = 4;
    /// The server requires CredSSP (NLA).
    pub const HYBRID_REQUIRED_BY_SERVER: u32 = 5;
    /// The server requires TLS with user authentication.
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: u32 = 6;
}

/// What a client's X.224 Connection Request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest<'a> {
    /// The routing token or cookie line without its CR LF: e.g. b"Cookie: mstshash=alice" (the whole line as sent, at most 256 bytes kept)
    pub cookie: Option<&'a [u8]>,
    /// The mstshash value alone when the line is "Cookie: mstshash=VALUE" (at most 256 bytes kept)
    pub mstshash: Option<&'a [u8]>,
    /// RDP_NEG_REQ flags, when the request carries one
    pub neg_flags: Option<u8>,
    /// RDP_NEG_REQ requestedProtocols (bits of [`protocol`]), when the request carries one
    pub requested_protocols: Option<u32>,
    /// RDP_NEG_CORRELATION_INFO correlation id when present
    pub correlation_id: Option<[u8; 16]>,
}

/// Why bytes are not a Connection Request this parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum X224Error {
    /// The frame does not start with a TPKT version 3 header.
    #[error("not a TPKT frame")]
    Tpkt,
    /// The frame is shorter than its TPKT length, or than a Connection Request.
    #[error("X.224 frame truncated")]
    Short,
    /// The TPDU is not a Connection Request.
    #[error("not an X.224 Connection Request")]
    NotConnectionRequest,
    /// A length (TPKT, LI, cookie line or negotiation structure) disagrees with the bytes.
    #[error("inconsistent length in X.224 Connection Request")]
    BadLength,
}

/// Parses one whole TPKT frame carrying an X.224 Connection Request (CR TPDU code 0xE0): LI byte, 0xE0, DST-REF(2), SRC-REF(2),
/// class option byte, then the variable part: an optional cookie/routing token line ending CR LF (present when the part starts
/// with neither 0x01 nor 0x06), then an optional RDP_NEG_REQ (type 0x01, flags, length 8 LE u16, requestedProtocols LE u32),
/// then an optional RDP_NEG_CORRELATION_INFO (type 0x06, flags, length 36, 16-byte id, 16 reserved). The frame must be exactly
/// as long as its TPKT length and LI must match it (LI 255 is reserved); DST-REF and the class option are not checked.
pub fn parse_connection_request(frame: &[u8]) -> Result<ConnectionRequest<'_>, X224Error> {
    let (head, rest) = frame.split_first_chunk::<TPKT_HEADER>().ok_or(X224Error::Short)?;
    let total = tpkt_length(*head).ok_or(X224Error::Tpkt)?;
    if frame.len() < total {
        return Err(X224Error::Short);
    }
    if frame.len() > total {
        return Err(X224Error::BadLength);
    }
    let (&li, tpdu) = rest.split_first().ok_or(X224Error::Short)?;
    let code = *tpdu.first().ok_or(X224Error::Short)?;
    if code & 0xf0 != CR_CODE {
        return Err(X224Error::NotConnectionRequest);
    }
    // LI 255 is reserved (X.224 13.2.1).
    if li == u8::MAX || usize::from(li) != tpdu.len() {
        return Err(X224Error::BadLength);
    }
    let (_fixed, variable) = tpdu.split_at_checked(TPDU_FIXED).ok_or(X224Error::Short)?;
    let mut request = ConnectionRequest { cookie: None, mstshash: None, neg_flags: None, requested_protocols: None, correlation_id: None };
    let mut rest = variable;
    if rest.first().is_some_and(|&b| b != TYPE_NEG_REQ && b != TYPE_CORRELATION_INFO) {
        let end = rest.windows(2).position(|w| w == b"\r\n").ok_or(X224Error::BadLength)?;
        let line = rest.get(..end).ok_or(X224Error::BadLength)?;
        rest = rest.get(end + 2..).ok_or(X224Error::BadLength)?;
        request.cookie = Some(cap(line));
        request.mstshash = line.get(..MSTSHASH.len()).filter(|p| p.eq_ignore_ascii_case(MSTSHASH)).and_then(|_| line.get(MSTSHASH.len()..)).map(cap);
    }
    if rest.first() == Some(&TYPE_NEG_REQ) {
        let (neg, after) = rest.split_first_chunk::<NEG_LENGTH>().ok_or(X224Error::BadLength)?;
        let [_type, flags, l0, l1, p0, p1, p2, p3] = *neg;
        if usize::from(u16::from_le_bytes([l0, l1])) != NEG_LENGTH {
            return Err(X224Error::BadLength);
        }
        request.neg_flags = Some(flags);
        request.requested_protocols = Some(u32::from_le_bytes([p0, p1, p2, p3]));
        rest = after;
        if rest.first() == Some(&TYPE_CORRELATION_INFO) {
            let (info, after) = rest.split_first_chunk::<CORRELATION_LENGTH>().ok_or(X224Error::BadLength)?;
            let (&[_type, _flags, l0, l1], body) = info.split_first_chunk::<4>().ok_or(X224Error::BadLength)?;
            if usize::from(u16::from_le_bytes([l0, l1])) != CORRELATION_LENGTH {
                return Err(X224Error::BadLength);
            }
            request.correlation_id = body.first_chunk::<16>().copied();
            rest = after;
        }
    }
    if !rest.is_empty() {
        return Err(X224Error::BadLength);
    }
    Ok(request)
}

/// The first [`MAX_COOKIE`] bytes of `bytes`.
fn cap(bytes: &[u8]) -> &[u8] {
    bytes.get(..MAX_COOKIE).unwrap_or(bytes)
}

/// A Connection Confirm TPDU in its TPKT frame, with `variable` as its variable part (at most a few bytes).
fn confirm(variable: &[u8]) -> Vec<u8> {
    let li = TPDU_FIXED + variable.len();
    let total = TPKT_HEADER + 1 + li;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[TPKT_VERSION, 0]);
    out.extend_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
    out.push(u8::try_from(li).unwrap_or(u8::MAX));
    out.extend_from_slice(&[CC_CODE, 0, 0, SRC_REF[0], SRC_REF[1], 0]);
    out.extend_from_slice(variable);
    out
}

/// An 8-byte negotiation structure: type, flags, length 8, then `value` (LE).
fn negotiation(kind: u8, flags: u8, value: u32) -> [u8; NEG_LENGTH] {
    let [v0, v1, v2, v3] = value.to_le_bytes();
    [kind, flags, NEG_LENGTH as u8, 0, v0, v1, v2, v3]
}

/// The Connection Confirm with RDP_NEG_RSP: TPKT(03 00 00 13) 0e d0 00 00 12 34 00 | 02 <flags> 08 00 <selected LE u32>
pub fn connection_confirm(flags: u8, selected_protocol: u32) -> Vec<u8> {
    confirm(&negotiation(TYPE_NEG_RSP, flags, selected_protocol))
}

/// The Connection Confirm with RDP_NEG_FAILURE: 03 00 00 13 0e d0 00 00 12 34 00 | 03 00 08 00 <code LE u32> (see [`failure`])
pub fn negotiation_failure(code: u32) -> Vec<u8> {
    confirm(&negotiation(TYPE_NEG_FAILURE, 0, code))
}

/// The Connection Confirm without any negotiation structure (answer to a request without RDP_NEG_REQ): 03 00 00 0b 06 d0 00 00 12 34 00
pub fn connection_confirm_legacy() -> Vec<u8> {
    confirm(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nmap's rdp-ntlm-info / service probe.
    const NMAP: &[u8] = &[
        0x03, 0x00, 0x00, 0x2a, 0x25, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61,
        0x73, 0x68, 0x3d, 0x6e, 0x6d, 0x61, 0x70, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
    ];

    /// A TPKT frame around a CR TPDU with `variable` as its variable part.
    fn request(variable: &[u8]) -> Vec<u8> {
        let li = 6 + variable.len();
        let total = 5 + li;
        let mut out = vec![3, 0, (total >> 8) as u8, total as u8, li as u8, 0xe0, 0, 0, 0, 0, 0];
        out.extend_from_slice(variable);
        out
    }

    #[test]
    fn nmap_probe() {
        assert_eq!(NMAP.len(), 0x2a);
        assert_eq!(tpkt_length([3, 0, 0, 0x2a]), Some(42));
        let req = parse_connection_request(NMAP).unwrap();
        assert_eq!(req.cookie, Some(&b"Cookie: mstshash=nmap"[..]));
        assert_eq!(req.mstshash, Some(&b"nmap"[..]));
        assert_eq!(req.neg_flags, Some(0));
        assert_eq!(req.requested_protocols, Some(protocol::SSL | protocol::HYBRID));
        assert_eq!(req.correlation_id, None);
    }

    #[test]
    fn without_cookie_or_negotiation() {
        let frame = request(&[1, 0, 8, 0, 0x0b, 0, 0, 0]);
        let req = parse_connection_request(&frame).unwrap();
        assert_eq!((req.cookie, req.mstshash), (None, None));
        assert_eq!(req.requested_protocols, Some(protocol::SSL | protocol::HYBRID | protocol::HYBRID_EX));
        let frame = request(&[]);
        let bare = parse_connection_request(&frame).unwrap();
        assert_eq!(bare, ConnectionRequest { cookie: None, mstshash: None, neg_flags: None, requested_protocols: None, correlation_id: None });
        let frame = request(b"Cookie: msts=3640205228.15629.0000\r\n");
        let routing = parse_connection_request(&frame).unwrap();
        assert_eq!(routing.cookie, Some(&b"Cookie: msts=3640205228.15629.0000"[..]));
        assert_eq!((routing.mstshash, routing.requested_protocols), (None, None));
    }

    #[test]
    fn correlation_info_and_xfreerdp_cookie() {
        let mut variable = b"Cookie: mstshash=administrator\r\n".to_vec();
        variable.extend_from_slice(&[1, 0x08, 8, 0, 0x03, 0, 0, 0, 6, 0, 36, 0]);
        variable.extend(1..=16u8);
        variable.extend([0u8; 16]);
        let frame = request(&variable);
        let req = parse_connection_request(&frame).unwrap();
        assert_eq!(req.mstshash, Some(&b"administrator"[..]));
        assert_eq!(req.neg_flags, Some(0x08));
        assert_eq!(req.requested_protocols, Some(3));
        let id: Vec<u8> = (1..=16).collect();
        assert_eq!(req.correlation_id.map(|c| c.to_vec()), Some(id));
    }

    #[test]
    fn longest_cookie() {
        // LI is one octet, so the variable part holds at most 248 bytes: the longest line is 246 (under MAX_COOKIE).
        let mut variable = b"cookie: MSTSHASH=".to_vec();
        variable.extend([b'a'; 229]);
        variable.extend_from_slice(b"\r\n");
        let frame = request(&variable);
        assert_eq!(frame[4], 0xfe);
        let req = parse_connection_request(&frame).unwrap();
        assert_eq!(req.cookie.map(<[u8]>::len), Some(246));
        assert_eq!(req.mstshash, Some(&[b'a'; 229][..]));
        variable.insert(0, b'x');
        let frame = request(&variable);
        assert_eq!(parse_connection_request(&frame), Err(X224Error::BadLength));
    }

    #[test]
    fn encoders() {
        let rsp = connection_confirm(0x1f, protocol::HYBRID);
        assert_eq!(rsp, [0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00]);
        let fail = negotiation_failure(failure::HYBRID_REQUIRED_BY_SERVER);
        assert_eq!(fail, [0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00]);
        assert_eq!(connection_confirm_legacy(), [0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]);
        for frame in [rsp, fail, connection_confirm_legacy()] {
            assert_eq!(tpkt_length([frame[0], frame[1], frame[2], frame[3]]), Some(frame.len()));
            assert_eq!(parse_connection_request(&frame), Err(X224Error::NotConnectionRequest));
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(parse_connection_request(&[]), Err(X224Error::Short));
        assert_eq!(parse_connection_request(&[0x16, 3, 1, 0, 0x2a]), Err(X224Error::Tpkt));
        assert_eq!(tpkt_length([3, 0, 0, 3]), None);
        assert_eq!(tpkt_length([0x16, 3, 1, 0]), None);
        let mut long = NMAP.to_vec();
        long.push(0);
        assert_eq!(parse_connection_request(&long), Err(X224Error::BadLength));
        // No CR LF after the cookie, a short RDP_NEG_REQ, a wrong length, correlation info alone, trailing bytes.
        for variable in [&b"Cookie: mstshash=x"[..], &[1, 0, 8, 0, 3], &[1, 0, 9, 0, 3, 0, 0, 0], &[6, 0, 36, 0], &[1, 0, 8, 0, 3, 0, 0, 0, 0]] {
            assert_eq!(parse_connection_request(&request(variable)), Err(X224Error::BadLength));
        }
        let mut li = NMAP.to_vec();
        li[4] = 0x24;
        assert_eq!(parse_connection_request(&li), Err(X224Error::BadLength));
    }

    #[test]
    fn every_truncation_fails() {
        let mut full = b"Cookie: mstshash=administrator\r\n".to_vec();
        full.extend_from_slice(&[1, 0x08, 8, 0, 0x03, 0, 0, 0, 6, 0, 36, 0]);
        full.extend([7u8; 32]);
        for frame in [NMAP.to_vec(), request(&full)] {
            for end in 0..frame.len() {
                assert!(parse_connection_request(&frame[..end]).is_err(), "prefix {end}");
                // Truncated, with the TPKT and LI lengths rewritten to match.
                if end >= 11 {
                    let mut cut = frame[..end].to_vec();
                    cut[2..4].copy_from_slice(&(end as u16).to_be_bytes());
                    cut[4] = (end - 5) as u8;
                    let _ = parse_connection_request(&cut);
                }
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..2000 {
            let len = (next() % 80) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if i % 2 == 0 && len >= 12 {
                // Mostly well framed, so the parser gets past the headers.
                bytes[..6].copy_from_slice(&[3, 0, 0, len as u8, (len - 5) as u8, 0xe0]);
                if i % 4 == 0 {
                    bytes[11] = [0x01, 0x06, b'C'][(next() % 3) as usize];
                }
            }
            let _ = parse_connection_request(&bytes);
            if let Some(head) = bytes.first_chunk::<4>() {
                let _ = tpkt_length(*head);
            }
        }
    }
}
