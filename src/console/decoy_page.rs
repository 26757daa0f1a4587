//! A decoy's page: its type, personality and listen address, the connections open on
//! it now, and its latest events, each linked to its incident where it has one.

use std::sync::Arc;

use hyper::StatusCode;
use minijinja::context;
use serde_json::Value;

use super::accounts::Session;
use super::http::{self, Reply};
use super::pages::{base_ctx, read, render};
use super::Console;
use crate::store::{EventFilter, StoreReader};

/// Latest events listed.
const LATEST_EVENTS: usize = 50;

pub async fn decoy(console: &Arc<Console>, s: &Session, name: &str) -> anyhow::Result<Reply> {
    let Some(handle) = console.decoys.iter().find(|d| d.name == name) else {
        return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such decoy"));
    };
    let personality = console.config.decoys.iter().find(|d| d.name() == name).and_then(|d| d.personality()).map(str::to_string);
    let facts = serde_json::json!({
        "name": handle.name, "kind": handle.kind, "addr": handle.addr.to_string(), "open": handle.gate.open_connections(), "personality": personality,
    });
    let wanted = name.to_string();
    let events = read(console, move |r: &StoreReader| {
        let latest = r.list(&EventFilter { decoy: Some(wanted), limit: LATEST_EVENTS, ..Default::default() })?;
        Ok(latest
            .iter()
            .rev()
            .map(|e| {
                let ev = &e.event;
                serde_json::json!({
                    "time": ev.time.to_rfc3339(), "kind": ev.kind.name(), "severity": ev.severity().as_str(),
                    "source": ev.source.map(|s| s.ip().to_string()), "token": ev.token.as_ref().map(|t| t.id.clone()),
                })
            })
            .collect::<Vec<Value>>())
    })
    .await?;
    let (account, csrf) = base_ctx(s);
    let body = render(&console.templates, "decoy.html", context! { account, csrf, decoy => facts, events })?;
    Ok(http::html(StatusCode::OK, body))
}
