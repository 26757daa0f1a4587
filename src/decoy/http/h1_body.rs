//! Reading an HTTP/1 request body from the connection: by Content-Length or chunked
//! (extensions and trailers read and ignored), hashed and kept up to the body cap,
//! each read under the header deadline.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::timeout;

use super::message::BodyReader;
use crate::event::CloseReason;

/// How long each read may wait, and how many body bytes are read at most.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimits {
    pub wait: Duration,
    pub max_bytes: u64,
}

/// Why a read ended, as a connection's close reason.
pub(super) fn io_reason(e: &std::io::Error) -> CloseReason {
    if e.to_string().contains("byte cap") {
        CloseReason::MaxBytes
    } else {
        CloseReason::Error
    }
}

/// Reads more bytes into `buf`; Err with the close reason on EOF, error or timeout.
async fn fill<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, wait: Duration) -> Result<(), CloseReason> {
    buf.reserve(8192);
    match timeout(wait, io.read_buf(buf)).await {
        Err(_) => Err(CloseReason::IdleTimeout),
        Ok(Ok(0)) => Err(CloseReason::PeerClosed),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(io_reason(&e)),
    }
}

/// Takes up to `want` body bytes from `buf` into `body`, honouring the cap; returns
/// how many were taken and whether the cap was reached.
fn take(buf: &mut BytesMut, want: u64, body: &mut BodyReader, cap: u64) -> (u64, bool) {
    let room = cap.saturating_sub(body.bytes());
    let n = (buf.len() as u64).min(want).min(room) as usize;
    body.update(&buf[..n]);
    buf.advance(n);
    (n as u64, body.bytes() >= cap)
}

/// A Content-Length body: Ok(true) when read whole, Ok(false) when the cap stopped it.
pub(super) async fn read_length<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut BytesMut,
    mut left: u64,
    body: &mut BodyReader,
    limits: BodyLimits,
) -> Result<bool, CloseReason> {
    loop {
        let (n, capped) = take(buf, left, body, limits.max_bytes);
        left -= n;
        if left == 0 {
            return Ok(true);
        }
        if capped {
            return Ok(false);
        }
        fill(io, buf, limits.wait).await?;
    }
}

/// A chunked body (chunk extensions and trailers are read and ignored).
pub(super) async fn read_chunked<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, body: &mut BodyReader, limits: BodyLimits) -> Result<bool, CloseReason> {
    const MAX_LINE: usize = 4096;
    loop {
        // The chunk-size line.
        let line = loop {
            if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line = buf.split_to(nl + 1);
                break line;
            }
            if buf.len() > MAX_LINE {
                return Err(CloseReason::ProtocolError);
            }
            fill(io, buf, limits.wait).await?;
        };
        let digits = line[..].split(|&b| b == b';' || b == b'\r' || b == b'\n').next().unwrap_or_default().trim_ascii();
        let size = std::str::from_utf8(digits).ok().and_then(|s| u64::from_str_radix(s, 16).ok()).ok_or(CloseReason::ProtocolError)?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                match buf.iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        let line = buf.split_to(nl + 1);
                        if line.trim_ascii().is_empty() {
                            return Ok(true);
                        }
                    }
                    None if buf.len() > MAX_LINE => return Err(CloseReason::ProtocolError),
                    None => fill(io, buf, limits.wait).await?,
                }
            }
        }
        let mut left = size;
        while left > 0 {
            let (n, capped) = take(buf, left, body, limits.max_bytes);
            left -= n;
            if capped && left > 0 {
                return Ok(false);
            }
            if left > 0 {
                fill(io, buf, limits.wait).await?;
            }
        }
        // The CRLF after the chunk data.
        while buf.len() < 2 && !buf.starts_with(b"\n") {
            fill(io, buf, limits.wait).await?;
        }
        if buf.starts_with(b"\r\n") {
            buf.advance(2);
        } else if buf.starts_with(b"\n") {
            buf.advance(1);
        } else {
            return Err(CloseReason::ProtocolError);
        }
    }
}
