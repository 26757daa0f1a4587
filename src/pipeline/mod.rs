//! The path from decoys to the store: a bounded event bus with backpressure (and
//! token matching on the way).

mod bus;

pub use bus::{bus, EventSender};
