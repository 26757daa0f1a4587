//! One request in, one response out, one event recorded — whatever the protocol
//! (HTTP/1 or h2). Decides the answer from the personality's routes and the token
//! registry: canary URLs, basic-auth realms, login forms, AWS-signed requests.

use bytes::Bytes;

use super::answer::{from_page, Answer};
use super::message::{Malformed, Request, Response, Version};
use super::personality::{Compression, HttpPersonality, Route};
use super::portal::Attempt;
use super::{aws, classify, date, gzip, request, HttpRuntime};
use crate::decoy::connection::Recorder;
use crate::event::{AttackerBytes, EventKind, HttpCredential};
use crate::token::{MaterialKind, TokenKind, TokenState, UrlResponse};

/// A 1x1 transparent GIF, the classic web bug.
const PIXEL_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

/// Raw bytes kept from a request that does not parse.
const MALFORMED_KEPT: usize = 4096;

/// Handles the requests of one connection.
pub struct Exchange {
    pub rt: std::sync::Arc<HttpRuntime>,
    pub recorder: Recorder,
    /// Plain HTTP arrived on the TLS port: every request is answered with the
    /// personality's `plain_http_on_tls` page (nginx's 400), then the connection closes.
    pub plain_on_tls_port: bool,
}

impl Exchange {
    fn page(&self, status: u16) -> Answer {
        Answer::page(&self.rt, status)
    }

    /// Records a request the decoy does not answer (an h2 stream reset as nginx
    /// resets it): its raw bytes, as for one that does not parse.
    pub async fn unanswered(&self, raw: &[u8]) {
        let kept = &raw[..raw.len().min(MALFORMED_KEPT)];
        self.recorder.emit(EventKind::DataReceived { data: AttackerBytes::new(kept), truncated: raw.len() > kept.len() }).await;
    }

    /// The answer to a request that could not be parsed; the raw bytes are recorded.
    pub async fn malformed(&self, problem: Malformed, raw: &[u8]) -> Response {
        let p = &self.rt.personality;
        let answer = match problem {
            Malformed::BadRequest => self.page(400),
            Malformed::HeaderTooLarge => p.header_too_large.as_ref().map_or_else(|| self.page(400), |page| from_page(400, page)),
            Malformed::UriTooLong => self.page(414),
            Malformed::NotImplemented => self.page(501),
            Malformed::VersionNotSupported => self.page(505),
        };
        self.unanswered(raw).await;
        let mut response = self.lay_out(answer, None, false, true, Version::Http11);
        if let Some(whole) = &p.malformed_raw {
            response.raw = Some(Bytes::from(whole.replace("{date}", &date::now())));
        }
        response
    }

    /// Whether the imitated server reads a request's body before it answers: an
    /// application behind nginx does (dynamic routes, login forms); nginx's own static
    /// files, redirects and error pages are answered from the head alone. Personalities
    /// of other servers read it.
    pub fn reads_body(&self, target: &[u8]) -> bool {
        let p = &self.rt.personality;
        if !p.early_method_check {
            return true;
        }
        let path = target.split(|&b| b == b'?').next().unwrap_or_default();
        routed(p, path).and_then(|path| p.route(&path)).is_some_and(|r| r.dynamic || r.login.is_some())
    }

    /// For a request that says `Expect: 100-continue`, with a personality that answers
    /// it (`expect_continue`): Some(true) when the body will be read (nginx: a static
    /// page with GET or HEAD, so `100 Continue` goes first), Some(false) when the answer
    /// comes before the body. None: read the body without a word (other personalities).
    pub fn continues(&self, req: &Request) -> Option<bool> {
        let p = &self.rt.personality;
        if self.plain_on_tls_port {
            return Some(false);
        }
        if !p.expect_continue {
            return None;
        }
        let route = routed_path(p, req).and_then(|path| p.route(&path));
        Some(
            !declares_too_much(p, req)
                && p.realm.is_none()
                && route.is_some_and(|r| r.is_static && r.realm.is_none())
                && matches!(req.method.as_slice(), b"GET" | b"HEAD"),
        )
    }

