//! One h2 connection's state without any I/O: bytes from the attacker go in, frames
//! to send and requests to answer come out, answers go in. Every limit is enforced
//! here, so the fuzz target and the tests drive exactly what the decoy runs.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes, BytesMut};

mod control;
mod send;

use super::frame::{self, setting, ErrorCode, Head, Kind};
use super::hpack::Decoder;
use super::request;
use crate::decoy::http::message::{BodyReader, Malformed};

/// nginx's `http2_max_concurrent_streams`.
pub const MAX_STREAMS: usize = 128;
/// nginx's initial stream window (SETTINGS_INITIAL_WINDOW_SIZE).
pub const STREAM_WINDOW_BYTES: u32 = 65_536;
/// nginx announces the largest frame size h2 allows.
pub const MAX_FRAME_BYTES: u32 = (1 << 24) - 1;
/// The largest window h2 allows; nginx opens its connection window to it.
pub const MAX_WINDOW: i64 = i32::MAX as i64;
/// The window every h2 peer starts with.
const DEFAULT_WINDOW: i64 = 65_535;
/// The frame size every h2 peer starts with.
const DEFAULT_FRAME_BYTES: usize = 16_384;
/// nginx's `http2_chunk_size`: the most response body one DATA frame carries.
pub const CHUNK_BYTES: usize = 8192;
/// A frame other than DATA is read whole; none may be longer than this, nor a header
/// block (nginx takes longer ones, but its header limits end them sooner or later).
const MAX_BUFFERED_FRAME_BYTES: usize = 64 * 1024;
/// nginx's `keepalive_requests`: streams on one connection before GOAWAY.
pub const MAX_REQUESTS: u32 = 1000;
/// nginx says GOAWAY once an eighth of what a peer sent exceeds its header and body
/// bytes by this much (a flood of control frames).
const FLOOD_ALLOWANCE_BYTES: u64 = 1 << 20;

/// Limits of one connection, from the personality.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_field_bytes: usize,
    pub max_list_bytes: usize,
    pub max_body_bytes: u64,
    pub body_kept: usize,
}

/// What the connection asks of its driver.
#[derive(Debug)]
pub enum Ready {
    /// A complete request to answer on this stream.
    Request(u32, crate::decoy::http::message::Request),
    /// A header list the decoy answers with an error page (400 or 501); the raw
    /// header block is kept.
    Refused(u32, Malformed, Vec<u8>),
    /// A header block whose stream was reset unanswered (a name or value h2 forbids):
    /// recorded, never answered.
    Reset(Vec<u8>),
}

/// The connection has ended: a GOAWAY (if any) is in `out`; send it and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed(pub ErrorCode);

struct Stream {
    /// The request head and its body while the body arrives; None once the request
    /// has been handed out.
    arriving: Option<(request::Head, BodyReader)>,
    /// The client has sent END_STREAM, and whether it came on the HEADERS frame.
    remote_done: bool,
    headers_ended: bool,
    /// The imitated server reads this request's body before answering (an application
    /// behind nginx); nginx's own pages are answered before the body is read.
    reads_body: bool,
    /// Response body still to send.
    pending: Bytes,
    send_window: i64,
    recv_window: i64,
}

/// A header block being assembled from HEADERS and CONTINUATION frames.
struct Block {
    stream: u32,
    end_stream: bool,
    bytes: Vec<u8>,
}

/// DATA (or an unknown frame) whose payload is consumed as it arrives.
struct Streaming {
    stream: Option<u32>,
    /// Payload bytes still to come, padding last.
    remaining: usize,
    padding: usize,
    end_stream: bool,
}

pub struct Conn {
    limits: Limits,
    decoder: Decoder,
    preface_seen: bool,
    table_update: bool,
    peer_window: i64,
    peer_frame_bytes: usize,
    send_window: i64,
    recv_window: i64,
    last_stream: u32,
    requests: u32,
    /// PRIORITY frames still allowed (nginx: 128, and 128 more per stream).
    priority_budget: u32,
    /// Bytes received, and those that carried headers or body: nginx says GOAWAY to a
    /// peer whose frames are mostly overhead.
    bytes_in: u64,
    payload_in: u64,
    streams: BTreeMap<u32, Stream>,
    block: Option<Block>,
    streaming: Option<Streaming>,
    goaway: bool,
    /// The error that ends the connection, its GOAWAY not yet queued (answers to
    /// requests already complete go first, as nginx has queued them by then).
    failed: Option<ErrorCode>,
    /// Frames to send, in order.
    pub out: Vec<u8>,
}

