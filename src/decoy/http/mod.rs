//! The `http` decoy: answers like the product its personality imitates (status line,
//! header order, error pages), records every request, and recognises canary URLs and
//! planted basic-auth, bearer and AWS credentials.
//!
//! HTTP/1 is served by our own reader and writer (`h1`), so that every byte on the
//! wire is the personality's; h2 (over TLS, when the personality offers it) by hyper.

mod answer;
mod aws;
mod classify;
mod date;
mod exchange;
pub(crate) mod fhir;
pub(crate) mod gzip;
pub(crate) mod h1;
mod h1_body;
pub(crate) mod h2;
pub(crate) mod message;
pub(crate) mod orthanc;
mod personality;
pub(crate) mod portal;
pub(crate) mod request;
pub(crate) mod static_file;
pub(crate) mod tls;

use std::path::Path;

use crate::decoy::Surroundings;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::connection::Connection;
use super::counting::{ByteCounts, Counting};
pub use crate::config::TlsSource;
use crate::config::{ConnectionLimits, HttpDecoyConfig};
use crate::event::CloseReason;
use exchange::Exchange;
pub use personality::{Application, HttpPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Largest body read from a request (the rest is never read; the connection closes).
pub const MAX_BODY_BYTES: u64 = 1 << 20;
/// Largest request head (request line and headers), like nginx's 4 × 8 KiB buffers.
const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Longest request line (nginx answers 414 past its 8 KiB buffer).
const MAX_REQUEST_LINE_BYTES: usize = 8 * 1024;
/// Most headers in one request.
const MAX_HEADERS: usize = 100;

/// Everything an HTTP decoy needs at run time.
pub struct HttpRuntime {
    pub personality: Arc<HttpPersonality>,
    /// HTTPS, when configured: OpenSSL set up as the imitated server sets it up.
    pub tls: Option<openssl::ssl::SslContext>,
    /// Last-Modified (and the ETag's time) of static pages, like a file's mtime: chosen
    /// once per decoy, weeks to months before its first start, and kept in the state
    /// directory, so it does not change at every restart.
    pub modified: chrono::DateTime<chrono::Utc>,
    /// 404s per source, to tag wordlist scanning.
    pub scans: classify::ScanTracker,
    /// Pages already gzip'd.
    pub gzipped: gzip::Cache,
    /// The application behind the routes (`application: orthanc`).
    pub orthanc: Option<orthanc::Orthanc>,
    /// Or `application: hapi-fhir`.
    pub fhir: Option<fhir::FhirServer>,
    /// The sign-in application (`portal:`).
    pub portal: Option<portal::Portal>,
    /// Where exploit payloads go (`quarantine_bodies_bytes:`).
    pub quarantine: Option<crate::decoy::quarantine::Quarantine>,
}

/// Payloads one HTTP decoy keeps, and their bytes in all.
const QUARANTINE_OBJECTS: u64 = 1_000;
const QUARANTINE_BYTES: u64 = 256 << 20;

impl HttpRuntime {
    /// A runtime for a personality, serving plain HTTP.
    pub fn new(personality: Arc<HttpPersonality>) -> Self {
        let portal = personality.portal.clone().map(portal::Portal::new);
        let modified = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - 30 * 86_400, 0).unwrap_or_default();
        HttpRuntime {
            personality,
            tls: None,
            modified,
            scans: classify::ScanTracker::new(Duration::from_secs(60), 20),
            gzipped: gzip::Cache::default(),
            orthanc: None,
            fhir: None,
            portal,
            quarantine: None,
        }
    }

    /// A runtime for a decoy: loads or generates its certificate (in
    /// `STATE_DIR/http/NAME/`) when it serves HTTPS, and sets up its application over
    /// the shared cohort. Blocking: call it off the runtime.
    pub fn for_decoy(config: &HttpDecoyConfig, personality: Arc<HttpPersonality>, around: &Surroundings) -> Result<Self, crate::decoy::error::SetupError> {
        let state_dir = around.state_dir.as_path();
        let http2 = personality.http2;
        let application = personality.application;
        let mut rt = Self::new(personality);
        match application {
            Some(Application::Orthanc) => {
                let (dicom_aet, dicom_port) = around.pacs.clone().unwrap_or_else(|| ("ORTHANC".into(), 4242));
                let system = orthanc::System { name: crate::config::host_name().to_uppercase(), dicom_aet, dicom_port, http_port: config.listen.port() };
                rt.orthanc = Some(orthanc::Orthanc::new(Arc::clone(&around.shared_cohort), system));
            }
            Some(Application::HapiFhir) => {
                let c = &around.cohort;
                let site =
                    crate::token::clinical::Site { uid_root: c.uid_root.clone(), institution_name: c.institution_name.clone(), site_code: c.site_code.clone() };
                rt.fhir = Some(fhir::FhirServer::new(Arc::clone(&around.shared_cohort), site));
            }
            None => {}
        }
        rt.modified = modified_time(&state_dir.join("http").join(&config.name))?;
        if rt.personality.quarantine_bodies_bytes.is_some() {
            let dir = state_dir.join("http").join(&config.name).join("quarantine");
            rt.quarantine = Some(crate::decoy::quarantine::Quarantine::open(&dir, "bin", QUARANTINE_OBJECTS, QUARANTINE_BYTES)?);
        }
        if let Some(source) = &config.tls {
            let (chain, key) = crate::tls::load(source, &state_dir.join("http").join(&config.name))?;
            rt.tls = Some(tls::context(&chain, &key, &rt.personality.tls, http2)?);
        }
        Ok(rt)
    }

    pub(crate) fn h1_limits(&self, limits: &ConnectionLimits) -> h1::H1Limits {
        let p = &self.personality;
        let (header_timeout, keep_alive) = match p.timeouts.filter(|_| !limits.idle_timeout_set) {
            // The product's own timing, as a scanner measures it.
            Some(t) => (Duration::from_secs(t.header_seconds.into()), Duration::from_secs(t.keep_alive_seconds.into())),
            None => {
                let keep_alive = p.keep_alive_header_seconds.map_or(limits.idle_timeout, |s| Duration::from_secs(s.into()).min(limits.idle_timeout));
                (limits.idle_timeout, keep_alive)
            }
        };
        h1::H1Limits {
            max_head_bytes: MAX_HEAD_BYTES,
            max_request_line_bytes: MAX_REQUEST_LINE_BYTES,
            max_headers: MAX_HEADERS,
            header_timeout,
            keep_alive_timeout: keep_alive,
            max_body_bytes: MAX_BODY_BYTES,
            body_kept: self.personality.quarantine_bodies_bytes.map_or(request::BODY_KEPT, |n| n.min(MAX_BODY_BYTES as usize)),
            refuse_body_over: self.personality.client_max_body_bytes,
            http09: self.personality.http09,
            early_method_check: self.personality.early_method_check,
        }
    }
}

