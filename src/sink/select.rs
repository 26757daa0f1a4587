//! Which events a sink forwards: its filter, and in incidents-only mode (chat
//! webhooks) only the first event of each incident that passes the filter.

use std::collections::HashSet;

use crate::config::{SinkConfig, SinkFilter};
use crate::event::EventId;
use crate::incident::{Grouper, IncidentConfig};
use crate::store::StoredEvent;

/// Incidents remembered as announced (older ones are forgotten).
const ANNOUNCED_CAP: usize = 200_000;

/// A sink's choice of events; follows the stream in commit order.
#[derive(Debug, Clone)]
pub struct Selection {
    filter: SinkFilter,
    incidents: Option<(Grouper, HashSet<usize>)>,
}

impl Selection {
    pub fn new(config: &SinkConfig, incidents: &IncidentConfig) -> Self {
        Selection { filter: config.filter().clone(), incidents: config.incidents_only().then(|| (Grouper::untracked(incidents), HashSet::new())) }
    }

    /// True in incidents-only mode (the selection then depends on earlier events).
    pub fn follows_incidents(&self) -> bool {
        self.incidents.is_some()
    }

    /// Whether the sink forwards `e`; every event must be shown, in order.
    pub fn pass(&mut self, e: &StoredEvent) -> bool {
        self.pick(e).is_some()
    }

    /// Like [`pass`](Self::pass), with the id of the incident the event announces (in
    /// incidents-only mode; otherwise the event's own id).
    pub fn pick(&mut self, e: &StoredEvent) -> Option<EventId> {
        let Some((grouper, announced)) = self.incidents.as_mut() else { return self.filter.accepts(&e.event).then_some(e.event.id) };
        let placed = grouper.place(e);
        if placed.suppressed || !self.filter.accepts(&e.event) || announced.contains(&placed.incident) {
            return None;
        }
        if announced.len() >= ANNOUNCED_CAP {
            let oldest = placed.incident.saturating_sub(ANNOUNCED_CAP / 2);
            announced.retain(|&i| i >= oldest);
        }
        announced.insert(placed.incident);
        Some(placed.id)
    }
}
