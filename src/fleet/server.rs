//! The controller's HTTPS endpoint: sensors' signed requests (ingest, heartbeat,
//! token index) and the JSON API for people and automation (bearer tokens). hyper
//! HTTP/1.1 over rustls, with caps on connections (in all and per source), a
//! TLS-handshake deadline, and bodies read only after the headers authenticate.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use tokio::net::TcpListener;

use super::api;
use super::auth;
use super::body::{self, Body, BodyError};
use super::ingest;
use super::reply::{error, Reply};
use super::state::Controller;
use crate::shutdown::Shutdown;

/// Connections served at once.
const MAX_CONNECTIONS: usize = 512;
/// Connections one address may hold: a sensor uses two or three (uplink, heartbeat,
/// token sync), so this leaves room for some 40 sensors behind one NAT.
const MAX_CONNECTIONS_PER_SOURCE: usize = 128;
/// Time allowed for the TLS handshake and for each request's head and body.
const DEADLINE: Duration = Duration::from_secs(30);

/// Serves until shutdown.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, controller: Arc<Controller>, shutdown: Shutdown) {
    let options = crate::http_server::ServeOptions {
        what: "controller",
        max_connections: MAX_CONNECTIONS,
        max_connections_per_source: MAX_CONNECTIONS_PER_SOURCE,
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

/// Reads the body of a request whose headers passed.
async fn read_body(parts: &hyper::http::request::Parts, incoming: Incoming) -> Result<Body, Reply> {
    let gzip = parts.headers.get(hyper::header::CONTENT_ENCODING).is_some_and(|v| v == "gzip");
    body::read(incoming, gzip, DEADLINE).await.map_err(|e| {
        let status = match e {
            BodyError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyError::TooLarge | BodyError::Bomb => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::BadGzip | BodyError::Broken => StatusCode::BAD_REQUEST,
        };
        error(status, &e.to_string())
    })
}

async fn route(req: Request<Incoming>, peer: SocketAddr, controller: &Arc<Controller>) -> Reply {
    let path = req.uri().path().to_string();
    let (parts, incoming) = req.into_parts();
    if path.starts_with("/v1/sensor/") {
        // Nothing is read, decompressed or hashed for a request that cannot be an
        // enrolled sensor's: its headers and name are checked first.
        let head = match auth::check_head(&parts, controller).await {
            Ok(h) => h,
            Err((claimed, reason)) => return auth::refuse(controller, peer, &claimed, &reason).await,
        };
        return match read_body(&parts, incoming).await {
            Ok(body) => ingest::signed(parts, head, body, peer, controller).await,
            Err(reply) => reply,
        };
    }
    if path.starts_with("/v1/") {
        if let Err(reply) = api::authorised(&parts, controller).await {
            return reply;
        }
        return match read_body(&parts, incoming).await {
            Ok(body) => api::handle(parts, body.bytes, controller).await,
            Err(reply) => reply,
        };
    }
    error(StatusCode::NOT_FOUND, "not found")
}
