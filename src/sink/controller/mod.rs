//! The `controller` sink: how a sensor forwards its events to its controller, over
//! signed HTTPS ingest or NATS JetStream. The cursor advances only when the controller
//! (or JetStream) has stored the batch. The controller's side of both roads is in
//! `fleet/`; the request-signing wire format both sides speak is [`signing`].

pub mod nats;
pub mod signing;
mod upstream;

pub use nats::NatsSink;
pub use upstream::Upstream;

use crate::config::UpstreamConfig;
use crate::sink::{Sink, SinkError};
use crate::store::StoredEvent;

/// The sink that forwards to the controller: HTTPS ingest, or NATS JetStream.
pub enum ControllerSink {
    Https(Upstream),
    Nats(NatsSink),
}

impl ControllerSink {
    pub fn new(u: &UpstreamConfig) -> Result<Self, SinkError> {
        match &u.nats {
            Some(nats) => Ok(ControllerSink::Nats(NatsSink::new(u, nats)?)),
            None => Ok(ControllerSink::Https(Upstream::new(u).map_err(|e| SinkError::Permanent(format!("controller link: {e}")))?)),
        }
    }
}

impl Sink for ControllerSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        match self {
            ControllerSink::Https(up) => ingest(up, batch).await,
            ControllerSink::Nats(n) => n.send(batch).await,
        }
    }
}

/// One batch over HTTPS ingest.
async fn ingest(upstream: &mut Upstream, batch: &[StoredEvent]) -> Result<(), SinkError> {
    let mut body = Vec::with_capacity(batch.len() * 600 + 16);
    body.extend_from_slice(b"{\"events\":[");
    for (i, e) in batch.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        serde_json::to_writer(&mut body, &e.event).map_err(|e| SinkError::Permanent(e.to_string()))?;
    }
    body.extend_from_slice(b"]}");
    let answer = upstream.request("POST", "/v1/sensor/ingest", body).await?;
    let said = || String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]).into_owned();
    match answer.status {
        200 => Ok(()),
        400 | 413 => Err(SinkError::Rejected { reason: format!("controller: HTTP {} {}", answer.status, said()), items: Vec::new() }),
        status => Err(SinkError::Retryable(format!("controller: HTTP {status} {}", said()))),
    }
}
