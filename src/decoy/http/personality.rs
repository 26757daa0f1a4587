//! HTTP personalities: the `Server` header, the order headers go on the wire, the
//! routes (pages, redirects, login forms, basic-auth realms), the error pages and the
//! allowed methods of the product imitated, byte for byte. YAML under `decoys/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::decoy::error::PersonalityError;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("nginx-default", include_str!("../../../decoys/nginx-default.yaml")),
    ("ehr-login", include_str!("../../../decoys/ehr-login.yaml")),
    ("pacs-viewer", include_str!("../../../decoys/pacs-viewer.yaml")),
    ("nas-login", include_str!("../../../decoys/nas-login.yaml")),
    ("fhir-server", include_str!("../../../decoys/fhir-server.yaml")),
    ("mirth-admin", include_str!("../../../decoys/mirth-admin.yaml")),
];

/// Built-in pages (`templates/http/`), named by `body_file` and `failure_body_file`.
pub const BUILT_IN_PAGES: &[(&str, &str)] = &[
    ("nginx-welcome.html", include_str!("../../../templates/http/nginx-welcome.html")),
    ("ehr-login.html", include_str!("../../../templates/http/ehr-login.html")),
    ("ehr-portal.css", include_str!("../../../templates/http/ehr-portal.css")),
    ("ehr-portal.js", include_str!("../../../templates/http/ehr-portal.js")),
    ("nas-login.html", include_str!("../../../templates/http/nas-login.html")),
    ("orthanc-explorer.html", include_str!("../../../templates/http/orthanc-explorer.html")),
    ("orthanc-explorer.css", include_str!("../../../templates/http/orthanc-explorer.css")),
    ("orthanc-explorer.js", include_str!("../../../templates/http/orthanc-explorer.js")),
    ("mirth-landing.html", include_str!("../../../templates/http/mirth-landing.html")),
    ("mirth-webadmin.html", include_str!("../../../templates/http/mirth-webadmin.html")),
];

/// Built-in binary files (`templates/http/`: icons, images), named by `binary_file`.
pub const BUILT_IN_BINARY: &[(&str, &[u8])] = &[("ehr-favicon.ico", include_bytes!("../../../templates/http/ehr-favicon.ico"))];

/// Largest page file read for a personality.
const MAX_PAGE_BYTES: u64 = 1 << 20;

/// A file a personality names, when it lies next to the personality file (`base`):
/// its path and bytes, refused over `MAX_PAGE_BYTES`.
fn file_near(name: &str, base: Option<&Path>) -> Option<Result<(PathBuf, Vec<u8>), PersonalityError>> {
    let path = base?.join(name);
    let meta = std::fs::metadata(&path).ok()?;
    if meta.len() > MAX_PAGE_BYTES {
        return Some(Err(PersonalityError::TooLarge { path }));
    }
    Some(match std::fs::read(&path) {
        Ok(bytes) => Ok((path, bytes)),
        Err(cause) => Err(PersonalityError::Unreadable { path, cause }),
    })
}

/// A built-in file of `table`, or an error naming the ones there are.
fn built_in<T: Copy>(name: &str, table: &[(&str, T)]) -> Result<T, PersonalityError> {
    table.iter().find(|(n, _)| *n == name).map(|(_, file)| *file).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
        PersonalityError::PageMissing { name: name.to_string(), built_in: names.join(", ") }
    })
}

/// A page named by `body_file`: next to the personality file (`base`), else built in.
fn page_file(name: &str, base: Option<&Path>) -> Result<String, PersonalityError> {
    match file_near(name, base) {
        Some(found) => {
            let (path, bytes) = found?;
            String::from_utf8(bytes).map_err(|e| PersonalityError::Unreadable { path, cause: std::io::Error::new(std::io::ErrorKind::InvalidData, e) })
        }
        None => built_in(name, BUILT_IN_PAGES).map(str::to_string),
    }
}

/// A binary file named by `binary_file`: next to the personality file, else built in.
fn binary_file(name: &str, base: Option<&Path>) -> Result<bytes::Bytes, PersonalityError> {
    match file_near(name, base) {
        Some(found) => found.map(|(_, bytes)| bytes::Bytes::from(bytes)),
        None => built_in(name, BUILT_IN_BINARY).map(bytes::Bytes::from_static),
    }
}

/// Built-in sets of error pages a personality can name in `error_pages`.
pub const ERROR_PAGE_SETS: &[(&str, &str)] =
    &[("nginx-1.22.1", include_str!("../../../decoys/error-pages/nginx-1.22.1.yaml")), ("nginx", include_str!("../../../decoys/error-pages/nginx.yaml"))];

