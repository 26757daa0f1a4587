//! The event envelope: who saw what, when, from where.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::address::{Local, Remote};
use super::attack::Technique;
use super::kind::{EventKind, Severity};
use super::time::Timestamp;
use super::token::TokenHit;

/// Unique, time-sortable event identifier (UUIDv7): unique across sensors, and
/// ordered by creation time, so receivers can dedupe and sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// A fresh id for an event observed now.
    pub fn new() -> Self {
        EventId(uuid::Uuid::now_v7())
    }

    /// Writes the canonical hyphenated form into `buf` without allocating.
    pub fn encode<'b>(&self, buf: &'b mut [u8; uuid::fmt::Hyphenated::LENGTH]) -> &'b str {
        self.0.hyphenated().encode_lower(buf)
    }

    /// Parses the canonical hyphenated form.
    pub fn parse(s: &str) -> Option<Self> {
        uuid::Uuid::parse_str(s).ok().map(EventId)
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Identifies one connection (or one association) so its events can be tied together.
pub type SessionId = EventId;

/// One observation. Immutable once created; stored once. Read back by
/// [`envelope_read`](super::envelope_read), in one pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Unique id, assigned when the observation is made.
    pub id: EventId,
    /// When it was observed.
    pub time: Timestamp,
    /// The sensor (host) that observed it.
    pub sensor: String,
    /// The decoy that observed it; none for host-level observations.
    pub decoy: Option<String>,
    /// The remote peer (the attacker's address as seen by the decoy).
    pub source: Option<Remote>,
    /// The local address the peer connected to.
    pub destination: Option<Local>,
    /// Ties together the events of one connection.
    pub session: Option<SessionId>,
    /// What was observed.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The honeytoken this observation used, filled in by token matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenHit>,
    /// The time a sensor gave, when the controller found it outside its window (a
    /// clock far off, or a forged time); `time` is then the window's nearest edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_time: Option<Timestamp>,
}

impl Event {
    /// An observation made now by `sensor` itself, not by one of its decoys: no decoy,
    /// peer, session or token (a canary file read, a sensor's health, the store full).
    pub fn host(sensor: impl Into<String>, kind: EventKind) -> Self {
        Event {
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: sensor.into(),
            decoy: None,
            source: None,
            destination: None,
            session: None,
            kind,
            token: None,
            claimed_time: None,
        }
    }

    /// A token hit is always critical; otherwise the kind's own severity.
    pub fn severity(&self) -> Severity {
        if self.token.is_some() {
            Severity::Critical
        } else {
            self.kind.severity()
        }
    }

    /// The ATT&CK technique this event is evidence of.
    pub fn technique(&self) -> Option<Technique> {
        match &self.token {
            Some(hit) => Some(hit.technique(matches!(self.kind, EventKind::FileOpened { .. }))),
            None => self.kind.technique(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_host_event_is_the_sensors_own_made_now_and_reads_back_the_same() {
        let before = Timestamp::now();
        let e = Event::host("ward-7", EventKind::StoreFull { events: 3, full_seconds: 2 });
        assert!(e.time >= before && e.time <= Timestamp::now());
        assert_eq!(e.sensor, "ward-7");
        assert!(e.decoy.is_none() && e.source.is_none() && e.destination.is_none() && e.session.is_none());
        assert!(e.token.is_none() && e.claimed_time.is_none());
        assert_ne!(e.id, Event::host("ward-7", e.kind.clone()).id);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }
}
