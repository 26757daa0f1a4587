//! HTTP/1.x on one connection, written for a decoy: the request head is parsed with
//! httparse under a size cap and a deadline, bodies (Content-Length or chunked) are
//! read only up to a cap, and responses are written byte for byte as the personality
//! says (status line, header names and order) — including for requests that do not
//! parse, which a general-purpose server library answers in its own recognisable way.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, Instant};

use super::exchange::Exchange;
use super::h1_body::{io_reason, read_chunked, read_length, BodyLimits};
use super::message::{BodyReader, Malformed, Request, Version};
use crate::event::CloseReason;

/// Limits for one HTTP/1 connection.
#[derive(Debug, Clone, Copy)]
pub struct H1Limits {
    /// Largest request head (request line and headers).
    pub max_head_bytes: usize,
    /// Longest request line.
    pub max_request_line_bytes: usize,
    /// Most headers in one request.
    pub max_headers: usize,
    /// Time allowed for a whole request head once its first byte has arrived, and for
    /// each read of a body.
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection is held open.
    pub keep_alive_timeout: Duration,
    /// Most body bytes read per request; the rest is never read.
    pub max_body_bytes: u64,
    /// Body bytes kept in the event.
    pub body_kept: usize,
    /// A declared body longer than this is not read at all (the exchange answers 413).
    pub refuse_body_over: Option<u64>,
    /// Answer HTTP/0.9 simple requests (`GET /path` and nothing more) as nginx does.
    pub http09: bool,
    /// Refuse a byte no method has the moment it arrives, as nginx's parser does.
    pub early_method_check: bool,
}

impl H1Limits {
    /// What reading a body may take.
    fn body(&self) -> BodyLimits {
        BodyLimits { wait: self.header_timeout, max_bytes: self.max_body_bytes }
    }
}

pub(crate) enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// How reading a head ended.
enum Head {
    /// Length of the complete head in the buffer.
    Complete(usize),
    Malformed(Malformed),
    Closed(CloseReason),
}

/// Serves requests on `io` until the peer closes, a limit is hit, or a response closes
/// the connection. Returns why it ended.
pub async fn serve<S>(io: &mut S, ex: &Exchange, limits: &H1Limits) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Small to start: a flood of idle connections each holds this much (the head cap
    // bounds how far it grows).
    let mut buf = BytesMut::with_capacity(1024);
    let mut out = Vec::new();
    // A new connection waits for its first request as long as for a request head
    // (nginx: client_header_timeout; Orthanc: 30 s); later ones the keep-alive time.
    let mut idle = limits.header_timeout;
    loop {
        let head = read_head(io, &mut buf, limits, idle).await;
        idle = limits.keep_alive_timeout;
        let len = match head {
            Head::Complete(len) => len,
            Head::Closed(reason) => return reason,
            Head::Malformed(m) => return refuse(io, ex, m, &buf[..buf.len().min(limits.max_head_bytes)], limits).await,
        };
        let (mut request, framing) = match parse_head(&buf[..len], limits.max_headers) {
            Ok((request, _)) if request.version == Version::Http09 && !limits.http09 => {
                return refuse(io, ex, Malformed::BadRequest, &buf[..len], limits).await;
            }
            Ok(parsed) => parsed,
            Err(m) => return refuse(io, ex, m, &buf[..len], limits).await,
        };
        buf.advance(len);
        let mut body = BodyReader::new(limits.body_kept);
        // Plain HTTP on the TLS port is answered before its body, as nginx does.
        if expects_continue(&request, &framing) || (ex.plain_on_tls_port && !matches!(framing, Framing::None)) {
            match ex.continues(&request) {
                // The body will be read: say so first, as nginx does.
                Some(true) => {
                    if let Err(reason) = write_all(io, b"HTTP/1.1 100 Continue\r\n\r\n", limits).await {
                        return reason;
                    }
                }
                Some(false) => match answer_before_body(io, ex, request, &framing, &mut buf, limits).await {
                    None => continue,
                    Some(reason) => return reason,
                },
                None => {}
            }
        }
        let read = match framing {
            Framing::None => Ok(true),
            // Refused unread (the exchange answers 413 and the connection closes).
            Framing::Length(n) if limits.refuse_body_over.is_some_and(|max| n > max) => Ok(false),
            Framing::Length(n) => read_length(io, &mut buf, n, &mut body, limits.body()).await,
            Framing::Chunked => read_chunked(io, &mut buf, &mut body, limits.body()).await,
        };
        let complete = match read {
            Ok(complete) => complete,
            Err(reason) => {
                // The body broke off (peer gone, deadline, byte cap): the request is
                // still recorded with what arrived, and answered if the peer listens.
                request.body = body.finish(true);
                let response = ex.respond(request, false).await;
                out.clear();
                response.encode_http1(&mut out);
                let _ = timeout(limits.header_timeout, io.write_all(&out)).await;
                return reason;
            }
        };
        request.body = body.finish(!complete);
        let keep_alive = request.wants_keep_alive() && complete;
        let response = ex.respond(request, keep_alive).await;
        out.clear();
        response.encode_http1(&mut out);
        match timeout(limits.header_timeout, io.write_all(&out)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return CloseReason::Error,
            Err(_) => return CloseReason::IdleTimeout,
        }
        if response.close {
            linger(io).await;
            return if complete { CloseReason::PeerClosed } else { CloseReason::MaxBytes };
        }
    }
}