/// A set of error pages (a file under `decoys/error-pages/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorPageSet {
    errors: BTreeMap<u16, ErrorPage>,
    #[serde(default)]
    header_too_large: Option<ErrorPage>,
    #[serde(default)]
    plain_http_on_tls: Option<ErrorPage>,
}

/// A login form on a route: POSTs are recorded and always fail.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    pub username_field: String,
    pub password_field: String,
    /// The page answered to every attempt (or `failure_body_file`).
    #[serde(default)]
    pub failure_body: String,
    #[serde(default)]
    pub failure_body_file: Option<String>,
}

/// One route. `path` matches exactly, or as a prefix when it ends in `*`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub path: String,
    /// Other exact paths that answer the same.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Methods answered (default: the personality's `methods`); others get 405.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    #[serde(default = "ok")]
    pub status: u16,
    /// Reason phrase (default: the error page's, or `OK`).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// The body (default: the error page for `status`).
    #[serde(default)]
    pub body: Option<String>,
    /// The body from a file: next to the personality file, or a built-in page
    /// (`templates/http/`).
    #[serde(default)]
    pub body_file: Option<String>,
    /// `Location` of a redirect (3xx); made absolute with the request's Host when the
    /// personality says `absolute_redirects`.
    #[serde(default)]
    pub location: Option<String>,
    /// A file served as it is (an icon, an image): next to the personality file, or
    /// built in. Instead of `body`.
    #[serde(default)]
    pub binary_file: Option<String>,
    /// `binary_file`'s bytes, once loaded.
    #[serde(skip)]
    pub binary: Option<bytes::Bytes>,
    /// A static file: adds Last-Modified, ETag and Accept-Ranges as nginx does.
    #[serde(default, rename = "static")]
    pub is_static: bool,
    /// Rendered by the application behind nginx (PHP-FPM over FastCGI): sent without
    /// Content-Length, so chunked to HTTP/1.1 clients and to the close for HTTP/1.0.
    #[serde(default)]
    pub dynamic: bool,
    /// Extra headers, placed where `header_order` says (or at `*`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// HTTP basic authentication realm guarding this route: no credentials (or any
    /// credentials) get 401 with `WWW-Authenticate: Basic realm="..."`.
    #[serde(default)]
    pub realm: Option<String>,
    /// A login form posting here.
    #[serde(default)]
    pub login: Option<LoginForm>,
}

fn ok() -> u16 {
    200
}

fn yes() -> bool {
    true
}

/// One error page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorPage {
    /// The reason phrase of the status line (nginx says `405 Not Allowed`).
    pub reason: String,
    /// Empty: no Content-Type header (Orthanc's REST errors have none).
    #[serde(default = "text_html")]
    pub content_type: String,
    pub body: String,
    /// The body echoes the request: `{method}` and `{uri}` are replaced by the
    /// request's, escaped as HTML when the page is HTML (Jetty's error page) and as
    /// JSON otherwise (Orthanc's 404 does this), `{timestamp}` by the time (Spring
    /// Boot's error JSON).
    #[serde(default)]
    pub echo: bool,
}

fn text_html() -> String {
    "text/html".into()
}

/// How long the product waits (nginx: `client_header_timeout`, `keepalive_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductTimeouts {
    /// For a whole request head once it has begun, and for each read of a body.
    pub header_seconds: u32,
    /// For the next request on an idle keep-alive connection.
    pub keep_alive_seconds: u32,
}

/// nginx's gzip settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GzipSettings {
    /// zlib level (nginx's `gzip_comp_level`, 1 by default).
    pub level: u8,
    /// Content types compressed (`gzip_types`; nginx always includes text/html).
    pub types: Vec<String>,
    /// Shorter bodies are sent as they are (`gzip_min_length`, 20 by default).
    pub min_length_bytes: usize,
}

/// A product's own way of compressing answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Orthanc (civetweb with zlib): gzip preferred, deflate (zlib format) otherwise,
    /// Content-Length kept.
    Orthanc,
}

/// An application a personality can put behind its routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Application {
    /// Orthanc 1.10's REST API (patients, studies, series, instances, statistics,
    /// changes, tools) over the honey cohort the DICOM decoys serve.
    Orthanc,
    /// HAPI FHIR's JPA server under `/fhir` over the same cohort.
    HapiFhir,
}