    /// Answers a parsed request and records it.
    pub async fn respond(&self, req: Request, keep_alive: bool) -> Response {
        let p = &self.rt.personality;
        let path = req.path();
        let normalised = routed_path(p, &req);
        let route = normalised.as_deref().and_then(|path| p.route(path));
        let tokens = self.recorder.context().events.tokens();
        let canary = tokens.find(MaterialKind::UrlPath, path);
        let mut credential = request::credential(&req);
        let login = route.and_then(|r| r.login.as_ref()).filter(|_| req.method == b"POST");
        if let Some(form) = login {
            credential = request::form_login(&req.body.kept, &form.username_field, &form.password_field).or(credential);
        }
        // The application judges the sign-in (session, token, lockout); it always fails.
        let attempt = login.zip(self.rt.portal.as_ref()).map(|(_, portal)| {
            let username = credential.as_ref().and_then(|c| c.username.as_ref()).map(|u| u.as_bytes().to_vec()).unwrap_or_default();
            portal.attempt(&req, &username, self.recorder.source().ip())
        });
        let aws_key_id = credential.as_ref().filter(|c| c.scheme == "aws-sigv4").and_then(|c| c.secret.as_ref()).map(|k| k.to_text_lossy());
        let mut close = !keep_alive;

        let no_host = p.require_host && req.version == Version::Http11 && req.header("host").is_none();
        // No Host on HTTP/1.1, or a path above the root.
        let simple = req.version == Version::Http09;
        close |= simple;
        let mut told_off = false;
        let answer = if no_host || normalised.is_none() || (simple && req.method != b"GET") {
            close = true;
            self.page(400)
        } else if self.plain_on_tls_port {
            close = true;
            told_off = true;
            p.plain_http_on_tls.as_ref().map_or_else(|| self.page(400), |page| from_page(400, page))
        } else if declares_too_much(p, &req) {
            close = true;
            self.page(413)
        } else if let Some(canary) = &canary {
            self.canary(canary.url_response().unwrap_or_default())
        } else if aws_key_id.is_some() {
            self.page(403) // replaced by S3's own answer below
        } else if let Some(refusal) = p.realm.as_deref().and_then(|realm| self.refuse(realm, credential.as_ref())) {
            refusal
        } else if let Some(answer) = self.application(&req) {
            answer
        } else {
            match route {
                None => self.page(404),
                Some(r) => self.route(r, &req, credential.as_ref(), login.map(|l| l.failure_body.as_str())),
            }
        };
        let answer = match &self.rt.portal {
            Some(portal) => portal.rendered(answer, &req, normalised.as_deref(), attempt),
            None => answer,
        };

        let gzip = Answer::gzip_accepted(&self.rt, &req);
        let mut answer = if answer.is_static && answer.status == 200 && matches!(req.method.as_slice(), b"GET" | b"HEAD") {
            // nginx serves a compressed answer whole, whatever the Range.
            let ranges = !gzip || !Answer::gzip_type(&self.rt, &answer.content_type);
            answer.conditional(&self.rt, &req, ranges)
        } else {
            answer
        };
        let (headers, headers_truncated) = request::headers(&req);
        let mut tags = Vec::new();
        if classify::is_exploit(&req.target) || req.headers.iter().any(|(_, v)| classify::is_exploit(v)) || classify::is_exploit(&req.body.kept) {
            tags.push(classify::EXPLOIT.to_string());
            tags.extend(classify::known_exploit(&req.method, req.path(), &req.body.kept).map(String::from));
            if self.quarantined(&req) {
                tags.push("quarantined".into());
            }
        }
        if answer.status == 404 && self.rt.scans.not_found(self.recorder.source().ip()) {
            tags.push(classify::SCANNING.to_string());
        }
        if told_off {
            tags.push("plain-http-on-tls-port".into());
        }
        match attempt {
            Some(Attempt::Expired) => tags.push("csrf-missing".into()),
            Some(Attempt::Locked) => tags.push(self.rt.portal.as_ref().map_or("account-locked", |p| p.locked_tag()).into()),
            _ => {}
        }
        let status = if aws_key_id.is_some() { 403 } else { answer.status };
        let user_agent = req.header("user-agent").map(|v| AttackerBytes::new(&v[..v.len().min(request::MAX_HEADER_VALUE)]));
        let event = EventKind::HttpRequest {
            method: AttackerBytes::new(&req.method[..req.method.len().min(request::MAX_HEADER_VALUE)]),
            target: AttackerBytes::new(&req.target[..req.target.len().min(request::MAX_HEADER_VALUE)]),
            version: req.version.as_str().to_string(),
            headers,
            headers_truncated,
            user_agent,
            credential,
            body_bytes: req.body.bytes,
            body_sha256: req.body.sha256.clone(),
            body: (!req.body.kept.is_empty()).then(|| AttackerBytes::new(&req.body.kept[..req.body.kept.len().min(request::BODY_KEPT)])),
            status,
            tags,
        };
        let mut event = self.recorder.event(event);
        if let Some(c) = &canary {
            event.token = Some(c.hit());
        }
        if event.token.is_none() {
            event.token = answer.token.take();
        }
        let event_id = event.id.to_string();
        self.recorder.context().events.emit(event).await;

        if attempt == Some(Attempt::Failed) || attempt == Some(Attempt::Locked) {
            // The application checks a password hash before it answers.
            // Boxed: a timer inline would grow every request's future, portal or not.
            if let Some(portal) = &self.rt.portal {
                Box::pin(tokio::time::sleep(portal.failure_delay())).await;
            }
        }
        close |= req.body.over_cap;
        if let Some(key_id) = aws_key_id {
            let mut r = aws::access_denied(&key_id, event_id);
            r.close = close;
            return r;
        }
        let mut answer = answer;
        if answer.echo {
            // Escaped for what the page is: HTML (Jetty's error page) or JSON.
            let html = answer.content_type.contains("html");
            let json = |b: &[u8]| {
                let text = String::from_utf8_lossy(b);
                if html {
                    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
                } else {
                    serde_json::to_string(&text).unwrap_or_default().trim_matches('"').to_string()
                }
            };
            let body = String::from_utf8_lossy(&answer.body)
                .replace("{method}", &json(&req.method))
                .replace("{uri}", &json(&request::percent_decode(req.path(), false)))
                .replace("{timestamp}", &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string());
            answer.body = Bytes::from(body);
        }
        if gzip {
            answer.gzip(&self.rt);
        }
        if p.compression == Some(Compression::Orthanc) && answer.status == 200 && !answer.body.is_empty() {
            let coding = req.header("accept-encoding").and_then(gzip::ZlibCoding::orthanc_choice);
            if let Some((coding, compressed)) = coding.and_then(|c| Some((c, gzip::zlib_encoded(&answer.body, c)?))) {
                answer.body = Bytes::from(compressed);
                answer.extra.push(("Content-Encoding".into(), coding.name().into()));
            }
        }
        let host = req.header("host").map(|h| String::from_utf8_lossy(h).into_owned());
        let mut response = self.lay_out(answer, host.as_deref(), req.method == b"HEAD", close, req.version);
        if simple {
            // HTTP/0.9 has no status line and no headers: the body is the answer.
            response.raw = Some(response.body.clone());
        }
        response
    }

