//! The grouper: places events, in commit order, into incidents per (source address,
//! sensor, suppressed) while they keep coming within the window. A token hit joins
//! its source's incident like any event, making it critical and naming the token, so
//! one intruder is one incident. An incident's severity is its worst event's.
//! Events matching the allow-list (`alerts.ignore`) are not dropped: they form
//! suppressed incidents.
//!
//! Open incidents are kept in a bounded table, least recently seen evicted first (an
//! evicted incident is closed: its source's next event opens a new one). The grouper
//! remembers which incidents changed so the follower saves only those.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::open::{Names, Open};
use crate::config::{Ignore, IncidentConfig};
use crate::event::EventId;
use crate::store::{Incident, StoredEvent};

/// Open incidents kept before the least recently seen is closed. Each takes about
/// 400 bytes with its share of the index (see BENCHMARKS.md): about 40 MB in all.
pub const OPEN_CAP: usize = 100_000;

/// Whether the allow-list matches an event.
pub fn ignored(cfg: &Ignore, e: &StoredEvent) -> bool {
    let ev = &e.event;
    ev.source.is_some_and(|s| cfg.sources.iter().any(|c| c.contains(s.ip())))
        || ev.decoy.as_ref().is_some_and(|d| cfg.decoys.contains(d))
        || cfg.kinds.iter().any(|k| k == ev.kind.name())
}

/// The incident `e` opens, as the reference grouping (below) builds it.
#[cfg(test)]
fn first(e: &StoredEvent, suppressed: bool) -> Incident {
    let ev = &e.event;
    let mut i = Incident {
        id: ev.id,
        sensor: ev.sensor.clone(),
        source: ev.source.map(|s| s.ip()),
        first: ev.time,
        last: ev.time,
        severity: crate::event::Severity::Info,
        events: 0,
        first_seq: e.seq,
        last_seq: e.seq,
        decoys: std::collections::BTreeSet::new(),
        kinds: std::collections::BTreeSet::new(),
        techniques: std::collections::BTreeSet::new(),
        token: None,
        suppressed,
        story: crate::event::Story::default(),
    };
    absorb(&mut i, e);
    i
}

/// Adds `e` to `i`, as the reference grouping does: written apart from
/// [`Open::absorb`] on purpose, so that the tests check one against the other.
#[cfg(test)]
fn absorb(i: &mut Incident, e: &StoredEvent) {
    let ev = &e.event;
    i.last = ev.time;
    i.last_seq = e.seq;
    i.severity = i.severity.max(ev.severity());
    i.events += 1;
    if let Some(d) = &ev.decoy {
        if !i.decoys.contains(d) {
            i.decoys.insert(d.clone());
        }
    }
    let kind = ev.kind.name();
    if !i.kinds.contains(kind) {
        i.kinds.insert(kind.to_string());
    }
    if let Some(t) = ev.technique() {
        if !i.techniques.contains(t.id()) {
            i.techniques.insert(t.id().to_string());
        }
    }
    if let (None, Some(t)) = (&i.token, &ev.token) {
        i.token = Some(format!("{} ({}){}", t.id, t.label, if t.claimed_by_sensor { " [claimed by the sensor]" } else { "" }));
    }
    i.story.absorb(ev);
}

/// Which of an incident's candidate events (its sensor's and source's between its
/// first and last sequence numbers, see `StoreReader::incident_candidates`) are its own.
pub fn members(candidates: Vec<StoredEvent>, i: &Incident, cfg: &IncidentConfig) -> Vec<StoredEvent> {
    if i.is_lone_token_hit() {
        return candidates.into_iter().filter(|e| e.seq == i.first_seq).collect();
    }
    candidates.into_iter().filter(|e| ignored(&cfg.ignore, e) == i.suppressed && !lone_hit_elsewhere(e, i)).collect()
}

/// A token hit saved, before token hits joined, as an incident of its own: in a store
/// kept from then, it is not a member of its source's ordinary incident.
fn lone_hit_elsewhere(e: &StoredEvent, i: &Incident) -> bool {
    e.event.token.is_some() && e.seq != i.first_seq && i.story.is_empty()
}

/// What events of one incident share: source address, sensor (by number), suppressed.
type GroupKey = (Option<IpAddr>, u32, bool);

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

/// An open incident.
#[derive(Debug, Clone)]
struct Slot {
    key: GroupKey,
    open: Open,
    number: usize,
    /// When it was last seen, in placements.
    seen: u64,
    dirty: bool,
}

