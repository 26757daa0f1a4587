//! The incident page: the title and summary first, the tokens used with where they
//! were planted (linked to the token list), the sections `incidents show` prints too
//! (SSH attempts with their client, what was typed and the terminal replayed, web
//! requests with repeats collapsed, DICOM queries by SOP class name), then every event,
//! 100 a page, filtered by kind. Acknowledge with a note, or take it back.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::StatusCode;
use minijinja::context;
use serde_json::Value;

use super::accounts::Session;
use super::http::{self, Reply};
use super::pages::{base_ctx, incident_view, read, render};
use super::Console;
use crate::event::EventKind;
use crate::incident::{members, sections};
use crate::store::{StoreReader, StoredEvent};

/// Most events read for one incident page (its first ones); the summary and counts
/// come from the stored incident, whatever its size.
pub const INCIDENT_EVENTS: usize = 50_000;
/// Events in one page of "every event".
pub const EVENTS_PER_PAGE: usize = 100;

/// One line saying what an event was.
fn what(e: &StoredEvent) -> String {
    let t = |b: &crate::event::AttackerBytes| b.to_text_lossy();
    match &e.event.kind {
        EventKind::HttpRequest { method, target, status, .. } => format!("{} {} → {status}", t(method), t(target)),
        EventKind::SshAuth { username, accepted, .. } => format!("{} {}", t(username), if *accepted { "accepted" } else { "refused" }),
        EventKind::SshCommand { line, .. } => format!("$ {}", t(line)),
        EventKind::DicomAssociation { calling_ae, called_ae, .. } => format!("{} → {}", t(calling_ae), t(called_ae)),
        EventKind::DicomCommand { command, matches, .. } => format!("{command} ({matches} matched)"),
        _ => {
            let v = crate::sink::format::json_value(e);
            let mut s = v.get("details").map(Value::to_string).unwrap_or_default();
            if s.len() > 300 {
                let cut = (0..=300).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s.truncate(cut);
                s.push('…');
            }
            s
        }
    }
}

fn row(e: &StoredEvent) -> Value {
    let ev = &e.event;
    serde_json::json!({
        "time": ev.time.to_rfc3339(),
        "decoy": ev.decoy.as_deref().unwrap_or(""),
        "kind": ev.kind.name(),
        "severity": ev.severity().as_str(),
        "token": ev.token.as_ref().map(|t| format!("{} ({})", t.id, t.label)),
        "what": what(e),
    })
}

/// What reading an incident's events gives its page, kept so that the next page of
/// events (or another kind) reads only that page's events.
pub struct Digest {
    id: crate::event::EventId,
    last_seq: u64,
    /// Each member event's sequence number and kind, in order.
    members: Vec<(u64, &'static str)>,
    sections: crate::incident::Sections,
    replays: Vec<Value>,
    timeline: String,
    kinds: Vec<Value>,
}

/// The incidents read last: at most [`DIGESTS`], about 16 bytes an event each.
#[derive(Default)]
pub struct Digests(std::sync::Mutex<std::collections::VecDeque<Arc<Digest>>>);

const DIGESTS: usize = 2;

impl Digests {
    fn get(&self, i: &crate::incident::Incident) -> Option<Arc<Digest>> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().find(|d| d.id == i.id && d.last_seq == i.last_seq).cloned()
    }

    fn put(&self, d: Arc<Digest>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|k| k.id != d.id);
        kept.push_front(d);
        kept.truncate(DIGESTS);
    }
}

