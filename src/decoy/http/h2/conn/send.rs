//! The answering side of an h2 connection: response HEADERS and DATA within the
//! peer's windows, streams closed or reset as nginx closes them, and the timers'
//! verdicts (bodies given up on, streams expired, GOAWAY when idle).

use bytes::Bytes;

use super::{Conn, Ready, CHUNK_BYTES};
use crate::decoy::http::h2::frame::{self, ErrorCode, Kind};
use crate::decoy::http::h2::hpack;
use crate::decoy::http::message::Response;

impl Conn {
    /// Hands out the requests nginx would have answered without their body (its own
    /// pages), when the body has stalled: what arrived is recorded.
    pub fn release_unread_bodies(&mut self, ready: &mut Vec<Ready>) {
        for (&id, s) in self.streams.iter_mut().filter(|(_, s)| !s.reads_body) {
            if let Some((head, reader)) = s.arriving.take() {
                ready.push(Ready::Request(id, head.into_request(reader.finish(true))));
            }
        }
    }

    /// Whether a request nginx answers without its body waits for that body.
    pub fn waiting_on_unread_body(&self) -> bool {
        self.streams.values().any(|s| !s.reads_body && s.arriving.is_some())
    }

    /// Resets every stream whose request is still arriving (nginx: its header and
    /// body timeouts, PROTOCOL_ERROR and no 408), and drops a half-read header block.
    /// Returns whether the connection was in the middle of a frame or block.
    pub fn expire(&mut self) -> bool {
        let mid_frame = self.block.take().is_some() || self.streaming.is_some();
        let waiting: Vec<u32> = self.streams.iter().filter(|(_, s)| s.arriving.is_some() || !s.pending.is_empty()).map(|(&id, _)| id).collect();
        for id in waiting {
            self.reset(id, ErrorCode::Protocol);
        }
        mid_frame
    }

    /// Queues the answer to stream `id`: HEADERS, then as much DATA as the windows allow.
    pub fn answer(&mut self, id: u32, response: &Response) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        let headers: Vec<(String, String)> = response.headers.iter().filter(|(n, _)| !connection_specific(n)).cloned().collect();
        let block = hpack::encode_response(response.status, &headers, std::mem::take(&mut self.table_update));
        let body = if response.head_only { Bytes::new() } else { response.body.clone() };
        frame::headers(&mut self.out, id, &block, body.is_empty(), self.peer_frame_bytes);
        s.pending = body;
        if s.pending.is_empty() {
            self.finish(id);
        } else {
            self.pump();
        }
    }

    /// Sends pending response bodies as far as the windows allow.
    pub(super) fn pump(&mut self) {
        let mut finished = Vec::new();
        for (&id, s) in self.streams.iter_mut().filter(|(_, s)| !s.pending.is_empty()) {
            while !s.pending.is_empty() && self.send_window > 0 && s.send_window > 0 {
                let room = (self.send_window.min(s.send_window) as usize).min(CHUNK_BYTES).min(self.peer_frame_bytes);
                let chunk = s.pending.split_to(room.min(s.pending.len()));
                let end = s.pending.is_empty();
                frame::put(&mut self.out, Kind::Data, if end { frame::END_STREAM } else { 0 }, id, &chunk);
                self.send_window -= chunk.len() as i64;
                s.send_window -= chunk.len() as i64;
                if end {
                    finished.push(id);
                }
            }
        }
        for id in finished {
            self.finish(id);
        }
    }

    /// A stream whose answer has gone: closed, and reset if its request is still
    /// arriving, or had a body nginx answered before reading (it never sees its end).
    fn finish(&mut self, id: u32) {
        if let Some(s) = self.streams.remove(&id) {
            if !s.remote_done || (!s.reads_body && !s.headers_ended) {
                frame::rst_stream(&mut self.out, id, ErrorCode::NoError);
            }
        }
    }

    /// Whether every stream has been answered and its answer sent.
    pub fn idle(&self) -> bool {
        self.streams.is_empty()
    }

    /// Whether an answer is waiting for the peer to open its windows.
    pub fn blocked(&self) -> bool {
        self.streams.values().any(|s| !s.pending.is_empty())
    }

    /// Says GOAWAY for a connection the decoy closes when idle: NO_ERROR, or
    /// PROTOCOL_ERROR when the peer stopped inside a frame (`mid_frame`).
    pub fn go_away(&mut self, mid_frame: bool) {
        if !self.goaway {
            frame::goaway(&mut self.out, self.last_stream, if mid_frame { ErrorCode::Protocol } else { ErrorCode::NoError });
            self.goaway = true;
        }
    }
}

/// Headers that mean something only on an HTTP/1 connection.
fn connection_specific(name: &str) -> bool {
    ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"].iter().any(|h| name.eq_ignore_ascii_case(h))
}
