//! The landing page answers "is anything happening?": open incidents by severity, the
//! last 24 hours of events per decoy as a chart, the latest incidents that used a
//! token, and the sinks and sensors that are failing — each linked to its page.

use std::sync::Arc;

use minijinja::context;
use serde_json::Value;

use super::accounts::Session;
use super::http::{self, Reply};
use super::pages::{base_ctx, incident_view, read, render};
use super::timeline::{grid, Row};
use super::Console;
use crate::event::{Audience, Severity, Timestamp};
use crate::store::StoreReader;

/// Latest token incidents shown.
const TOKEN_INCIDENTS: usize = 8;
/// Decoys drawn in the chart (the busiest; the rest are counted in one row).
const CHART_ROWS: usize = 8;

/// The 24-hour chart: one row per decoy, one column per hour.
fn chart(hours: Vec<(String, i64, u64)>, since: Timestamp) -> String {
    let mut rows: Vec<Row> = Vec::new();
    for (decoy, hour, n) in hours {
        let name = if decoy.is_empty() { "sensor".to_string() } else { decoy };
        match rows.iter_mut().find(|(d, _)| *d == name) {
            Some((_, cells)) => cells.push((hour, n, false)),
            None => rows.push((name, vec![(hour, n, false)])),
        }
    }
    rows.sort_by_key(|(_, cells)| std::cmp::Reverse(cells.iter().map(|c| c.1).sum::<u64>()));
    if rows.len() > CHART_ROWS {
        let rest: Vec<(i64, u64, bool)> = rows.drain(CHART_ROWS - 1..).flat_map(|(_, c)| c).collect();
        let mut merged: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
        for (h, n, _) in rest {
            *merged.entry(h).or_default() += n;
        }
        rows.push(("other decoys".into(), merged.into_iter().map(|(h, n)| (h, n, false)).collect()));
    }
    if rows.is_empty() {
        return String::new();
    }
    let at = |t: Timestamp| format!("{} UTC", t.to_rfc3339().get(..16).unwrap_or_default().replace('T', " "));
    grid(&rows, 24, "Events per hour by decoy, the last 24 hours", (&at(since), "now"))
}

pub async fn overview(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    let window_us = console.config.alerts.window_us;
    let sinks: Vec<String> = console.config.sinks.iter().map(|k| k.name().to_string()).collect();
    let (counts, chart, tokens, failing_sinks) = read(console, move |r: &StoreReader| {
        let now = Timestamp::now();
        let counts = r.severity_counts(Some(Timestamp::from_micros(now.as_micros() - window_us)))?;
        let since = Timestamp::from_micros(now.as_micros() - 24 * 3_600_000_000);
        let chart = chart(r.events_per_hour(since)?, since);
        let tokens: Vec<Value> = r
            .latest_token_incidents(TOKEN_INCIDENTS)?
            .iter()
            .map(|i| {
                let mut v = incident_view(i, false);
                v["ago"] = Value::String(super::incident_list::ago(i.last, now));
                v["title"] = Value::String(i.title(Audience::Team));
                v
            })
            .collect();
        let head = r.max_seq()?;
        let mut failing = Vec::new();
        for name in sinks {
            let st = r.sink_overview(&name, head)?.status;
            if st.is_failing() {
                failing.push(serde_json::json!({"name": name, "error": st.last_error}));
            }
        }
        Ok((counts, chart, tokens, failing))
    })
    .await?;
    let counts: Vec<Value> = Severity::ALL.iter().rev().map(|s| serde_json::json!({"name": s.as_str(), "count": counts[s.rank() as usize]})).collect();
    let silent = silent_sensors(console).await?;
    let (account, csrf) = base_ctx(s);
    let body = render(&console.templates, "overview.html", context! { account, csrf, counts, chart, tokens, failing_sinks, silent })?;
    Ok(http::html(hyper::StatusCode::OK, body))
}

/// On a controller, the enrolled sensors not heard from within their window.
async fn silent_sensors(console: &Arc<Console>) -> anyhow::Result<Vec<Value>> {
    let Some(silent_after) = console.config.controller.as_ref().map(|c| c.silent_after) else { return Ok(Vec::new()) };
    let path = console.config.store.path.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Value>> {
        let now = Timestamp::now().as_micros();
        Ok(crate::fleet::Fleet::open(&path)?
            .list()?
            .into_iter()
            .filter(|r| super::pages::sensor_state(r, now, Some(silent_after)) == "silent")
            .map(|r| serde_json::json!({"name": r.name, "last_seen": r.last_seen}))
            .collect())
    })
    .await?
}
