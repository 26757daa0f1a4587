//! The path from decoys to the store: a bounded event bus with backpressure, and
//! the shutdown signal that drains it.

mod bus;
mod shutdown;

pub use bus::{bus, EventSender};
pub use shutdown::{shutdown_on_signals, Shutdown};
