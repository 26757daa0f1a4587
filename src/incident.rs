//! Incidents: events grouped per (source address, sensor) while they keep coming
//! within a window; a token hit always opens an incident of its own. An incident's
//! severity is its worst event's (connection < auth attempt < command/query < token
//! hit). Events matching the allow-list (`alerts.ignore`: the hospital's authorised
//! scanner, a noisy decoy, a kind) are not dropped: they form suppressed incidents.
//!
//! Grouping is a pure function of the events in commit order, so every reader (the
//! CLI, later the console and chat sinks) derives the same incidents, with stable ids
//! (the id of the incident's first event).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;

pub use crate::config::{Cidr, Ignore, IncidentConfig};
use crate::event::{EventId, Severity, Timestamp};
use crate::store::StoredEvent;

/// One incident.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// The id of its first event.
    pub id: EventId,
    pub sensor: String,
    pub source: Option<IpAddr>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub severity: Severity,
    pub events: u64,
    /// Commit sequence numbers of its events.
    #[serde(skip)]
    pub seqs: Vec<u64>,
    pub decoys: BTreeSet<String>,
    pub kinds: BTreeSet<String>,
    pub techniques: BTreeSet<String>,
    /// The token hit that opened it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Every event matched the allow-list.
    pub suppressed: bool,
}

fn ignored(cfg: &Ignore, e: &StoredEvent) -> bool {
    let ev = &e.event;
    ev.source.is_some_and(|s| cfg.sources.iter().any(|c| c.contains(s.ip())))
        || ev.decoy.as_ref().is_some_and(|d| cfg.decoys.contains(d))
        || cfg.kinds.iter().any(|k| k == ev.kind.name())
}

/// Which incident an event joins, decided event by event in commit order. Keeps only
/// the open incident per (source, sensor, suppressed), so it can follow a stream.
#[derive(Debug, Clone)]
pub struct Grouper {
    cfg: IncidentConfig,
    /// (source, sensor, suppressed) → (the open incident's number, its last event
    /// time, its id).
    open: HashMap<GroupKey, (usize, i64, EventId)>,
    opened: usize,
}

/// What events of one incident share: source address, sensor, suppressed or not.
type GroupKey = (Option<IpAddr>, String, bool);

/// Where an event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The incident's number: 0 for the first incident this grouper opened, and so on.
    pub incident: usize,
    /// The event opened that incident.
    pub opened: bool,
    /// The event matched the allow-list.
    pub suppressed: bool,
    /// The incident's id (its first event's id).
    pub id: EventId,
}

/// Open incidents kept before the stale ones are dropped.
const OPEN_CAP: usize = 100_000;

impl Grouper {
    pub fn new(cfg: &IncidentConfig) -> Self {
        Grouper { cfg: cfg.clone(), open: HashMap::new(), opened: 0 }
    }

    /// Places the next event.
    pub fn place(&mut self, e: &StoredEvent) -> Placement {
        let ev = &e.event;
        let suppressed = ignored(&self.cfg.ignore, e);
        let now = ev.time.as_micros();
        let key = (ev.source.map(|s| s.ip()), ev.sensor.clone(), suppressed);
        let window = self.cfg.window_us;
        if ev.token.is_none() {
            if let Some((incident, last, id)) = self.open.get_mut(&key).filter(|(_, last, _)| now - *last <= window) {
                *last = now;
                return Placement { incident: *incident, opened: false, suppressed, id: *id };
            }
        }
        let incident = self.opened;
        self.opened += 1;
        // A token hit's incident takes no other events: the source's ordinary
        // incident stays the open one.
        if ev.token.is_none() {
            if self.open.len() >= OPEN_CAP {
                self.open.retain(|_, (_, last, _)| now - *last <= window);
            }
            self.open.insert(key, (incident, now, ev.id));
        }
        Placement { incident, opened: true, suppressed, id: ev.id }
    }
}