/// `portal:` of a personality: the sign-in application behind the pages (run by
/// `portal.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    /// The session cookie's name (PHP's `PHPSESSID`, Java's `JSESSIONID`, ...); none:
    /// the application sets no cookie before a sign-in (an appliance's web API).
    #[serde(default)]
    pub session_cookie: Option<String>,
    /// Attributes after the value in `Set-Cookie` (PHP's default: `path=/`).
    #[serde(default = "cookie_path")]
    pub cookie_attributes: String,
    /// The form's hidden CSRF field; `{csrf}` in a page is replaced by the token. None:
    /// sign-ins need no session or token.
    #[serde(default)]
    pub csrf_field: Option<String>,
    /// Paths of the pages the application renders (session cookie, token filled).
    pub pages: Vec<String>,
    /// What a lockout locks: the username (a web application's account lockout) or the
    /// source address (an appliance's auto-block).
    #[serde(default)]
    pub lockout_by: LockoutBy,
    /// Failed sign-ins within `lockout_minutes` before the lock.
    pub lockout_attempts: u32,
    pub lockout_minutes: u64,
    /// How long the lock lasts (default: `lockout_minutes`).
    #[serde(default)]
    pub locked_minutes: Option<u64>,
    /// Fewest and most milliseconds a failed sign-in takes (a password hash check).
    pub failure_delay_ms: (u64, u64),
    /// What the page says (at `{message}`) after a failed sign-in, a sign-in without a
    /// valid session or token, and a sign-in for a locked username (HTML).
    pub failed_message: String,
    #[serde(default)]
    pub expired_message: String,
    pub locked_message: String,
}

fn cookie_path() -> String {
    "path=/".into()
}

/// What a portal's lockout counts failures by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockoutBy {
    /// The username, whatever its case.
    #[default]
    Username,
    /// The client's address.
    Source,
}

