//! The controller's HTTPS endpoint: sensors' signed requests (ingest, heartbeat,
//! token index) and the JSON API for people and automation (bearer tokens). hyper
//! HTTP/1.1 over rustls, with a cap on connections, a TLS-handshake deadline and a
//! cap on request bodies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::api;
use super::ingest::{self, Controller};
use crate::pipeline::Shutdown;

/// Largest request body (a batch of events, gzip-decoded).
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Connections served at once.
const MAX_CONNECTIONS: usize = 512;
/// Time allowed for the TLS handshake and for each request's head and body.
const DEADLINE: Duration = Duration::from_secs(30);

pub type Reply = Response<Full<Bytes>>;

/// A JSON answer.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

/// An error answer.
pub fn error(status: StatusCode, message: &str) -> Reply {
    json(status, &serde_json::json!({ "error": message }))
}

/// Serves until shutdown.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, controller: Arc<Controller>, shutdown: Shutdown) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "controller accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, controller, shutdown) = (acceptor.clone(), Arc::clone(&controller), shutdown.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(Ok(stream)) = tokio::time::timeout(DEADLINE, acceptor.accept(tcp)).await else { return };
            let service = hyper::service::service_fn(move |req| {
                let controller = Arc::clone(&controller);
                async move { Ok::<_, std::convert::Infallible>(route(req, peer, &controller).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(DEADLINE).serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = shutdown.cancelled() => {}
            }
        });
    }
}

/// Reads the body (gzip-decoded if so marked), capped.
async fn body(req: Request<Incoming>) -> Result<(hyper::http::request::Parts, Vec<u8>), Reply> {
    let (parts, incoming) = req.into_parts();
    let collected = tokio::time::timeout(DEADLINE, Limited::new(incoming, MAX_BODY_BYTES).collect())
        .await
        .map_err(|_| error(StatusCode::REQUEST_TIMEOUT, "body too slow"))?
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?
        .to_bytes();
    if parts.headers.get(hyper::header::CONTENT_ENCODING).is_some_and(|v| v == "gzip") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&collected[..]).take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut out).map_err(|_| error(StatusCode::BAD_REQUEST, "bad gzip"))?;
        if out.len() > MAX_BODY_BYTES {
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"));
        }
        return Ok((parts, out));
    }
    Ok((parts, collected.to_vec()))
}

async fn route(req: Request<Incoming>, peer: SocketAddr, controller: &Arc<Controller>) -> Reply {
    let path = req.uri().path().to_string();
    let (parts, body) = match body(req).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    if path.starts_with("/v1/sensor/") {
        return ingest::signed(parts, body, peer, controller).await;
    }
    if path.starts_with("/v1/") {
        return api::handle(parts, body, controller).await;
    }
    error(StatusCode::NOT_FOUND, "not found")
}