/// Serves one connection: TLS first when configured, then h2 or HTTP/1 as negotiated.
pub async fn handle(rt: Arc<HttpRuntime>, stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let counts = Arc::new(ByteCounts::default());
    let h1_limits = rt.h1_limits(&limits);
    let shutdown = conn.context().shutdown.clone();
    let mut exchange = Exchange { rt: Arc::clone(&rt), recorder: conn.recorder(), plain_on_tls_port: false };
    let io_counts = Arc::clone(&counts);
    let serve = async move {
        let Some(context) = exchange.rt.tls.clone() else {
            let mut io = Counting::new(stream, io_counts, limits.max_session_bytes);
            return h1::serve(&mut io, &exchange, &h1_limits).await;
        };
        // Like nginx, the first byte decides: a TLS record, or plain HTTP to be told off.
        let opening = tls::opening(&stream, h1_limits.header_timeout).await;
        let mut io = Counting::new(stream, io_counts, limits.max_session_bytes);
        match opening {
            tls::Opening::Closed => return CloseReason::PeerClosed,
            tls::Opening::Silent => return CloseReason::IdleTimeout,
            tls::Opening::Plain if exchange.rt.personality.plain_http_on_tls_closes => return CloseReason::ProtocolError,
            tls::Opening::Plain => {
                exchange.plain_on_tls_port = true;
                return h1::serve(&mut io, &exchange, &h1_limits).await;
            }
            tls::Opening::Tls => {}
        }
        let Ok(ssl) = openssl::ssl::Ssl::new(&context) else { return CloseReason::Error };
        let Ok(mut tls) = tokio_openssl::SslStream::new(ssl, io) else { return CloseReason::Error };
        match tokio::time::timeout(h1_limits.header_timeout, std::pin::Pin::new(&mut tls).accept()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                tls::drain(tls.get_mut()).await;
                return CloseReason::ProtocolError;
            }
            Err(_) => return CloseReason::IdleTimeout,
        }
        if tls.ssl().selected_alpn_protocol() == Some(b"h2") {
            return h2::serve(tls, Arc::new(exchange), h1_limits).await;
        }
        h1::serve(&mut tls, &exchange, &h1_limits).await
    };
    let reason = tokio::select! {
        r = serve => r,
        _ = shutdown.cancelled() => CloseReason::Shutdown,
        _ = tokio::time::sleep_until(conn.deadline()) => CloseReason::SessionTimeout,
    };
    conn.bytes_in = counts.read.load(Ordering::Relaxed);
    conn.bytes_out = counts.written.load(Ordering::Relaxed);
    conn.close(reason).await;
}