    /// Puts the request's body in the decoy's quarantine, when it keeps bodies and has
    /// all of this one; whether it was kept.
    fn quarantined(&self, req: &Request) -> bool {
        let Some(q) = &self.rt.quarantine else { return false };
        let body = &req.body;
        if body.kept.is_empty() || body.over_cap || body.bytes != body.kept.len() as u64 {
            return false;
        }
        let mut w = q.begin();
        w.write(&body.kept, q);
        q.finish(w).kept
    }

    /// The application's answer (Orthanc's REST API), when the personality has one and
    /// it knows the path.
    fn application(&self, req: &Request) -> Option<Answer> {
        let target = std::str::from_utf8(&req.target).ok()?;
        let path = std::str::from_utf8(req.path()).ok()?;
        let tokens = self.recorder.context().events.tokens();
        if let Some(fhir) = &self.rt.fhir {
            let host = req.header("host").map(|h| sanitise_host(&String::from_utf8_lossy(h)));
            let scheme = if self.rt.tls.is_some() { "https" } else { "http" };
            let origin = format!("{scheme}://{}", host.unwrap_or_else(|| self.recorder.destination().to_string()));
            let accept = req.header("accept").and_then(|a| std::str::from_utf8(a).ok());
            let query = target.split_once('?').map_or("", |(_, q)| q);
            return fhir.answer(tokens, &super::fhir::FhirRequest { method: &req.method, path, query, accept, origin: &origin });
        }
        let orthanc = self.rt.orthanc.as_ref()?;
        if !matches!(req.method.as_slice(), b"GET" | b"POST" | b"PUT" | b"DELETE") {
            return Some(super::orthanc::unrouted_method());
        }
        if req.method != b"GET" {
            // Writes (uploads, deletions) are refused as if the method were not allowed.
            let allow = orthanc.allowed(tokens, path)?;
            let mut a = self.page(405);
            a.extra.push(("Allow".into(), allow.into()));
            return Some(a);
        }
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let host = req.header("host").map(|h| String::from_utf8_lossy(h).into_owned());
        orthanc.answer(tokens, path, query, host.as_deref())
    }

