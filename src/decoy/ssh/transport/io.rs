//! The connection's bytes: the identification line, then packets in and out through
//! [`super::packet`]. Reading waits for the socket to be readable before it allocates,
//! so an idle connection holds no buffer; every byte read counts against the cap.

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::packet::{Inbound, Outbound, PacketError};

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("peer closed the connection")]
    Eof,
    #[error("peer sent more than the session byte cap")]
    Cap,
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Most bytes read from the socket at once.
const READ_CHUNK: usize = 16 * 1024;

/// One connection's socket, buffers and packet state.
pub struct Io {
    stream: TcpStream,
    inbuf: BytesMut,
    outbuf: Vec<u8>,
    pub inbound: Inbound,
    pub outbound: Outbound,
    pub bytes_in: u64,
    pub bytes_out: u64,
    cap: u64,
}

impl Io {
    /// Wraps an accepted socket; reading more than `cap` bytes in all is an error.
    pub fn new(stream: TcpStream, cap: u64) -> Self {
        Io { stream, inbuf: BytesMut::new(), outbuf: Vec::new(), inbound: Inbound::new(), outbound: Outbound::new(), bytes_in: 0, bytes_out: 0, cap }
    }

    /// Reads whatever is available (at least one byte) into the input buffer. What is
    /// queued goes out first: like sshd, replies to everything already received leave
    /// together, before the server waits for more.
    pub async fn fill(&mut self) -> Result<(), ReadError> {
        if !self.outbuf.is_empty() {
            self.flush().await?;
        }
        loop {
            if self.bytes_in >= self.cap {
                return Err(ReadError::Cap);
            }
            self.stream.readable().await?;
            let room = READ_CHUNK.min((self.cap - self.bytes_in) as usize).max(1);
            self.inbuf.reserve(room);
            let before = self.inbuf.len();
            let inbuf = &mut self.inbuf;
            let stream = &self.stream;
            // A read that did not fill the room drained the socket: tell tokio so, and
            // skip the extra read that would only return WouldBlock (tokio's readiness
            // tick makes this safe against data that arrives meanwhile).
            let result = stream.try_io(tokio::io::Interest::READABLE, || {
                let space = inbuf.capacity() - inbuf.len();
                let n = stream.try_read_buf(inbuf)?;
                if n > 0 && n < space {
                    Err(std::io::Error::from(std::io::ErrorKind::WouldBlock))
                } else {
                    Ok(n)
                }
            });
            let n = self.inbuf.len() - before;
            match result {
                Ok(0) => return Err(ReadError::Eof),
                _ if n > 0 => {
                    self.bytes_in += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
                Ok(_) => continue,
            }
        }
    }

    /// Bytes received and not consumed yet.
    pub fn buffered(&self) -> &[u8] {
        &self.inbuf
    }

    /// Consumes `n` buffered bytes.
    pub fn consume(&mut self, n: usize) {
        let _ = self.inbuf.split_to(n.min(self.inbuf.len()));
    }

    /// The next packet's payload.
    pub async fn read_packet(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(payload) = self.inbound.open(&mut self.inbuf)? {
                self.release();
                return Ok(payload);
            }
            self.fill().await?;
        }
    }

    /// Gives back a large input buffer once it is empty.
    fn release(&mut self) {
        if self.inbuf.is_empty() && self.inbuf.capacity() > READ_CHUNK {
            self.inbuf = BytesMut::new();
        }
    }

    /// Queues raw bytes (the identification line, an error text).
    pub fn queue_raw(&mut self, bytes: &[u8]) {
        self.outbuf.extend_from_slice(bytes);
    }

    /// Queues one packet.
    pub fn queue(&mut self, payload: &[u8]) {
        self.outbound.seal(payload, &mut self.outbuf);
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        if self.outbuf.is_empty() {
            return Ok(());
        }
        self.stream.write_all(&self.outbuf).await?;
        self.bytes_out += self.outbuf.len() as u64;
        self.outbuf.clear();
        if self.outbuf.capacity() > READ_CHUNK {
            self.outbuf = Vec::new();
        }
        Ok(())
    }

    /// Queues and writes one packet.
    pub async fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.queue(payload);
        self.flush().await
    }

    /// True when bytes the peer sent were never consumed: closing then resets the
    /// connection (RST), as the imitated server's close does with unread input.
    pub fn has_unread_input(&self) -> bool {
        !self.inbuf.is_empty()
    }

    /// Closes: a reset when `reset`, else an orderly FIN after the queued bytes (the
    /// kernel sends both on close, as it does for the real servers' close()).
    pub async fn close(mut self, reset: bool) {
        let _ = self.flush().await;
        if reset {
            // A zero linger resets at once; it never blocks (the deprecation is about
            // non-zero lingers blocking the thread on drop).
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(std::time::Duration::ZERO));
        }
    }
}
