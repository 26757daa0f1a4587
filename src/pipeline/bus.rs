//! The event bus: a bounded channel from every decoy to the store writer.
//!
//! It is never unbounded. When it is full, `emit` waits (the connection that produced
//! the event slows down) and `wait_for_capacity` holds decoys' accept loops, so a
//! flood turns into backpressure at the listener, not into lost events or memory.

use tokio::sync::mpsc;

use crate::event::Event;

/// The sending side, cloned into every decoy.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Event>,
}

/// Creates the bus with room for `capacity` queued events.
pub fn bus(capacity: usize) -> (EventSender, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (EventSender { tx }, rx)
}

impl EventSender {
    /// Hands an event to the store, waiting while the bus is full.
    pub async fn emit(&self, event: Event) {
        if let Err(e) = self.tx.send(event).await {
            // Only possible if the writer thread died; say so loudly with the event.
            tracing::error!(event = ?e.0, "store writer is gone; event could not be stored");
        }
    }

    /// Waits until the bus has room for at least one more event.
    pub async fn wait_for_capacity(&self) {
        if let Ok(permit) = self.tx.reserve().await {
            drop(permit);
        }
    }

    /// Events currently queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}