/// Places events one by one in commit order, keeping the open incidents.
#[derive(Debug, Clone)]
pub struct Grouper {
    cfg: IncidentConfig,
    cap: usize,
    sensors: Names,
    decoys: Names,
    index: HashMap<GroupKey, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// (slot, seen) in the order they were seen; entries whose `seen` is no longer the
    /// slot's are stale and skipped.
    recency: VecDeque<(usize, u64)>,
    placed: u64,
    opened: usize,
    /// Whether changed incidents are remembered for [`drain`](Self::drain).
    tracking: bool,
    dirty: Vec<usize>,
    /// Changed incidents no longer open (closed, evicted) not yet drained.
    finished: Vec<Incident>,
}

impl Grouper {
    pub fn new(cfg: &IncidentConfig) -> Self {
        Self::with_capacity(cfg, OPEN_CAP)
    }

    /// A grouper that only places events (a sink following the stream): it does not
    /// remember what changed.
    pub fn untracked(cfg: &IncidentConfig) -> Self {
        Grouper { tracking: false, ..Self::new(cfg) }
    }

    /// A grouper that keeps at most `cap` open incidents (at least one).
    pub fn with_capacity(cfg: &IncidentConfig, cap: usize) -> Self {
        Grouper {
            cfg: cfg.clone(),
            cap: cap.max(1),
            sensors: Names::default(),
            decoys: Names::default(),
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            recency: VecDeque::new(),
            placed: 0,
            opened: 0,
            tracking: true,
            dirty: Vec::new(),
            finished: Vec::new(),
        }
    }

    /// A grouper that continues incidents saved earlier (oldest first); lone token
    /// hits saved before token hits joined incidents are not continued.
    pub fn resume(cfg: &IncidentConfig, open: Vec<Incident>) -> Self {
        let mut g = Self::new(cfg);
        for i in open.into_iter().filter(|i| !i.is_lone_token_hit()) {
            let key = (i.source, g.sensors.number(&i.sensor), i.suppressed);
            let number = g.opened;
            g.opened += 1;
            if g.index.len() >= g.cap {
                g.evict_least_recent();
            }
            let open = Open::resume(&i, &mut g.decoys);
            g.insert(key, open, number, false);
        }
        g
    }

    /// Open incidents held now.
    pub fn open_incidents(&self) -> usize {
        self.index.len()
    }

    /// Places the next event.
    pub fn place(&mut self, e: &StoredEvent) -> Placement {
        let ev = &e.event;
        let suppressed = ignored(&self.cfg.ignore, e);
        let key = (ev.source.map(|s| s.ip()), self.sensors.number(&ev.sensor), suppressed);
        if let Some(&slot) = self.index.get(&key) {
            let window = self.cfg.window_us;
            if let Some(s) = self.slots[slot].as_mut().filter(|s| ev.time.as_micros() - s.open.last_us <= window) {
                s.open.absorb(e, &mut self.decoys);
                let placed = Placement { incident: s.number, opened: false, suppressed, id: s.open.id };
                self.touch(slot);
                return placed;
            }
            // Past the window: that incident is over.
            self.close(slot);
        }
        let number = self.opened;
        self.opened += 1;
        if self.index.len() >= self.cap {
            self.evict_least_recent();
        }
        let open = Open::first(e, &mut self.decoys);
        self.insert(key, open, number, true);
        Placement { incident: number, opened: true, suppressed, id: ev.id }
    }

    /// The story so far of the open incident `e` was just placed in.
    pub fn story_of(&self, e: &StoredEvent) -> Option<&crate::event::Story> {
        let ev = &e.event;
        let sensor = self.sensors.known(&ev.sensor)?;
        let slot = *self.index.get(&(ev.source.map(|s| s.ip()), sensor, ignored(&self.cfg.ignore, e)))?;
        self.slots[slot].as_ref()?.open.story()
    }

