//! The event model: one immutable observation, an envelope plus a typed payload.
//!
//! Everything downstream of a decoy speaks only [`Event`]. Attacker-supplied bytes
//! stay bytes ([`AttackerBytes`]) until an encoder turns them into its own format.

mod address;
mod attack;
mod bytes;
mod dicom;
mod envelope;
mod envelope_read;
mod kind;
mod scalars;
mod scrub;
mod story;
mod story_text;
mod time;
mod token;
mod visible;

pub use address::{Local, Remote};
pub use attack::Technique;
pub use bytes::{decoded_lower, AttackerBytes};
pub use dicom::{sop_class_name, DicomContext, DicomKey};
pub use envelope::{Event, EventId, SessionId};
#[cfg(test)]
pub(crate) use kind::login_request;
pub use kind::{CloseReason, EventKind, HttpCredential, HttpHeader, KindId, LimitKind, Severity, SshAuthMethod};
pub use scrub::REDACTED;
pub use story::{probe_name, Login, Names, Part, PlantedAt, Protocol, Story, TokenUse, MAX_PATHS};
pub use story_text::{count, thousands, Audience};
pub use time::Timestamp;
#[cfg(test)]
pub(crate) use token::hit_fixture;
pub use token::{Plant, TokenHit, TokenKind, TokenState, TOKEN_KINDS};
pub use visible::{is_hidden, visible, visible_capped, visible_json};
