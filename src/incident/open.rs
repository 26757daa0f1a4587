//! An open incident as the grouper holds it: small and fixed-size for the usual
//! incident (decoy and sensor names interned, kinds and techniques as a few inline
//! values), turned into a full [`Incident`] only when it is saved.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use crate::event::{EventId, EventKind, Severity, Story, Technique, Timestamp};
use crate::store::{Incident, StoredEvent};

/// A set of a few small values kept inline; more spill into a vector.
#[derive(Debug, Clone)]
pub struct Few<T: Copy + PartialEq, const N: usize> {
    inline: [Option<T>; N],
    more: Vec<T>,
}

impl<T: Copy + PartialEq, const N: usize> Few<T, N> {
    pub fn new() -> Self {
        Few { inline: [None; N], more: Vec::new() }
    }

    pub fn insert(&mut self, v: T) {
        if self.iter().any(|x| x == v) {
            return;
        }
        match self.inline.iter_mut().find(|s| s.is_none()) {
            Some(free) => *free = Some(v),
            None => self.more.push(v),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.inline.iter().flatten().copied().chain(self.more.iter().copied())
    }
}

/// Names seen often (sensors, decoys), numbered once.
#[derive(Debug, Clone, Default)]
pub struct Names {
    numbers: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    pub fn number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.numbers.get(name) {
            return *n;
        }
        let n = self.names.len() as u32;
        self.numbers.insert(name.to_string(), n);
        self.names.push(name.to_string());
        n
    }

    /// The number of a name seen before.
    pub fn known(&self, name: &str) -> Option<u32> {
        self.numbers.get(name).copied()
    }

    pub fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", String::as_str)
    }
}

/// An open incident's running totals.
#[derive(Debug, Clone)]
pub struct Open {
    pub id: EventId,
    pub first_us: i64,
    pub last_us: i64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub severity: Severity,
    pub events: u64,
    decoys: Few<u32, 2>,
    kinds: Few<&'static str, 3>,
    techniques: Few<Technique, 4>,
    /// The first token used, as `ID (LABEL)`.
    token: Option<Box<str>>,
    /// What the events tell; none while they are bare connections.
    story: Option<Box<Story>>,
}

/// How an incident names the first token used in it.
fn token_label(t: &crate::event::TokenHit) -> String {
    format!("{} ({}){}", t.id, t.label, if t.claimed_by_sensor { " [claimed by the sensor]" } else { "" })
}

impl Open {
    /// The incident `e` opens.
    pub fn first(e: &StoredEvent, decoys: &mut Names) -> Open {
        let t = e.event.time.as_micros();
        let mut open = Open {
            id: e.event.id,
            first_us: t,
            last_us: t,
            first_seq: e.seq,
            last_seq: e.seq,
            severity: Severity::Info,
            events: 0,
            decoys: Few::new(),
            kinds: Few::new(),
            techniques: Few::new(),
            token: None,
            story: None,
        };
        open.absorb(e, decoys);
        open
    }

    /// Adds `e`.
    pub fn absorb(&mut self, e: &StoredEvent, decoys: &mut Names) {
        let ev = &e.event;
        self.last_us = ev.time.as_micros();
        self.last_seq = e.seq;
        self.severity = self.severity.max(ev.severity());
        self.events += 1;
        if let Some(d) = &ev.decoy {
            self.decoys.insert(decoys.number(d));
        }
        self.kinds.insert(ev.kind.name());
        if let Some(t) = ev.technique() {
            self.techniques.insert(t);
        }
        if self.token.is_none() {
            self.token = ev.token.as_ref().map(|t| token_label(t).into_boxed_str());
        }
        match self.story.as_mut() {
            Some(story) => story.absorb(ev),
            None => {
                let mut story = Story::default();
                story.absorb(ev);
                if !story.is_empty() {
                    self.story = Some(Box::new(story));
                }
            }
        }
    }

    /// The story so far.
    pub fn story(&self) -> Option<&Story> {
        self.story.as_deref()
    }

    /// Continues a saved incident.
    pub fn resume(i: &Incident, decoys: &mut Names) -> Open {
        let mut open = Open {
            id: i.id,
            first_us: i.first.as_micros(),
            last_us: i.last.as_micros(),
            first_seq: i.first_seq,
            last_seq: i.last_seq,
            severity: i.severity,
            events: i.events,
            decoys: Few::new(),
            kinds: Few::new(),
            techniques: Few::new(),
            token: i.token.as_deref().map(Box::from),
            story: (!i.story.is_empty()).then(|| Box::new(i.story.clone())),
        };
        for d in &i.decoys {
            open.decoys.insert(decoys.number(d));
        }
        for k in i.kinds.iter().filter_map(|k| EventKind::id_of(k).and_then(EventKind::name_of)) {
            open.kinds.insert(k);
        }
        for t in i.techniques.iter().filter_map(|t| Technique::from_id(t)) {
            open.techniques.insert(t);
        }
        open
    }

    /// The full record, for saving.
    pub fn incident(&self, sensor: &str, source: Option<IpAddr>, suppressed: bool, decoys: &Names) -> Incident {
        Incident {
            id: self.id,
            sensor: sensor.to_string(),
            source,
            first: Timestamp::from_micros(self.first_us),
            last: Timestamp::from_micros(self.last_us),
            severity: self.severity,
            events: self.events,
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            decoys: self.decoys.iter().map(|d| decoys.name(d).to_string()).collect(),
            kinds: self.kinds.iter().map(str::to_string).collect(),
            techniques: self.techniques.iter().map(|t| t.id().to_string()).collect::<BTreeSet<_>>(),
            token: self.token.as_deref().map(str::to_string),
            suppressed,
            story: self.story.as_deref().cloned().unwrap_or_default(),
        }
    }
}
