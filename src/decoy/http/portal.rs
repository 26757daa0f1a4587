//! The web application behind a sign-in personality: a session cookie set with the
//! page, a CSRF token bound to it in the form, a per-username lockout after repeated
//! failures (with the application's message), and the time a failed sign-in takes
//! while the application checks a password hash. Sessions are stateless (the token is
//! an HMAC of the session id); failures are counted in a bounded map.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::answer::Answer;
use super::message::Request;
pub use super::personality::{LockoutBy, PortalSettings};
use base64::Engine as _;
use rand::RngExt;

/// Most usernames whose failures are counted at once.
const MAX_TRACKED: usize = 10_000;

/// What became of a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// No valid session cookie or CSRF token: the session has expired.
    Expired,
    /// The username is locked (now, or from before).
    Locked,
    /// A failed sign-in; the username is not locked yet.
    Failed,
}

struct Failures {
    count: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

/// One decoy's application state.
pub struct Portal {
    pub settings: PortalSettings,
    key: ring::hmac::Key,
    failures: Mutex<HashMap<String, Failures>>,
}

/// A session id as PHP makes them: 26 characters of `0-9a-v`.
fn new_session() -> String {
    let mut rng = rand::rng();
    (0..26).map(|_| char::from(b"0123456789abcdefghijklmnopqrstuv"[rng.random_range(0..32)])).collect()
}

fn plausible_session(value: &str) -> bool {
    (22..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b',')
}

/// A `name=value` pair of `application/x-www-form-urlencoded` text.
fn form_field<'a>(body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    body.split(|&b| b == b'&').find_map(|pair| pair.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
}

