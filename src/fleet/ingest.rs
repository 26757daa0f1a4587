//! The sensors' side of the controller, once a request is authenticated (see
//! `auth`): batches of events stored idempotently by event id and acknowledged only
//! after their commit, heartbeats noted, and the token index handed out.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::http::request::Parts;
use hyper::StatusCode;

use super::auth::Head;
use super::body::Body;
use super::reply::{error, json, Reply};
use super::state::{blocking, Controller};
use crate::event::Event;

/// Most events in one ingest request.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// A sensor request whose headers passed [`check_head`](super::auth::check_head) and
/// whose body has been read.
pub async fn signed(parts: Parts, head: Head, body: Body, peer: SocketAddr, controller: &Arc<Controller>) -> Reply {
    let sensor = match super::auth::authenticate(&parts, head, &body, controller).await {
        Ok(s) => s,
        Err((claimed, reason)) => return super::auth::refuse(controller, peer, &claimed, &reason).await,
    };
    let body = body.bytes;
    let path = parts.uri.path().to_string();
    let (name, source) = (sensor.clone(), peer.ip().to_string());
    let heartbeat: Option<serde_json::Value> = if path == "/v1/sensor/heartbeat" { serde_json::from_slice(&body).ok() } else { None };
    let is_ingest = path == "/v1/sensor/ingest";
    // One visit to the registry: note the request and, for a batch, read the decoys
    // the sensor's last heartbeat declared (None before its first heartbeat).
    let declared = blocking(controller, move |c| {
        let fleet = c.fleet.lock().unwrap_or_else(|p| p.into_inner());
        let _ = fleet.seen(&name, &source, heartbeat.as_ref());
        if is_ingest {
            fleet.declared_decoys(&name).ok().flatten()
        } else {
            None
        }
    })
    .await
    .flatten();
    match (parts.method.as_str(), path.as_str()) {
        ("POST", "/v1/sensor/ingest") => ingest(&sensor, &body, declared.as_deref(), controller).await,
        ("POST", "/v1/sensor/heartbeat") => json(StatusCode::OK, &serde_json::json!({"ok": true})),
        ("GET", "/v1/sensor/tokens") => tokens(&parts, &sensor, controller).await,
        _ => error(StatusCode::NOT_FOUND, "not found"),
    }
}

#[derive(serde::Deserialize)]
struct Batch {
    events: Vec<Event>,
}

async fn ingest(sensor: &str, body: &[u8], declared: Option<&[String]>, controller: &Arc<Controller>) -> Reply {
    let mut batch: Batch = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("unreadable batch: {e}")),
    };
    if batch.events.len() > MAX_BATCH_EVENTS {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too many events in one batch");
    }
    if let Some(e) = batch.events.iter().find(|e| e.sensor != sensor) {
        return error(StatusCode::BAD_REQUEST, &format!("event {} names sensor {:?}, not the sender", e.id, crate::sink::format::visible(&e.sensor)));
    }
    if let Some(refused) = decoy_refusal(sensor, &batch.events, declared) {
        return refused;
    }
    note_checks(sensor, super::claims::check(&mut batch.events, crate::event::Timestamp::now(), controller.events.tokens(), sensor));
    let received = batch.events.len();
    let committed = blocking(controller, move |c| {
        let mut conn = c.ingest.lock().unwrap_or_else(|p| p.into_inner());
        let mut body = Vec::with_capacity(1024);
        let last = crate::store::commit(&mut conn, &batch.events, &mut body)?;
        crate::store::announce(&c.committed, last);
        Ok::<u64, rusqlite::Error>(last)
    })
    .await;
    match committed {
        Some(Ok(_)) => json(StatusCode::OK, &serde_json::json!({"received": received})),
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot store a sensor's batch; the sensor will retry");
            error(StatusCode::SERVICE_UNAVAILABLE, "store busy; retry")
        }
        None => error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

/// Logs what checking a sensor's claims changed (see `claims`).
pub fn note_checks(sensor: &str, c: super::claims::Checked) {
    if c.clamped > 0 {
        tracing::warn!(%sensor, events = c.clamped, "events with a time outside the controller's window; kept with their claimed time, placed at the window's edge");
    }
    if c.claimed > 0 {
        tracing::warn!(%sensor, events = c.claimed, "token hits the controller cannot check itself; kept, marked claimed_by_sensor");
    }
}

/// The refusal of a batch that names a decoy the sensor cannot have. Events a sensor
/// sends name only decoys it can have: a well-formed name that its
/// last heartbeat declared. A malformed name is refused for good (400: the sensor
/// keeps the event as a dead letter); an undeclared one until a heartbeat declares it
/// (503: the sensor retries, so a decoy added by a restart loses nothing).
fn decoy_refusal(sensor: &str, events: &[Event], declared: Option<&[String]>) -> Option<Reply> {
    if let Some(e) = events.iter().find(|e| e.decoy.as_deref().is_some_and(|d| !super::registry::valid_name(d))) {
        return Some(error(StatusCode::BAD_REQUEST, &format!("event {} names a decoy that is not a decoy name", e.id)));
    }
    // No heartbeat yet (or the registry was busy): nothing to check against.
    let declared = declared?;
    if let Some(e) = events.iter().find(|e| e.decoy.as_ref().is_some_and(|d| !declared.contains(d))) {
        let decoy = e.decoy.as_deref().unwrap_or_default();
        tracing::warn!(%sensor, %decoy, "events for a decoy the sensor's heartbeat did not declare; refused until it does");
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("event {} is for decoy {decoy}, which the sensor's last heartbeat did not declare", e.id),
        ));
    }
    None
}

/// The sensor's own token index (see `token::sensor_index`), unless it holds the
/// current one already.
async fn tokens(parts: &Parts, sensor: &str, controller: &Arc<Controller>) -> Reply {
    let have: Option<i64> = parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("version="))).and_then(|v| v.parse().ok());
    let sensor = sensor.to_string();
    let index = blocking(controller, move |c| {
        let types = c.fleet.lock().unwrap_or_else(|p| p.into_inner()).declared_types(&sensor).ok().flatten().unwrap_or_default();
        let needs = crate::token::Needs::of_decoy_types(types.iter().map(String::as_str));
        let reg = c.registry.lock().unwrap_or_else(|p| p.into_inner());
        match reg.sensor_index_version(needs) {
            Ok(v) if Some(v) == have => Ok(None),
            _ => reg.sensor_index(&sensor, needs).map(Some),
        }
    })
    .await;
    match index {
        Some(Ok(None)) => json(StatusCode::OK, &serde_json::json!({"unchanged": true})),
        Some(Ok(Some(index))) => json(StatusCode::OK, &serde_json::json!({ "index": index })),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "token registry unavailable"),
    }
}
