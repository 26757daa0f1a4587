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
    /// How long a batch gathers after its first event before commit, in ms (0..=1000).
    /// Default 0: commit as soon as the writer is free (what arrives meanwhile is the
    /// next batch). 10-20 on a busy sensor: fewer commits, less CPU, more latency.
    pub flush_interval_ms: Option<At<u64>>,
    /// honeyward's own state (token digest key, host keys), created 0700 if missing.
    /// Default: `./honeyward-state`.
    pub state_dir: Option<At<String>>,
    /// Events queued between decoys and the store before decoys stop accepting
    /// (16..=10000000). Default 65536.
    pub queue_capacity_events: Option<At<u64>>,
    /// How long events are kept and how large the store may grow. Default: everything
    /// is kept (set a size cap on any long-running host, so the disk never fills).
    pub retention: Option<RawRetention>,
}

/// `store.retention` section. Only events every sink has passed (and the incident
/// follower has grouped) are deleted, never a token hit whose incident is not
/// acknowledged.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// Events older than this many days are deleted (1..=36500). Default: kept.
    pub max_age_days: Option<At<u64>>,
    /// The store is kept under this size, oldest events deleted first (1..=16000000 MB);
    /// when only events not yet passed to a sink are left, new events are counted and
    /// not stored, and a critical `store_full` event says how many. Default: no cap.
    pub max_size_mb: Option<At<u64>>,
}

/// What the store keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionConfig {
    pub max_age: Option<Duration>,
    pub max_size_bytes: Option<u64>,
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
    pub retention: RetentionConfig,
}

impl Checker<'_> {
    pub(super) fn store(&mut self, raw: RawStore) -> StoreConfig {
        let path = match &raw.path {
            Some(p) => self.path_in_existing_dir(p, "store.path"),
            None => PathBuf::from("./honeyward.db"),
        };
        let batch = self.number(&raw.batch_max_events, "batch_max_events", 4096, 1..=100_000);
        let flush_ms = self.number(&raw.flush_interval_ms, "flush_interval_ms", 0, 0..=1000);
        let queue = self.number(&raw.queue_capacity_events, "queue_capacity_events", 65536, 16..=10_000_000);
        let state_dir = match &raw.state_dir {
            Some(d) if d.value.is_empty() => {
                self.error(d.position, "`state_dir` must name a directory", "e.g. /var/lib/honeyward/state");
                PathBuf::from("./honeyward-state")
            }
            Some(d) => PathBuf::from(&d.value),
            None => PathBuf::from("./honeyward-state"),
        };
        let retention = raw.retention.unwrap_or_default();
        let days = retention.max_age_days.as_ref().map(|_| self.number(&retention.max_age_days, "max_age_days", 1, 1..=36_500));
        let mb = retention.max_size_mb.as_ref().map(|_| self.number(&retention.max_size_mb, "max_size_mb", 1, 1..=16_000_000));
        let retention = RetentionConfig { max_age: days.map(|d| Duration::from_secs(d * 86_400)), max_size_bytes: mb.map(|m| m * 1024 * 1024) };
        StoreConfig {
            retention,
            path,
            state_dir,
            sync: raw.sync.unwrap_or(StoreSync::Full),
            batch_max_events: NonZeroUsize::new(batch as usize).unwrap_or(NonZeroUsize::MIN),
            flush_interval: Duration::from_millis(flush_ms),
            queue_capacity_events: NonZeroUsize::new(queue as usize).unwrap_or(NonZeroUsize::MIN),
        }
    }
}
