//! A decoded h2 header list turned into the decoy's [`Request`], checked as nginx
//! 1.22 checks it (reset, 400 or 501), `:authority` as Host, cookies joined.

use super::hpack::Field;
use crate::decoy::http::message::{BodySummary, Request, Version};

/// What a header list that is not a request gets, as nginx decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The 400 page.
    BadRequest,
    /// The 501 page (a transfer coding other than chunked).
    NotImplemented,
    /// RST_STREAM with PROTOCOL_ERROR (a name or value h2 forbids).
    Malformed,
}

/// The request head of a stream whose body may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Head {
    pub fn into_request(self, body: BodySummary) -> Request {
        Request { method: self.method, target: self.target, version: Version::H2, headers: self.headers, body }
    }
}

/// Headers nginx refuses to see twice.
const ONCE_ONLY: [&[u8]; 10] = [
    b"content-length",
    b"content-range",
    b"if-modified-since",
    b"if-unmodified-since",
    b"if-match",
    b"if-none-match",
    b"if-range",
    b"transfer-encoding",
    b"expect",
    b"authorization",
];

/// What nginx makes of a header name's characters.
enum Name {
    Valid,
    /// Dropped without a word (`_`, `.`, bytes past ASCII: ignore_invalid_headers).
    Ignored,
    /// The stream is reset (upper case, controls, space, DEL, `:`).
    Forbidden,
}

fn name_class(name: &[u8]) -> Name {
    let mut class = Name::Valid;
    for &b in name {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => {}
            b'A'..=b'Z' | 0..=0x20 | 0x7f | b':' => return Name::Forbidden,
            _ => class = Name::Ignored,
        }
    }
    class
}

