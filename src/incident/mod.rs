//! Incidents: events grouped per (source address, sensor) while they keep coming
//! within a window; a token hit always opens an incident of its own. The follower
//! groups events as they commit and the store keeps the result, so every reader (the
//! CLI, the console, `/metrics`, the API, the exports) sees the same incidents, with
//! stable ids (the id of the incident's first event).

#[cfg(test)]
mod fixtures;
mod follow;
mod grouper;
mod open;

pub use crate::config::{Cidr, Ignore, IncidentConfig};
pub use crate::store::{Incident, IncidentFilter, IncidentTally};
pub use follow::{follow, Follower, CHUNK_EVENTS};
#[cfg(test)]
pub use grouper::group;
pub use grouper::{ignored, members, Grouper, Placement, OPEN_CAP};