/// Whether the request waits for `100 Continue` before sending its body.
fn expects_continue(request: &Request, framing: &Framing) -> bool {
    !matches!(framing, Framing::None)
        && request.version == Version::Http11
        && request.header("expect").is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
}

async fn write_all<S: AsyncWrite + Unpin>(io: &mut S, bytes: &[u8], limits: &H1Limits) -> Result<(), CloseReason> {
    match timeout(limits.header_timeout, io.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(CloseReason::Error),
        Err(_) => Err(CloseReason::IdleTimeout),
    }
}

/// Answers a request that waits for `100 Continue` without reading its body (nginx
/// does for what it will not serve), then discards the body if it comes. None when the
/// connection goes on.
async fn answer_before_body<S>(io: &mut S, ex: &Exchange, mut request: Request, framing: &Framing, buf: &mut BytesMut, limits: &H1Limits) -> Option<CloseReason>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let keep_alive = request.wants_keep_alive();
    request.body = BodyReader::new(0).finish(false);
    let response = ex.respond(request, keep_alive).await;
    let mut out = Vec::new();
    response.encode_http1(&mut out);
    if let Err(reason) = write_all(io, &out, limits).await {
        return Some(reason);
    }
    let mut discarded = BodyReader::new(0);
    let read = match framing {
        Framing::Length(n) => read_length(io, buf, *n, &mut discarded, limits.body()).await,
        _ => read_chunked(io, buf, &mut discarded, limits.body()).await,
    };
    match read {
        Ok(true) if !response.close => None,
        Ok(_) => Some(CloseReason::PeerClosed),
        Err(reason) => Some(reason),
    }
}

/// Answers a request that could not be served (the exchange records `raw`), then
/// closes the connection.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, ex: &Exchange, m: Malformed, raw: &[u8], limits: &H1Limits) -> CloseReason {
    let mut out = Vec::new();
    ex.malformed(m, raw).await.encode_http1(&mut out);
    let _ = timeout(limits.header_timeout, io.write_all(&out)).await;
    linger(io).await;
    CloseReason::ProtocolError
}

/// Closes our side, then reads and discards what the peer is still sending for a
/// short, bounded while (as nginx's lingering close does), so that the client reads
/// the response instead of a reset.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) {
    const LINGER: Duration = Duration::from_secs(2);
    const LINGER_BYTES: usize = 1 << 20;
    let _ = timeout(LINGER, io.shutdown()).await;
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match tokio::time::timeout_at(until, io.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => drained += n,
            _ => break,
        }
    }
}

/// Reads until `buf` holds a whole head. `idle` applies before the first byte, the
/// header deadline after it (a slow sender cannot stretch it).
async fn read_head<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, limits: &H1Limits, idle: Duration) -> Head {
    let mut deadline = (!buf.is_empty()).then(|| Instant::now() + limits.header_timeout);
    let mut scan = HeadScan::default();
    loop {
        match scan.advance(buf, limits) {
            Some(Ok(end)) => return Head::Complete(end),
            Some(Err(m)) => return Head::Malformed(m),
            None => {}
        }
        if buf.capacity() - buf.len() < 512 {
            buf.reserve(buf.len().max(1024));
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => idle,
        };
        match timeout(wait, io.read_buf(buf)).await {
            Err(_) => return Head::Closed(CloseReason::IdleTimeout),
            Ok(Ok(0)) => return Head::Closed(CloseReason::PeerClosed),
            Ok(Ok(_)) => {
                deadline.get_or_insert_with(|| Instant::now() + limits.header_timeout);
            }
            Ok(Err(e)) => return Head::Closed(io_reason(&e)),
        }
    }
}

