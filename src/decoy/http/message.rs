//! Protocol-neutral request and response: what the HTTP/1 reader and the h2 adapter
//! hand to the exchange, and what it hands back. Bytes stay bytes: every field of a
//! request is the attacker's.

use bytes::Bytes;

/// HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// A simple request: `GET /path` alone; the answer is the body alone.
    Http09,
    Http10,
    Http11,
    H2,
}

impl Version {
    /// As recorded in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http09 => "HTTP/0.9",
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::H2 => "HTTP/2.0",
        }
    }
}

/// What was read of a request body (never more than the cap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodySummary {
    /// Bytes read (up to the cap).
    pub bytes: u64,
    /// sha256 (hex) of the bytes read, when there were any.
    pub sha256: Option<String>,
    /// The first bytes, kept for the event.
    pub kept: Vec<u8>,
    /// The body went on past the cap and was not read.
    pub over_cap: bool,
}

/// Hashes and keeps the start of a body as it streams in.
pub struct BodyReader {
    summary: BodySummary,
    hash: ring::digest::Context,
    keep: usize,
}

impl BodyReader {
    /// Keeps the first `keep` bytes.
    pub fn new(keep: usize) -> Self {
        BodyReader { summary: BodySummary::default(), hash: ring::digest::Context::new(&ring::digest::SHA256), keep }
    }

    pub fn update(&mut self, data: &[u8]) {
        let room = self.keep.saturating_sub(self.summary.kept.len());
        self.summary.kept.extend_from_slice(&data[..data.len().min(room)]);
        self.hash.update(data);
        self.summary.bytes += data.len() as u64;
    }

    pub fn bytes(&self) -> u64 {
        self.summary.bytes
    }

    pub fn finish(mut self, over_cap: bool) -> BodySummary {
        if self.summary.bytes > 0 {
            self.summary.sha256 = Some(self.hash.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect());
        }
        self.summary.over_cap = over_cap;
        self.summary
    }
}

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Vec<u8>,
    /// The request target exactly as sent (origin form, absolute form or `*`).
    pub target: Vec<u8>,
    pub version: Version,
    /// Header names and values as sent, in order (names as sent, not lower-cased).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: BodySummary,
}

impl Request {
    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v.as_slice())
    }

    /// The path part of the target (before `?`), for routing.
    pub fn path(&self) -> &[u8] {
        let t = self.target.as_slice();
        // Absolute form (`GET http://host/path`): route on the path.
        let t = match t.windows(3).position(|w| w == b"://") {
            Some(i) if !t.starts_with(b"/") => {
                let rest = &t[i + 3..];
                rest.iter().position(|&b| b == b'/').map_or(&b"/"[..], |j| &rest[j..])
            }
            _ => t,
        };
        t.iter().position(|&b| b == b'?' || b == b'#').map_or(t, |i| &t[..i])
    }

    /// Whether the client asked to keep the connection open (HTTP/1.x rules).
    pub fn wants_keep_alive(&self) -> bool {
        let connection = self.header("connection").unwrap_or_default();
        let has = |token: &str| connection.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()));
        match self.version {
            Version::Http09 => false,
            Version::Http10 => has("keep-alive"),
            Version::Http11 => !has("close"),
            Version::H2 => true,
        }
    }
}

/// A response, headers in the order they go on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Send the head only (HEAD requests); Content-Length still describes the body.
    pub head_only: bool,
    /// Close the connection after this response.
    pub close: bool,
    /// Bytes to send instead of status line, headers and body (a product's parser
    /// errors, captured whole).
    pub raw: Option<Bytes>,
}

impl Response {
    /// The HTTP/1.1 bytes of this response: status line, headers, blank line, body.
    /// The status line is always `HTTP/1.1`, as nginx and most servers answer 1.0 clients.
    pub fn encode_http1(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        if let Some(raw) = &self.raw {
            out.extend_from_slice(raw);
            return;
        }
        let _ = write!(out, "HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !self.head_only {
            out.extend_from_slice(&self.body);
        }
    }
}

/// Why a request could not be served normally; the exchange picks the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The head does not parse (400).
    BadRequest,
    /// Too many or too long headers (nginx: 400 "Request Header Or Cookie Too Large").
    HeaderTooLarge,
    /// Request line longer than the cap (414).
    UriTooLong,
    /// A transfer coding other than chunked (501).
    NotImplemented,
    /// `HTTP/2.0` or a later major version in an HTTP/1 request line (505).
    VersionNotSupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &[u8], version: Version, headers: &[(&str, &str)]) -> Request {
        Request {
            method: b"GET".to_vec(),
            target: target.to_vec(),
            version,
            headers: headers.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect(),
            body: BodySummary::default(),
        }
    }

    #[test]
    fn paths_come_from_origin_and_absolute_forms() {
        assert_eq!(req(b"/a/b?x=1", Version::Http11, &[]).path(), b"/a/b");
        assert_eq!(req(b"http://h:80/a?x", Version::Http11, &[]).path(), b"/a");
        assert_eq!(req(b"http://h", Version::Http11, &[]).path(), b"/");
        assert_eq!(req(b"/\xff\xfe", Version::Http11, &[]).path(), b"/\xff\xfe");
        assert_eq!(req(b"*", Version::Http11, &[]).path(), b"*");
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        assert!(req(b"/", Version::Http11, &[]).wants_keep_alive());
        assert!(!req(b"/", Version::Http11, &[("Connection", "Close")]).wants_keep_alive());
        assert!(!req(b"/", Version::Http10, &[]).wants_keep_alive());
        assert!(req(b"/", Version::Http10, &[("connection", "TE, keep-alive")]).wants_keep_alive());
    }

    #[test]
    fn responses_encode_with_headers_in_order_and_no_body_for_head() {
        let mut r = Response {
            status: 405,
            reason: "Not Allowed".into(),
            headers: vec![("Server".into(), "nginx".into()), ("ETag".into(), "\"1\"".into())],
            body: Bytes::from_static(b"x"),
            head_only: false,
            close: false,
            raw: None,
        };
        let mut out = Vec::new();
        r.encode_http1(&mut out);
        assert_eq!(out, b"HTTP/1.1 405 Not Allowed\r\nServer: nginx\r\nETag: \"1\"\r\n\r\nx");
        r.head_only = true;
        out.clear();
        r.encode_http1(&mut out);
        assert!(out.ends_with(b"\r\n\r\n"));
    }

    #[test]
    fn bodies_are_hashed_whole_and_kept_in_part() {
        let mut b = BodyReader::new(4);
        b.update(b"abc");
        b.update(b"def");
        let s = b.finish(false);
        assert_eq!((s.bytes, s.kept.as_slice()), (6, &b"abcd"[..]));
        assert_eq!(s.sha256.unwrap(), "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721");
    }
}
