//! One connection to a decoy: its session id, byte counters and the opened/closed
//! events that bracket everything else it records.

use std::net::SocketAddr;
use std::time::Instant;

use super::context::DecoyContext;
use super::limits::ConnectionPermit;
use crate::event::{CloseReason, Event, EventId, EventKind, Local, Remote, SessionId, Timestamp};

/// Records events of one connection; cheap to clone into protocol handlers.
#[derive(Clone)]
pub struct Recorder {
    cx: DecoyContext,
    session: SessionId,
    source: SocketAddr,
    destination: SocketAddr,
}

impl Recorder {
    /// An event of this connection.
    pub fn event(&self, kind: EventKind) -> Event {
        Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: self.cx.sensor.to_string(),
            decoy: Some(self.cx.decoy.to_string()),
            source: Some(Remote(self.source)),
            destination: Some(Local(self.destination)),
            session: Some(self.session),
            kind,
            token: None,
        }
    }

    /// Records an event of this connection.
    pub async fn emit(&self, kind: EventKind) {
        self.cx.events.emit(self.event(kind)).await;
    }

    /// The decoy's context.
    pub fn context(&self) -> &DecoyContext {
        &self.cx
    }

    /// The connection's session id (ties its events together).
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The peer's address.
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// The decoy's address the peer connected to.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }
}

/// A live connection. Dropping it without [`Connection::close`] records nothing, so
/// every decoy ends each connection with `close`.
pub struct Connection {
    recorder: Recorder,
    started: Instant,
    /// Bytes received from the peer.
    pub bytes_in: u64,
    /// Bytes sent to the peer.
    pub bytes_out: u64,
    _permit: ConnectionPermit,
}

impl Connection {
    /// Records `connection_opened` and returns the connection.
    pub async fn open(cx: DecoyContext, source: SocketAddr, destination: SocketAddr, permit: ConnectionPermit) -> Self {
        let conn = Connection {
            recorder: Recorder { cx, session: EventId::new(), source, destination },
            started: Instant::now(),
            bytes_in: 0,
            bytes_out: 0,
            _permit: permit,
        };
        conn.emit(EventKind::ConnectionOpened).await;
        conn
    }

    /// The decoy's context.
    pub fn context(&self) -> &DecoyContext {
        &self.recorder.cx
    }

    /// A recorder for this connection's events.
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// When this connection must end, whatever happens.
    pub fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.started + self.recorder.cx.limits.session_timeout)
    }

    /// Records an event of this connection.
    pub async fn emit(&self, kind: EventKind) {
        self.recorder.emit(kind).await;
    }

    /// Records `connection_closed` with duration and byte counts.
    pub async fn close(self, reason: CloseReason) {
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.emit(EventKind::ConnectionClosed { duration_ms, bytes_in: self.bytes_in, bytes_out: self.bytes_out, reason }).await;
    }
}
