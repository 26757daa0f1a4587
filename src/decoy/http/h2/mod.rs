//! h2 (negotiated by ALPN over TLS) on the h2 crate, set up as nginx 1.22 sets up its
//! HTTP/2: its SETTINGS (128 streams, 64 KiB stream windows, the largest frame size)
//! and its connection window opened to 2^31-1, so a client's first frames look the
//! same. Each stream's request becomes a [`Request`] for the exchange, whose
//! [`Response`] goes back with the personality's headers (HTTP/1-only ones dropped,
//! names lower-cased), nothing added.

use std::sync::Arc;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::exchange::Exchange;
use super::h1::H1Limits;
use super::message::{BodyReader, Request, Response, Version};
use crate::event::CloseReason;

/// nginx's `http2_max_concurrent_streams`.
const MAX_STREAMS: u32 = 128;
/// nginx's `http2_recv_buffer`-driven stream window (SETTINGS_INITIAL_WINDOW_SIZE).
const STREAM_WINDOW_BYTES: u32 = 65_536;
/// nginx announces the largest frame size h2 allows.
const MAX_FRAME_BYTES: u32 = (1 << 24) - 1;
/// nginx opens the connection window to the largest h2 allows.
const CONNECTION_WINDOW_BYTES: u32 = i32::MAX as u32;
/// Response bytes buffered per stream before the peer's window opens.
const SEND_BUFFER_BYTES: usize = 256 * 1024;

/// Serves h2 on `io` until the peer goes away, an error, or the keep-alive time
/// passes with no stream open.
pub async fn serve<S>(io: S, ex: Arc<Exchange>, limits: H1Limits) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .initial_window_size(STREAM_WINDOW_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
        // Bounds what HPACK may expand a header block to (nginx has such a limit but
        // does not announce it; h2 announces what it enforces).
        .max_header_list_size(limits.max_head_bytes as u32)
        .max_send_buffer_size(SEND_BUFFER_BYTES);
    let mut conn = match timeout(limits.header_timeout, builder.handshake::<_, Bytes>(io)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(_)) => return CloseReason::ProtocolError,
        Err(_) => return CloseReason::IdleTimeout,
    };
    let mut streams = JoinSet::new();
    loop {
        let idle = streams.is_empty();
        tokio::select! {
            next = conn.accept() => match next {
                Some(Ok((request, respond))) => {
                    let ex = Arc::clone(&ex);
                    streams.spawn(async move { answer(&ex, request, respond, &limits).await });
                }
                Some(Err(e)) if e.is_io() => return CloseReason::PeerClosed,
                Some(Err(_)) => return CloseReason::ProtocolError,
                None => return CloseReason::PeerClosed,
            },
            Some(_) = streams.join_next(), if !idle => {}
            _ = tokio::time::sleep(limits.keep_alive_timeout), if idle => {
                // nginx says GOAWAY before it closes an idle connection.
                conn.graceful_shutdown();
                let _ = timeout(std::time::Duration::from_secs(1), conn.accept()).await;
                return CloseReason::IdleTimeout;
            }
        }
    }
}

async fn answer(ex: &Exchange, req: http::Request<RecvStream>, mut respond: SendResponse<Bytes>, limits: &H1Limits) {
    let (parts, mut body) = req.into_parts();
    let mut reader = BodyReader::new(limits.body_kept);
    let mut complete = true;
    while !body.is_end_stream() {
        if reader.bytes() >= limits.max_body_bytes {
            complete = false;
            break;
        }
        match timeout(limits.header_timeout, body.data()).await {
            Ok(Some(Ok(data))) => {
                let _ = body.flow_control().release_capacity(data.len());
                let room = (limits.max_body_bytes - reader.bytes()) as usize;
                reader.update(&data[..data.len().min(room)]);
                complete &= data.len() <= room;
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
    let (head, body) = convert(ex.respond(request, true).await);
    let end = body.is_empty();
    if let Ok(mut stream) = respond.send_response(head, end) {
        if !end {
            let _ = stream.send_data(body, true);
        }
    }
}

/// Headers that mean something only on an HTTP/1 connection.
fn connection_specific(name: &str) -> bool {
    ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"].iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// The response head (headers in the personality's order) and body.
fn convert(r: Response) -> (http::Response<()>, Bytes) {
    let mut builder = http::Response::builder().status(r.status);
    for (name, value) in r.headers.iter().filter(|(n, _)| !connection_specific(n)) {
        builder = builder.header(name.to_ascii_lowercase(), value);
    }
    let body = if r.head_only { Bytes::new() } else { r.body };
    (builder.body(()).unwrap_or_default(), body)
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
        let (h, _) = convert(r);
        let names: Vec<&str> = h.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["server"]);
    }
}
