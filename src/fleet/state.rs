//! Everything the controller's request handlers share, and how they run blocking
//! work on it.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::watch;

use super::registry::Fleet;
use crate::pipeline::EventSender;
use crate::token::Registry;

/// Everything the controller's handlers share.
pub struct Controller {
    pub name: String,
    pub fleet: Mutex<Fleet>,
    /// The connection ingest commits through (one at a time).
    pub ingest: Mutex<Connection>,
    pub committed: Arc<watch::Sender<u64>>,
    pub events: EventSender,
    pub registry: Mutex<Registry>,
    /// Nonces seen within the allowed clock skew.
    pub nonces: Mutex<super::nonces::Nonces>,
    /// Refused requests counted per source per minute.
    pub refusals: Mutex<super::refusals::Refusals>,
    pub config: crate::config::Config,
}

/// Blocking work on the controller's state, off the async workers.
pub async fn blocking<T: Send + 'static>(controller: &Arc<Controller>, f: impl FnOnce(&Controller) -> T + Send + 'static) -> Option<T> {
    let c = Arc::clone(controller);
    tokio::task::spawn_blocking(move || f(&c)).await.ok()
}