    fn canary(&self, response: UrlResponse) -> Answer {
        match response {
            UrlResponse::Pixel => Answer { is_static: true, ..Answer::ok("image/gif".into(), Bytes::from_static(PIXEL_GIF)) },
            UrlResponse::NotFound => self.page(404),
            UrlResponse::Redirect => {
                let mut a = self.page(302);
                let target = self.rt.personality.routes.iter().find(|r| r.login.is_some()).map_or("/", |r| r.path.as_str());
                a.extra.push(("Location".into(), target.to_string()));
                a
            }
        }
    }

    /// A basic-auth realm's 401, unless the credentials are those of an active
    /// `http-basic` token (planted to be found and used: let the intruder in, deeper
    /// into the decoy, every request a token hit).
    fn refuse(&self, realm: &str, credential: Option<&HttpCredential>) -> Option<Answer> {
        let planted = credential.filter(|c| c.scheme == "basic").and_then(|c| c.secret.as_ref()).is_some_and(|secret| {
            let tokens = self.recorder.context().events.tokens();
            tokens.find(MaterialKind::Password, secret.as_bytes()).is_some_and(|m| {
                let hit = m.hit();
                hit.kind == TokenKind::HttpBasic && hit.state == TokenState::Active
            })
        });
        if planted {
            return None;
        }
        let mut a = self.page(401);
        a.extra.push(("WWW-Authenticate".into(), format!("Basic realm=\"{realm}\"")));
        Some(a)
    }

    fn route(&self, r: &Route, req: &Request, credential: Option<&HttpCredential>, login_failure: Option<&str>) -> Answer {
        let p = &self.rt.personality;
        if let Some(refusal) = r.realm.as_deref().and_then(|realm| self.refuse(realm, credential)) {
            return refusal;
        }
        if let Some(failure) = login_failure {
            let content_type = r.content_type.clone().unwrap_or_else(|| "text/html".into());
            let reason = r.reason.clone().unwrap_or_else(|| if r.status == 200 { "OK".into() } else { p.error(r.status).1.reason.clone() });
            let answer = Answer::ok(content_type, Bytes::from(failure.to_string()));
            return Answer { status: r.status, reason, extra: r.headers.clone(), dynamic: r.dynamic, ..answer };
        }
        if !p.allows(r, &req.method) {
            let mut a = self.page(405);
            if p.allow_header {
                a.extra.push(("Allow".into(), r.methods.as_ref().unwrap_or(&p.methods).join(",")));
            }
            return a;
        }
        let body = r.binary.clone().or_else(|| r.body.clone().map(Bytes::from));
        let mut a = match body {
            Some(body) => Answer {
                status: r.status,
                reason: r.reason.clone().unwrap_or_else(|| if r.status == 200 { "OK".into() } else { p.error(r.status).1.reason.clone() }),
                is_static: r.is_static,
                dynamic: r.dynamic,
                ..Answer::ok(r.content_type.clone().unwrap_or_else(|| "text/html".into()), body)
            },
            None => self.page(r.status),
        };
        if let Some(location) = &r.location {
            a.extra.push(("Location".into(), location.clone()));
        }
        a.extra.extend(r.headers.iter().cloned());
        a
    }

