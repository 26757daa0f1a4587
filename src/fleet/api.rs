//! The controller's JSON API for people and automation (documented in
//! `docs/openapi.yaml`). Every call needs `Authorization: Bearer TOKEN` with a token
//! from `honeyward controller api-token NAME`.

use std::sync::Arc;

use hyper::http::request::Parts;
use hyper::StatusCode;
use serde_json::json;

use super::reply::{error, json, Reply};
use super::state::{blocking, Controller};
use crate::store::{EventFilter, StoreReader};
use crate::token::{CreateOptions, NewToken, TokenKind};

/// Most events per page.
const PAGE_MAX: usize = 1000;
/// Most incidents one `GET /v1/incidents` returns (the most recently opened).
const INCIDENTS_MAX: usize = 10_000;

/// Why an API call got no answer.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    /// The request is malformed or names something unknown (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The store or the token registry could not answer (503).
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    fn unavailable(e: impl std::fmt::Display) -> Self {
        ApiError::Unavailable(e.to_string())
    }

    fn reply(&self) -> Reply {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        error(status, &self.to_string())
    }
}

fn query<'a>(parts: &'a Parts, key: &str) -> Option<&'a str> {
    parts.uri.query()?.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

/// Whether the request carries a valid bearer token; checked before its body is read.
pub async fn authorised(parts: &Parts, controller: &Arc<Controller>) -> Result<(), Reply> {
    let token = parts.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    // A token is 64 hex characters or so: anything much longer is not worth a lookup.
    let token = (token.len() <= 256).then(|| token.to_string());
    let who = match token {
        Some(token) => blocking(controller, move |c| c.fleet.lock().unwrap_or_else(|p| p.into_inner()).api_token(&token).ok().flatten()).await.flatten(),
        None => None,
    };
    match who {
        Some(_) => Ok(()),
        None => Err(error(StatusCode::UNAUTHORIZED, "a valid bearer token is required (honeyward controller api-token NAME)")),
    }
}

/// Handles an API call that passed [`authorised`].
pub async fn handle(parts: Parts, body: Vec<u8>, controller: &Arc<Controller>) -> Reply {
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let result = match (parts.method.as_str(), segments.as_slice()) {
        ("GET", ["events"]) => {
            let after = query(&parts, "after").and_then(|v| v.parse().ok()).unwrap_or(0u64);
            let limit = query(&parts, "limit").and_then(|v| v.parse().ok()).unwrap_or(100usize).clamp(1, PAGE_MAX);
            read(controller, move |r| {
                let events = r.list(&EventFilter { after_seq: Some(after), limit, ..Default::default() })?;
                let next = events.last().map_or(after, |e| e.seq);
                let list: Vec<serde_json::Value> = events.iter().map(|e| json!({"seq": e.seq, "event": crate::sink::format::json_value(e)})).collect();
                Ok(json!({"events": list, "next": next}))
            })
            .await
        }
        ("GET", ["incidents"]) => {
            read(controller, move |r| {
                let incidents = r.incidents(&crate::store::IncidentFilter { since: None, suppressed: true, limit: INCIDENTS_MAX })?;
                let acks = r.acks()?;
                let list: Vec<serde_json::Value> = incidents
                    .iter()
                    .map(|i| {
                        let mut v = serde_json::to_value(i).unwrap_or_default();
                        if let (Some(a), Some(m)) = (acks.get(&i.id.to_string()), v.as_object_mut()) {
                            m.insert("ack".into(), serde_json::to_value(a).unwrap_or_default());
                        }
                        v
                    })
                    .collect();
                Ok(json!({"incidents": list}))
            })
            .await
        }
        ("GET", ["sensors"]) => {
            blocking(controller, |c| c.fleet.lock().unwrap_or_else(|p| p.into_inner()).list().map(|l| json!({"sensors": l})).map_err(ApiError::unavailable))
                .await
                .unwrap_or(Err(ApiError::Unavailable("unavailable".into())))
        }
        ("GET", ["sinks"]) => {
            let sinks: Vec<(String, &'static str)> = controller.config.sinks.iter().map(|s| (s.name().to_string(), s.type_name())).collect();
            read(controller, move |r| {
                let head = r.max_seq()?;
                let mut out = Vec::new();
                for (name, kind) in sinks {
                    let o = r.sink_overview(&name, head)?;
                    out.push(json!({"name": name, "type": kind, "cursor": o.cursor, "lag_events": o.lag_events, "last_success": o.status.last_success, "last_error": o.status.last_error, "dead_letters": o.status.dead_letters}));
                }
                Ok(json!({"sinks": out}))
            })
            .await
        }
        ("GET", ["tokens"]) => {
            blocking(controller, |c| c.registry.lock().unwrap_or_else(|p| p.into_inner()).list().map(|l| json!({"tokens": l})).map_err(ApiError::unavailable))
                .await
                .unwrap_or(Err(ApiError::Unavailable("unavailable".into())))
        }
        ("POST", ["tokens"]) => create_token(body, controller).await,
        ("POST", ["tokens", id, "revoke"]) => {
            let id = id.to_string();
            match blocking(controller, move |c| c.registry.lock().unwrap_or_else(|p| p.into_inner()).revoke(&id)).await {
                Some(Ok(true)) => Ok(json!({"revoked": true})),
                Some(Ok(false)) => return error(StatusCode::NOT_FOUND, "no such token"),
                _ => Err(ApiError::Unavailable("token registry unavailable".into())),
            }
        }
        _ => return error(StatusCode::NOT_FOUND, "not found"),
    };
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => e.reply(),
    }
}

async fn read(
    controller: &Arc<Controller>,
    f: impl FnOnce(&StoreReader) -> Result<serde_json::Value, crate::store::StoreError> + Send + 'static,
) -> Result<serde_json::Value, ApiError> {
    let path = controller.config.store.path.clone();
    tokio::task::spawn_blocking(move || {
        let reader = StoreReader::open(&path, false).map_err(ApiError::unavailable)?;
        f(&reader).map_err(ApiError::unavailable)
    })
    .await
    .map_err(ApiError::unavailable)?
}

#[derive(serde::Deserialize)]
struct NewTokenRequest {
    kind: String,
    label: String,
    username: Option<String>,
    endpoint: Option<String>,
}

async fn create_token(body: Vec<u8>, controller: &Arc<Controller>) -> Result<serde_json::Value, ApiError> {
    let req: NewTokenRequest = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let kind = TokenKind::parse(&req.kind).ok_or_else(|| ApiError::BadRequest(format!("unknown token kind {:?}", req.kind)))?;
    let host = controller.name.clone();
    let opts = CreateOptions { username: req.username, endpoint: req.endpoint, host, ..CreateOptions::new(kind, req.label) };
    let created = blocking(controller, move |c| {
        let mut registry = c.registry.lock().unwrap_or_else(|p| p.into_inner());
        let new: NewToken = registry.generate(&opts)?;
        registry.insert(&[&new])?;
        Ok::<_, crate::token::TokenError>(new)
    })
    .await
    .ok_or(ApiError::Unavailable("unavailable".into()))?
    .map_err(|e| match e {
        crate::token::TokenError::Invalid(why) => ApiError::BadRequest(why),
        other => ApiError::unavailable(other),
    })?;
    // The secrets are in this answer and nowhere else: they are never stored.
    Ok(json!({"token": created.token, "secrets": created.secrets}))
}
