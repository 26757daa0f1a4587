//! The frames of an h2 connection other than DATA, as nginx 1.22 handles them:
//! HEADERS and CONTINUATION (decoded, checked, turned into streams), SETTINGS, PING,
//! PRIORITY, RST_STREAM, GOAWAY and WINDOW_UPDATE.

use bytes::Bytes;

use super::{Block, Closed, Conn, Ready, Stream, DEFAULT_FRAME_BYTES, MAX_FRAME_BYTES, MAX_REQUESTS, MAX_STREAMS, MAX_WINDOW, STREAM_WINDOW_BYTES};
use crate::decoy::http::h2::frame::{self, setting, ErrorCode, Head, Kind};
use crate::decoy::http::h2::hpack::HpackError;
use crate::decoy::http::h2::request::{self, Refusal};
use crate::decoy::http::message::{BodyReader, Malformed};

impl Conn {
    /// A frame read whole (not DATA).
    pub(super) fn frame(&mut self, head: Head, payload: &[u8], ready: &mut Vec<Ready>, reads_body: &dyn Fn(&[u8]) -> bool) -> Result<(), Closed> {
        match head.kind {
            Kind::Headers => self.headers(head, payload, ready, reads_body),
            Kind::Continuation => {
                let Some(block) = self.block.as_mut() else { return self.fail(ErrorCode::Protocol) };
                // nginx counts the fields as they stream in and stops a list past its
                // limit; a block this long has one past it, or a field too long.
                if block.bytes.len() + payload.len() > self.limits.max_list_bytes + self.limits.max_field_bytes {
                    return self.fail(ErrorCode::EnhanceYourCalm);
                }
                block.bytes.extend_from_slice(payload);
                if head.flags & frame::END_HEADERS != 0 {
                    return self.end_block(ready, reads_body);
                }
                Ok(())
            }
            Kind::Priority if head.length != 5 => self.fail(ErrorCode::FrameSize),
            Kind::Priority => {
                self.priority_budget = self.priority_budget.saturating_sub(1);
                let depends_on = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7fff_ffff;
                if self.priority_budget == 0 {
                    self.fail(ErrorCode::EnhanceYourCalm)
                } else if head.stream == 0 || depends_on == head.stream {
                    self.fail(ErrorCode::Protocol)
                } else {
                    Ok(())
                }
            }
            Kind::RstStream if head.length != 4 => self.fail(ErrorCode::FrameSize),
            Kind::RstStream if head.stream == 0 => self.fail(ErrorCode::Protocol),
            Kind::RstStream => {
                // The stream ends without a word; idle or unknown ones are ignored.
                self.streams.remove(&head.stream);
                Ok(())
            }
            Kind::Settings => self.settings(head, payload),
            Kind::Ping if head.length != 8 => self.fail(ErrorCode::FrameSize),
            Kind::Ping if head.stream != 0 => self.fail(ErrorCode::Protocol),
            Kind::Ping => {
                if head.flags & frame::ACK == 0 {
                    frame::ping_ack(&mut self.out, payload);
                }
                Ok(())
            }
            Kind::GoAway if head.length < 8 => self.fail(ErrorCode::FrameSize),
            Kind::GoAway if head.stream != 0 => self.fail(ErrorCode::Protocol),
            // nginx pays a client's GOAWAY no attention.
            Kind::GoAway => Ok(()),
            Kind::WindowUpdate => self.window_update(head, payload),
            Kind::PushPromise => self.fail(ErrorCode::Protocol),
            Kind::Data | Kind::Unknown(_) => Ok(()),
        }
    }

    fn headers(&mut self, head: Head, payload: &[u8], ready: &mut Vec<Ready>, reads_body: &dyn Fn(&[u8]) -> bool) -> Result<(), Closed> {
        let padded = head.flags & frame::PADDED != 0;
        let priority = head.flags & frame::PRIORITY != 0;
        let prefix = usize::from(padded) + if priority { 5 } else { 0 };
        if head.length <= prefix {
            return self.fail(ErrorCode::FrameSize);
        }
        let Some(fragment) = frame::unpad(payload, head.flags, priority) else { return self.fail(ErrorCode::Protocol) };
        if self.goaway {
            // After its GOAWAY nginx skips new streams without a word.
            return Ok(());
        }
        if head.stream % 2 == 0 || head.stream <= self.last_stream {
            return self.fail(ErrorCode::Protocol);
        }
        if priority
            && u32::from_be_bytes([
                payload[usize::from(padded)],
                payload[usize::from(padded) + 1],
                payload[usize::from(padded) + 2],
                payload[usize::from(padded) + 3],
            ]) & 0x7fff_ffff
                == head.stream
        {
            return self.fail(ErrorCode::Protocol);
        }
        self.last_stream = head.stream;
        self.block = Some(Block { stream: head.stream, end_stream: head.flags & frame::END_STREAM != 0, bytes: fragment.to_vec() });
        if head.flags & frame::END_HEADERS != 0 {
            return self.end_block(ready, reads_body);
        }
        Ok(())
    }

