//! Turning a request into an `http_request` event: method, target, headers as a
//! capped name/value list, user agent, credentials, and the body's size, hash and
//! first bytes. Pure functions over what hyper parsed.

use base64::Engine as _;
use hyper::http::request::Parts;

use crate::event::{AttackerBytes, HttpCredential, HttpHeader};

/// Most headers kept per request.
pub const MAX_HEADERS: usize = 64;
/// Longest header value kept.
pub const MAX_HEADER_VALUE: usize = 8192;
/// Body bytes kept in the event.
pub const BODY_KEPT: usize = 1024;

/// The request's headers as a capped list; true when some were cut.
pub fn headers(parts: &Parts) -> (Vec<HttpHeader>, bool) {
    let mut out = Vec::new();
    let mut truncated = false;
    for (name, value) in parts.headers.iter() {
        if out.len() == MAX_HEADERS {
            truncated = true;
            break;
        }
        let v = value.as_bytes();
        truncated |= v.len() > MAX_HEADER_VALUE;
        out.push(HttpHeader { name: AttackerBytes::new(name.as_str()), value: AttackerBytes::new(&v[..v.len().min(MAX_HEADER_VALUE)]) });
    }
    (out, truncated)
}

/// Credentials in the `Authorization` header: Basic, Bearer, or AWS SigV4's access key id.
pub fn credential(parts: &Parts) -> Option<HttpCredential> {
    let value = parts.headers.get(hyper::header::AUTHORIZATION)?.as_bytes();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: &str) -> Parts {
        hyper::Request::builder().uri("/").header("authorization", auth).body(()).unwrap().into_parts().0
    }

    #[test]
    fn table_of_authorization_headers() {
        let basic = credential(&parts("Basic YWRtaW46czNjcmV0")).unwrap();
        assert_eq!((basic.scheme.as_str(), basic.username.unwrap().as_bytes(), basic.secret.unwrap().as_bytes()), ("basic", &b"admin"[..], &b"s3cret"[..]));
        let bearer = credential(&parts("Bearer glpat-abc")).unwrap();
        assert_eq!(bearer.secret.unwrap().as_bytes(), b"glpat-abc");
        let aws = credential(&parts("AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20261128/eu-west-2/s3/aws4_request, SignedHeaders=host, Signature=ab")).unwrap();
        assert_eq!((aws.scheme.as_str(), aws.secret.unwrap().as_bytes()), ("aws-sigv4", &b"AKIAABCDEFGHIJKLMNOP"[..]));
        assert!(credential(&parts("Basic !!!notbase64")).is_none());
        assert!(credential(&parts("Digest x")).is_none());
    }
}
