//! Incidents: events grouped per (source address, sensor) while they keep coming
//! within a window, token hits among them. The follower
//! groups events as they commit and the store keeps the result, so every reader (the
//! CLI, the console, `/metrics`, the API, the exports) sees the same incidents, with
//! stable ids (the id of the incident's first event).

#[cfg(test)]
pub mod fixtures;
mod follow;
mod grouper;
mod open;
mod sections;

pub use crate::config::{Cidr, Ignore, IncidentConfig};
pub use crate::store::{Incident, IncidentFilter, IncidentOrder, IncidentSearch, IncidentTally};
pub use follow::{follow, Follower, CHUNK_EVENTS};
#[cfg(test)]
pub use grouper::group;
pub use grouper::{ignored, members, Grouper, Placement, OPEN_CAP};
pub use sections::{sections, DicomRow, Sections, SshAttempt, Typed, WebRow, MAX_ROWS};
