//! The `http` decoy: answers like the product its personality imitates (status line,
//! header order, error pages), records every request, and recognises canary URLs and
//! planted basic-auth, bearer and AWS credentials.

mod aws;
mod classify;
mod personality;
mod request;

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::connection::{Connection, Recorder};
use super::counting::{ByteCounts, Counting};
use crate::event::{AttackerBytes, CloseReason, EventKind};
pub use personality::{HttpPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Largest body read from a request (the rest is not read; the connection closes).
const MAX_BODY_BYTES: u64 = 1 << 20;

/// Everything an HTTP decoy needs at run time.
pub struct HttpRuntime {
    pub personality: Arc<HttpPersonality>,
    /// Last-Modified and ETag of the index page, fixed at start like a file's mtime.
    pub started: chrono::DateTime<chrono::Utc>,
    /// 404s per source, to tag wordlist scanning.
    pub scans: classify::ScanTracker,
}

impl HttpRuntime {
    /// A runtime for a personality.
    pub fn new(personality: Arc<HttpPersonality>) -> Self {
        HttpRuntime { personality, started: chrono::Utc::now(), scans: classify::ScanTracker::new(Duration::from_secs(60), 20) }
    }
}

fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Serves one HTTP/1.x connection.
pub async fn handle(rt: Arc<HttpRuntime>, stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let counts = Arc::new(ByteCounts::default());
    let io = TokioIo::new(Counting::new(stream, Arc::clone(&counts), limits.max_session_bytes));
    let recorder = conn.recorder();
    let idle = limits.idle_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (rt, recorder) = (Arc::clone(&rt), recorder.clone());
        async move { Ok::<_, Infallible>(respond(&rt, &recorder, req, idle).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(idle).max_buf_size(64 * 1024).max_headers(100).title_case_headers(true);
    let serve = builder.serve_connection(io, service);
    let shutdown = conn.context().shutdown.clone();
    let reason = tokio::select! {
        r = serve => match r {
            Ok(()) => CloseReason::PeerClosed,
            Err(e) if e.is_timeout() => CloseReason::IdleTimeout,
            Err(_) if counts.read.load(Ordering::Relaxed) >= limits.max_session_bytes => CloseReason::MaxBytes,
            Err(e) if e.is_parse() || e.is_parse_too_large() => CloseReason::ProtocolError,
            Err(_) => CloseReason::Error,
        },
        _ = shutdown.cancelled() => CloseReason::Shutdown,
        _ = tokio::time::sleep_until(conn.deadline()) => CloseReason::SessionTimeout,
    };
    conn.bytes_in = counts.read.load(Ordering::Relaxed);
    conn.bytes_out = counts.written.load(Ordering::Relaxed);
    conn.close(reason).await;
}

/// Reads the body up to the cap; returns (bytes seen, sha256, first bytes).
async fn read_body(mut body: Incoming, idle: Duration) -> (u64, Option<String>, Vec<u8>) {
    let mut total = 0u64;
    let mut kept = Vec::new();
    let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
    while total < MAX_BODY_BYTES {
        let Ok(Some(Ok(frame))) = tokio::time::timeout(idle, body.frame()).await else { break };
        if let Ok(data) = frame.into_data() {
            let room = request::BODY_KEPT.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            hash.update(&data);
            total += data.len() as u64;
        }
    }
    let digest = (total > 0).then(|| hash.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect());
    (total, digest, kept)
}

async fn respond(rt: &HttpRuntime, recorder: &Recorder, req: Request<Incoming>, idle: Duration) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let (body_bytes, body_sha256, kept) = read_body(body, idle).await;
    let p = &rt.personality;
    let http10 = parts.version == hyper::Version::HTTP_10;
    let has_host = parts.headers.contains_key(hyper::header::HOST);
    let path = parts.uri.path();
    let login = p.login.as_ref().filter(|l| parts.method == hyper::Method::POST && l.path == path);
    // Like nginx's static module: a missing resource is 404 whatever the method; an
    // existing one answers GET/HEAD (and the login form its POST), anything else 405.
    let (status, close) = if !http10 && !has_host {
        (400, true)
    } else if login.is_some() {
        (200, false)
    } else if !p.index.paths.iter().any(|x| x == path) {
        (404, false)
    } else if p.methods.iter().any(|m| m == parts.method.as_str()) {
        (200, false)
    } else {
        (405, false)
    };
    let form = login.and_then(|l| request::form_login(&kept, &l.username_field, &l.password_field));
    let credential = form.or_else(|| request::credential(&parts));
    // AWS-signed requests (an `endpoint_url` pointing here) get S3's own answer.
    let aws_key_id = credential.as_ref().filter(|c| c.scheme == "aws-sigv4").and_then(|c| c.secret.as_ref()).map(|k| k.to_text_lossy());
    let status = if aws_key_id.is_some() { 403 } else { status };
    let (headers, headers_truncated) = request::headers(&parts);
    let target = parts.uri.path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| parts.uri.to_string());
    let mut tags = Vec::new();
    if classify::is_exploit(target.as_bytes()) || headers.iter().any(|h| classify::is_exploit(h.value.as_bytes())) || classify::is_exploit(&kept) {
        tags.push(classify::EXPLOIT.to_string());
    }
    if status == 404 && rt.scans.not_found(recorder.source().ip()) {
        tags.push(classify::SCANNING.to_string());
    }
    recorder
        .emit(EventKind::HttpRequest {
            method: AttackerBytes::new(parts.method.as_str()),
            target: AttackerBytes::new(target),
            version: format!("{:?}", parts.version),
            headers,
            headers_truncated,
            user_agent: parts.headers.get(hyper::header::USER_AGENT).map(|v| AttackerBytes::new(&v.as_bytes()[..v.len().min(request::MAX_HEADER_VALUE)])),
            credential,
            body_bytes,
            body_sha256,
            body: (!kept.is_empty()).then(|| AttackerBytes::new(kept)),
            status,
            tags,
        })
        .await;
    // A body left unread (over the cap) ends the connection, as does HTTP/1.0.
    let connection = if close || http10 || body_bytes >= MAX_BODY_BYTES { "close" } else { "keep-alive" };
    match aws_key_id {
        Some(key_id) => aws::access_denied(&key_id, recorder.event(EventKind::ConnectionOpened).id.to_string()),
        None => build(rt, status, connection, login.map(|l| l.failure_body.as_str())),
    }
}

/// A response with the personality's header set, in its order.
fn build(rt: &HttpRuntime, status: u16, connection: &str, page: Option<&str>) -> Response<Full<Bytes>> {
    let p = &rt.personality;
    let (status, content_type, body, reason) = if let Some(page) = page {
        (status, p.index.content_type.as_str(), page, "OK")
    } else if status == 200 {
        (200, p.index.content_type.as_str(), p.index.body.as_str(), "OK")
    } else {
        let (code, page) = p.error(status);
        (code, "text/html", page.body.as_str(), page.reason.as_str())
    };
    let mut r = Response::builder().status(status);
    if let Some(server) = &p.server {
        r = r.header("Server", server);
    }
    r = r.header("Date", http_date(chrono::Utc::now())).header("Content-Type", content_type).header("Content-Length", body.len());
    let static_page = status == 200 && page.is_none();
    if static_page {
        r = r.header("Last-Modified", http_date(rt.started));
    }
    r = r.header("Connection", connection);
    if static_page {
        r = r.header("ETag", format!("\"{:x}-{:x}\"", rt.started.timestamp(), body.len())).header("Accept-Ranges", "bytes");
    }
    let mut response = r.body(Full::new(Bytes::from(body.to_string()))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.as_bytes().to_vec()) {
        response.extensions_mut().insert(phrase);
    }
    response
}