    fn insert(&mut self, key: GroupKey, open: Open, number: usize, dirty: bool) {
        let slot = Slot { key, open, number, seen: 0, dirty: false };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, at);
        self.seen(at);
        if dirty {
            self.mark(at);
        }
    }

    /// Marks a slot seen now and changed.
    fn touch(&mut self, at: usize) {
        self.seen(at);
        self.mark(at);
    }

    fn seen(&mut self, at: usize) {
        self.placed += 1;
        if let Some(s) = self.slots[at].as_mut() {
            s.seen = self.placed;
        }
        self.recency.push_back((at, self.placed));
        if self.recency.len() > self.cap.saturating_mul(2).saturating_add(1024) {
            self.compact();
        }
    }

    fn mark(&mut self, at: usize) {
        if !self.tracking {
            return;
        }
        if let Some(s) = self.slots[at].as_mut().filter(|s| !s.dirty) {
            s.dirty = true;
            self.dirty.push(at);
        }
    }

    /// Drops stale recency entries.
    fn compact(&mut self) {
        let slots = &self.slots;
        self.recency.retain(|&(at, seen)| slots[at].as_ref().is_some_and(|s| s.seen == seen));
    }

    fn evict_least_recent(&mut self) {
        while let Some((at, seen)) = self.recency.pop_front() {
            if self.slots[at].as_ref().is_some_and(|s| s.seen == seen) {
                self.close(at);
                return;
            }
        }
    }

    /// Closes an open incident, keeping it for the next drain if it changed.
    fn close(&mut self, at: usize) {
        if let Some(s) = self.slots[at].take() {
            if let Entry::Occupied(o) = self.index.entry(s.key) {
                if *o.get() == at {
                    o.remove();
                }
            }
            self.free.push(at);
            if s.dirty {
                let incident = self.full(&s);
                self.finished.push(incident);
            }
        }
    }

    /// Hands every incident changed since the last drain to `f`, once each.
    pub fn drain(&mut self, mut f: impl FnMut(&Incident)) {
        for i in self.finished.drain(..) {
            f(&i);
        }
        for at in std::mem::take(&mut self.dirty) {
            if let Some(s) = self.slots[at].as_mut().filter(|s| s.dirty) {
                s.dirty = false;
                let (key, open) = (s.key, &s.open);
                f(&open.incident(self.sensors.name(key.1), key.0, key.2, &self.decoys));
            }
        }
    }

    /// The full record of an open incident.
    fn full(&self, s: &Slot) -> Incident {
        s.open.incident(self.sensors.name(s.key.1), s.key.0, s.key.2, &self.decoys)
    }
}

