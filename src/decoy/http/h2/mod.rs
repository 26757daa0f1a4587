//! h2 (negotiated by ALPN over TLS), written here so that it behaves on the wire as
//! nginx 1.22's HTTP/2 does: its SETTINGS and connection window, its HPACK encoding
//! of the response headers, DATA in 8 KiB chunks, its answers to broken frames,
//! RST_STREAM for a body it will not read, GOAWAY when idle. [`conn`] holds the
//! protocol without I/O; this module reads the attacker's bytes into it, answers its
//! requests through the [`Exchange`] and writes what it says.

pub(crate) mod conn;
pub(crate) mod frame;
pub(crate) mod hpack;
mod request;
mod table;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};

pub use conn::{Conn, Limits, Ready};

use super::exchange::Exchange;
use super::h1::H1Limits;
use super::message::Response;
use crate::event::CloseReason;

/// Bytes read from the socket at a time.
const READ_BYTES: usize = 16 * 1024;
/// After its GOAWAY nginx reads and drops what still comes, for up to 5 s of silence
/// and 30 s in all (lingering_timeout, lingering_time).
const LINGER_IDLE: Duration = Duration::from_secs(5);
const LINGER_MAX: Duration = Duration::from_secs(30);
/// How long a body nginx would not have read may keep its request waiting: nginx
/// answers such a request from its head; the decoy waits this long for the body so
/// that it is recorded with the request.
const UNREAD_BODY_STALL: Duration = Duration::from_millis(300);

/// The connection limits an h2 connection takes from the personality's HTTP/1 ones.
pub fn limits(l: &H1Limits) -> Limits {
    Limits { max_field_bytes: l.max_request_line_bytes, max_list_bytes: l.max_head_bytes, max_body_bytes: l.max_body_bytes, body_kept: l.body_kept }
}

/// The answers being prepared, handed to the connection in the order their requests
/// arrived, as nginx (answering each stream as it reads it) sends them.
#[derive(Default)]
struct Answers {
    tasks: JoinSet<(u32, Response)>,
    stream_of: HashMap<tokio::task::Id, u32>,
    order: VecDeque<u32>,
    done: HashMap<u32, Option<Response>>,
}

impl Answers {
    fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Answers each request through the exchange (which records it), in its own task.
    fn spawn(&mut self, ready: impl IntoIterator<Item = Ready>, ex: &Arc<Exchange>) {
        for r in ready {
            let ex = Arc::clone(ex);
            let (id, handle) = match r {
                Ready::Request(id, req) => (id, self.tasks.spawn(async move { (id, ex.respond(req, true).await) })),
                Ready::Refused(id, problem, raw) => (id, self.tasks.spawn(async move { (id, ex.malformed(problem, &raw).await) })),
                Ready::Reset(raw) => {
                    tokio::spawn(async move { ex.unanswered(&raw).await });
                    continue;
                }
            };
            self.stream_of.insert(handle.id(), id);
            self.order.push_back(id);
        }
    }

    /// Waits for the next answer; hands `conn` every answer now due. A task that
    /// failed leaves its stream unanswered rather than holding up the others.
    async fn next(&mut self, conn: &mut Conn) {
        let Some(joined) = self.tasks.join_next_with_id().await else { return };
        let (task, answer) = match joined {
            Ok((task, (_, response))) => (task, Some(response)),
            Err(e) => (e.id(), None),
        };
        if let Some(id) = self.stream_of.remove(&task) {
            self.done.insert(id, answer);
        }
        while let Some(answer) = self.order.front().and_then(|id| self.done.remove(id)) {
            if let (Some(id), Some(response)) = (self.order.pop_front(), answer) {
                conn.answer(id, &response);
            } else {
                self.order.pop_front();
            }
        }
    }
}