impl Conn {
    /// A connection whose opening frames (nginx's SETTINGS and connection window) are in `out`.
    pub fn new(limits: Limits) -> Conn {
        let mut out = Vec::with_capacity(64);
        frame::settings(
            &mut out,
            &[
                (setting::MAX_CONCURRENT_STREAMS, MAX_STREAMS as u32),
                (setting::INITIAL_WINDOW_SIZE, STREAM_WINDOW_BYTES),
                (setting::MAX_FRAME_SIZE, MAX_FRAME_BYTES),
            ],
        );
        frame::window_update(&mut out, 0, (MAX_WINDOW - DEFAULT_WINDOW) as u32);
        Conn {
            limits,
            decoder: Decoder::new(limits.max_field_bytes, limits.max_list_bytes),
            preface_seen: false,
            table_update: false,
            peer_window: DEFAULT_WINDOW,
            peer_frame_bytes: DEFAULT_FRAME_BYTES,
            send_window: DEFAULT_WINDOW,
            recv_window: MAX_WINDOW,
            last_stream: 0,
            requests: 0,
            priority_budget: MAX_STREAMS as u32,
            bytes_in: 0,
            payload_in: 0,
            streams: BTreeMap::new(),
            block: None,
            streaming: None,
            goaway: false,
            failed: None,
            out,
        }
    }

    /// Streams opened so far (refused ones not counted).
    pub fn streams_started(&self) -> u32 {
        self.requests
    }

    /// Whether the peer is in the middle of a frame or a header block.
    pub fn mid_frame(&self, buf: &[u8]) -> bool {
        !buf.is_empty() || self.block.is_some() || self.streaming.is_some() || !self.preface_seen
    }

    /// Whether a request head or body is still arriving (the header timeout applies).
    pub fn receiving(&self) -> bool {
        self.block.is_some() || self.streaming.is_some() || self.streams.values().any(|s| s.arriving.is_some())
    }

    /// Whether the connection has said GOAWAY and ends once its streams are done.
    pub fn going_away(&self) -> bool {
        self.goaway
    }

    /// Consumes every complete frame (and the available part of a DATA frame) in `buf`.
    /// `reads_body` says whether the imitated server reads a request's body before
    /// answering it.
    pub fn receive(&mut self, buf: &mut BytesMut, ready: &mut Vec<Ready>, reads_body: &dyn Fn(&[u8]) -> bool) -> Result<(), Closed> {
        if !self.preface_seen {
            let n = buf.len().min(frame::PREFACE.len());
            if buf[..n] != frame::PREFACE[..n] {
                return self.fail(ErrorCode::Protocol);
            }
            if n < frame::PREFACE.len() {
                return Ok(());
            }
            buf.advance(n);
            self.preface_seen = true;
        }
        loop {
            if let Some(s) = &mut self.streaming {
                let take = s.remaining.min(buf.len());
                let data_end = s.remaining.saturating_sub(s.padding).min(take);
                let chunk = buf.split_to(take);
                s.remaining -= take;
                let (stream, done, end_stream) = (s.stream, s.remaining == 0, s.end_stream);
                if let Some(id) = stream {
                    self.body(id, &chunk[..data_end], done && end_stream, ready);
                }
                if !done {
                    return Ok(());
                }
                self.streaming = None;
                continue;
            }
            let Some(head) = Head::parse(buf) else { return Ok(()) };
            if self.block.as_ref().is_some_and(|b| head.kind != Kind::Continuation || head.stream != b.stream) {
                return self.fail(ErrorCode::Protocol);
            }
            if self.flooded_by(&head) {
                return self.fail(ErrorCode::NoError);
            }
            if matches!(head.kind, Kind::Data | Kind::Unknown(_)) {
                // A padded DATA frame starts once its pad length has arrived too.
                let padded = head.kind == Kind::Data && head.flags & frame::PADDED != 0 && head.length > 0;
                if buf.len() < frame::HEADER_BYTES + usize::from(padded) {
                    return Ok(());
                }
                self.count(&head);
                buf.advance(frame::HEADER_BYTES);
                self.start_streaming(head, buf, ready)?;
                continue;
            }
            if head.kind == Kind::PushPromise {
                return self.fail(ErrorCode::Protocol);
            }
            if head.length > MAX_BUFFERED_FRAME_BYTES {
                return self.fail(ErrorCode::EnhanceYourCalm);
            }
            if buf.len() < frame::HEADER_BYTES + head.length {
                return Ok(());
            }
            self.count(&head);
            buf.advance(frame::HEADER_BYTES);
            let payload = buf.split_to(head.length).freeze();
            self.frame(head, &payload, ready, reads_body)?;
        }
    }

