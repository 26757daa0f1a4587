//! h2 frames (RFC 9113 §4, §6): the 9-byte header read from the attacker's bytes,
//! and pure encoders for the frames the decoy sends.

/// Frame types the decoy acts on; others are skipped, as the RFC asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    Unknown(u8),
}

impl Kind {
    fn of(byte: u8) -> Kind {
        match byte {
            0 => Kind::Data,
            1 => Kind::Headers,
            2 => Kind::Priority,
            3 => Kind::RstStream,
            4 => Kind::Settings,
            5 => Kind::PushPromise,
            6 => Kind::Ping,
            7 => Kind::GoAway,
            8 => Kind::WindowUpdate,
            9 => Kind::Continuation,
            other => Kind::Unknown(other),
        }
    }

    fn byte(self) -> u8 {
        match self {
            Kind::Data => 0,
            Kind::Headers => 1,
            Kind::Priority => 2,
            Kind::RstStream => 3,
            Kind::Settings => 4,
            Kind::PushPromise => 5,
            Kind::Ping => 6,
            Kind::GoAway => 7,
            Kind::WindowUpdate => 8,
            Kind::Continuation => 9,
            Kind::Unknown(b) => b,
        }
    }
}

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY: u8 = 0x20;

/// The frame header's length.
pub const HEADER_BYTES: usize = 9;

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The error codes nginx sends (RFC 9113 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorCode {
    NoError = 0,
    Protocol = 1,
    FlowControl = 3,
    StreamClosed = 5,
    FrameSize = 6,
    RefusedStream = 7,
    Compression = 9,
    EnhanceYourCalm = 0xb,
}

/// SETTINGS parameters the decoy reads (RFC 9113 §6.5.2).
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 1;
    pub const ENABLE_PUSH: u16 = 2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 3;
    pub const INITIAL_WINDOW_SIZE: u16 = 4;
    pub const MAX_FRAME_SIZE: u16 = 5;
}

/// A frame header as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub length: usize,
    pub kind: Kind,
    pub flags: u8,
    pub stream: u32,
}

impl Head {
    /// Reads a frame header from the first 9 bytes, if there are that many.
    pub fn parse(bytes: &[u8]) -> Option<Head> {
        let h: &[u8; HEADER_BYTES] = bytes.get(..HEADER_BYTES)?.try_into().ok()?;
        Some(Head {
            length: usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]),
            kind: Kind::of(h[3]),
            flags: h[4],
            // The reserved bit is ignored.
            stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
        })
    }
}

/// Appends a frame header and `payload`.
pub fn put(out: &mut Vec<u8>, kind: Kind, flags: u8, stream: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind.byte());
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
}

/// A SETTINGS frame with the given parameters, in order.
pub fn settings(out: &mut Vec<u8>, params: &[(u16, u32)]) {
    let payload: Vec<u8> = params.iter().flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes())).collect();
    put(out, Kind::Settings, 0, 0, &payload);
}

pub fn settings_ack(out: &mut Vec<u8>) {
    put(out, Kind::Settings, ACK, 0, &[]);
}

pub fn window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    put(out, Kind::WindowUpdate, 0, stream, &increment.to_be_bytes());
}

pub fn rst_stream(out: &mut Vec<u8>, stream: u32, code: ErrorCode) {
    put(out, Kind::RstStream, 0, stream, &(code as u32).to_be_bytes());
}

pub fn goaway(out: &mut Vec<u8>, last_stream: u32, code: ErrorCode) {
    let mut payload = [0u8; 8];
    payload[..4].copy_from_slice(&last_stream.to_be_bytes());
    payload[4..].copy_from_slice(&(code as u32).to_be_bytes());
    put(out, Kind::GoAway, 0, 0, &payload);
}

pub fn ping_ack(out: &mut Vec<u8>, opaque: &[u8]) {
    put(out, Kind::Ping, ACK, 0, opaque);
}

/// A header block as HEADERS and, past `max_frame` bytes, CONTINUATION frames.
pub fn headers(out: &mut Vec<u8>, stream: u32, block: &[u8], end_stream: bool, max_frame: usize) {
    let mut chunks = block.chunks(max_frame.max(1)).peekable();
    let mut kind = Kind::Headers;
    let mut flags = if end_stream { END_STREAM } else { 0 };
    if chunks.peek().is_none() {
        put(out, kind, flags | END_HEADERS, stream, &[]);
        return;
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        put(out, kind, flags | if last { END_HEADERS } else { 0 }, stream, chunk);
        kind = Kind::Continuation;
        flags = 0;
    }
}

/// Strips padding (and the priority fields, when `priority`) from a HEADERS or DATA
/// payload; `None` when the padding is longer than the payload allows.
pub fn unpad(payload: &[u8], flags: u8, priority: bool) -> Option<&[u8]> {
    let mut body = payload;
    let mut pad = 0usize;
    if flags & PADDED != 0 {
        let (&p, rest) = body.split_first()?;
        pad = usize::from(p);
        body = rest;
    }
    if priority {
        body = body.get(5..)?;
    }
    body.get(..body.len().checked_sub(pad)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_through_parse() {
        let mut out = Vec::new();
        put(&mut out, Kind::WindowUpdate, 0, 0x8000_0003, &[0, 0, 1, 0]);
        let head = Head::parse(&out).unwrap();
        assert_eq!(head, Head { length: 4, kind: Kind::WindowUpdate, flags: 0, stream: 3 });
        assert_eq!(Head::parse(&out[..8]), None);
        assert_eq!(Head::parse(&[0xff, 0xff, 0xff, 0xfe, 0xff, 0, 0, 0, 1]).unwrap().kind, Kind::Unknown(0xfe));
    }

    #[test]
    fn nginxs_opening_frames_are_the_bytes_nginx_sends() {
        let mut out = Vec::new();
        settings(&mut out, &[(3, 128), (4, 65_536), (5, 16_777_215)]);
        window_update(&mut out, 0, 2_147_418_112);
        assert_eq!(
            out,
            [0, 0, 18, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 128, 0, 4, 0, 1, 0, 0, 0, 5, 0, 0xff, 0xff, 0xff, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0, 0]
        );
    }

    #[test]
    fn a_long_header_block_is_split_into_continuations() {
        let mut out = Vec::new();
        headers(&mut out, 1, &[7u8; 10], true, 4);
        let kinds: Vec<(Kind, u8, usize)> = {
            let mut rest = &out[..];
            let mut v = Vec::new();
            while let Some(h) = Head::parse(rest) {
                v.push((h.kind, h.flags, h.length));
                rest = &rest[HEADER_BYTES + h.length..];
            }
            v
        };
        assert_eq!(kinds, [(Kind::Headers, END_STREAM, 4), (Kind::Continuation, 0, 4), (Kind::Continuation, END_HEADERS, 2)]);
    }

    #[test]
    fn padding_and_priority_are_stripped_or_refused() {
        assert_eq!(unpad(&[2, b'a', b'b', 0, 0], PADDED, false), Some(&b"ab"[..]));
        assert_eq!(unpad(&[5, b'a'], PADDED, false), None);
        assert_eq!(unpad(&[], PADDED, false), None);
        assert_eq!(unpad(&[0, 0, 0, 1, 16, b'x'], 0, true), Some(&b"x"[..]));
        assert_eq!(unpad(&[0, 0, 0], 0, true), None);
        assert_eq!(unpad(b"plain", 0, false), Some(&b"plain"[..]));
    }
}