/// Serves h2 on `io` until the peer goes away, an error, or the keep-alive time
/// passes with no stream open.
pub async fn serve<S>(io: S, ex: Arc<Exchange>, limits: H1Limits) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut conn = Conn::new(self::limits(&limits));
    let mut buf = BytesMut::with_capacity(READ_BYTES);
    let mut answers = Answers::default();
    let mut ready = Vec::new();
    let reads_body = |target: &[u8]| ex.reads_body(target);
    // nginx's header timer runs from the start until the first stream; afterwards its
    // keep-alive timer runs whenever no stream is open. Neither is reset by frames
    // that open no stream (PING, SETTINGS, WINDOW_UPDATE).
    let mut idle_deadline = Some(Instant::now() + limits.header_timeout);
    let mut started = 0;
    let mut last_read = Instant::now();
    loop {
        answers.spawn(ready.drain(..), &ex);
        if !conn.out.is_empty() {
            let out = std::mem::take(&mut conn.out);
            match timeout(limits.header_timeout, wr.write_all(&out)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return CloseReason::PeerClosed,
                Err(_) => return CloseReason::IdleTimeout,
            }
        }
        let open = !conn.idle() || !answers.is_empty();
        if conn.going_away() && !open {
            linger(&mut rd, &mut wr).await;
            return CloseReason::PeerClosed;
        }
        if conn.streams_started() != started {
            started = conn.streams_started();
            idle_deadline = None;
        }
        if !open && idle_deadline.is_none() {
            idle_deadline = Some(Instant::now() + limits.keep_alive_timeout);
        }
        // While streams are open: a body nginx would not have read is given up on
        // soon; a request still arriving or an answer the peer does not take has the
        // header timeout from the last bytes read.
        let deadline = match idle_deadline {
            Some(at) if !open => at,
            _ if conn.waiting_on_unread_body() => last_read + UNREAD_BODY_STALL,
            _ if conn.receiving() || conn.blocked() => last_read + limits.header_timeout,
            _ => Instant::now() + limits.keep_alive_timeout,
        };
        tokio::select! {
            read = rd.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => return CloseReason::PeerClosed,
                Ok(_) => {
                    last_read = Instant::now();
                    if conn.receive(&mut buf, &mut ready, &reads_body).is_err() {
                        return fail(conn, ready, answers, &ex, rd, wr, &limits).await;
                    }
                    if buf.capacity() - buf.len() < READ_BYTES / 4 {
                        buf.reserve(READ_BYTES);
                    }
                }
            },
            () = answers.next(&mut conn), if !answers.is_empty() => {}
            _ = tokio::time::sleep_until(deadline) => {
                if conn.waiting_on_unread_body() {
                    conn.release_unread_bodies(&mut ready);
                    continue;
                }
                if open {
                    conn.expire();
                    last_read = Instant::now();
                    continue;
                }
                // GOAWAY, NO_ERROR between frames and PROTOCOL_ERROR inside one.
                conn.go_away(conn.mid_frame(&buf));
                let _ = timeout(Duration::from_secs(1), wr.write_all(&conn.out)).await;
                linger(&mut rd, &mut wr).await;
                return CloseReason::IdleTimeout;
            }
        }
    }
}

/// Ends a connection after a protocol error: the requests complete before it are
/// answered first (nginx had answered them before it read the bad frame), then GOAWAY.
async fn fail<R, W>(mut conn: Conn, ready: Vec<Ready>, mut answers: Answers, ex: &Arc<Exchange>, mut rd: R, mut wr: W, limits: &H1Limits) -> CloseReason
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    answers.spawn(ready, ex);
    let _ = timeout(limits.header_timeout, async {
        while !answers.is_empty() {
            answers.next(&mut conn).await;
        }
    })
    .await;
    conn.queue_goaway();
    let _ = timeout(limits.header_timeout, wr.write_all(&conn.out)).await;
    linger(&mut rd, &mut wr).await;
    CloseReason::ProtocolError
}

/// nginx's lingering close: close_notify and FIN, then what the peer still sends is
/// read and dropped until it closes, falls silent or the time is up.
async fn linger<R, W>(rd: &mut R, wr: &mut W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
    let until = Instant::now() + LINGER_MAX;
    let mut sink = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout_at(until.min(Instant::now() + LINGER_IDLE), rd.read(&mut sink)).await {
        if n == 0 {
            break;
        }
    }
}
