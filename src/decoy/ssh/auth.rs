//! The authentication layer (RFC 4252) as the imitated server runs it: which
//! requests count towards MaxAuthTries, when a changed user name ends the
//! connection, what is answered and how the connection ends at the limit. Pure: it
//! judges parsed requests; the session sends, sleeps and records.

use super::delay::Attempt;
use super::transport::version::Family;
use super::transport::wire::{Reader, WireError};

/// A parsed SSH_MSG_USERAUTH_REQUEST (message number already checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub user: &'a [u8],
    pub service: &'a [u8],
    pub method: Method<'a>,
}

/// The method-specific part of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method<'a> {
    None,
    Password {
        password: &'a [u8],
        change: bool,
    },
    Publickey {
        algorithm: &'a [u8],
        blob: &'a [u8],
        hostbound: Option<&'a [u8]>,
        signature: Option<&'a [u8]>,
    },
    KeyboardInteractive,
    /// Any other method name (hostbased, gssapi-with-mic, made-up names).
    Other(&'a [u8]),
}

impl Method<'_> {
    /// The method's name as recorded (`publickey` for the hostbound variant).
    pub fn name(&self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Password { .. } => "password",
            Method::Publickey { .. } => "publickey",
            Method::KeyboardInteractive => "keyboard-interactive",
            Method::Other(_) => "other",
        }
    }
}

/// Parses a USERAUTH_REQUEST payload.
pub fn parse(payload: &[u8]) -> Result<Request<'_>, WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let user = r.string()?;
    let service = r.string()?;
    let name = r.string()?;
    let method = match name {
        b"none" => Method::None,
        b"password" => {
            let change = r.bool()?;
            let password = r.string()?;
            if change {
                r.string()?;
            }
            Method::Password { password, change }
        }
        b"publickey" | b"publickey-hostbound-v00@openssh.com" => {
            let has_sig = r.bool()?;
            let algorithm = r.string()?;
            let blob = r.string()?;
            let hostbound = if name == b"publickey" { None } else { Some(r.string()?) };
            let signature = if has_sig { Some(r.string()?) } else { None };
            Method::Publickey { algorithm, blob, hostbound, signature }
        }
        b"keyboard-interactive" => {
            r.string()?; // language
            r.string()?; // submethods
            Method::KeyboardInteractive
        }
        other => Method::Other(other),
    };
    Ok(Request { user, service, method })
}

/// Whether the decoy lets this request in (decided by the session from `accept:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    No,
    /// A planted key was offered without a signature: answer PK_OK.
    KeyOk,
    /// Let the user in.
    Yes,
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// USERAUTH_SUCCESS.
    Success,
    /// PK_OK now, then the per-request delay.
    PkOk,
    /// INFO_REQUEST (keyboard-interactive's one password prompt) now, then the delay.
    InfoRequest,
    /// Wait `attempt`'s delay, then USERAUTH_FAILURE with the method list.
    Failure(Attempt),
    /// Wait `attempt`'s delay, then end the connection (MaxAuthTries reached):
    /// OpenSSH sends `notice` as a DISCONNECT, Dropbear just closes.
    LimitReached(Attempt, &'static str),
    /// End the connection at once (user or service changed, bad service...).
    Close(Option<String>),
}

/// The authentication state of one connection.
#[derive(Debug)]
pub struct AuthState {
    family: Family,
    max_tries: u32,
    /// keyboard-interactive is among the personality's methods.
    keyboard_interactive: bool,
    /// (user, service) of the first request.
    first: Option<(Vec<u8>, Vec<u8>)>,
    failures: u32,
    requests: u32,
}

/// OpenSSH's hard ceiling on requests per connection.
const MAX_REQUESTS: u32 = 1024;
/// Dropbear remembers no user name longer than this.
const DROPBEAR_MAX_USER: usize = 100;

