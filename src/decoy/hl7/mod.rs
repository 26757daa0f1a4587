//! The `hl7` decoy (issue 20): an integration engine's HL7 v2 interface over MLLP.
//! Its pieces: MLLP framing, the message parser, the acknowledgements an engine
//! sends back, and the listener that serves them.

pub mod ack;
pub mod message;
pub mod mllp;
mod serve;

pub use serve::handle;
