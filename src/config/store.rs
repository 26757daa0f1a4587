//! `store:` section: the SQLite event store and honeyward's state directory.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// `store:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// SQLite database file. Default: `./honeyward.db`.
    pub path: Option<At<String>>,
    /// `full` (fsync every commit, survives power loss; default) or `normal`
    /// (survives a process crash only).
    pub sync: Option<StoreSync>,
    /// Most events in one commit (1..=100000). Default 4096.
    pub batch_max_events: Option<At<u64>>,
    /// Longest an event waits for its batch before commit, in ms (0..=1000). Default 2.
    pub flush_interval_ms: Option<At<u64>>,
    /// honeyward's own state (token digest key, host keys), created 0700 if missing.
    /// Default: `./honeyward-state`.
    pub state_dir: Option<At<String>>,
    /// Events queued between decoys and the store before decoys stop accepting
    /// (16..=10000000). Default 65536.
    pub queue_capacity_events: Option<At<u64>>,
}

/// How SQLite commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreSync {
    /// fsync every commit: survives power loss.
    Full,
    /// fsync at checkpoints only: survives a process crash (kill -9), not power loss.
    Normal,
}

/// The event store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    /// honeyward's own state: the token digest key, host keys.
    pub state_dir: PathBuf,
    pub sync: StoreSync,
    /// Most events in one commit.
    pub batch_max_events: NonZeroUsize,
    /// Longest a received event waits for its batch to fill before commit.
    pub flush_interval: Duration,
    /// Events that may wait between the decoys and the store before decoys stop accepting.
    pub queue_capacity_events: NonZeroUsize,
}

impl Checker<'_> {
    pub(super) fn store(&mut self, raw: RawStore) -> StoreConfig {
        let path = match &raw.path {
            Some(p) => self.path_in_existing_dir(p, "store.path"),
            None => PathBuf::from("./honeyward.db"),
        };
        let batch = self.number(&raw.batch_max_events, "batch_max_events", 4096, 1..=100_000);
        let flush_ms = self.number(&raw.flush_interval_ms, "flush_interval_ms", 2, 0..=1000);
        let queue = self.number(&raw.queue_capacity_events, "queue_capacity_events", 65536, 16..=10_000_000);
        let state_dir = match &raw.state_dir {
            Some(d) if d.value.is_empty() => {
                self.error(d.position, "`state_dir` must name a directory", "e.g. /var/lib/honeyward/state");
                PathBuf::from("./honeyward-state")
            }
            Some(d) => PathBuf::from(&d.value),
            None => PathBuf::from("./honeyward-state"),
        };
        StoreConfig {
            path,
            state_dir,
            sync: raw.sync.unwrap_or(StoreSync::Full),
            batch_max_events: NonZeroUsize::new(batch as usize).unwrap_or(NonZeroUsize::MIN),
            flush_interval: Duration::from_millis(flush_ms),
            queue_capacity_events: NonZeroUsize::new(queue as usize).unwrap_or(NonZeroUsize::MIN),
        }
    }
}