/// Groups events (in commit order) into incidents, oldest first.
pub fn group<'a>(events: impl IntoIterator<Item = &'a StoredEvent>, cfg: &IncidentConfig) -> Vec<Incident> {
    let mut incidents: Vec<Incident> = Vec::new();
    let mut grouper = Grouper::new(cfg);
    for e in events {
        let ev = &e.event;
        let placed = grouper.place(e);
        if placed.opened {
            incidents.push(Incident {
                id: ev.id,
                sensor: ev.sensor.clone(),
                source: ev.source.map(|s| s.ip()),
                first: ev.time,
                last: ev.time,
                severity: Severity::Info,
                events: 0,
                seqs: Vec::new(),
                decoys: BTreeSet::new(),
                kinds: BTreeSet::new(),
                techniques: BTreeSet::new(),
                token: ev.token.as_ref().map(|t| format!("{} ({})", t.id, t.label)),
                suppressed: placed.suppressed,
            });
        }
        let inc = &mut incidents[placed.incident];
        inc.last = ev.time;
        inc.severity = inc.severity.max(ev.severity());
        inc.events += 1;
        inc.seqs.push(e.seq);
        if let Some(d) = &ev.decoy {
            inc.decoys.insert(d.clone());
        }
        inc.kinds.insert(ev.kind.name().to_string());
        if let Some(t) = ev.technique() {
            inc.techniques.insert(t.id().to_string());
        }
    }
    incidents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, Event, EventKind, SshAuthMethod};

    fn auth(seq: u64, source: &str, minute: i64, token: bool) -> StoredEvent {
        let mut e = StoredEvent {
            seq,
            event: Event {
                id: EventId::new(),
                time: Timestamp::from_micros(1_795_883_913_000_000 + minute * 60_000_000),
                sensor: "ward-7".into(),
                decoy: Some("ssh".into()),
                source: Some(format!("{source}:40000").parse().unwrap()),
                destination: None,
                session: None,
                kind: EventKind::SshAuth {
                    method: SshAuthMethod::Password,
                    username: AttackerBytes::new("root"),
                    password: None,
                    key_fingerprint: None,
                    key_algorithm: None,
                    accepted: false,
                    methods_tried: None,
                },
                token: None,
            },
        };
        if token {
            e.event.token = Some(crate::token::TokenHit {
                id: "tok-x".into(),
                kind: crate::token::TokenKind::SshPassword,
                label: "backup svc".into(),
                state: crate::token::TokenState::Active,
                plants: vec![],
            });
        }
        e
    }

    #[test]
    fn a_brute_force_is_one_incident_and_a_token_hit_opens_its_own() {
        let mut events: Vec<StoredEvent> = (0..5000).map(|i| auth(i, "203.0.113.9", (i / 1000) as i64, false)).collect();
        events.push(auth(5000, "203.0.113.9", 5, true));
        events.push(auth(5001, "203.0.113.9", 5, false));
        events.push(auth(5002, "198.51.100.4", 5, false));
        events.push(auth(5003, "203.0.113.9", 60, false));
        let incidents = group(&events, &IncidentConfig::default());
        let counts: Vec<u64> = incidents.iter().map(|i| i.events).collect();
        assert_eq!(counts, [5001, 1, 1, 1], "brute force (+1 after the hit), the hit, another source, after the window");
        assert_eq!(incidents[1].severity, Severity::Critical);
        assert!(incidents[1].token.as_deref().unwrap().contains("backup svc"));
        assert_eq!(incidents[0].techniques.iter().collect::<Vec<_>>(), ["T1110.001"]);
        assert_eq!(incidents[0].id, events[0].event.id, "the id is the first event's");
    }

    #[test]
    fn the_allow_list_suppresses_without_dropping() {
        let events = vec![auth(1, "10.20.5.5", 0, false), auth(2, "203.0.113.9", 0, false)];
        let cfg = IncidentConfig { ignore: Ignore { sources: vec![Cidr::parse("10.20.0.0/16").unwrap()], ..Default::default() }, ..Default::default() };
        let incidents = group(&events, &cfg);
        assert_eq!(incidents.len(), 2);
        assert!(incidents[0].suppressed && !incidents[1].suppressed);
    }

    #[test]
    fn table_of_cidrs() {
        for (net, ip, want) in [
            ("10.20.0.0/16", "10.20.9.1", true),
            ("10.20.0.0/16", "10.21.0.1", false),
            ("192.0.2.7", "192.0.2.7", true),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("2001:db8::/32", "2001:db8::1", true),
            ("2001:db8::/32", "10.0.0.1", false),
        ] {
            assert_eq!(Cidr::parse(net).unwrap().contains(ip.parse().unwrap()), want, "{net} {ip}");
        }
        assert!(Cidr::parse("10.0.0.0/33").is_none() && Cidr::parse("nope").is_none());
    }
}