/// Finds the end of a request head as bytes arrive, looking at each byte once (a
/// client sending one byte per packet costs no more than one sending it all at once).
/// Accepts bare LF line ends and empty lines before the request line, as nginx does.
#[derive(Debug, Default)]
pub(crate) struct HeadScan {
    /// Next byte to look at.
    pos: usize,
    /// Start of the line being read.
    line_start: usize,
    /// The request line has been seen.
    past_request_line: bool,
    /// Bytes of the method read so far, and whether the space after it has come.
    method_bytes: usize,
    method_done: bool,
}

impl HeadScan {
    /// `Some(Ok(end))` when the head is complete, `Some(Err)` when it breaks a limit
    /// (like nginx: request line over the line cap → 414; a header line over it, or the
    /// head over its cap → "header too large"), `None` to read more.
    pub(crate) fn advance(&mut self, buf: &[u8], limits: &H1Limits) -> Option<Result<usize, Malformed>> {
        let too_long = |past: bool| if past { Malformed::HeaderTooLarge } else { Malformed::UriTooLong };
        while self.pos < buf.len() {
            // nginx refuses a method byte that is not A-Z, `_` or `-` the moment it
            // arrives (empty lines may come first), not at the end of the line.
            if limits.early_method_check && !self.past_request_line && !self.method_done {
                match buf[self.pos] {
                    b'\r' | b'\n' if self.method_bytes == 0 => {}
                    b' ' if self.method_bytes > 0 => self.method_done = true,
                    b'A'..=b'Z' | b'_' | b'-' => self.method_bytes += 1,
                    _ => return Some(Err(Malformed::BadRequest)),
                }
            }
            if buf[self.pos] == b'\n' {
                let line = &buf[self.line_start..self.pos];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.is_empty() && self.past_request_line {
                    return Some(Ok(self.pos + 1));
                }
                if line.len() > limits.max_request_line_bytes {
                    return Some(Err(too_long(self.past_request_line)));
                }
                // An HTTP/0.9 simple request is its request line alone: `GET /path`.
                if limits.http09 && !self.past_request_line && !line.is_empty() && line.split(|&b| b == b' ').count() == 2 {
                    return Some(Ok(self.pos + 1));
                }
                self.past_request_line |= !line.is_empty();
                self.line_start = self.pos + 1;
            }
            self.pos += 1;
        }
        if buf.len() - self.line_start > limits.max_request_line_bytes {
            return Some(Err(too_long(self.past_request_line)));
        }
        if buf.len() > limits.max_head_bytes {
            return Some(Err(Malformed::HeaderTooLarge));
        }
        None
    }
}

/// Parses a request line: `METHOD SP target SP HTTP/1.x`. The target may hold any byte
/// but space and controls (non-UTF-8 paths are recorded, as nginx serves them).
fn request_line(line: &[u8]) -> Result<(Vec<u8>, Vec<u8>, Version), Malformed> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), version, None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Malformed::BadRequest);
    };
    // nginx accepts only upper-case methods.
    if method.is_empty() || !method.iter().all(|&b| b.is_ascii_uppercase() || b == b'_' || b == b'-') {
        return Err(Malformed::BadRequest);
    }
    if target.is_empty() || target.iter().any(|&b| b < 0x21 || b == 0x7f) || !(target.starts_with(b"/") || target.windows(3).any(|w| w == b"://")) {
        return Err(Malformed::BadRequest);
    }
    let version = match version.unwrap_or_default() {
        // No version at all: an HTTP/0.9 simple request.
        b"" if version.is_none() => Version::Http09,
        b"HTTP/1.0" => Version::Http10,
        v if v.len() == 8 && v.starts_with(b"HTTP/1.") && v[7].is_ascii_digit() => Version::Http11,
        // A well-formed later version is refused for what it is (nginx: 505).
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] if (b'2'..=b'9').contains(major) && minor.is_ascii_digit() => {
            return Err(Malformed::VersionNotSupported)
        }
        _ => return Err(Malformed::BadRequest),
    };
    Ok((method.to_vec(), target.to_vec(), version))
}