    /// A frame's bytes, and those of them that carry headers or body.
    fn sizes(head: &Head) -> (u64, u64) {
        let carried = matches!(head.kind, Kind::Data | Kind::Headers | Kind::Continuation);
        ((frame::HEADER_BYTES + head.length) as u64, if carried { head.length as u64 } else { 0 })
    }

    /// Whether taking this frame would make the peer's traffic mostly overhead.
    fn flooded_by(&self, head: &Head) -> bool {
        let (bytes, payload) = Self::sizes(head);
        (self.bytes_in + bytes) / 8 > self.payload_in + payload + FLOOD_ALLOWANCE_BYTES
    }

    /// Counts a frame as it is taken.
    fn count(&mut self, head: &Head) {
        let (bytes, payload) = Self::sizes(head);
        self.bytes_in += bytes;
        self.payload_in += payload;
    }

    /// Ends the connection with `code`: its GOAWAY is queued by [`Conn::queue_goaway`].
    fn fail(&mut self, code: ErrorCode) -> Result<(), Closed> {
        self.failed = Some(code);
        self.goaway = true;
        Err(Closed(code))
    }

    /// Queues the GOAWAY of a failed connection, after the answers sent meanwhile.
    pub fn queue_goaway(&mut self) {
        if let Some(code) = self.failed.take() {
            frame::goaway(&mut self.out, self.last_stream, code);
        }
    }

    fn reset(&mut self, id: u32, code: ErrorCode) {
        frame::rst_stream(&mut self.out, id, code);
        self.streams.remove(&id);
    }

    /// Starts a DATA (or unknown) frame, whose payload is taken as it arrives.
    fn start_streaming(&mut self, head: Head, buf: &mut BytesMut, ready: &mut Vec<Ready>) -> Result<(), Closed> {
        if head.kind != Kind::Data {
            self.streaming = Some(Streaming { stream: None, remaining: head.length, padding: 0, end_stream: false });
            return Ok(());
        }
        let mut padding = 0;
        let mut payload = head.length;
        if head.flags & frame::PADDED != 0 {
            if head.length == 0 {
                return self.fail(ErrorCode::FrameSize);
            }
            let pad = usize::from(buf.first().copied().unwrap_or(0));
            if pad >= head.length {
                return self.fail(ErrorCode::Protocol);
            }
            buf.advance(1);
            padding = pad;
            payload -= 1;
        }
        if head.stream == 0 {
            return self.fail(ErrorCode::Protocol);
        }
        let length = head.length as i64;
        if length > self.recv_window {
            return self.fail(ErrorCode::FlowControl);
        }
        self.recv_window -= length;
        if self.recv_window < MAX_WINDOW / 4 {
            frame::window_update(&mut self.out, 0, (MAX_WINDOW - self.recv_window) as u32);
            self.recv_window = MAX_WINDOW;
        }
        let end_stream = head.flags & frame::END_STREAM != 0;
        let stream = match self.streams.get_mut(&head.stream) {
            // After END_STREAM: nginx has usually answered and freed the stream by
            // then; only one still sending is reset.
            Some(s) if s.remote_done && !s.pending.is_empty() => {
                self.reset(head.stream, ErrorCode::StreamClosed);
                None
            }
            Some(s) if s.remote_done => None,
            Some(s) if length > s.recv_window => {
                self.reset(head.stream, ErrorCode::FlowControl);
                None
            }
            Some(s) => {
                // nginx gives no more window than it opened at the start: a body it
                // does not read stops at 64 KiB.
                s.recv_window -= length;
                s.remote_done = end_stream;
                s.arriving.is_some().then_some(head.stream)
            }
            // Idle, closed, refused or unknown streams: taken and dropped.
            None => None,
        };
        self.streaming = Some(Streaming { stream, remaining: payload, padding, end_stream });
        if payload == 0 {
            self.streaming = None;
            if let Some(id) = stream {
                self.body(id, &[], end_stream, ready);
            }
        }
        Ok(())
    }

    /// Body bytes for a stream whose request is still arriving; the request is handed
    /// out at its end, or when the body has filled the stream window or the cap.
    fn body(&mut self, id: u32, data: &[u8], end: bool, ready: &mut Vec<Ready>) {
        let max = self.limits.max_body_bytes;
        let Some(s) = self.streams.get_mut(&id) else { return };
        let Some((_, reader)) = s.arriving.as_mut() else { return };
        let room = max.saturating_sub(reader.bytes()) as usize;
        reader.update(&data[..data.len().min(room)]);
        let over = data.len() > room || (!end && s.recv_window <= 0);
        if end || over {
            if let Some((head, reader)) = s.arriving.take() {
                ready.push(Ready::Request(id, head.into_request(reader.finish(over))));
            }
        }
    }
}

#[cfg(test)]
mod tests;
