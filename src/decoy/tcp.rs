//! The `tcp` decoy: sends a banner, then records what the peer sends (the first
//! `capture_bytes`, as bytes) until the peer leaves or a limit ends the connection.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::connection::Connection;
use crate::config::TcpDecoyConfig;
use crate::event::{AttackerBytes, CloseReason, EventKind};

/// Bytes read per read call.
const READ_CHUNK: usize = 8192;

/// Reads what is ready and keeps at most `room` bytes of it in `capture`.
/// A plain function, so its stack buffer is never part of a connection's future
/// (idle connections stay small).
fn read_some(stream: &TcpStream, capture: &mut Vec<u8>, room: usize) -> std::io::Result<usize> {
    let mut buf = [0u8; READ_CHUNK];
    let n = stream.try_read(&mut buf)?;
    capture.extend_from_slice(&buf[..n.min(room)]);
    Ok(n)
}

/// Serves one connection to a TCP banner decoy.
pub async fn handle(config: Arc<TcpDecoyConfig>, mut stream: TcpStream, mut conn: Connection) {
    let limits = config.limits;
    let deadline = conn.deadline();
    let shutdown = conn.context().shutdown.clone();

    if !config.banner.is_empty() {
        let wrote = tokio::select! {
            _ = shutdown.cancelled() => Err(CloseReason::Shutdown),
            r = tokio::time::timeout(limits.idle_timeout, stream.write_all(&config.banner)) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(CloseReason::Error),
                Err(_) => Err(CloseReason::IdleTimeout),
            },
        };
        if let Err(reason) = wrote {
            conn.close(reason).await;
            return;
        }
        conn.bytes_out += config.banner.len() as u64;
    }

    let mut capture: Vec<u8> = Vec::new();
    let mut captured_emitted = false;
    let reason = loop {
        let ready = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break CloseReason::Shutdown,
            _ = tokio::time::sleep_until(deadline) => break CloseReason::SessionTimeout,
            r = tokio::time::timeout(limits.idle_timeout, stream.readable()) => r,
        };
        match ready {
            Err(_) => break CloseReason::IdleTimeout,
            Ok(Err(_)) => break CloseReason::Error,
            Ok(Ok(())) => {}
        }
        let room = if captured_emitted { 0 } else { config.capture_bytes.saturating_sub(capture.len()) };
        let n = match read_some(&stream, &mut capture, room) {
            Ok(0) => break CloseReason::PeerClosed,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => break CloseReason::Error,
        };
        conn.bytes_in += n as u64;
        if !captured_emitted && config.capture_bytes > 0 && conn.bytes_in > config.capture_bytes as u64 {
            // More than the capture holds: record it now rather than at close, so a
            // long session shows up early.
            let data = AttackerBytes::new(std::mem::take(&mut capture));
            conn.emit(EventKind::DataReceived { data, truncated: true }).await;
            captured_emitted = true;
        }
        if conn.bytes_in >= limits.max_session_bytes {
            break CloseReason::MaxBytes;
        }
    };
    if !captured_emitted && !capture.is_empty() {
        let truncated = conn.bytes_in > capture.len() as u64;
        conn.emit(EventKind::DataReceived { data: AttackerBytes::new(capture), truncated }).await;
    }
    conn.close(reason).await;
}
