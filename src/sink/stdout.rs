//! The `stdout` sink: one encoded event per line on standard output.

use tokio::io::AsyncWriteExt;

use super::format::encode_line_for;
use super::{Sink, SinkError};
use crate::config::EventFormat;
use crate::store::StoredEvent;

/// Writes events to standard output.
pub struct StdoutSink {
    format: EventFormat,
    out: tokio::io::Stdout,
    buf: Vec<u8>,
    /// Incident ids of the events about to be sent (incidents-only mode).
    pub incidents: super::Announced,
}

impl StdoutSink {
    /// A sink writing in `format`.
    pub fn new(format: EventFormat) -> Self {
        StdoutSink { format, out: tokio::io::stdout(), buf: Vec::new(), incidents: Default::default() }
    }
}

impl Sink for StdoutSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        self.buf.clear();
        for e in batch {
            encode_line_for(self.format, e, self.incidents.get(&e.seq), &mut self.buf);
        }
        self.out.write_all(&self.buf).await.map_err(|e| SinkError::Retryable(format!("stdout: {e}")))?;
        self.out.flush().await.map_err(|e| SinkError::Retryable(format!("stdout: {e}")))
    }
}
