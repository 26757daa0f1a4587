//! What every decoy gets from the runtime: where to send events, when to stop,
//! and the limits it enforces.

use std::sync::Arc;

use tokio_util::task::TaskTracker;

use super::limits::ConnectionGate;
use crate::config::ConnectionLimits;
use crate::event::{Event, EventId, EventKind, SessionId, Timestamp};
use crate::pipeline::EventSender;
use crate::shutdown::Shutdown;

/// Shared by a decoy and all of its connection tasks.
#[derive(Clone)]
pub struct DecoyContext {
    /// The decoy's configured name.
    pub decoy: Arc<str>,
    /// This sensor's name.
    pub sensor: Arc<str>,
    /// The event bus.
    pub events: EventSender,
    /// Cancelled when honeyward is stopping.
    pub shutdown: Shutdown,
    /// Tracks connection tasks so shutdown can wait for their close events.
    pub tasks: TaskTracker,
    /// The decoy's limits.
    pub limits: ConnectionLimits,
    /// Counts connections overall and per source.
    pub gate: ConnectionGate,
}

impl DecoyContext {
    /// Builds an event from this decoy, outside any connection.
    pub fn event(&self, kind: EventKind) -> Event {
        Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: self.sensor.to_string(),
            decoy: Some(self.decoy.to_string()),
            source: None,
            destination: None,
            session: None::<SessionId>,
            kind,
            token: None,
        }
    }
}
