//! What a decoy answers before its headers are laid out, and how nginx shapes the
//! answer for a static page: validators, conditions and ranges (`static_file`), and
//! gzip (`gzip`).

use bytes::Bytes;

use super::message::{Request, Version};
use super::personality::ErrorPage;
use super::static_file::{self, Conditions, Outcome, Validators};
use super::{date, HttpRuntime};

/// What to answer, before headers are laid out.
pub struct Answer {
    pub status: u16,
    pub reason: String,
    pub content_type: String,
    pub body: Bytes,
    /// Extra headers (route's, Location, WWW-Authenticate, ...), in the order added.
    pub extra: Vec<(String, String)>,
    pub is_static: bool,
    /// From the application behind the server, length unknown to it (see `Route::dynamic`).
    pub dynamic: bool,
    /// Replace `{method}` and `{uri}` in the body with the request's.
    pub echo: bool,
    /// Last-Modified and ETag, for a static file's answer (200, 206, 304).
    pub validators: Option<(String, String)>,
    /// The body gzip'd (nginx's `gzip on`).
    pub gzipped: Option<Bytes>,
    /// The token of a honey patient the answer shows (an application's search or read).
    pub token: Option<crate::event::TokenHit>,
    /// Sent without a length and ended by closing the connection, as Orthanc streams a
    /// multipart answer.
    pub streamed: bool,
}

/// The boundary of the next `multipart/byteranges` answer: a counter, zero-padded as
/// nginx writes it.
fn next_boundary() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!("{:020}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

impl Answer {
    /// `200 OK` with this body and no extra headers.
    pub fn ok(content_type: String, body: Bytes) -> Answer {
        Answer {
            status: 200,
            reason: "OK".into(),
            content_type,
            body,
            extra: Vec::new(),
            is_static: false,
            dynamic: false,
            echo: false,
            validators: None,
            gzipped: None,
            token: None,
            streamed: false,
        }
    }
}

/// An error page's answer.
pub fn from_page(status: u16, page: &ErrorPage) -> Answer {
    Answer { status, reason: page.reason.clone(), echo: page.echo, ..Answer::ok(page.content_type.clone(), Bytes::from(page.body.clone())) }
}

impl Answer {
    /// The personality's page for a status.
    pub fn page(rt: &HttpRuntime, status: u16) -> Answer {
        let (status, page) = rt.personality.error(status);
        from_page(status, page)
    }

    /// A static file's answer after its request's conditions and ranges.
    pub fn conditional(mut self, rt: &HttpRuntime, req: &Request, ranges: bool) -> Answer {
        let len = self.body.len() as u64;
        let modified = rt.modified;
        let etag = format!("\"{:x}-{:x}\"", modified.timestamp(), len);
        let validators = Some((date::format(modified), etag.clone()));
        let c = Conditions {
            if_match: req.header("if-match"),
            if_unmodified_since: req.header("if-unmodified-since"),
            if_none_match: req.header("if-none-match"),
            if_modified_since: req.header("if-modified-since"),
            if_range: req.header("if-range"),
            range: req.header("range").filter(|_| ranges),
        };
        match static_file::decide(&c, &Validators { etag: &etag, modified_unix: modified.timestamp() }, len) {
            Outcome::Full => Answer { validators, ..self },
            Outcome::NotModified => {
                Answer { status: 304, reason: "Not Modified".into(), content_type: String::new(), body: Bytes::new(), is_static: false, validators, ..self }
            }
            Outcome::PreconditionFailed => Answer::page(rt, 412),
            Outcome::Unsatisfiable => {
                let mut page = Answer::page(rt, 416);
                page.extra.push(("Content-Range".into(), format!("bytes */{len}")));
                page
            }
            Outcome::Partial(parts) => {
                self.status = 206;
                self.reason = "Partial Content".into();
                self.is_static = false;
                self.validators = validators;
                if let [one] = parts.as_slice() {
                    self.extra.push(("Content-Range".into(), static_file::content_range(*one, len)));
                    self.body = self.body.slice(one.0 as usize..one.1 as usize);
                } else {
                    let boundary = next_boundary();
                    self.body = Bytes::from(static_file::multipart(&boundary, &self.content_type, &self.body, &parts));
                    self.content_type = format!("multipart/byteranges; boundary={boundary}");
                }
                self
            }
        }
    }

    /// Whether nginx would compress for this request: gzip on, HTTP/1.1 or later, an
    /// Accept-Encoding that takes gzip, and not through a proxy (`Via`; `gzip_proxied off`).
    pub fn gzip_accepted(rt: &HttpRuntime, req: &Request) -> bool {
        rt.personality.gzip.is_some()
            && matches!(req.version, Version::Http11 | Version::H2)
            && req.header("via").is_none()
            && req.header("accept-encoding").is_some_and(super::gzip::accepted)
    }

    /// Whether answers of this content type are compressed.
    pub fn gzip_type(rt: &HttpRuntime, content_type: &str) -> bool {
        let base = content_type.split(';').next().unwrap_or_default().trim();
        rt.personality.gzip.as_ref().is_some_and(|g| g.types.iter().any(|t| t.eq_ignore_ascii_case(base)))
    }

    /// Compresses the answer as nginx does: 200, 403 and 404 of a listed type and
    /// long enough; the ETag becomes weak.
    pub fn gzip(&mut self, rt: &HttpRuntime) {
        let Some(g) = &rt.personality.gzip else { return };
        if !matches!(self.status, 200 | 403 | 404) || !Answer::gzip_type(rt, &self.content_type) || self.body.len() < g.min_length_bytes {
            return;
        }
        // An application's page differs at each request: compressed, not cached.
        let compressed = if self.dynamic { super::gzip::compress(&self.body, g.level).map(Bytes::from) } else { rt.gzipped.get(&self.body, g.level) };
        if let Some(compressed) = compressed {
            self.gzipped = Some(compressed);
            if let Some((_, etag)) = &mut self.validators {
                *etag = format!("W/{etag}");
            }
        }
    }
}
