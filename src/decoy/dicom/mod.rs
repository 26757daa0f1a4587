//! The `dicom` decoy: a PACS on the wire. Owns the association handshake (so the
//! A-ASSOCIATE-AC carries the imitated product's identity), answers C-ECHO, C-FIND
//! and C-GET from an archive of synthetic honey patients, quarantines C-STORE objects
//! by hash under quotas, and records every association, command and object.

mod archive;
mod association;
pub(crate) mod dimse;
mod link;
mod moving;
pub(crate) mod pdu;
mod personality;
mod retrieve;
mod services;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::connection::Connection;
use super::counting::{ByteCounts, Counting};
use super::error::SetupError;
use crate::config::{DicomDecoyConfig, UnknownAeQueries};
use crate::decoy::{Cohort, Surroundings};
use crate::event::CloseReason;
pub use archive::matches;
pub use personality::{DicomPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Everything a DICOM decoy needs at run time.
pub struct DicomRuntime {
    pub personality: Arc<DicomPersonality>,
    /// Our AE title (the personality's unless the decoy sets one).
    pub ae_title: String,
    pub archive: archive::Archive,
    pub quarantine: crate::decoy::quarantine::Quarantine,
    /// Deadline for each PDU once associated.
    pub idle: Duration,
    /// C-MOVE destinations the operator allows: (AE title, address).
    pub move_destinations: Vec<(String, std::net::SocketAddr)>,
    /// Calling AEs whose queries are answered whatever the policy.
    pub known_aes: Vec<String>,
    /// What queries from other calling AEs get.
    pub unknown_ae_queries: UnknownAeQueries,
}

impl DicomRuntime {
    /// Whether queries and retrieves from `calling` are answered.
    pub fn answers_queries_from(&self, calling: &str) -> bool {
        self.unknown_ae_queries == UnknownAeQueries::Answer
            || self.known_aes.iter().any(|ae| ae == calling)
            || self.move_destinations.iter().any(|(ae, _)| ae == calling)
    }
}

impl DicomRuntime {
    /// Opens the quarantine (`STATE_DIR/dicom/NAME/quarantine`) and sets up the
    /// archive of the shared cohort (or of the decoy's own size and UID root, when it
    /// sets them). Blocking: call it off the runtime.
    pub fn for_decoy(config: &DicomDecoyConfig, personality: Arc<DicomPersonality>, around: &Surroundings) -> Result<Self, SetupError> {
        let dir = around.state_dir.join("dicom").join(&config.name);
        crate::state_file::private_dir(&dir)?;
        let cohort = match (config.cohort_size, config.uid_root.as_deref()) {
            (None, None) => Arc::clone(&around.shared_cohort),
            (size, uid_root) => Arc::new(Cohort::of(&around.cohort, size, uid_root)),
        };
        let unknown_ae_queries = config.unknown_ae_queries.unwrap_or(personality.unknown_ae_queries);
        let idle = match personality.idle_timeout_seconds.filter(|_| !config.limits.idle_timeout_set) {
            Some(seconds) => Duration::from_secs(seconds),
            None => config.limits.idle_timeout,
        };
        let quarantine =
            crate::decoy::quarantine::Quarantine::open(&dir.join("quarantine"), "dcm", config.quarantine_max_objects, config.quarantine_max_bytes)?;
        Ok(DicomRuntime {
            ae_title: config.ae_title.clone().unwrap_or_else(|| personality.ae_title.clone()),
            personality,
            archive: archive::Archive::new(cohort),
            quarantine,
            idle,
            move_destinations: config.move_destinations.clone(),
            known_aes: config.known_aes.clone(),
            unknown_ae_queries,
        })
    }
}

/// Serves one connection.
pub async fn handle(rt: Arc<DicomRuntime>, stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let _ = stream.set_nodelay(true);
    let counts = Arc::new(ByteCounts::default());
    let mut io = Counting::new(stream, Arc::clone(&counts), limits.max_session_bytes);
    let recorder = conn.recorder();
    let shutdown = conn.context().shutdown.clone();
    let reason = tokio::select! {
        ending = association::serve(&rt, &mut io, &recorder) => {
            if ending.reset {
                // SO_LINGER 0: the close sends RST, as DCMTK does to a peer it rejects.
                let _ = io.get_ref().set_zero_linger();
            }
            ending.reason
        }
        _ = shutdown.cancelled() => CloseReason::Shutdown,
        _ = tokio::time::sleep_until(conn.deadline()) => CloseReason::SessionTimeout,
    };
    conn.bytes_in = counts.read.load(Ordering::Relaxed);
    conn.bytes_out = counts.written.load(Ordering::Relaxed);
    conn.close(reason).await;
}
