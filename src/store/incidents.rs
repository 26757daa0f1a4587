//! Incidents as the incident follower keeps them: each save writes the incidents it
//! touched, the event counts and how far it has read in one transaction (refused when
//! another follower moved on meanwhile); readers get incidents, an incident's events
//! and the numbers `/metrics` shows without regrouping anything.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{EventCount, StoreError, StoreReader, StoredEvent};
use crate::event::{Audience, EventId, KindId, Severity, Story, Timestamp};

/// One incident: events from one source against one sensor while they keep coming
/// within the window, token hits among them, with what they add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// The id of its first event.
    pub id: EventId,
    pub sensor: String,
    pub source: Option<IpAddr>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub severity: Severity,
    pub events: u64,
    /// Sequence numbers of its first and last events in this store.
    #[serde(skip)]
    pub first_seq: u64,
    #[serde(skip)]
    pub last_seq: u64,
    pub decoys: BTreeSet<String>,
    pub kinds: BTreeSet<String>,
    pub techniques: BTreeSet<String>,
    /// The first token used in it, as `ID (LABEL)` (all of them are in the story).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Every event matched the allow-list.
    pub suppressed: bool,
    /// What its events tell: empty for incidents saved before stories were kept.
    #[serde(skip_serializing_if = "Story::is_empty")]
    pub story: Story,
}

impl Incident {
    /// The source address as text (`local` for events without one).
    pub fn source_text(&self) -> String {
        self.source.map_or_else(|| "local".to_string(), |s| s.to_string())
    }

    /// Its title, for `who`.
    pub fn title(&self, who: Audience) -> String {
        match (&self.token, self.story.is_empty()) {
            (_, false) => self.story.title(who),
            // Saved before stories: a token hit's own incident, or what it held.
            (Some(t), true) if who == Audience::Team => format!("Token used: {t}"),
            (Some(_), true) => "Planted token used".into(),
            (None, true) => "Connections".into(),
        }
    }

    /// Its one-sentence summary, for `who`.
    pub fn summary(&self, who: Audience) -> String {
        let source = self.source_text();
        if !self.story.is_empty() {
            return self.story.summary(&source, who);
        }
        let decoys: Vec<&str> = self.decoys.iter().map(String::as_str).collect();
        let what = crate::event::count(self.events, "event", "events");
        match who {
            Audience::Team if !decoys.is_empty() => format!("{source} reached {} ({what}).", decoys.join(", ")),
            _ => format!("{source} reached a decoy ({what})."),
        }
    }

    /// True for a token hit's own incident, saved before token hits joined their
    /// source's incident: its one event is its only member.
    pub fn is_lone_token_hit(&self) -> bool {
        self.token.is_some() && self.story.is_empty()
    }
}

/// Which incidents [`StoreReader::incidents`] returns.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only incidents with an event at or after this time.
    pub since: Option<Timestamp>,
    /// Include suppressed incidents.
    pub suppressed: bool,
    /// At most this many: the most recently opened.
    pub limit: usize,
}

/// What `/metrics` says about incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncidentTally {
    /// Not suppressed, with an event inside the window.
    pub open: u64,
    /// Not suppressed, not acknowledged.
    pub unacknowledged: u64,
}

/// Events newly counted by sensor, decoy and kind.
pub type CountDelta = ((String, Option<String>, KindId), u64);

pub(super) const COLUMNS: &str =
    "id, sensor, source_ip, suppressed, token, first_seq, last_seq, first_us, last_us, severity, events, decoys, kinds, techniques, story";

fn set(text: &str) -> BTreeSet<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn incident(r: &Row<'_>) -> rusqlite::Result<Incident> {
    let bad = |i: usize, what: &str| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.to_string().into());
    let id: String = r.get(0)?;
    let source: Option<String> = r.get(2)?;
    Ok(Incident {
        id: EventId::parse(&id).ok_or_else(|| bad(0, "incident id"))?,
        sensor: r.get(1)?,
        source: source.map(|s| s.parse().map_err(|_| bad(2, "source address"))).transpose()?,
        suppressed: r.get(3)?,
        token: r.get(4)?,
        first_seq: r.get::<_, i64>(5)?.max(0) as u64,
        last_seq: r.get::<_, i64>(6)?.max(0) as u64,
        first: Timestamp::from_micros(r.get(7)?),
        last: Timestamp::from_micros(r.get(8)?),
        severity: Severity::from_rank(r.get(9)?).ok_or_else(|| bad(9, "severity"))?,
        events: r.get::<_, i64>(10)?.max(0) as u64,
        decoys: set(&r.get::<_, String>(11)?),
        kinds: set(&r.get::<_, String>(12)?),
        techniques: set(&r.get::<_, String>(13)?),
        story: serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default(),
    })
}

