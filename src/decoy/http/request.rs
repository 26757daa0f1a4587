//! Turning a request into an `http_request` event: method, target, headers as a
//! capped name/value list, user agent, credentials, and the body's size, hash and
//! first bytes. Pure functions over a parsed request.

use base64::Engine as _;

use super::message::Request;
use crate::event::{AttackerBytes, HttpCredential, HttpHeader};

/// Most headers kept per request.
pub const MAX_HEADERS: usize = 64;
/// Longest header value kept.
pub const MAX_HEADER_VALUE: usize = 8192;
/// Body bytes kept in the event.
pub const BODY_KEPT: usize = 1024;

/// The request's headers as a capped list; true when some were cut.
pub fn headers(req: &Request) -> (Vec<HttpHeader>, bool) {
    let mut out = Vec::new();
    let mut truncated = false;
    for (name, v) in &req.headers {
        if out.len() == MAX_HEADERS {
            truncated = true;
            break;
        }
        truncated |= v.len() > MAX_HEADER_VALUE || name.len() > MAX_HEADER_VALUE;
        out.push(HttpHeader {
            name: AttackerBytes::new(&name[..name.len().min(MAX_HEADER_VALUE)]),
            value: AttackerBytes::new(&v[..v.len().min(MAX_HEADER_VALUE)]),
        });
    }
    (out, truncated)
}

/// Credentials in the `Authorization` header: Basic, Bearer, or AWS SigV4's access key id.
pub fn credential(req: &Request) -> Option<HttpCredential> {
    let value = req.header("authorization")?;
    let value = &value[..value.len().min(MAX_HEADER_VALUE)];
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(i) => (&value[..i], value[i + 1..].trim_ascii()),
        None => (value, &[][..]),
    };
    if scheme.eq_ignore_ascii_case(b"basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let colon = decoded.iter().position(|&b| b == b':')?;
        return Some(HttpCredential {
            scheme: "basic".into(),
            username: Some(AttackerBytes::new(&decoded[..colon])),
            secret: Some(AttackerBytes::new(&decoded[colon + 1..])),
        });
    }
    if scheme.eq_ignore_ascii_case(b"bearer") {
        return Some(HttpCredential { scheme: "bearer".into(), username: None, secret: Some(AttackerBytes::new(rest)) });
    }
    if scheme == b"AWS4-HMAC-SHA256" {
        let text = String::from_utf8_lossy(rest);
        let key_id = text.split(',').find_map(|part| part.trim().strip_prefix("Credential="))?.split('/').next()?.to_string();
        return Some(HttpCredential { scheme: "aws-sigv4".into(), username: None, secret: Some(AttackerBytes::new(key_id)) });
    }
    None
}

/// Decodes `application/x-www-form-urlencoded` percent escapes and `+`.
fn form_decode(raw: &[u8]) -> Vec<u8> {
    percent_decode(raw, true)
}

/// Decodes `%xx` escapes (invalid ones are kept as they are), and `+` as a space
/// when `plus_is_space` (form encoding).
pub fn percent_decode(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(raw[i + 1]), hex(raw[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Username and password posted to a login form (`None` unless both fields are there).
pub fn form_login(body: &[u8], username_field: &str, password_field: &str) -> Option<HttpCredential> {
    let mut username = None;
    let mut password = None;
    for pair in body.split(|&b| b == b'&') {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let name = form_decode(name);
        if name == username_field.as_bytes() {
            username = Some(AttackerBytes::new(form_decode(value)));
        } else if name == password_field.as_bytes() {
            password = Some(AttackerBytes::new(form_decode(value)));
        }
    }
    password.map(|p| HttpCredential { scheme: "form".into(), username, secret: Some(p) })
}

/// The path with `.` and `..` segments resolved (also percent-encoded ones) and
/// repeated slashes merged, as nginx routes it; None if it climbs above the root.
pub fn normalise_path(path: &[u8]) -> Option<Vec<u8>> {
    let dots = |segment: &[u8]| -> usize {
        match percent_decode(segment, false).as_slice() {
            b"." => 1,
            b".." => 2,
            _ => 0,
        }
    };
    let mut kept: Vec<&[u8]> = Vec::new();
    // A path ending in `/`, `.` or `..` names a directory: it keeps its trailing slash.
    let mut trailing = false;
    for segment in path.split(|&b| b == b'/') {
        let kind = if segment.is_empty() { 1 } else { dots(segment) };
        trailing = kind > 0;
        match kind {
            1 => {}
            2 => {
                kept.pop()?;
            }
            _ => kept.push(segment),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for segment in &kept {
        out.push(b'/');
        out.extend_from_slice(segment);
    }
    if trailing || out.is_empty() {
        out.push(b'/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_paths_as_nginx_routes_them() {
        for (path, want) in [
            ("/", Some("/")),
            ("/a/../", Some("/")),
            ("//index.html", Some("/index.html")),
            ("/./index.html", Some("/index.html")),
            ("/a/b/..", Some("/a/")),
            ("/a/%2e%2E/b", Some("/b")),
            ("/../", None),
            ("/..", None),
            ("/%2e%2e/", None),
            ("/a/../../etc/passwd", None),
        ] {
            assert_eq!(normalise_path(path.as_bytes()).map(|p| String::from_utf8(p).unwrap()), want.map(str::to_string), "{path}");
        }
    }

    #[test]
    fn form_fields_are_decoded() {
        let c = form_login(b"username=dr.smith%40trust&password=Winter+2026%21&remember=on", "username", "password").unwrap();
        assert_eq!(c.username.unwrap().as_bytes(), b"dr.smith@trust");
        assert_eq!(c.secret.unwrap().as_bytes(), b"Winter 2026!");
        assert!(form_login(b"username=x", "username", "password").is_none());
        assert_eq!(form_login(b"password=%zz%4", "u", "password").unwrap().secret.unwrap().as_bytes(), b"%zz%4");
    }

    fn parts(auth: &str) -> Request {
        Request {
            method: b"GET".to_vec(),
            target: b"/".to_vec(),
            version: super::super::message::Version::Http11,
            headers: vec![(b"Authorization".to_vec(), auth.as_bytes().to_vec())],
            body: Default::default(),
        }
    }

    #[test]
    fn table_of_authorization_headers() {
        let basic = credential(&parts("Basic YWRtaW46czNjcmV0")).unwrap();
        assert_eq!((basic.scheme.as_str(), basic.username.unwrap().as_bytes(), basic.secret.unwrap().as_bytes()), ("basic", &b"admin"[..], &b"s3cret"[..]));
        let bearer = credential(&parts("Bearer glpat-abc")).unwrap();
        assert_eq!(bearer.secret.unwrap().as_bytes(), b"glpat-abc");
        let aws = credential(&parts("AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20261128/eu-west-2/s3/aws4_request, SignedHeaders=host, Signature=ab"))
            .unwrap();
        assert_eq!((aws.scheme.as_str(), aws.secret.unwrap().as_bytes()), ("aws-sigv4", &b"AKIAABCDEFGHIJKLMNOP"[..]));
        assert!(credential(&parts("Basic !!!notbase64")).is_none());
        assert!(credential(&parts("Digest x")).is_none());
    }
}
