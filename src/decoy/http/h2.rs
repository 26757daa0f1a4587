//! h2 (negotiated by ALPN over TLS) through hyper: each stream's request becomes a
//! [`Request`] for the exchange, whose [`Response`] goes back as an h2 response
//! (connection-specific headers dropped, names lower-cased as h2 requires).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::exchange::Exchange;
use super::h1::H1Limits;
use super::message::{BodyReader, Request, Response, Version};
use crate::event::CloseReason;

/// Most concurrent streams per connection.
const MAX_STREAMS: u32 = 32;

/// Serves h2 on `io` until the peer goes away or an error.
pub async fn serve<S>(io: S, ex: Arc<Exchange>, limits: H1Limits) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let ex = Arc::clone(&ex);
        async move { Ok::<_, Infallible>(answer(&ex, req, &limits).await) }
    });
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(limits.max_head_bytes as u32)
        .keep_alive_interval(None)
        .max_send_buf_size(256 * 1024);
    match builder.serve_connection(TokioIo::new(io), service).await {
        Ok(()) => CloseReason::PeerClosed,
        Err(e) if e.is_timeout() => CloseReason::IdleTimeout,
        Err(_) => CloseReason::ProtocolError,
    }
}

async fn answer(ex: &Exchange, req: hyper::Request<Incoming>, limits: &H1Limits) -> hyper::Response<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
    let mut reader = BodyReader::new(limits.body_kept);
    let mut complete = true;
    loop {
        if reader.bytes() >= limits.max_body_bytes {
            complete = body.is_end_stream();
            break;
        }
        match tokio::time::timeout(limits.header_timeout, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    let room = (limits.max_body_bytes - reader.bytes()) as usize;
                    reader.update(&data[..data.len().min(room)]);
                    complete &= data.len() <= room;
                }
            }
            Ok(None) => break,
            _ => {
                complete = false;
                break;
            }
        }
    }
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(parts.headers.len() + 1);
    if let Some(authority) = parts.uri.authority() {
        headers.push((b"host".to_vec(), authority.as_str().as_bytes().to_vec()));
    }
    headers.extend(parts.headers.iter().map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec())));
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.to_string(), |pq| pq.as_str().to_string());
    let request = Request {
        method: parts.method.as_str().as_bytes().to_vec(),
        target: target.into_bytes(),
        version: Version::H2,
        headers,
        body: reader.finish(!complete),
    };
    convert(ex.respond(request, true).await)
}

/// Headers that mean something only on an HTTP/1 connection.
fn connection_specific(name: &str) -> bool {
    ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"].iter().any(|h| name.eq_ignore_ascii_case(h))
}

fn convert(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(r.status);
    for (name, value) in r.headers.iter().filter(|(n, _)| !connection_specific(n)) {
        if r.head_only && name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        builder = builder.header(name.to_ascii_lowercase(), value);
    }
    let body = if r.head_only { Bytes::new() } else { r.body };
    builder.body(Full::new(body)).unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_only_headers_are_dropped_and_names_lower_cased() {
        let r = Response {
            status: 200,
            reason: "OK".into(),
            headers: vec![("Server".into(), "nginx/1.22.1".into()), ("Connection".into(), "keep-alive".into()), ("Keep-Alive".into(), "timeout=1".into())],
            body: Bytes::from_static(b"x"),
            head_only: false,
            close: false,
            raw: None,
        };
        let h = convert(r);
        let names: Vec<&str> = h.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["server"]);
    }
}
