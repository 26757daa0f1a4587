//! The HL7 v2 decoy's pieces (issue 20): MLLP framing, the message parser and the
//! acknowledgements an integration engine sends back. Pure so far; the decoy that
//! serves them comes next.

pub mod ack;
pub mod message;
pub mod mllp;