/// Events parsed from their bodies (`spans` of `text`), on up to four threads when
/// there are many: parsing is most of the time a large incident's first view takes.
fn parse_spans(text: &str, spans: &[(u64, std::ops::Range<usize>)]) -> Result<Vec<StoredEvent>, StoreError> {
    let parse = |part: &[(u64, std::ops::Range<usize>)], out: &mut Vec<StoredEvent>| -> Result<(), StoreError> {
        for (seq, range) in part {
            let body = text.get(range.clone()).ok_or_else(|| StoreError::Corrupt { seq: *seq, reason: "a body out of its buffer".into() })?;
            let event = serde_json::from_str(body).map_err(|e| StoreError::Corrupt { seq: *seq, reason: e.to_string() })?;
            out.push(StoredEvent { seq: *seq, event });
        }
        Ok(())
    };
    let mut out = Vec::with_capacity(spans.len());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if spans.len() < 4_096 || threads < 2 {
        parse(spans, &mut out)?;
        return Ok(out);
    }
    let (mine, rest) = spans.split_at(spans.len().div_ceil(threads));
    std::thread::scope(|scope| {
        let others: Vec<_> = rest
            .chunks(mine.len())
            .map(|part| {
                scope.spawn(move || {
                    let mut v = Vec::with_capacity(part.len());
                    parse(part, &mut v).map(|()| v)
                })
            })
            .collect();
        parse(mine, &mut out)?;
        for h in others {
            out.extend(h.join().unwrap_or_else(|_| Err(StoreError::Corrupt { seq: 0, reason: "a parsing thread panicked".into() }))?);
        }
        Ok(out)
    })
}

impl StoreReader {
    /// The last sequence number grouped into incidents.
    pub fn incident_cursor(&self) -> Result<u64, StoreError> {
        self.conn.query_row("SELECT seq FROM incident_cursor WHERE id = 1", [], |r| r.get::<_, i64>(0)).map(|v| v.max(0) as u64).map_err(|e| self.wrap(e))
    }

