//! The controller's HTTPS endpoint: sensors' signed requests (ingest, heartbeat,
//! token index) and the JSON API for people and automation (bearer tokens). hyper
//! HTTP/1.1 over rustls, with a cap on connections, a TLS-handshake deadline and a
//! cap on request bodies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use tokio::net::TcpListener;

use super::api;
use super::ingest::{self, Controller};
use super::reply::{error, Reply};
use crate::shutdown::Shutdown;

/// Largest request body (a batch of events, gzip-decoded).
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Connections served at once.
const MAX_CONNECTIONS: usize = 512;
/// Time allowed for the TLS handshake and for each request's head and body.
const DEADLINE: Duration = Duration::from_secs(30);

/// Serves until shutdown.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, controller: Arc<Controller>, shutdown: Shutdown) {
    let options = crate::http_server::ServeOptions {
        what: "controller",
        max_connections: MAX_CONNECTIONS,
        deadline: DEADLINE,
        max_connection_life: Duration::from_secs(24 * 3600),
        tls: Some(tls),
    };
    crate::http_server::serve(listener, options, shutdown, move |req, peer| {
        let controller = Arc::clone(&controller);
        async move { route(req, peer, &controller).await }
    })
    .await
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
        flate2::read::GzDecoder::new(&collected[..])
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "bad gzip"))?;
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
