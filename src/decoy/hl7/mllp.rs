//! MLLP, HL7 v2's Minimal Lower Layer Protocol: a message between a start block
//! (0x0B) and an end block (0x1C 0x0D). The deframer takes whatever bytes arrive and
//! gives back whole messages, the bytes sent outside any frame (a missing start
//! block), and frames longer than the cap (their first bytes kept, their length
//! counted, the rest dropped as it streams in), never holding more than the cap.
//! Pure: no I/O.

/// The start block.
pub const START: u8 = 0x0b;
/// The end block: FS then CR.
pub const END: [u8; 2] = [0x1c, 0x0d];
/// Bytes kept of a frame over the cap, and of bytes outside frames.
pub const KEPT: usize = 4096;

/// What the deframer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole message, without its blocks.
    Message(Vec<u8>),
    /// Bytes outside any frame: their first [`KEPT`] and how many there were.
    Stray { kept: Vec<u8>, length: usize },
    /// A frame longer than the cap: its first [`KEPT`] bytes and its whole length.
    Oversized { kept: Vec<u8>, length: usize },
}

/// Reads frames out of a stream.
#[derive(Debug)]
pub struct Deframer {
    max: usize,
    /// Inside a frame (after a start block).
    in_frame: bool,
    buf: Vec<u8>,
    /// Bytes of the current stretch seen (stray bytes, or an oversized frame's).
    seen: usize,
    /// The current frame went over the cap.
    oversized: bool,
    /// The last byte of an oversized frame was FS.
    last_fs: bool,
}

impl Deframer {
    /// A deframer taking messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Deframer { max, in_frame: false, buf: Vec::new(), seen: 0, oversized: false, last_fs: false }
    }

    fn stray(&mut self) -> Option<Frame> {
        (self.seen > 0).then(|| Frame::Stray { kept: std::mem::take(&mut self.buf), length: std::mem::take(&mut self.seen) })
    }

    /// Takes the next bytes read; the frames they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        for &b in bytes {
            if !self.in_frame {
                if b == START {
                    out.extend(self.stray());
                    self.in_frame = true;
                } else {
                    self.seen += 1;
                    if self.buf.len() < KEPT {
                        self.buf.push(b);
                    }
                }
            } else if self.oversized {
                if b == END[1] && self.last_fs {
                    // The FS belongs to the end block, not the frame.
                    if self.buf.len() == self.seen {
                        self.buf.pop();
                    }
                    out.push(Frame::Oversized { kept: std::mem::take(&mut self.buf), length: std::mem::take(&mut self.seen) - 1 });
                    (self.in_frame, self.oversized, self.last_fs) = (false, false, false);
                } else {
                    self.last_fs = b == END[0];
                    self.seen += 1;
                    if self.buf.len() < KEPT && self.buf.len() + 1 == self.seen {
                        self.buf.push(b);
                    }
                }
            } else if b == END[1] && self.buf.last() == Some(&END[0]) {
                // The end block: FS then CR (an FS alone stays in the message).
                self.buf.pop();
                out.push(Frame::Message(std::mem::take(&mut self.buf)));
                self.in_frame = false;
            } else {
                self.buf.push(b);
                if self.buf.len() > self.max {
                    (self.oversized, self.seen, self.last_fs) = (true, self.buf.len(), b == END[0]);
                    self.buf.truncate(KEPT);
                    self.buf.shrink_to(KEPT);
                }
            }
        }
        out
    }

    /// What is left when the connection ends: an unterminated frame (stray bytes, or
    /// oversized), or stray bytes outside frames.
    pub fn finish(&mut self) -> Option<Frame> {
        if self.oversized {
            self.oversized = false;
            return Some(Frame::Oversized { kept: std::mem::take(&mut self.buf), length: std::mem::take(&mut self.seen) });
        }
        if self.in_frame {
            self.in_frame = false;
            self.seen = self.buf.len() + 1;
            self.buf.insert(0, START);
            self.buf.truncate(KEPT);
        }
        self.stray()
    }
}

/// `message` between the blocks.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.extend_from_slice(&END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_whole_however_the_bytes_are_split() {
        let stream = [frame(b"MSH|a\rPID|1"), frame(b"MSH|b\x1cstill"), frame(b"")].concat();
        for step in 1..stream.len() {
            let mut d = Deframer::new(1 << 20);
            let frames: Vec<Frame> = stream.chunks(step).flat_map(|c| d.push(c)).collect();
            assert_eq!(
                frames,
                vec![Frame::Message(b"MSH|a\rPID|1".to_vec()), Frame::Message(b"MSH|b\x1cstill".to_vec()), Frame::Message(Vec::new())],
                "{step}"
            );
            assert_eq!(d.finish(), None);
        }
    }

    #[test]
    fn bytes_without_a_start_block_and_unterminated_frames_are_reported() {
        let mut d = Deframer::new(1 << 20);
        let frames = d.push(&[b"MSH|no start block\r".as_slice(), &frame(b"MSH|ok")].concat());
        assert_eq!(frames, vec![Frame::Stray { kept: b"MSH|no start block\r".to_vec(), length: 19 }, Frame::Message(b"MSH|ok".to_vec())]);
        assert_eq!(d.push(b"\x0bMSH|never ends"), vec![]);
        assert_eq!(d.finish(), Some(Frame::Stray { kept: b"\x0bMSH|never ends".to_vec(), length: 15 }));
    }

    #[test]
    fn a_frame_over_the_cap_is_counted_not_held_and_the_next_one_is_read() {
        let mut d = Deframer::new(100);
        let big = vec![b'x'; 10 * 1024 * 1024];
        let mut frames = Vec::new();
        for chunk in frame(&big).chunks(65_536) {
            frames.extend(d.push(chunk));
            assert!(d.buf.capacity() <= KEPT.max(65_536 + 101), "held {}", d.buf.capacity());
        }
        frames.extend(d.push(&frame(b"MSH|next")));
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], Frame::Oversized { kept: vec![b'x'; KEPT], length: big.len() });
        assert_eq!(frames[1], Frame::Message(b"MSH|next".to_vec()));
    }
}