    /// A whole header block: decoded (always, to keep the table in step), then a
    /// request, a refusal, or a stream over the limit.
    fn end_block(&mut self, ready: &mut Vec<Ready>, reads_body: &dyn Fn(&[u8]) -> bool) -> Result<(), Closed> {
        let Some(Block { stream: id, end_stream, bytes }) = self.block.take() else { return Ok(()) };
        let fields = match self.decoder.decode(&bytes) {
            Ok(fields) => fields,
            Err(HpackError::Truncated) => return self.fail(ErrorCode::FrameSize),
            Err(HpackError::FieldTooLong(_) | HpackError::ListTooLong(_)) => return self.fail(ErrorCode::EnhanceYourCalm),
            Err(HpackError::EmptyName) => return self.fail(ErrorCode::Protocol),
            Err(_) => return self.fail(ErrorCode::Compression),
        };
        if self.streams.len() >= MAX_STREAMS {
            frame::rst_stream(&mut self.out, id, ErrorCode::RefusedStream);
            return Ok(());
        }
        self.requests += 1;
        self.priority_budget = self.priority_budget.saturating_add(MAX_STREAMS as u32);
        if self.requests >= MAX_REQUESTS {
            frame::goaway(&mut self.out, id, ErrorCode::NoError);
            self.goaway = true;
        }
        let mut stream = Stream {
            arriving: None,
            remote_done: end_stream,
            headers_ended: end_stream,
            reads_body: true,
            pending: Bytes::new(),
            send_window: self.peer_window,
            recv_window: i64::from(STREAM_WINDOW_BYTES),
        };
        match request::head(fields, end_stream) {
            Ok(head) if end_stream => ready.push(Ready::Request(id, head.into_request(BodyReader::new(0).finish(false)))),
            Ok(head) => {
                stream.reads_body = reads_body(&head.target);
                if stream.reads_body {
                    // Reading a body into its buffers, nginx opens the stream's window
                    // all the way at once (the decoy still keeps only its cap).
                    frame::window_update(&mut self.out, id, (MAX_WINDOW - i64::from(STREAM_WINDOW_BYTES)) as u32);
                    stream.recv_window = MAX_WINDOW;
                }
                stream.arriving = Some((head, BodyReader::new(self.limits.body_kept)));
            }
            Err(Refusal::Malformed) => {
                frame::rst_stream(&mut self.out, id, ErrorCode::Protocol);
                ready.push(Ready::Reset(bytes));
                return Ok(());
            }
            Err(Refusal::BadRequest) => ready.push(Ready::Refused(id, Malformed::BadRequest, bytes)),
            Err(Refusal::NotImplemented) => ready.push(Ready::Refused(id, Malformed::NotImplemented, bytes)),
        }
        self.streams.insert(id, stream);
        Ok(())
    }

    fn settings(&mut self, head: Head, payload: &[u8]) -> Result<(), Closed> {
        if head.stream != 0 {
            return self.fail(ErrorCode::Protocol);
        }
        // Only a flags byte of exactly ACK is an acknowledgement to nginx.
        if head.flags == frame::ACK {
            return if head.length == 0 { Ok(()) } else { self.fail(ErrorCode::FrameSize) };
        }
        if head.length % 6 != 0 {
            return self.fail(ErrorCode::FrameSize);
        }
        let mut window_delta = None;
        for param in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([param[0], param[1]]);
            let value = u32::from_be_bytes([param[2], param[3], param[4], param[5]]);
            match id {
                setting::HEADER_TABLE_SIZE => self.table_update = true,
                setting::ENABLE_PUSH if value > 1 => return self.fail(ErrorCode::Protocol),
                setting::INITIAL_WINDOW_SIZE if i64::from(value) > MAX_WINDOW => return self.fail(ErrorCode::FlowControl),
                setting::INITIAL_WINDOW_SIZE => {
                    *window_delta.get_or_insert(0) += i64::from(value) - self.peer_window;
                    self.peer_window = i64::from(value);
                }
                setting::MAX_FRAME_SIZE if !(DEFAULT_FRAME_BYTES as u32..=MAX_FRAME_BYTES).contains(&value) => return self.fail(ErrorCode::Protocol),
                setting::MAX_FRAME_SIZE => self.peer_frame_bytes = value as usize,
                _ => {}
            }
        }
        frame::settings_ack(&mut self.out);
        if let Some(delta) = window_delta {
            let over: Vec<u32> = self
                .streams
                .iter_mut()
                .filter_map(|(&id, s)| {
                    s.send_window += delta;
                    (s.send_window > MAX_WINDOW).then_some(id)
                })
                .collect();
            for id in over {
                self.reset(id, ErrorCode::FlowControl);
            }
            self.pump();
        }
        Ok(())
    }

    fn window_update(&mut self, head: Head, payload: &[u8]) -> Result<(), Closed> {
        if head.length != 4 {
            return self.fail(ErrorCode::FrameSize);
        }
        let increment = i64::from(u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & 0x7fff_ffff);
        if increment == 0 {
            return self.fail(ErrorCode::Protocol);
        }
        if head.stream == 0 {
            if self.send_window + increment > MAX_WINDOW {
                return self.fail(ErrorCode::FlowControl);
            }
            self.send_window += increment;
        } else if let Some(s) = self.streams.get_mut(&head.stream) {
            if s.send_window + increment > MAX_WINDOW {
                self.reset(head.stream, ErrorCode::FlowControl);
            } else {
                s.send_window += increment;
            }
        }
        self.pump();
        Ok(())
    }
}
