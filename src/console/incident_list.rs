//! The incidents list: counts per severity on top; filters (severity, not yet
//! acknowledged, decoy, token, source address or network, time range), words searched
//! in titles and summaries, three orders, all in the query string so a filtered list
//! can be bookmarked; rows chosen with check boxes are acknowledged together. Times are
//! shown relative to now, with the UTC time on hover.

use std::sync::Arc;

use minijinja::context;
use serde_json::Value;

use super::accounts::Session;
use super::http::{self, Reply};
use super::pages::{base_ctx, incident_view, read, render};
use super::Console;
use crate::config::Cidr;
use crate::event::{EventId, Severity, Timestamp};
use crate::incident::{IncidentOrder, IncidentSearch};
use crate::store::StoreReader;

/// Most incidents the list shows.
pub const LIST_INCIDENTS: usize = 1_000;
/// Most incidents acknowledged in one go.
const BULK_MAX: usize = 1_000;

/// Every value of `key` in a urlencoded string.
fn values(encoded: &[u8], key: &str) -> Vec<String> {
    form_urlencoded::parse(encoded).filter(|(k, _)| k == key).map(|(_, v)| v.into_owned()).take(BULK_MAX).collect()
}

/// A `datetime-local` value (`2026-12-07T09:30`, read as UTC) or RFC 3339.
fn moment(text: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(text).or_else(|| Timestamp::parse_rfc3339(&format!("{text}:00Z")))
}

/// "5 min ago", "3 h ago", "2 days ago".
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let s = (now.as_micros() - t.as_micros()).max(0) / 1_000_000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3_599 => format!("{} min ago", s / 60),
        3_600..=86_399 => format!("{} h ago", s / 3_600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The search a query string asks for, and the form's values to show again.
pub(super) fn search(query: Option<&str>) -> (IncidentSearch, Value) {
    let q = query.unwrap_or("").as_bytes();
    let one = |key: &str| values(q, key).into_iter().next().filter(|v| !v.trim().is_empty()).map(|v| v.trim().chars().take(200).collect::<String>());
    let severities: Vec<Severity> = values(q, "severity").iter().filter_map(|s| Severity::ALL.into_iter().find(|v| v.as_str() == s)).collect();
    let order = one("sort").and_then(|s| IncidentOrder::parse(&s)).unwrap_or_default();
    let found = IncidentSearch {
        unacknowledged: one("unacked").is_some(),
        decoy: one("decoy"),
        token: one("token"),
        source: one("source").and_then(|s| Cidr::parse(&s)),
        since: one("since").and_then(|s| moment(&s)),
        until: one("until").and_then(|s| moment(&s)),
        text: one("q"),
        suppressed: true,
        order,
        limit: LIST_INCIDENTS,
        severities: severities.clone(),
    };
    let form = serde_json::json!({
        "severities": severities.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "unacked": found.unacknowledged,
        "decoy": found.decoy, "token": found.token, "source": one("source"), "since": one("since"), "until": one("until"), "q": found.text,
        "sort": order.name(),
        "bad_source": one("source").is_some() && found.source.is_none(),
    });
    (found, form)
}

pub async fn incidents(console: &Arc<Console>, s: &Session, query: Option<&str>) -> anyhow::Result<Reply> {
    let (wanted, form) = search(query);
    let networks = console.config.networks.clone();
    let (list, counts) = read(console, move |r: &StoreReader| {
        let incidents = r.search_incidents(&wanted)?;
        let acks = r.acks()?;
        let now = Timestamp::now();
        let list: Vec<Value> = incidents
            .iter()
            .map(|i| {
                let mut v = incident_view(i, acks.contains_key(&i.id.to_string()));
                v["ago"] = Value::String(ago(i.last, now));
                v["network"] = i.source.and_then(|ip| networks.name_of(ip)).map_or(Value::Null, |n| Value::String(n.to_string()));
                v
            })
            .collect();
        let counts = r.severity_counts(None)?;
        Ok((list, counts))
    })
    .await?;
    let counts: Vec<Value> = Severity::ALL.iter().rev().map(|s| serde_json::json!({"name": s.as_str(), "count": counts[s.rank() as usize]})).collect();
    let (account, csrf) = base_ctx(s);
    let orders: Vec<&str> = IncidentOrder::NAMES.iter().map(|(n, _)| *n).collect();
    let severities: Vec<&str> = Severity::ALL.iter().rev().map(|s| s.as_str()).collect();
    let tlps: Vec<&str> = crate::export::stix::Tlp::ALL.iter().map(|t| t.word()).collect();
    let body = render(
        &console.templates,
        "incidents.html",
        context! { account, csrf, incidents => list, counts, form, orders, severities, tlps, limit => LIST_INCIDENTS },
    )?;
    Ok(http::html(hyper::StatusCode::OK, body))
}

/// Acknowledges every incident chosen on the list (`id`, repeated), with one note.
pub async fn acknowledge_chosen(console: &Arc<Console>, s: &Session, body: &[u8]) -> anyhow::Result<Reply> {
    let (path, by) = (console.config.store.path.clone(), s.account.clone());
    let note = http::form_value(body, "note").filter(|n| !n.is_empty()).map(|n| n.chars().take(500).collect::<String>());
    let ids: Vec<EventId> = values(body, "id").iter().filter_map(|id| EventId::parse(id)).collect();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let store = StoreReader::open(&path, false)?;
        for id in &ids {
            store.ack_incident(id, &by, note.as_deref())?;
        }
        Ok(())
    })
    .await??;
    Ok(http::redirect("/incidents"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_becomes_the_search_and_nonsense_is_ignored() {
        let (q, form) =
            search(Some("severity=high&severity=critical&severity=bogus&unacked=1&source=10.20.14.0%2F24&q=ssh+guess&sort=events&since=2026-12-07T09%3A30"));
        assert_eq!(q.severities, [Severity::High, Severity::Critical]);
        assert!(q.unacknowledged && q.source.is_some() && q.order == IncidentOrder::Events);
        assert_eq!(q.text.as_deref(), Some("ssh guess"));
        assert_eq!(q.since.map(|t| t.to_rfc3339()).as_deref().map(|t| &t[..16]), Some("2026-12-07T09:30"));
        assert_eq!(form["sort"], "events");
        let (q, form) = search(Some("source=not-an-address&sort=sideways"));
        assert!(q.source.is_none() && q.order == IncidentOrder::LastSeen && form["bad_source"] == true);
    }

    #[test]
    fn times_are_said_relative_to_now() {
        let now = Timestamp::from_micros(10_000_000_000_000);
        let before = |s: i64| Timestamp::from_micros(now.as_micros() - s * 1_000_000);
        assert_eq!(
            [ago(before(5), now), ago(before(300), now), ago(before(7_200), now), ago(before(3 * 86_400), now)],
            ["5 s ago", "5 min ago", "2 h ago", "3 days ago"]
        );
    }
}
