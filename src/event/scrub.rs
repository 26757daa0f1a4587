//! Removing a planted secret from everywhere an event carries it, once a token hit
//! shows it is one. The hit names the token, so nothing of the secret needs to stay:
//! not in the credential field, and not in what the attacker sent around it — the
//! request target (query string), the headers (an `Authorization: Basic` header holds
//! it base64-encoded with the user name), the body (a form holds it percent-encoded),
//! or captured bytes. A secret cut by the body's capture limit loses its tail too.

use base64::Engine;

use super::bytes::AttackerBytes;
use super::kind::{EventKind, HttpHeader};

/// What a removed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shortest tail of a cut-off secret that is still removed.
const MIN_TAIL: usize = 4;

impl EventKind {
    /// Takes a planted secret out of the event (see the module's text). Returns the
    /// secret removed, if the event carried one.
    pub fn redact_token_secret(&mut self) -> Option<Vec<u8>> {
        let secret = match self {
            EventKind::SshAuth { password, .. } => password.take().map(|p| p.as_bytes().to_vec()),
            EventKind::HttpRequest { credential: Some(c), .. } if c.scheme != "aws-sigv4" => c.secret.take().map(|s| s.as_bytes().to_vec()),
            // A planted account's crackable response is the token's, not evidence.
            EventKind::NtlmAuth { hashcat, .. } => return hashcat.take().map(|h| h.as_bytes().to_vec()),
            _ => None,
        }?;
        self.scrub(&secret);
        Some(secret)
    }

    /// Replaces every form of `secret` in what the attacker sent.
    pub fn scrub(&mut self, secret: &[u8]) {
        if secret.len() < MIN_TAIL {
            return;
        }
        let forms = forms(secret);
        match self {
            EventKind::HttpRequest { target, headers, user_agent, body, .. } => {
                replace(target, &forms, false);
                for h in headers.iter_mut() {
                    scrub_header(h, secret, &forms);
                }
                if let Some(ua) = user_agent {
                    replace(ua, &forms, false);
                }
                if let Some(b) = body {
                    replace(b, &forms, true);
                }
            }
            EventKind::DataReceived { data, truncated } => {
                let cut = *truncated;
                replace(data, &forms, cut);
            }
            _ => {}
        }
    }
}

/// The secret as sent, and percent-encoded (upper and lower case hex; `+` or `%20`
/// for spaces), longest first.
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![secret.to_vec()];
    for (upper, plus) in [(true, false), (false, false), (true, true), (false, true)] {
        let mut f = Vec::with_capacity(secret.len() * 3);
        for &b in secret {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*') {
                f.push(b);
            } else if b == b' ' && plus {
                f.push(b'+');
            } else if upper {
                f.extend_from_slice(format!("%{b:02X}").as_bytes());
            } else {
                f.extend_from_slice(format!("%{b:02x}").as_bytes());
            }
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.len()));
    out
}

/// Replaces every occurrence of each form; with `cut`, also a tail that starts a form.
fn replace(bytes: &mut AttackerBytes, forms: &[Vec<u8>], cut: bool) {
    let mut text = bytes.as_bytes().to_vec();
    let mut changed = false;
    for f in forms {
        if let Some(replaced) = replace_all(&text, f) {
            text = replaced;
            changed = true;
        }
    }
    if cut {
        if let Some(start) = forms.iter().filter_map(|f| cut_tail(&text, f)).min() {
            text.truncate(start);
            text.extend_from_slice(REDACTED.as_bytes());
            changed = true;
        }
    }
    if changed {
        *bytes = AttackerBytes::new(text);
    }
}

fn replace_all(text: &[u8], needle: &[u8]) -> Option<Vec<u8>> {
    let first = find(text, needle)?;
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    let mut at = Some(first);
    while let Some(i) = at {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(REDACTED.as_bytes());
        rest = &rest[i + needle.len()..];
        at = find(rest, needle);
    }
    out.extend_from_slice(rest);
    Some(out)
}

fn find(text: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > text.len() {
        return None;
    }
    text.windows(needle.len()).position(|w| w == needle)
}

/// Where a tail of `text` that is the start of `form` (at least [`MIN_TAIL`] bytes)
/// begins: a secret cut by the capture limit.
fn cut_tail(text: &[u8], form: &[u8]) -> Option<usize> {
    let longest = form.len().saturating_sub(1).min(text.len());
    (MIN_TAIL..=longest).rev().find(|&n| text.ends_with(&form[..n])).map(|n| text.len() - n)
}