    /// Puts the answer's headers in the personality's order, and delimits its body as
    /// nginx does: by Content-Length when it knows the length; otherwise (gzip'd, or
    /// from the application) by chunks to HTTP/1.1, by the close to HTTP/1.0, and by
    /// frames over h2. A streamed answer is ended by the close, announced.
    fn lay_out(&self, mut a: Answer, host: Option<&str>, head_only: bool, mut close: bool, version: Version) -> Response {
        let p = &self.rt.personality;
        let gzipped = a.gzipped.take();
        let unsized_body = gzipped.is_some() || a.dynamic;
        close |= (unsized_body && version == Version::Http10) || a.streamed;
        let mut candidates: Vec<(String, String)> = Vec::with_capacity(12);
        if let Some(server) = &p.server {
            candidates.push(("Server".into(), server.clone()));
        }
        if p.date_header {
            candidates.push(("Date".into(), date::now()));
        }
        if !a.content_type.is_empty() {
            candidates.push(("Content-Type".into(), a.content_type));
        }
        if a.status != 304 && !unsized_body && !a.streamed {
            candidates.push(("Content-Length".into(), a.body.len().to_string()));
        }
        if let Some((modified, _)) = &a.validators {
            candidates.push(("Last-Modified".into(), modified.clone()));
        }
        if let Some(compressed) = gzipped {
            a.body = compressed;
            // nginx's gzip filter adds the header after the application's own.
            let at = if a.dynamic { a.extra.len() } else { 0 };
            a.extra.insert(at, ("Content-Encoding".into(), "gzip".into()));
            a.is_static = false;
        }
        if unsized_body && version == Version::Http11 && !head_only {
            candidates.push(("Transfer-Encoding".into(), "chunked".into()));
            a.body = Bytes::from(super::gzip::chunked(&a.body));
        }
        let say_close = (close && p.announce_close) || a.streamed;
        candidates.push(("Connection".into(), if say_close { "close" } else { "keep-alive" }.into()));
        if let (Some(seconds), false) = (p.keep_alive_header_seconds, say_close) {
            candidates.push(("Keep-Alive".into(), format!("timeout={seconds}")));
        }
        if let Some((_, etag)) = a.validators {
            candidates.push(("ETag".into(), etag));
        }
        for (name, value) in a.extra {
            let value = match (name.eq_ignore_ascii_case("location"), host) {
                (true, Some(host)) if p.absolute_redirects && value.starts_with('/') => self.absolute(host, &value),
                _ => value,
            };
            candidates.push((name, value));
        }
        if a.is_static && a.status == 200 {
            candidates.push(("Accept-Ranges".into(), "bytes".into()));
        }
        let listed = |n: &str| p.header_order.iter().any(|h| h.eq_ignore_ascii_case(n));
        let mut headers = Vec::with_capacity(candidates.len());
        for name in &p.header_order {
            if name == "*" {
                headers.extend(candidates.iter().filter(|(n, _)| !listed(n)).cloned());
            } else if let Some(h) = candidates.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push(h.clone());
            }
        }
        Response { status: a.status, reason: a.reason, headers, body: a.body, head_only, close, raw: None }
    }
}

impl Exchange {
    /// `scheme://host[:port]/path` as nginx writes redirects: the Host header's name
    /// and the port the connection came in on (left out when it is the default).
    fn absolute(&self, host: &str, path: &str) -> String {
        let host = sanitise_host(host);
        let name = match host.rfind(':') {
            Some(i) if !host[i..].contains(']') => &host[..i],
            _ => host.as_str(),
        };
        let (scheme, default) = if self.rt.tls.is_some() { ("https", 443) } else { ("http", 80) };
        match self.recorder.destination().port() {
            port if port == default => format!("{scheme}://{name}{path}"),
            port => format!("{scheme}://{name}:{port}{path}"),
        }
    }
}

/// The request's path as routes are matched on it.
fn routed_path(p: &HttpPersonality, req: &Request) -> Option<Vec<u8>> {
    routed(p, req.path())
}

/// The path routes are matched on: normalised when the personality says so (None above
/// the root), else as sent.
fn routed(p: &HttpPersonality, path: &[u8]) -> Option<Vec<u8>> {
    if p.normalise_path {
        request::normalise_path(path)
    } else {
        Some(path.to_vec())
    }
}

/// Whether the request declares a body over the personality's limit (nginx: 413 unread).
fn declares_too_much(p: &HttpPersonality, req: &Request) -> bool {
    let declared = req.header("content-length").and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.trim().parse::<u64>().ok());
    p.client_max_body_bytes.is_some_and(|max| declared.is_some_and(|n| n > max))
}

/// A Host header fit to echo in a Location: host name, IP or [IPv6] and port only.
fn sanitise_host(host: &str) -> String {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_');
    let host: String = host.chars().take_while(|&c| ok(c)).take(255).collect();
    if host.is_empty() {
        "localhost".into()
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_echoed_in_redirects_cannot_inject_headers() {
        assert_eq!(sanitise_host("x:8080"), "x:8080");
        assert_eq!(sanitise_host("[::1]:80"), "[::1]:80");
        assert_eq!(sanitise_host("evil\r\nSet-Cookie: a=b"), "evil");
        assert_eq!(sanitise_host("/etc"), "localhost");
    }

    #[test]
    fn the_pixel_is_a_whole_gif() {
        assert!(PIXEL_GIF.starts_with(b"GIF89a") && PIXEL_GIF.ends_with(b";"));
        assert_eq!(PIXEL_GIF.len(), 43);
    }
}
