//! The `hl7` decoy (issue 20): an integration engine's HL7 v2 interface over MLLP.
//! Its pieces: MLLP framing, the message parser, the acknowledgements an engine
//! sends back and how each engine stamps them, patient queries and their answers,
//! and the listener that serves them.

pub mod ack;
mod engine;
pub mod message;
pub mod mllp;
pub mod query;
pub mod response;
mod serve;

pub use serve::{handle, Hl7Runtime};