/// An `Authorization: Basic` header whose decoded `user:password` holds the secret
/// loses its value whole; any other header has the secret's forms replaced.
fn scrub_header(h: &mut HttpHeader, secret: &[u8], forms: &[Vec<u8>]) {
    let name = h.name.as_bytes();
    if name.eq_ignore_ascii_case(b"authorization") || name.eq_ignore_ascii_case(b"proxy-authorization") {
        let value = h.value.as_bytes();
        if value.len() > 6 && value[..6].eq_ignore_ascii_case(b"basic ") {
            let encoded: Vec<u8> = value[6..].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            let decoded = base64::engine::general_purpose::STANDARD.decode(&encoded).unwrap_or_default();
            if find(&decoded, secret).is_some() {
                h.value = AttackerBytes::new(format!("Basic {REDACTED}"));
                return;
            }
        }
    }
    replace(&mut h.value, forms, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::HttpCredential;

    const SECRET: &str = "Winter 2026!ward7";

    fn request(target: &str, headers: &[(&str, &str)], body: &str) -> EventKind {
        EventKind::HttpRequest {
            method: AttackerBytes::new("POST"),
            target: AttackerBytes::new(target),
            version: "HTTP/1.1".into(),
            headers: headers.iter().map(|(n, v)| HttpHeader { name: AttackerBytes::new(*n), value: AttackerBytes::new(*v) }).collect(),
            headers_truncated: false,
            user_agent: None,
            credential: Some(HttpCredential {
                scheme: "basic".into(),
                username: Some(AttackerBytes::new("svc_ris")),
                secret: Some(AttackerBytes::new(SECRET)),
            }),
            body_bytes: body.len() as u64,
            body_sha256: None,
            body: Some(AttackerBytes::new(body)),
            status: 401,
            tags: Vec::new(),
        }
    }

    fn leaks(kind: &EventKind) -> Vec<String> {
        let text = serde_json::to_string(kind).unwrap_or_default();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc_ris:{SECRET}"));
        let mut found = Vec::new();
        for form in
            [SECRET.to_string(), "Winter+2026%21ward7".into(), "Winter%202026%21ward7".into(), "winter%202026%21ward7".into(), basic, "Winter 20".into()]
        {
            if text.contains(&form) {
                found.push(form);
            }
        }
        found
    }

    #[test]
    fn the_secret_leaves_the_header_the_query_the_form_and_the_credential() {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc_ris:{SECRET}"));
        let mut kind = request(
            "/login?user=svc_ris&pw=Winter%202026%21ward7&next=/",
            &[("Authorization", &format!("Basic {basic}")), ("X-Note", "pw Winter 2026!ward7"), ("Host", "ehr")],
            "username=svc_ris&password=Winter+2026%21ward7&remember=1",
        );
        assert!(!leaks(&kind).is_empty());
        assert_eq!(kind.redact_token_secret().as_deref(), Some(SECRET.as_bytes()));
        assert!(leaks(&kind).is_empty(), "{:?}: {}", leaks(&kind), serde_json::to_string(&kind).unwrap_or_default());
        let EventKind::HttpRequest { target, headers, body, credential, .. } = &kind else { panic!() };
        assert_eq!(target.as_bytes(), b"/login?user=svc_ris&pw=[redacted]&next=/");
        assert_eq!(headers[0].value.as_bytes(), b"Basic [redacted]");
        assert_eq!(headers[2].value.as_bytes(), b"ehr", "other headers are left alone");
        assert_eq!(body.as_ref().map(AttackerBytes::as_bytes), Some(&b"username=svc_ris&password=[redacted]&remember=1"[..]));
        assert_eq!(credential.as_ref().and_then(|c| c.username.as_ref()).map(AttackerBytes::as_bytes), Some(&b"svc_ris"[..]), "the user name stays");
    }

    #[test]
    fn a_secret_cut_by_the_capture_limit_loses_its_tail() {
        let mut kind = request("/", &[], "a=1&password=Winter+20");
        kind.redact_token_secret();
        let EventKind::HttpRequest { body, .. } = &kind else { panic!() };
        assert_eq!(body.as_ref().map(AttackerBytes::as_bytes), Some(&b"a=1&password=[redacted]"[..]));
    }

    #[test]
    fn an_ssh_password_is_taken_and_nothing_else_changes() {
        let mut kind = EventKind::SshAuth {
            method: crate::event::SshAuthMethod::Password,
            username: AttackerBytes::new("backup"),
            password: Some(AttackerBytes::new(SECRET)),
            key_fingerprint: None,
            key_algorithm: None,
            accepted: true,
            methods_tried: None,
        };
        assert!(kind.redact_token_secret().is_some());
        assert!(matches!(&kind, EventKind::SshAuth { password: None, username, .. } if username.as_bytes() == b"backup"));
    }
}