/// An HTTP personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpPersonality {
    pub name: String,
    /// `Server` header value (none: no header).
    pub server: Option<String>,
    /// Header names in wire order; `*` stands for the route's extra headers and any
    /// other header not listed. Headers a response does not have are skipped.
    pub header_order: Vec<String>,
    /// `Keep-Alive: timeout=N` on keep-alive responses, and an idle keep-alive
    /// connection is closed after N seconds (none: no header; the decoy's idle timeout).
    #[serde(default)]
    pub keep_alive_header_seconds: Option<u32>,
    /// Say `Connection: close` on the last response (Orthanc says keep-alive and
    /// closes anyway).
    #[serde(default = "yes")]
    pub announce_close: bool,
    /// A basic-auth realm in front of every route (checked before routing, as
    /// Orthanc does). Only credentials of an active `http-basic` token get through.
    #[serde(default)]
    pub realm: Option<String>,
    /// Send a `Date` header (Orthanc does not).
    #[serde(default = "yes")]
    pub date_header: bool,
    /// HTTP/1.1 requests without Host get 400 and a close (nginx; Orthanc does not care).
    #[serde(default = "yes")]
    pub require_host: bool,
    /// 405 answers carry `Allow: <the route's methods>`.
    #[serde(default)]
    pub allow_header: bool,
    /// The whole answer to a request that does not parse, as raw HTTP (`{date}` is
    /// replaced), for servers whose parser answers differently from the product.
    #[serde(default)]
    pub malformed_raw: Option<String>,
    /// Redirect `Location`s are made absolute from the Host header (nginx does).
    #[serde(default)]
    pub absolute_redirects: bool,
    /// Resolve `.` and `..` segments and merge slashes before routing, and answer 400
    /// to a path that climbs above the root (`/../`, also percent-encoded), as nginx does.
    #[serde(default)]
    pub normalise_path: bool,
    /// Answer `Expect: 100-continue` as nginx does: `100 Continue` before reading the
    /// body of a request for a static page, an immediate answer (the body discarded
    /// when it comes) for anything else. Off: the body is read without a word.
    #[serde(default)]
    pub expect_continue: bool,
    /// The product's own timeouts, used unless the decoy sets `idle_timeout_seconds`.
    #[serde(default)]
    pub timeouts: Option<ProductTimeouts>,
    /// Answer HTTP/0.9 simple requests (`GET /path` alone) with the body alone, as
    /// nginx does; other methods get the 400 page's body. Off: 400.
    #[serde(default)]
    pub http09: bool,
    /// Answer 400 as soon as a byte that no method has arrives (nginx's parser), not
    /// at the end of the request line.
    #[serde(default)]
    pub early_method_check: bool,
    /// Compress answers as nginx's `gzip on` does (Debian's default configuration).
    #[serde(default)]
    pub gzip: Option<GzipSettings>,
    /// A request declaring a longer body gets 413 and a close before its body is read
    /// (nginx's `client_max_body_size`, 1 MiB by default). None: no such limit.
    #[serde(default)]
    pub client_max_body_bytes: Option<u64>,
    /// Keep request bodies up to this many bytes (at most 1 MiB; otherwise the first
    /// 1 KiB), and put those tagged `exploit` in the decoy's quarantine
    /// (`STATE_DIR/http/NAME/quarantine/<sha256>.bin`, never parsed or run).
    #[serde(default)]
    pub quarantine_bodies_bytes: Option<usize>,
    /// Compress as the product does besides nginx's `gzip:`: `orthanc` is gzip or
    /// deflate from zlib at its default level for every 200 with a body, whatever its
    /// type or HTTP version, when `Accept-Encoding` names exactly `gzip` or `deflate`.
    #[serde(default)]
    pub compression: Option<Compression>,
    /// The sign-in application behind the pages: session cookie, CSRF token, lockout,
    /// the time a failed sign-in takes.
    #[serde(default)]
    pub portal: Option<PortalSettings>,
    /// An application behind the routes, answered before them for a signed-in client:
    /// `orthanc` is Orthanc's REST API over the shared honey cohort.
    #[serde(default)]
    pub application: Option<Application>,
    /// Default methods of routes; others get 405.
    pub methods: Vec<String>,
    pub routes: Vec<Route>,
    /// A built-in set of error pages (e.g. `nginx-1.22.1`); `errors` adds to it.
    #[serde(default)]
    pub error_pages: Option<String>,
    /// Status code → page. 400, 404, 405, 500 are required (here or in the set); other
    /// 4xx fall back to 400, 5xx to 500.
    #[serde(default)]
    pub errors: BTreeMap<u16, ErrorPage>,
    /// The page for requests whose headers are too large (nginx has its own).
    #[serde(default)]
    pub header_too_large: Option<ErrorPage>,
    /// The page for plain HTTP sent to the TLS port (nginx's "The plain HTTP request
    /// was sent to HTTPS port", with status 400).
    #[serde(default)]
    pub plain_http_on_tls: Option<ErrorPage>,
    /// Close without a word when plain HTTP comes to the TLS port, as a Java server's
    /// TLS does (Jetty, Tomcat), instead of answering it.
    #[serde(default)]
    pub plain_http_on_tls_closes: bool,
    /// Answer h2 when a TLS client offers it (ALPN).
    #[serde(default)]
    pub http2: bool,
    /// How the imitated server sets up TLS, when the decoy serves HTTPS (defaults:
    /// nginx 1.22.1 on Debian 12).
    #[serde(default)]
    pub tls: super::tls::TlsSettings,
}