/// Reads an incident's member events once and digests them for its page.
fn digest(r: &StoreReader, i: &crate::incident::Incident, cfg: &crate::incident::IncidentConfig, recordings: &std::path::Path) -> anyhow::Result<Digest> {
    let events = members(r.incident_candidates(i, INCIDENT_EVENTS)?, i, cfg);
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    for e in &events {
        *kinds.entry(e.event.kind.name()).or_default() += 1;
    }
    let sections = sections(&events);
    let replays: Vec<Value> = sections
        .recordings
        .iter()
        .filter_map(|p| {
            let path = std::path::Path::new(p);
            let text = super::replay::transcript(recordings, path)?;
            let frames: Vec<(f64, String)> = super::replay::frames(recordings, path)?.into_iter().map(|(t, text)| (t, super::pages::shown(&text))).collect();
            Some(serde_json::json!({"text": text, "frames": serde_json::to_string(&frames).unwrap_or_default()}))
        })
        .collect();
    Ok(Digest {
        id: i.id,
        last_seq: i.last_seq,
        members: events.iter().map(|e| (e.seq, e.event.kind.name())).collect(),
        timeline: super::timeline::svg(&events),
        kinds: kinds.into_iter().map(|(k, n)| serde_json::json!({"name": k, "count": n})).collect(),
        sections,
        replays,
    })
}

pub async fn incident(console: &Arc<Console>, s: &Session, id: &str, query: Option<&str>) -> anyhow::Result<Reply> {
    let cfg = console.config.alerts.clone();
    let id = id.to_string();
    let recordings = console.config.store.state_dir.join("recordings");
    let kind = http::query_value(query, "kind").filter(|k| EventKind::id_of(k).is_some());
    let page_no = http::query_value(query, "page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let wanted = kind.clone();
    let c = Arc::clone(console);
    let found = read(console, move |r: &StoreReader| {
        let Some(i) = crate::event::EventId::parse(&id).map(|id| r.incident(&id)).transpose()?.flatten() else { return Ok(None) };
        let d = match c.digests.get(&i) {
            Some(d) => d,
            None => {
                let d = Arc::new(digest(r, &i, &cfg, &recordings)?);
                c.digests.put(Arc::clone(&d));
                d
            }
        };
        let chosen: Vec<u64> = d.members.iter().filter(|(_, k)| wanted.as_deref().is_none_or(|w| w == *k)).map(|(seq, _)| *seq).collect();
        let pages = chosen.len().div_ceil(EVENTS_PER_PAGE).max(1);
        let page_no = page_no.min(pages);
        let on_page = &chosen[((page_no - 1) * EVENTS_PER_PAGE).min(chosen.len())..(page_no * EVENTS_PER_PAGE).min(chosen.len())];
        let shown: Vec<Value> = r.events_by_seq(on_page)?.iter().map(row).collect();
        let ack = r.acks()?.get(&id).map(|a| serde_json::to_value(a).unwrap_or_default());
        let paging = serde_json::json!({"page": page_no, "pages": pages, "matching": chosen.len(), "read": d.members.len()});
        Ok(Some((incident_view(&i, ack.is_some()), ack, d, shown, paging)))
    })
    .await?;
    let Some((incident, ack, d, events, paging)) = found else {
        return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such incident"));
    };
    let (account, csrf) = base_ctx(s);
    let (sections, replays, kinds, timeline) = (&d.sections, &d.replays, &d.kinds, &d.timeline);
    let local_decoys: Vec<&str> = console.decoys.iter().map(|d| d.name.as_str()).collect();
    let body = render(
        &console.templates,
        "incident.html",
        context! { account, csrf, incident, ack, sections, replays, events, kinds, kind, paging, timeline, local_decoys },
    )?;
    Ok(http::html(StatusCode::OK, body))
}

/// Acknowledges (with a note) or takes the acknowledgement back, then shows the page.
pub async fn acknowledge(console: &Arc<Console>, s: &Session, id: &str, body: &[u8], acknowledged: bool) -> anyhow::Result<Reply> {
    let (path, id, by) = (console.config.store.path.clone(), id.to_string(), s.account.clone());
    let note = http::form_value(body, "note").filter(|n| !n.is_empty()).map(|n| n.chars().take(500).collect::<String>());
    let target = format!("/incidents/{id}");
    let Some(event_id) = crate::event::EventId::parse(&id) else { return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such incident")) };
    tokio::task::spawn_blocking(move || {
        let store = StoreReader::open(&path, false)?;
        match acknowledged {
            true => store.ack_incident(&event_id, &by, note.as_deref()),
            false => store.unack_incident(&event_id),
        }
    })
    .await??;
    Ok(http::redirect(&target))
}
