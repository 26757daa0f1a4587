//! The event store: SQLite in WAL mode, one writer thread with group commit,
//! readers for the CLI and the sinks, each sink's delivery cursor, and the incidents
//! the incident follower keeps.

mod delivery;
mod incident_search;
mod incidents;
mod progress;
mod reader;
mod recent;
mod retention;
mod schema;
mod spool;
mod writer;

pub use delivery::{Ack, DeadLetter, SinkOverview, SinkStatus};
pub use incident_search::{IncidentOrder, IncidentSearch};
pub use incidents::{CountDelta, Incident, IncidentFilter, IncidentTally};
pub use progress::SinkProgress;
pub use reader::{EventCount, EventFilter, StoreReader, StoredEvent, TokenDoor};
pub use recent::{RecentBatch, RECENT_MAX_EVENTS};
pub use retention::{is_full, used_bytes, Retention};
pub use schema::open_connection;
pub use spool::shed_spool;
pub use writer::{announce, commit, spawn_writer, Handoff, WriterHandle};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {cause}")]
    Sqlite { path: String, cause: rusqlite::Error },
    #[error("store {path} was written by a newer honeyward (schema version {found}, this build knows up to {known})")]
    TooNew { path: String, found: i64, known: i64 },
    #[error("no store at {0}: start `honeyward run` there first, or pass the right configuration with -c")]
    Missing(String),
    #[error("cannot create the store {path}: {cause}")]
    Create { path: String, cause: std::io::Error },
    #[error("event {seq} in the store cannot be decoded: {reason}")]
    Corrupt { seq: u64, reason: String },
}