impl HttpPersonality {
    /// A built-in personality by name.
    pub fn built_in(name: &str) -> Option<Result<Self, PersonalityError>> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, yaml)| Self::parse(yaml))
    }

    /// Parses and checks a built-in personality's text.
    pub fn parse(yaml: &str) -> Result<Self, PersonalityError> {
        Self::parse_at(yaml, None)
    }

    /// Parses and checks a personality's text; page files are looked for in `base`
    /// (the personality file's directory) and then among the built-in pages.
    pub fn parse_at(yaml: &str, base: Option<&Path>) -> Result<Self, PersonalityError> {
        let mut p: HttpPersonality = marked_yaml::from_yaml(0, yaml)?;
        for r in &mut p.routes {
            if let Some(file) = r.body_file.take() {
                if r.body.is_some() {
                    return Err(PersonalityError::Invalid(format!("route {}: set `body` or `body_file`, not both", r.path)));
                }
                r.body = Some(page_file(&file, base)?);
            }
            if let Some(file) = r.binary_file.take() {
                if r.body.is_some() {
                    return Err(PersonalityError::Invalid(format!("route {}: set `body` or `binary_file`, not both", r.path)));
                }
                r.binary = Some(binary_file(&file, base)?);
            }
            if let Some(login) = &mut r.login {
                if let Some(file) = login.failure_body_file.take() {
                    login.failure_body = page_file(&file, base)?;
                }
            }
        }
        if let Some(set) = &p.error_pages {
            let (_, text) = ERROR_PAGE_SETS.iter().find(|(n, _)| n == set).ok_or_else(|| {
                let names: Vec<&str> = ERROR_PAGE_SETS.iter().map(|(n, _)| *n).collect();
                PersonalityError::Invalid(format!("personality {}: no built-in error page set `{set}` (there are: {})", p.name, names.join(", ")))
            })?;
            let base: ErrorPageSet = marked_yaml::from_yaml(0, text).map_err(|cause| PersonalityError::ErrorPageSet { set: set.clone(), cause })?;
            for (code, page) in base.errors {
                p.errors.entry(code).or_insert(page);
            }
            if p.plain_http_on_tls.is_none() {
                p.plain_http_on_tls = base.plain_http_on_tls;
            }
            if p.header_too_large.is_none() {
                p.header_too_large = base.header_too_large;
            }
        }
        for code in [400, 404, 405, 500] {
            if !p.errors.contains_key(&code) {
                return Err(PersonalityError::Invalid(format!("personality {} has no {code} error page", p.name)));
            }
        }
        for r in &p.routes {
            if !r.path.starts_with('/') {
                return Err(PersonalityError::Invalid(format!("personality {}: route path {:?} must start with /", p.name, r.path)));
            }
            if (300..400).contains(&r.status) && r.location.is_none() {
                return Err(PersonalityError::Invalid(format!("personality {}: route {} redirects ({}) without a location", p.name, r.path, r.status)));
            }
            if r.body.is_none() && r.status != 200 && !p.errors.contains_key(&r.status) {
                return Err(PersonalityError::Invalid(format!(
                    "personality {}: route {} answers {} but there is no such error page",
                    p.name, r.path, r.status
                )));
            }
        }
        Ok(p)
    }

    /// The first route matching `path`.
    pub fn route(&self, path: &[u8]) -> Option<&Route> {
        self.routes.iter().find(|r| {
            let matches = match r.path.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix.as_bytes()),
                None => path == r.path.as_bytes(),
            };
            matches || r.aliases.iter().any(|a| a.as_bytes() == path)
        })
    }

    /// Whether a route answers `method` normally.
    pub fn allows(&self, route: &Route, method: &[u8]) -> bool {
        let methods = route.methods.as_ref().unwrap_or(&self.methods);
        methods.iter().any(|m| m.as_bytes() == method) || (route.login.is_some() && method == b"POST")
    }

    /// The error page for `status` (401/414/501 fall back to 400 or 500, anything else
    /// to 500, which `parse` guarantees).
    pub fn error(&self, status: u16) -> (u16, &ErrorPage) {
        static NONE: ErrorPage = ErrorPage { reason: String::new(), content_type: String::new(), body: String::new(), echo: false };
        if let Some(p) = self.errors.get(&status) {
            return (status, p);
        }
        let fallback = if (400..500).contains(&status) { 400 } else { 500 };
        (fallback, self.errors.get(&fallback).unwrap_or(&NONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses_and_serves_its_root() {
        for (name, _) in BUILT_IN {
            let p = HttpPersonality::built_in(name).unwrap().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
            assert!(p.route(b"/").is_some(), "{name} answers /");
            assert!(p.header_order.iter().any(|h| h == "*"), "{name} places extra headers");
        }
    }

    #[test]
    fn page_files_come_from_next_to_the_personality_then_the_built_ins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ours.html"), "<title>Trust intranet</title>").unwrap();
        let yaml = "name: ours\nheader_order: [\"*\"]\nmethods: [GET]\nerror_pages: nginx\nroutes:\n  - {path: /, body_file: ours.html}\n  - {path: /old, body_file: nginx-welcome.html}\n";
        let p = HttpPersonality::parse_at(yaml, Some(dir.path())).unwrap();
        assert_eq!(p.route(b"/").unwrap().body.as_deref(), Some("<title>Trust intranet</title>"));
        assert!(p.route(b"/old").unwrap().body.as_deref().unwrap().contains("Welcome to nginx!"));
        let missing = yaml.replace("ours.html", "missing.html");
        assert!(HttpPersonality::parse_at(&missing, Some(dir.path())).unwrap_err().to_string().contains("missing.html not found"));
    }

    #[test]
    fn routes_match_exactly_or_by_prefix() {
        let p = HttpPersonality::built_in("pacs-viewer").unwrap().unwrap();
        assert_eq!(p.route(b"/app/explorer.html").unwrap().path, "/app/explorer.html");
        assert_eq!(p.route(b"/app/missing.js").unwrap().path, "/app/*");
        assert!(p.route(b"/system").is_none(), "the REST API is the application's");
        assert!(p.route(b"/nope").is_none() || p.route(b"/nope").unwrap().path.ends_with('*'));
    }
}