/// The decoy's static pages' modification time, kept in `dir/modified` (Unix seconds);
/// on first use a time 30 to 400 days back, at a random second.
fn modified_time(dir: &Path) -> Result<chrono::DateTime<chrono::Utc>, crate::tls::TlsError> {
    let path = dir.join("modified");
    let kept = std::fs::read_to_string(&path).ok().and_then(|t| t.trim().parse::<i64>().ok());
    let seconds = match kept {
        Some(s) => s,
        None => {
            let back = rand::RngExt::random_range(&mut rand::rng(), 30 * 86_400..400 * 86_400);
            let s = chrono::Utc::now().timestamp() - back;
            crate::state_file::private_dir(dir)?;
            crate::state_file::replace(&path, s.to_string().as_bytes(), 0o600)?;
            s
        }
    };
    Ok(chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn nginx_default_keeps_nginxs_timeouts_unless_the_decoy_sets_its_own() {
        let nginx = Arc::new(super::HttpPersonality::built_in("nginx-default").unwrap().unwrap());
        let rt = super::HttpRuntime::new(nginx);
        let mut limits = crate::config::ConnectionLimits {
            max_connections: 10,
            max_connections_per_source: 10,
            idle_timeout: Duration::from_secs(30),
            idle_timeout_set: false,
            session_timeout: Duration::from_secs(300),
            max_session_bytes: 1 << 20,
        };
        let h1 = rt.h1_limits(&limits);
        assert_eq!((h1.header_timeout, h1.keep_alive_timeout), (Duration::from_secs(60), Duration::from_secs(75)));
        limits.idle_timeout_set = true;
        let h1 = rt.h1_limits(&limits);
        assert_eq!((h1.header_timeout, h1.keep_alive_timeout), (Duration::from_secs(30), Duration::from_secs(30)));
    }

    #[test]
    fn a_decoys_file_time_is_chosen_once_in_the_past_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("http").join("web");
        let first = super::modified_time(&at).unwrap();
        assert_eq!(super::modified_time(&at).unwrap(), first, "the same after a restart");
        let days_back = (chrono::Utc::now() - first).num_days();
        assert!((30..=400).contains(&days_back), "{days_back} days back");
        assert_eq!(std::fs::metadata(at.join("modified")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
