//! Decoys: network services that impersonate something worth attacking.
//!
//! Every decoy shares the accept loop in [`listener`] (connection limits,
//! backpressure, shutdown) and records connections through [`Connection`].

mod cohort;
mod connection;
mod context;
mod counting;
pub mod der;
pub mod dicom;
mod error;
pub mod hl7;
pub mod http;
mod limits;
mod listener;
pub mod memory;
pub mod ntlm;
pub mod personality;
pub mod poison;
pub mod quarantine;
pub mod rdp;
pub mod smb;
pub mod ssh;
mod tcp;

pub use cohort::{Built, Cohort};
pub use connection::{Connection, Recorder};
pub use context::DecoyContext;
pub use error::{DecoyError, PersonalityError, SetupError};
pub use limits::{ConnectionGate, ConnectionPermit};
pub use listener::{bind, BoundDecoy, Listening, Surroundings};
pub use memory::MemoryBudget;