impl Portal {
    pub fn new(settings: PortalSettings) -> Self {
        let secret: [u8; 32] = rand::random();
        Portal { settings, key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret), failures: Mutex::new(HashMap::new()) }
    }

    /// The request's session id, when its cookie carries a plausible one.
    pub fn session(&self, req: &Request) -> Option<String> {
        let name = self.settings.session_cookie.as_deref()?;
        let cookies = req.header("cookie")?;
        let text = std::str::from_utf8(cookies).ok()?;
        let value = text.split(';').find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))?;
        plausible_session(value).then(|| value.to_string())
    }

    /// The CSRF token of a session.
    pub fn csrf(&self, session: &str) -> String {
        let tag = ring::hmac::sign(&self.key, session.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..24])
    }

    /// Whether `path` is a page the application renders.
    pub fn renders(&self, path: &[u8]) -> bool {
        self.settings.pages.iter().any(|p| p.as_bytes() == path)
    }

    /// A rendered page: `{csrf}` filled for the request's session (a new one when it
    /// has none), `{message}` with the outcome's message, and the `Set-Cookie` value
    /// for a new session.
    pub fn render(&self, req: &Request, body: &str, outcome: Option<Attempt>) -> (String, Option<String>) {
        let (session, new) = match self.session(req) {
            Some(s) => (s, false),
            None => (new_session(), true),
        };
        let message = match outcome {
            None => "",
            Some(Attempt::Failed) => &self.settings.failed_message,
            Some(Attempt::Expired) => &self.settings.expired_message,
            Some(Attempt::Locked) => &self.settings.locked_message,
        };
        let page = body.replace("{csrf}", &self.csrf(&session)).replace("{message}", message);
        let cookie = self.settings.session_cookie.as_ref().filter(|_| new).map(|name| format!("{name}={session}; {}", self.settings.cookie_attributes));
        (page, cookie)
    }

    /// Judges a sign-in for `username` from `source` (every sign-in fails: this is a
    /// decoy).
    pub fn attempt(&self, req: &Request, username: &[u8], source: std::net::IpAddr) -> Attempt {
        if let Some(field) = &self.settings.csrf_field {
            let token = form_field(&req.body.kept, field);
            let valid = self.session(req).is_some_and(|s| token == Some(self.csrf(&s).as_bytes()));
            if !valid {
                return Attempt::Expired;
            }
        }
        let key = match self.settings.lockout_by {
            LockoutBy::Username => String::from_utf8_lossy(&username[..username.len().min(256)]).to_lowercase(),
            LockoutBy::Source => source.to_string(),
        };
        let now = Instant::now();
        let window = Duration::from_secs(self.settings.lockout_minutes * 60);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&key) {
            failures.retain(|_, f| f.locked_until.map_or(now.duration_since(f.first) < window, |until| until > now));
            if failures.len() >= MAX_TRACKED {
                return Attempt::Failed; // counted nowhere, still refused
            }
        }
        let f = failures.entry(key).or_insert(Failures { count: 0, first: now, locked_until: None });
        if f.locked_until.is_some_and(|until| until > now) {
            return Attempt::Locked;
        }
        if f.locked_until.is_some() || now.duration_since(f.first) >= window {
            *f = Failures { count: 0, first: now, locked_until: None };
        }
        f.count += 1;
        if f.count >= self.settings.lockout_attempts {
            f.locked_until = Some(now + self.settings.locked_minutes.map_or(window, |m| Duration::from_secs(m * 60)));
            return Attempt::Locked;
        }
        Attempt::Failed
    }

    /// `answer` as the application renders it when it is one of its pages (or a
    /// sign-in's answer): the session's CSRF token and the outcome's message filled in,
    /// a session cookie when the request had none, and never a static file's validators.
    pub fn rendered(&self, mut answer: Answer, req: &Request, path: Option<&[u8]>, sign_in: Option<Attempt>) -> Answer {
        if answer.status != 200 || !(sign_in.is_some() || path.is_some_and(|p| self.renders(p))) {
            return answer;
        }
        let (page, cookie) = self.render(req, &String::from_utf8_lossy(&answer.body), sign_in);
        answer.body = bytes::Bytes::from(page);
        answer.is_static = false;
        if let Some(cookie) = cookie {
            // PHP's session_start() sends the cookie before its cache headers.
            answer.extra.insert(0, ("Set-Cookie".into(), cookie));
        }
        answer
    }

    /// The tag of a sign-in refused by the lock: an account's lockout or an address's
    /// block.
    pub fn locked_tag(&self) -> &'static str {
        match self.settings.lockout_by {
            LockoutBy::Username => "account-locked",
            LockoutBy::Source => "source-blocked",
        }
    }

    /// How long a failed sign-in takes: a random time in the configured range.
    pub fn failure_delay(&self) -> Duration {
        let (low, high) = self.settings.failure_delay_ms;
        Duration::from_millis(rand::rng().random_range(low.min(high)..=high.max(low)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PortalSettings {
        PortalSettings {
            session_cookie: Some("PHPSESSID".into()),
            cookie_attributes: "path=/".into(),
            csrf_field: Some("csrf_token".into()),
            lockout_by: LockoutBy::Username,
            locked_minutes: None,
            pages: vec!["/".into()],
            lockout_attempts: 3,
            lockout_minutes: 30,
            failure_delay_ms: (10, 20),
            failed_message: "wrong".into(),
            expired_message: "expired".into(),
            locked_message: "locked".into(),
        }
    }

    const HOST: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 9));

    fn post(cookie: Option<&str>, body: &str) -> Request {
        let mut headers = vec![];
        if let Some(c) = cookie {
            headers.push((b"Cookie".to_vec(), c.as_bytes().to_vec()));
        }
        let mut r = Request {
            method: b"POST".to_vec(),
            target: b"/login".to_vec(),
            version: super::super::message::Version::Http11,
            headers,
            body: Default::default(),
        };
        r.body.kept = body.as_bytes().to_vec();
        r
    }

    #[test]
    fn a_session_from_the_page_and_its_token_make_a_sign_in_that_fails_until_the_user_is_locked() {
        let p = Portal::new(settings());
        let (page, cookie) = p.render(&post(None, ""), "<input name=csrf_token value=\"{csrf}\">{message}", None);
        let cookie = cookie.unwrap();
        assert!(cookie.starts_with("PHPSESSID=") && cookie.ends_with("; path=/"));
        let session = &cookie["PHPSESSID=".len()..cookie.len() - "; path=/".len()];
        assert_eq!(session.len(), 26);
        let token = p.csrf(session);
        assert!(page.contains(&token));
        let jar = format!("theme=dark; PHPSESSID={session}");
        assert_eq!(p.render(&post(Some(&jar), ""), "{csrf}", None), (token.clone(), None), "the same session keeps its token");
        assert_eq!(p.render(&post(Some(&jar), ""), "{message}", Some(Attempt::Locked)).0, "locked");

        let good = format!("username=Dr.Smith&password=x&csrf_token={token}");
        assert_eq!(p.attempt(&post(None, &good), b"dr.smith", HOST), Attempt::Expired, "no cookie");
        assert_eq!(p.attempt(&post(Some(&jar), "username=dr.smith&password=x&csrf_token=forged"), b"dr.smith", HOST), Attempt::Expired);
        assert_eq!(p.attempt(&post(Some(&jar), &good), b"Dr.Smith", HOST), Attempt::Failed);
        assert_eq!(p.attempt(&post(Some(&jar), &good), b"dr.smith", HOST), Attempt::Failed);
        assert_eq!(p.attempt(&post(Some(&jar), &good), b"DR.SMITH", HOST), Attempt::Locked, "the third failure locks, whatever the case");
        assert_eq!(p.attempt(&post(Some(&jar), &good), b"dr.smith", HOST), Attempt::Locked);
        assert_eq!(p.attempt(&post(Some(&jar), &good), b"dr.jones", HOST), Attempt::Failed, "per username");
        let d = p.failure_delay();
        assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
    }

    #[test]
    fn an_appliance_blocks_the_address_whatever_the_account_and_needs_no_session() {
        let s = PortalSettings { session_cookie: None, csrf_field: None, lockout_by: LockoutBy::Source, ..settings() };
        let p = Portal::new(s);
        let other = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 10));
        assert_eq!(p.render(&post(None, ""), "{message}", Some(Attempt::Failed)), ("wrong".to_string(), None), "no cookie set");
        assert_eq!(p.attempt(&post(None, "account=admin"), b"admin", HOST), Attempt::Failed);
        assert_eq!(p.attempt(&post(None, "account=backup"), b"backup", HOST), Attempt::Failed);
        assert_eq!(p.attempt(&post(None, "account=guest"), b"guest", HOST), Attempt::Locked, "the third failure from one address blocks it");
        assert_eq!(p.attempt(&post(None, "account=admin"), b"admin", other), Attempt::Failed, "per address");
    }
}
