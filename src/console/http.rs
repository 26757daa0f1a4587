//! Responses, cookies and forms for the console. Every page is sent with a strict
//! Content-Security-Policy (own scripts and styles only, no framing) and no caching.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use hyper::{HeaderMap, Response, StatusCode};

pub type Reply = Response<Full<Bytes>>;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hw_session";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn base(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CSP));
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    r
}

pub fn html(status: StatusCode, body: String) -> Reply {
    base(status, "text/html; charset=utf-8", body)
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    base(status, "application/json", value.to_string())
}

pub fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    base(status, content_type, body)
}

/// 303 to a path on this console.
pub fn redirect(to: &str) -> Reply {
    let mut r = base(StatusCode::SEE_OTHER, "text/plain", "");
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// A file download; `name` is ours (never attacker text).
pub fn attachment(name: &str, bytes: Vec<u8>) -> Reply {
    let mut r = base(StatusCode::OK, "application/octet-stream", bytes);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(HeaderName::from_static("content-disposition"), v);
    }
    r
}

/// Sets (or with `None`, clears) the session cookie.
pub fn with_session(mut r: Reply, secret: Option<&str>, max_age_secs: u64) -> Reply {
    let cookie = match secret {
        Some(s) => format!("{SESSION_COOKIE}={s}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// The session cookie's value, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
}

/// A urlencoded form's value.
pub fn form_value(body: &[u8], key: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// A query string's value.
pub fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_value(query.unwrap_or("").as_bytes(), key)
}

/// Constant-time comparison of two secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    crate::secret_eq::same(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_bounded() {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::COOKIE, HeaderValue::from_static("a=1; hw_session=abc; b=2"));
        assert_eq!(session_cookie(&h).as_deref(), Some("abc"));
        h.insert(hyper::header::COOKIE, HeaderValue::from_static("hw_sessionx=1; hw_session="));
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn forms_decode_and_secrets_compare() {
        assert_eq!(form_value(b"csrf=a%2Bb&label=x+y", "label").as_deref(), Some("x y"));
        assert_eq!(form_value(b"csrf=a%2Bb", "csrf").as_deref(), Some("a+b"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
        let r = with_session(html(StatusCode::OK, String::new()), Some("s3cr3t"), 60);
        let cookie = r.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"));
        assert!(r.headers().get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}
