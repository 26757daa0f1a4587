//! The event bus: a bounded channel from every decoy to the store writer.
//!
//! It is never unbounded. When it is full, `emit` waits (the connection that produced
//! the event slows down) and `wait_for_capacity` holds decoys' accept loops, so a
//! flood turns into backpressure at the listener, not into lost events or memory.

use tokio::sync::mpsc;

use crate::event::Event;
use crate::token::Matcher;

/// The sending side, cloned into every decoy.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Event>,
    tokens: Matcher,
}

/// Creates the bus with room for `capacity` queued events. Events pass token
/// enrichment (`tokens`) on their way in.
pub fn bus(capacity: usize, tokens: Matcher) -> (EventSender, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (EventSender { tx, tokens }, rx)
}

impl EventSender {
    /// The token matcher, for decoys that decide on a token at once (e.g. to let a
    /// planted credential log in).
    pub fn tokens(&self) -> &Matcher {
        &self.tokens
    }

    /// Hands an event to the store, waiting while the bus is full. An event that
    /// carries token material and has no token hit yet is matched first.
    pub async fn emit(&self, mut event: Event) {
        if event.token.is_none() {
            event.token = crate::token::material_of(&event.kind).into_iter().find_map(|(kind, value)| self.tokens.lookup(kind, value));
        }
        if event.token.is_some() {
            event.kind.redact_token_secret();
        }
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