fn lossy(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl AuthState {
    pub fn new(family: Family, max_tries: u32, keyboard_interactive: bool) -> Self {
        AuthState { family, max_tries, keyboard_interactive, first: None, failures: 0, requests: 0 }
    }

    /// The user name of the connection's first request (d(user) is derived from it).
    pub fn first_user(&self) -> &[u8] {
        self.first.as_ref().map_or(&[], |(u, _)| u.as_slice())
    }

    /// True when the request's service makes the user invalid (OpenSSH: any service
    /// but ssh-connection), so nothing it offers can succeed.
    pub fn service_invalid(&self, req: &Request<'_>) -> bool {
        req.service != b"ssh-connection"
    }

    /// Judges a request given whether the decoy would accept it.
    pub fn judge(&mut self, req: &Request<'_>, acceptance: Acceptance) -> Decision {
        match self.family {
            Family::Openssh => self.openssh(req, acceptance),
            Family::Dropbear => self.dropbear(req, acceptance),
        }
    }

    fn openssh(&mut self, req: &Request<'_>, acceptance: Acceptance) -> Decision {
        self.requests += 1;
        let first_request = self.first.is_none();
        match &self.first {
            None => self.first = Some((req.user.to_vec(), req.service.to_vec())),
            Some((u, s)) if u != req.user || s != req.service => {
                let text = format!("Change of username or service not allowed: ({},{}) -> ({},{})", lossy(u), lossy(s), lossy(req.user), lossy(req.service));
                return Decision::Close(Some(text));
            }
            Some(_) => {}
        }
        let acceptance = if self.service_invalid(req) { Acceptance::No } else { acceptance };
        match acceptance {
            Acceptance::Yes => return Decision::Success,
            Acceptance::KeyOk => return Decision::PkOk,
            Acceptance::No => {}
        }
        let attempt = match &req.method {
            Method::KeyboardInteractive if self.keyboard_interactive => return Decision::InfoRequest,
            Method::Password { password, change } => {
                let skips_pam = password.is_empty() || password.len() > 1024 || *change || req.user.first().is_some_and(|c| matches!(c, b'-' | b'+'));
                if skips_pam {
                    Attempt::PasswordWithoutPam
                } else {
                    Attempt::Password
                }
            }
            _ => Attempt::Other,
        };
        if !(first_request && req.method == Method::None) {
            self.failures += 1;
        }
        if self.failures >= self.max_tries || self.requests >= MAX_REQUESTS {
            return Decision::LimitReached(attempt, "Too many authentication failures");
        }
        Decision::Failure(attempt)
    }

    /// A keyboard-interactive answer that was not accepted (OpenSSH family).
    pub fn info_response_failed(&mut self) -> Decision {
        self.failures += 1;
        if self.failures >= self.max_tries {
            return Decision::LimitReached(Attempt::InfoResponse, "Too many authentication failures");
        }
        Decision::Failure(Attempt::InfoResponse)
    }

    fn dropbear(&mut self, req: &Request<'_>, acceptance: Acceptance) -> Decision {
        if req.user.contains(&0) {
            return Decision::Close(None);
        }
        let long_user = req.user.len() > DROPBEAR_MAX_USER;
        if !long_user {
            match &self.first {
                None => self.first = Some((req.user.to_vec(), req.service.to_vec())),
                Some((u, _)) if u != req.user => return Decision::Close(None),
                Some(_) => {}
            }
        }
        // Closed only when the service differs from ssh-connection both in length and
        // in its first bytes (a same-length name passes).
        let expected = b"ssh-connection";
        if req.service.len() != expected.len() && !expected.starts_with(req.service) {
            return Decision::Close(None);
        }
        if !long_user {
            match acceptance {
                Acceptance::Yes => return Decision::Success,
                Acceptance::KeyOk => return Decision::PkOk,
                Acceptance::No => {}
            }
        }
        if matches!(req.method, Method::None | Method::Publickey { .. }) {
            return Decision::Failure(Attempt::Uncounted);
        }
        self.failures += 1;
        if self.failures >= self.max_tries {
            return Decision::LimitReached(Attempt::Password, "Max auth tries reached");
        }
        Decision::Failure(Attempt::Password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoy::ssh::transport::wire::Put;

    fn req(user: &str, method: &str) -> Vec<u8> {
        let mut p = vec![50];
        p.put_string(user.as_bytes());
        p.put_string(b"ssh-connection");
        p.put_string(method.as_bytes());
        match method {
            "password" => {
                p.put_bool(false);
                p.put_string(b"hunter2");
            }
            "publickey" => {
                p.put_bool(false);
                p.put_string(b"ssh-ed25519");
                p.put_string(b"blob");
            }
            "keyboard-interactive" => {
                p.put_string(b"");
                p.put_string(b"");
            }
            _ => {}
        }
        p
    }

    fn run(family: Family, max: u32, methods: &[&str]) -> Vec<Decision> {
        let mut s = AuthState::new(family, max, false);
        let payloads: Vec<Vec<u8>> = methods.iter().map(|m| req("root", m)).collect();
        let mut out = Vec::new();
        for p in &payloads {
            let d = s.judge(&parse(p).unwrap(), Acceptance::No);
            let end = matches!(d, Decision::LimitReached(..) | Decision::Close(_));
            out.push(d);
            if end {
                break;
            }
        }
        out
    }

    fn failures_then_limit(decisions: &[Decision]) -> (usize, bool) {
        let fails = decisions.iter().filter(|d| matches!(d, Decision::Failure(_))).count();
        (fails, matches!(decisions.last(), Some(Decision::LimitReached(..))))
    }

    /// The sequences measured against Debian 12's sshd with MaxAuthTries 6.
    #[test]
    fn openssh_counts_as_measured() {
        let f = Family::Openssh;
        assert_eq!(failures_then_limit(&run(f, 6, &["none"; 8])), (6, true), "none x8: 6 failures, disconnect on the 7th");
        assert_eq!(failures_then_limit(&run(f, 6, &["foo"; 8])), (5, true));
        let mut none_foo = vec!["none"];
        none_foo.extend(["foo"; 7]);
        assert_eq!(failures_then_limit(&run(f, 6, &none_foo)), (6, true));
        let mut foo_none = vec!["foo"];
        foo_none.extend(["none"; 7]);
        assert_eq!(failures_then_limit(&run(f, 6, &foo_none)), (5, true));
        assert_eq!(failures_then_limit(&run(f, 6, &["publickey"; 8])), (5, true));
        assert_eq!(failures_then_limit(&run(f, 6, &["password"; 8])), (5, true));
        assert_eq!(run(f, 6, &["password"])[0], Decision::Failure(Attempt::Password));
    }

    #[test]
    fn openssh_ends_the_connection_when_the_user_changes() {
        let mut s = AuthState::new(Family::Openssh, 6, false);
        assert!(matches!(s.judge(&parse(&req("root", "none")).unwrap(), Acceptance::No), Decision::Failure(_)));
        let d = s.judge(&parse(&req("admin", "none")).unwrap(), Acceptance::No);
        assert_eq!(d, Decision::Close(Some("Change of username or service not allowed: (root,ssh-connection) -> (admin,ssh-connection)".into())));
    }

    #[test]
    fn dropbear_counts_only_passwords_and_unknown_methods() {
        let f = Family::Dropbear;
        let mut methods = vec!["none", "publickey", "none"];
        methods.extend(["password"; 12]);
        let d = run(f, 10, &methods);
        assert_eq!(d[0], Decision::Failure(Attempt::Uncounted));
        assert_eq!(d[1], Decision::Failure(Attempt::Uncounted));
        assert_eq!(failures_then_limit(&d), (3 + 9, true), "the 10th password closes without a FAILURE");
        let mut s = AuthState::new(f, 10, false);
        s.judge(&parse(&req("root", "none")).unwrap(), Acceptance::No);
        assert_eq!(s.judge(&parse(&req("admin", "none")).unwrap(), Acceptance::No), Decision::Close(None));
    }

    #[test]
    fn truncated_requests_are_errors() {
        let p = req("root", "password");
        for cut in 1..p.len() {
            assert!(parse(&p[..cut]).is_err(), "{cut}");
        }
    }
}