/// Groups events (in commit order) into incidents, in the order they opened, all kept
/// open and whole: the reference the grouper's and the follower's incidents are tested
/// against.
#[cfg(test)]
pub fn group<'a>(events: impl IntoIterator<Item = &'a StoredEvent>, cfg: &IncidentConfig) -> Vec<Incident> {
    let mut incidents: Vec<Incident> = Vec::new();
    let mut grouper = Grouper { tracking: false, ..Grouper::with_capacity(cfg, usize::MAX) };
    for e in events {
        let placed = grouper.place(e);
        if placed.opened {
            incidents.push(first(e, placed.suppressed));
        } else if let Some(i) = incidents.get_mut(placed.incident) {
            absorb(i, e);
        }
    }
    incidents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cidr;
    use crate::event::Severity;

    fn auth(seq: u64, source: &str, minute: i64, token: bool) -> StoredEvent {
        let mut e = StoredEvent { seq, event: super::super::fixtures::ssh_auth(source, minute * 60) };
        if token {
            e.event.token = Some(crate::event::hit_fixture("tok-x", crate::event::TokenKind::SshPassword, "backup svc"));
        }
        e
    }

    #[test]
    fn a_brute_force_and_the_token_hit_that_follows_it_are_one_critical_incident_naming_the_token() {
        let mut events: Vec<StoredEvent> = (0..5000).map(|i| auth(i, "203.0.113.9", (i / 1000) as i64, false)).collect();
        events.push(auth(5000, "203.0.113.9", 5, true));
        events.push(auth(5001, "203.0.113.9", 5, true));
        events.push(auth(5002, "198.51.100.4", 5, false));
        events.push(auth(5003, "203.0.113.9", 60, false));
        let incidents = group(&events, &IncidentConfig::default());
        let counts: Vec<u64> = incidents.iter().map(|i| i.events).collect();
        assert_eq!(counts, [5002, 1, 1], "brute force with both hits, another source, after the window");
        assert_eq!(incidents[0].severity, Severity::Critical);
        assert!(incidents[0].token.as_deref().unwrap().contains("backup svc"));
        assert_eq!(incidents[0].story.tokens.len(), 1, "the same token twice is one token");
        assert_eq!(incidents[0].story.tokens[0].hits, 2);
        assert!(incidents[0].techniques.contains("T1110.001"));
        assert_eq!(incidents[0].id, events[0].event.id, "the id is the first event's");
        assert_eq!(incidents[1].severity, Severity::Medium);
    }

    #[test]
    fn an_incident_saved_before_token_hits_joined_keeps_its_members() {
        let events = vec![auth(1, "203.0.113.9", 0, false), auth(2, "203.0.113.9", 0, true), auth(3, "203.0.113.9", 0, false)];
        let mut ordinary = group(&events, &IncidentConfig::default()).remove(0);
        let mut lone = ordinary.clone();
        // As an older store holds them: no story; the hit an incident of its own.
        ordinary.story = Default::default();
        ordinary.token = None;
        (lone.first_seq, lone.last_seq, lone.story, lone.events) = (2, 2, Default::default(), 1);
        let seqs = |i: &Incident| members(events.clone(), i, &IncidentConfig::default()).iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!((seqs(&ordinary), seqs(&lone)), (vec![1, 3], vec![2]));
        assert_eq!(Grouper::resume(&IncidentConfig::default(), vec![ordinary, lone]).open_incidents(), 1, "the lone hit is not continued");
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
    fn a_scan_from_many_sources_keeps_at_most_the_cap_open_and_loses_no_incident() {
        let mut g = Grouper::with_capacity(&IncidentConfig::default(), 10);
        let mut saved = std::collections::HashMap::new();
        for i in 0..1000u64 {
            g.place(&auth(i + 1, &format!("10.0.{}.{}", i / 250, i % 250), 0, false));
            assert!(g.open_incidents() <= 10);
            if i % 7 == 0 {
                g.drain(|inc| {
                    saved.insert(inc.id, inc.clone());
                });
            }
        }
        g.drain(|inc| {
            saved.insert(inc.id, inc.clone());
        });
        assert_eq!(saved.len(), 1000, "every incident handed over, evicted ones included");
        assert!(saved.values().all(|i| i.events == 1));
    }

    #[test]
    fn the_least_recently_seen_incident_is_the_one_closed() {
        let mut g = Grouper::with_capacity(&IncidentConfig::default(), 2);
        let a = g.place(&auth(1, "192.0.2.1", 0, false));
        g.place(&auth(2, "192.0.2.2", 0, false));
        g.place(&auth(3, "192.0.2.1", 0, false)); // .1 seen again: .2 is the oldest now
        g.place(&auth(4, "192.0.2.3", 0, false)); // evicts .2
        assert_eq!(g.place(&auth(5, "192.0.2.1", 0, false)).id, a.id, ".1 is still open");
        assert!(g.place(&auth(6, "192.0.2.2", 0, false)).opened, ".2 was closed: a new incident");
    }

    #[test]
    fn drained_incidents_add_up_to_the_reference_grouping() {
        // Sources come and go, windows lapse, token hits interleave.
        let events: Vec<StoredEvent> =
            (0..3000u64).map(|i| auth(i + 1, &format!("198.51.100.{}", (i * 7919) % 13), (i / 300) as i64 * 20, i % 97 == 0)).collect();
        let reference = group(&events, &IncidentConfig::default());
        let mut g = Grouper::new(&IncidentConfig::default());
        let mut saved = std::collections::HashMap::new();
        for (n, e) in events.iter().enumerate() {
            g.place(e);
            if n % 100 == 99 {
                g.drain(|i| {
                    saved.insert(i.id, i.clone());
                });
            }
        }
        g.drain(|i| {
            saved.insert(i.id, i.clone());
        });
        assert_eq!(saved.len(), reference.len());
        for r in &reference {
            assert_eq!(saved.get(&r.id), Some(r), "incident {} as the reference has it", r.id);
        }
        // Every event is in exactly one incident, found again from the store's view.
        let total: u64 = reference.iter().map(|i| i.events).sum();
        assert_eq!(total, 3000);
        for r in &reference {
            let candidates: Vec<StoredEvent> =
                events.iter().filter(|e| (r.first_seq..=r.last_seq).contains(&e.seq) && e.event.source.map(|s| s.ip()) == r.source).cloned().collect();
            assert_eq!(members(candidates, r, &IncidentConfig::default()).len() as u64, r.events, "members of {}", r.id);
        }
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