/// Parses a complete head into a request (body still empty) and its body framing.
pub(crate) fn parse_head(head: &[u8], max_headers: usize) -> Result<(Request, Framing), Malformed> {
    let start = head.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(head.len());
    let head = &head[start..];
    let nl = head.iter().position(|&b| b == b'\n').ok_or(Malformed::BadRequest)?;
    let (method, target, version) = request_line(&head[..nl])?;
    if version == Version::Http09 {
        return Ok((Request { method, target, version, headers: Vec::new(), body: Default::default() }, Framing::None));
    }
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    let headers = match httparse::parse_headers(&head[nl + 1..], &mut slots) {
        Ok(httparse::Status::Complete((_, headers))) => headers,
        Err(httparse::Error::TooManyHeaders) => return Err(Malformed::HeaderTooLarge),
        _ => return Err(Malformed::BadRequest),
    };
    let headers: Vec<(Vec<u8>, Vec<u8>)> = headers.iter().map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec())).collect();
    let request = Request { method, target, version, headers, body: Default::default() };
    let framing = framing(&request)?;
    Ok((request, framing))
}

fn framing(request: &Request) -> Result<Framing, Malformed> {
    if let Some(te) = request.header("transfer-encoding") {
        let last = te.rsplit(|&b| b == b',').next().unwrap_or_default().trim_ascii();
        return if last.eq_ignore_ascii_case(b"chunked") { Ok(Framing::Chunked) } else { Err(Malformed::NotImplemented) };
    }
    let mut length = None;
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case(b"content-length") {
            let text = std::str::from_utf8(value.trim_ascii()).map_err(|_| Malformed::BadRequest)?;
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Malformed::BadRequest);
            }
            let n: u64 = text.parse().map_err(|_| Malformed::BadRequest)?;
            if length.is_some_and(|l| l != n) {
                return Err(Malformed::BadRequest);
            }
            length = Some(n);
        }
    }
    Ok(length.filter(|&n| n > 0).map_or(Framing::None, Framing::Length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_end(buf: &[u8]) -> Option<usize> {
        HeadScan::default().advance(buf, &limits(0)).and_then(Result::ok)
    }

    #[test]
    fn heads_end_at_the_blank_line_with_crlf_or_bare_lf() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: x\n\n"), Some(24));
        assert_eq!(head_end(b"\r\nGET / HTTP/1.1\r\n\r\n"), Some(20));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_end(b""), None);
    }

    #[test]
    fn a_head_fed_one_byte_at_a_time_is_found_the_same_and_limits_apply() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut scan = HeadScan::default();
        let found = (1..=head.len()).find_map(|n| scan.advance(&head[..n], &limits(0)));
        assert_eq!(found, Some(Ok(head.len())));
        let long_line = [&b"GET /"[..], &[b'a'; 600]].concat();
        assert_eq!(HeadScan::default().advance(&long_line, &limits(0)), Some(Err(Malformed::UriTooLong)));
        let long_header = [&b"GET / HTTP/1.1\r\nX: "[..], &[b'a'; 600]].concat();
        assert_eq!(HeadScan::default().advance(&long_header, &limits(0)), Some(Err(Malformed::HeaderTooLarge)));
        let many: Vec<u8> = [&b"GET / HTTP/1.1\r\n"[..], &b"X: y\r\n".repeat(300)].concat();
        assert_eq!(HeadScan::default().advance(&many, &limits(0)), Some(Err(Malformed::HeaderTooLarge)));
    }

    #[test]
    fn with_nginxs_parser_a_byte_no_method_has_is_refused_as_it_arrives() {
        let nginx = H1Limits { early_method_check: true, ..limits(0) };
        let refused = Some(Err(Malformed::BadRequest));
        for (sent, want) in [
            (&b"\x16\x03\x01"[..], refused),
            (b"GET\x01", refused),
            (b"GEt", refused),
            (b"\r\nget", refused),
            (b" GET", refused),
            (b"\r\n\r\nGET /", None),
            (b"M-SEARCH_X / HT", None),
            (b"GET /\x16 HTTP", None),
        ] {
            assert_eq!(HeadScan::default().advance(sent, &nginx), want, "{sent:?}");
            assert_eq!(HeadScan::default().advance(sent, &limits(0)), None, "others wait for the line: {sent:?}");
        }
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut scan = HeadScan::default();
        assert_eq!((1..=head.len()).find_map(|n| scan.advance(&head[..n], &nginx)), Some(Ok(head.len())), "byte by byte");
    }

    #[test]
    fn table_of_heads() {
        let ok = |h: &[u8]| parse_head(h, 8).map(|(r, _)| r);
        let r = ok(b"GET /a?b HTTP/1.0\r\nX-A: 1\r\n\r\n").unwrap();
        assert_eq!((r.method.as_slice(), r.target.as_slice(), r.version), (&b"GET"[..], &b"/a?b"[..], Version::Http10));
        assert_eq!(r.headers[0], (b"X-A".to_vec(), b"1".to_vec()), "names keep their case");
        assert!(ok(b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n").is_ok(), "non-UTF-8 paths are recorded, not refused");
        assert_eq!(ok(b"GARBAGE\r\n\r\n").unwrap_err(), Malformed::BadRequest);
        assert_eq!(ok(b"get / HTTP/1.1\r\n\r\n").unwrap_err(), Malformed::BadRequest);
        assert_eq!(ok(b"PRI * HTTP/2.0\r\n\r\n").unwrap_err(), Malformed::BadRequest);
        assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err(), Malformed::BadRequest);
        let many: Vec<u8> = [&b"GET / HTTP/1.1\r\n"[..], &b"X: y\r\n".repeat(9), b"\r\n"].concat();
        assert_eq!(ok(&many).unwrap_err(), Malformed::HeaderTooLarge);
        assert_eq!(parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 8).err(), Some(Malformed::NotImplemented));
        assert_eq!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 8).err(), Some(Malformed::BadRequest));
        assert_eq!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 8).err(), Some(Malformed::BadRequest));
        assert!(matches!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 8), Ok((_, Framing::Length(5)))));
        assert!(matches!(parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 8), Ok((_, Framing::Chunked))));
    }

    fn limits(cap: u64) -> H1Limits {
        H1Limits {
            max_head_bytes: 1024,
            max_request_line_bytes: 512,
            max_headers: 8,
            header_timeout: Duration::from_secs(1),
            keep_alive_timeout: Duration::from_secs(1),
            max_body_bytes: cap,
            body_kept: 4,
            refuse_body_over: None,
            http09: false,
            early_method_check: false,
        }
    }

    #[tokio::test]
    async fn chunked_bodies_decode_and_stop_at_the_cap() {
        let mut buf = BytesMut::from(&b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT"[..]);
        let mut body = BodyReader::new(4);
        let mut io = tokio::io::empty();
        assert_eq!(read_chunked(&mut io, &mut buf, &mut body, limits(100).body()).await.ok(), Some(true));
        assert_eq!(&buf[..], b"NEXT", "the next request stays in the buffer");
        assert_eq!(body.finish(false).bytes, 7);
        let mut buf = BytesMut::from(&b"10\r\n0123456789abcdef\r\n0\r\n\r\n"[..]);
        let mut body = BodyReader::new(4);
        assert_eq!(read_chunked(&mut io, &mut buf, &mut body, limits(5).body()).await.ok(), Some(false));
        assert_eq!(body.bytes(), 5);
        let mut buf = BytesMut::from(&b"zz\r\n"[..]);
        assert!(read_chunked(&mut io, &mut buf, &mut BodyReader::new(4), limits(5).body()).await.is_err());
    }

    #[tokio::test]
    async fn a_length_body_is_read_up_to_the_cap_only() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        client.write_all(&[b'x'; 100]).await.unwrap();
        let mut buf = BytesMut::from(&b"abc"[..]);
        let mut body = BodyReader::new(4);
        assert_eq!(read_length(&mut server, &mut buf, 1000, &mut body, limits(50).body()).await.ok(), Some(false));
        assert_eq!(body.bytes(), 50);
    }
}