/// Checks a request's header list as nginx 1.22 does and builds its head.
/// `end_stream`: the HEADERS frame ended the stream (no body can follow).
pub fn head(fields: Vec<Field>, end_stream: bool) -> Result<Head, Refusal> {
    let (mut method, mut scheme, mut path, mut authority) = (None, None, None, None);
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(fields.len() + 1);
    let mut cookies: Vec<Vec<u8>> = Vec::new();
    let mut refusal = None;
    for Field { name, value } in fields {
        let (pseudo, bare) = match name.strip_prefix(b":") {
            Some(bare) => (true, bare),
            None => (false, name.as_slice()),
        };
        match name_class(bare) {
            Name::Forbidden => return Err(Refusal::Malformed),
            Name::Ignored if !pseudo => continue,
            _ => {}
        }
        if value.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(Refusal::Malformed);
        }
        if pseudo {
            let slot = match bare {
                b"method" => &mut method,
                b"scheme" => &mut scheme,
                b"path" => &mut path,
                b"authority" => &mut authority,
                _ => {
                    refusal.get_or_insert(Refusal::BadRequest);
                    continue;
                }
            };
            if slot.is_some() || value.is_empty() {
                refusal.get_or_insert(Refusal::BadRequest);
            }
            *slot = Some(value);
            continue;
        }
        if ONCE_ONLY.contains(&bare) && headers.iter().any(|(n, _)| n == &name) {
            refusal.get_or_insert(Refusal::BadRequest);
        }
        if name == b"cookie" {
            cookies.push(value);
            continue;
        }
        headers.push((name, value));
    }
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let (Some(method), Some(scheme), Some(path)) = (method, scheme, path) else { return Err(Refusal::BadRequest) };
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic) && scheme.iter().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b));
    if !method.iter().all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-') || !scheme_ok || path[0] != b'/' {
        return Err(Refusal::BadRequest);
    }
    let header = |name: &[u8]| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice());
    // :authority is nginx's Host: one of them, not both.
    if authority.is_some() == header(b"host").is_some() {
        return Err(Refusal::BadRequest);
    }
    let length = header(b"content-length").map(|v| std::str::from_utf8(v).ok().and_then(|v| v.parse::<u64>().ok()));
    if matches!(length, Some(None)) || (end_stream && matches!(length, Some(Some(n)) if n > 0)) {
        return Err(Refusal::BadRequest);
    }
    match header(b"transfer-encoding") {
        Some(te) if te.eq_ignore_ascii_case(b"chunked") && length.is_some() => return Err(Refusal::BadRequest),
        Some(te) if !te.eq_ignore_ascii_case(b"chunked") => return Err(Refusal::NotImplemented),
        _ => {}
    }
    if let Some(authority) = authority {
        headers.insert(0, (b"host".to_vec(), authority));
    }
    if !cookies.is_empty() {
        headers.push((b"cookie".to_vec(), cookies.join(&b"; "[..])));
    }
    Ok(Head { method, target: path, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(list: &[(&str, &str)]) -> Vec<Field> {
        list.iter().map(|(n, v)| Field { name: n.as_bytes().to_vec(), value: v.as_bytes().to_vec() }).collect()
    }

    #[test]
    fn a_request_becomes_a_head_with_host_first_and_cookies_joined() {
        let h = head(
            fields(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "pacs.example"),
                (":path", "/x?y"),
                ("cookie", "a=1"),
                ("user-agent", "curl"),
                ("cookie", "b=2"),
            ]),
            true,
        )
        .unwrap();
        assert_eq!(h.method, b"GET");
        assert_eq!(h.target, b"/x?y");
        let names: Vec<&[u8]> = h.headers.iter().map(|(n, _)| n.as_slice()).collect();
        assert_eq!(names, [&b"host"[..], b"user-agent", b"cookie"]);
        assert_eq!(h.headers[2].1, b"a=1; b=2");
    }

    #[test]
    fn lists_are_refused_as_nginx_refuses_them() {
        let base = [(":method", "GET"), (":scheme", "https"), (":authority", "a"), (":path", "/")];
        let with = |extra: &[(&str, &str)]| {
            let mut f = fields(&base);
            f.extend(fields(extra));
            head(f, true)
        };
        // Reset: names h2 forbids, line breaks in values.
        assert_eq!(with(&[("Upper", "x")]), Err(Refusal::Malformed));
        assert_eq!(with(&[("a b", "x")]), Err(Refusal::Malformed));
        assert_eq!(with(&[("x", "a\r\nb")]), Err(Refusal::Malformed));
        // 400: pseudo-headers unknown, repeated or empty; Host twice; bad numbers.
        assert_eq!(with(&[(":path", "/again")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[(":protocol", "x")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[("host", "b")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[("content-length", "x")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[("content-length", "5")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[("if-match", "a"), ("if-match", "b")]), Err(Refusal::BadRequest));
        assert_eq!(with(&[("transfer-encoding", "gzip")]), Err(Refusal::NotImplemented));
        // Accepted: connection-specific headers, te: gzip, odd names dropped,
        // pseudo-headers after regular ones, repeatable headers.
        assert!(with(&[("connection", "close"), ("te", "gzip"), ("upgrade", "h2c")]).is_ok());
        let h = with(&[("x_y", "1"), ("x.z", "2"), ("accept", "a"), ("accept", "b")]).unwrap();
        assert_eq!(h.headers.len(), 3);
        assert!(head(fields(&[(":method", "GET"), ("a", "b"), (":scheme", "https"), (":authority", "a"), (":path", "/")]), true).is_ok());
        let without = |skip: &str| head(fields(&base).into_iter().filter(|f| f.name != skip.as_bytes()).collect(), true);
        for pseudo in [":method", ":scheme", ":path", ":authority"] {
            assert_eq!(without(pseudo), Err(Refusal::BadRequest), "{pseudo}");
        }
        assert_eq!(head(fields(&[(":method", "get"), (":scheme", "https"), (":authority", "a"), (":path", "/")]), true), Err(Refusal::BadRequest));
        assert_eq!(head(fields(&[(":method", "GET"), (":scheme", "1x"), (":authority", "a"), (":path", "/")]), true), Err(Refusal::BadRequest));
        assert_eq!(head(fields(&[(":method", "OPTIONS"), (":scheme", "https"), (":authority", "a"), (":path", "*")]), true), Err(Refusal::BadRequest));
    }
}
