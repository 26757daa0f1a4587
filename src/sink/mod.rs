//! Sinks: destinations the event stream is forwarded to.
//!
//! Each sink reads the store from its own cursor (outbox pattern), encodes a batch,
//! sends it, and advances its cursor only after the destination accepted it.

mod backoff;
pub mod controller;
mod deliver;
mod file;
pub mod format;
pub(crate) mod http;
mod runner;
mod select;
mod stdout;
mod syslog;

use std::future::Future;

pub use backoff::Backoff;
pub use deliver::deliver;
pub use file::FileSink;
pub use http::{verdict, HttpSink, Verdict};
pub use runner::{run_sink, SinkRun};
pub use select::Selection;
pub use stdout::StdoutSink;
pub use syslog::{octet_counted, SyslogSink};

use crate::config::SinkConfig;
use crate::store::{StoreReader, StoredEvent};

/// The incident each event about to be sent announces, by sequence number.
pub type Announced = std::collections::HashMap<u64, format::Announcement>;

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Try again later (destination down, slow, busy).
    #[error("{0} (will retry)")]
    Retryable(String),
    /// The sink cannot work as configured (bad CA file, ...).
    #[error("{0} (permanent)")]
    Permanent(String),
    /// The destination refused events in this batch for good. `items` names them
    /// (index in the batch, reason) when the destination said which, the others being
    /// delivered; empty, the batch as a whole was refused.
    #[error("{reason} (refused)")]
    Rejected { reason: String, items: Vec<(usize, String)> },
}

/// Why a sink's connection cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum SinkSetupError {
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("server name {host}: {cause}")]
    ServerName { host: String, cause: rustls::pki_types::InvalidDnsNameError },
    #[error("the credential's key is not base64")]
    CredentialKey,
}

impl SinkError {
    /// True when the same batch should be sent again after a backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SinkError::Retryable(_))
    }
}

/// A destination for the event stream.
pub trait Sink: Send {
    /// Sends a batch in store order. `Ok` means the destination has it: the cursor advances.
    fn send(&mut self, batch: &[StoredEvent]) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Every sink type, dispatched by enum.
pub enum AnySink {
    Stdout(StdoutSink),
    File(FileSink),
    Syslog(SyslogSink),
    Http(Box<HttpSink>),
    Controller(Box<controller::ControllerSink>),
}

impl AnySink {
    /// Opens the sink's destination. The file sink also reconciles its file with the
    /// store (see [`FileSink::open`]) and may move the cursor forward.
    pub fn open(config: &SinkConfig, reader: &StoreReader) -> Result<(Self, u64), SinkError> {
        let cursor = reader.cursor(config.name()).map_err(|e| SinkError::Permanent(e.to_string()))?;
        match config {
            SinkConfig::Stdout(c) => Ok((AnySink::Stdout(StdoutSink::new(c.format)), cursor)),
            SinkConfig::File(c) => {
                let (sink, cursor) = FileSink::open(c, reader, cursor)?;
                Ok((AnySink::File(sink), cursor))
            }
            SinkConfig::Syslog(c) => Ok((AnySink::Syslog(SyslogSink::new(c)?), cursor)),
            SinkConfig::Http(c) => Ok((AnySink::Http(Box::new(HttpSink::new(c)?)), cursor)),
            SinkConfig::Controller(u) => Ok((AnySink::Controller(Box::new(controller::ControllerSink::new(u)?)), cursor)),
        }
    }

    /// The incident each event to be sent announces, by sequence number (for
    /// incidents-only sinks; chat messages name the incident).
    pub fn announce(&mut self, incidents: Announced) {
        match self {
            AnySink::Stdout(s) => s.incidents = incidents,
            AnySink::File(s) => s.incidents = incidents,
            AnySink::Syslog(_) | AnySink::Controller(_) => {}
            AnySink::Http(s) => s.announce(incidents),
        }
    }

    /// Most events sent in one call.
    pub fn max_batch(&self) -> usize {
        match self {
            AnySink::Http(s) => s.max_batch(),
            _ => usize::MAX,
        }
    }
}

impl Sink for AnySink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        match self {
            AnySink::Stdout(s) => s.send(batch).await,
            AnySink::File(s) => s.send(batch).await,
            AnySink::Syslog(s) => s.send(batch).await,
            AnySink::Http(s) => s.send(batch).await,
            AnySink::Controller(s) => s.send(batch).await,
        }
    }
}