    /// Saves the incidents touched while grouping events `from+1..=to`, the events
    /// counted meanwhile, and the cursor `to`, in one transaction. Returns false (and
    /// saves nothing) when the cursor is no longer `from`: another follower saved first.
    pub fn save_incidents<'a>(&self, from: u64, to: u64, incidents: impl IntoIterator<Item = &'a Incident>, counts: &[CountDelta]) -> Result<bool, StoreError> {
        let wrap = |e| self.wrap(e);
        let tx = self.conn.unchecked_transaction().map_err(wrap)?;
        let moved = tx.execute("UPDATE incident_cursor SET seq = ?1 WHERE id = 1 AND seq = ?2", params![to as i64, from as i64]).map_err(wrap)?;
        if moved != 1 {
            return Ok(false);
        }
        let mut opened = 0i64;
        {
            let mut put = tx
                .prepare_cached(&format!(
                    "INSERT OR REPLACE INTO incidents ({COLUMNS}, title, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                ))
                .map_err(wrap)?;
            let json = |s: &BTreeSet<String>| serde_json::to_string(s).unwrap_or_else(|_| "[]".into());
            for i in incidents {
                // An incident whose first event is in this step is new.
                opened += i64::from(i.first_seq > from && !i.suppressed);
                let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
                put.execute(params![
                    i.id.encode(&mut id),
                    i.sensor,
                    i.source.map(|s| s.to_string()),
                    i.suppressed,
                    i.token,
                    i.first_seq as i64,
                    i.last_seq as i64,
                    i.first.as_micros(),
                    i.last.as_micros(),
                    i.severity.rank(),
                    i.events as i64,
                    json(&i.decoys),
                    json(&i.kinds),
                    json(&i.techniques),
                    serde_json::to_string(&i.story).unwrap_or_default(),
                    i.title(Audience::Team),
                    i.summary(Audience::Team),
                ])
                .map_err(wrap)?;
            }
            let mut count = tx
                .prepare_cached("INSERT INTO event_counts (sensor, decoy, kind, n) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET n = n + excluded.n")
                .map_err(wrap)?;
            for ((sensor, decoy, kind), n) in counts {
                count.execute(params![sensor, decoy.as_deref().unwrap_or(""), i64::from(*kind), *n as i64]).map_err(wrap)?;
            }
        }
        tx.execute("UPDATE incident_cursor SET unsuppressed = unsuppressed + ?1 WHERE id = 1", params![opened]).map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(true)
    }

    /// Incidents matching the filter, in the order they opened.
    pub fn incidents(&self, f: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE last_us >= ?1 AND (suppressed = 0 OR ?2) ORDER BY first_seq DESC, first_us DESC LIMIT ?3");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.wrap(e))?;
        let since = f.since.map_or(i64::MIN, Timestamp::as_micros);
        let rows = stmt.query_map(params![since, f.suppressed, f.limit.min(i64::MAX as usize) as i64], incident).map_err(|e| self.wrap(e))?;
        let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.wrap(e))?;
        out.reverse();
        Ok(out)
    }

    /// One incident by id.
    pub fn incident(&self, id: &EventId) -> Result<Option<Incident>, StoreError> {
        self.conn.query_row(&format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"), params![id.to_string()], incident).optional().map_err(|e| self.wrap(e))
    }

    /// Incidents with an event at or after `since_us`, most recent last, at most
    /// `limit` (a follower's open incidents at start).
    pub fn recent_incidents(&self, since_us: i64, limit: usize) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE last_us >= ?1 ORDER BY last_us DESC LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.wrap(e))?;
        let rows = stmt.query_map(params![since_us, limit.min(i64::MAX as usize) as i64], incident).map_err(|e| self.wrap(e))?;
        let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.wrap(e))?;
        out.reverse();
        Ok(out)
    }

    /// The stored events that can belong to `i`: its sensor's and source's between
    /// its first and last sequence numbers, at most `limit` (the first ones). Which of
    /// them do is the grouping's to say (suppression, token hits).
    pub fn incident_candidates(&self, i: &Incident, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, body FROM events WHERE seq BETWEEN ?1 AND ?2 AND sensor = ?3 AND source_ip IS ?4 ORDER BY seq LIMIT ?5")
            .map_err(|e| self.wrap(e))?;
        let mut rows = stmt
            .query(params![i.first_seq as i64, i.last_seq as i64, i.sensor, i.source.map(|s| s.to_string()), limit.min(i64::MAX as usize) as i64])
            .map_err(|e| self.wrap(e))?;
        // The bodies go into one buffer (not a string each: fresh memory is much of
        // what reading tens of megabytes costs), then are parsed on a few threads.
        let mut text = String::new();
        let mut spans = Vec::with_capacity((i.events as usize).min(limit));
        while let Some(row) = rows.next().map_err(|e| self.wrap(e))? {
            let seq = row.get::<_, i64>(0).map_err(|e| self.wrap(e))?.max(0) as u64;
            let body = row.get_ref(1).and_then(|v| v.as_str().map_err(rusqlite::Error::from)).map_err(|e| self.wrap(e))?;
            let start = text.len();
            text.push_str(body);
            spans.push((seq, start..text.len()));
        }
        parse_spans(&text, &spans)
    }

    /// Open (an event at or after `open_since_us`) and unacknowledged incidents, not
    /// counting suppressed ones.
    pub fn incident_tally(&self, open_since_us: i64) -> Result<IncidentTally, StoreError> {
        let count =
            |sql: &str, p: &[&dyn rusqlite::ToSql]| self.conn.query_row(sql, p, |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).map_err(|e| self.wrap(e));
        let open = count("SELECT count(*) FROM incidents WHERE last_us >= ?1 AND suppressed = 0", &[&open_since_us])?;
        let all = count("SELECT unsuppressed FROM incident_cursor WHERE id = 1", &[])?;
        let acked = count("SELECT count(*) FROM incident_acks a JOIN incidents i ON i.id = a.incident WHERE i.suppressed = 0", &[])?;
        Ok(IncidentTally { open, unacknowledged: all.saturating_sub(acked) })
    }

    /// Stored events counted by sensor, decoy and kind, as far as incidents are grouped.
    pub fn counts(&self) -> Result<Vec<EventCount>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT sensor, decoy, kind, n FROM event_counts ORDER BY sensor, decoy, kind").map_err(|e| self.wrap(e))?;
        let rows =
            st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))).map_err(|e| self.wrap(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (sensor, decoy, kind, n) = row.map_err(|e| self.wrap(e))?;
            let name = KindId::try_from(kind).ok().and_then(crate::event::EventKind::name_of).unwrap_or("unknown");
            out.push((sensor, (!decoy.is_empty()).then_some(decoy), name, n.max(0) as u64));
        }
        Ok(out)
    }
}
