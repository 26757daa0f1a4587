//! The console's token pages: the list, creating a token (its file is the answer, the
//! only copy of its secrets; what the form cannot make is refused on the form),
//! revoking one, and recording where one was planted.

use std::sync::Arc;

use hyper::StatusCode;
use minijinja::context;
use serde_json::Value;

use super::accounts::Session;
use super::http::{self, Reply};
use super::pages::{base_ctx, render};
use super::Console;
use crate::token::{self, CreateOptions, NewToken, Registry, TokenKind};

fn registry(console: &Console) -> anyhow::Result<Registry> {
    let s = &console.config.store;
    Ok(Registry::open(&s.path, &s.state_dir, s.sync)?)
}

pub async fn tokens(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    tokens_page(console, s, None).await
}

/// The tokens page; with `refused`, the reason the form's token was not made (400),
/// shown above the form.
async fn tokens_page(console: &Arc<Console>, s: &Session, refused: Option<String>) -> anyhow::Result<Reply> {
    let c = Arc::clone(console);
    let list = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<token::Token>> { Ok(registry(&c)?.list()?) }).await??;
    let kinds: Vec<&str> = token::ALL_KINDS.iter().map(|k| k.as_str()).collect();
    let fits = token::template::kinds_of_templates();
    let templates: Vec<Value> = token::template::TEMPLATES
        .iter()
        .map(|t| {
            let kinds: Vec<&str> = fits.iter().find(|(n, _)| *n == t.name).map(|(_, k)| k.iter().map(|k| k.as_str()).collect()).unwrap_or_default();
            serde_json::json!({"name": t.name, "description": t.description, "kinds": kinds.join(" ")})
        })
        .collect();
    let (account, csrf) = base_ctx(s);
    let status = if refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let body = render(&console.templates, "tokens.html", context! { account, csrf, tokens => list, kinds, templates, refused })?;
    Ok(http::html(status, body))
}

/// Creates a token and answers with its file, the only copy of its secrets.
pub async fn create_token(console: &Arc<Console>, s: &Session, body: &[u8]) -> anyhow::Result<Reply> {
    let form = |k: &str| http::form_value(body, k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(kind) = form("kind").as_deref().and_then(TokenKind::parse) else {
        return tokens_page(console, s, Some("choose a token kind from the list.".into())).await;
    };
    let label: String = form("label").unwrap_or_default().chars().take(200).collect();
    if label.is_empty() {
        return tokens_page(console, s, Some("a label is required: say where the token will be planted.".into())).await;
    }
    let template = form("template").filter(|t| token::template::find(t).is_some()).unwrap_or_else(|| token::default_template(kind).to_string());
    let host = crate::config::host_name();
    // Left empty, the endpoint is the first decoy here that fits the kind.
    let endpoint = form("endpoint").or_else(|| token::endpoint::default_for(&console.config, kind).map(|(_, e)| e));
    let opts = CreateOptions { endpoint, host: host.clone(), ..CreateOptions::new(kind, label) };
    if kind == TokenKind::Url && opts.endpoint.is_none() {
        return tokens_page(console, s, Some("a url token needs the decoy URL it points at.".into())).await;
    }
    let c = Arc::clone(console);
    let by = s.account.clone();
    let used = template.clone();
    let made = tokio::task::spawn_blocking(move || -> anyhow::Result<Result<(String, Vec<u8>), String>> {
        let new: NewToken = match registry(&c)?.generate(&opts) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.to_string())),
        };
        // Render first, so a template that cannot use this token leaves nothing behind.
        let bytes = match token::template::artifact(&new.token, &new.secrets, &template, &host, None) {
            Ok((bytes, _mode)) => bytes,
            Err(e) => {
                tracing::debug!(%template, error = %e, "console token refused: template and kind do not fit");
                return Ok(Err(format!(
                    "the template {template} cannot hold a token of kind {}; choose one made for it, or the kind's default.",
                    new.token.kind.as_str()
                )));
            }
        };
        registry(&c)?.insert(&[&new])?;
        tracing::info!(token = %new.token.id, kind = new.token.kind.as_str(), %by, "token created in the console");
        Ok(Ok((new.token.id.clone(), bytes)))
    })
    .await??;
    // What the form asked for cannot be made: the form's fault (400), said on the form.
    let (id, bytes) = match made {
        Ok(made) => made,
        Err(why) => return tokens_page(console, s, Some(why)).await,
    };
    let extension = if kind == TokenKind::Patient { "dcm" } else { "txt" };
    // The page's script reads these to show what was made and where it goes.
    let mut reply = http::attachment(&format!("{id}.{extension}"), bytes);
    for (name, value) in [("x-honeyward-token", id.as_str()), ("x-honeyward-template", used.as_str())] {
        if let Ok(v) = hyper::header::HeaderValue::from_str(value) {
            reply.headers_mut().insert(name, v);
        }
    }
    Ok(reply)
}

/// Revokes a token once the form's box says the analyst means it.
pub async fn revoke_token(console: &Arc<Console>, s: &Session, id: &str, body: &[u8]) -> anyhow::Result<Reply> {
    if http::form_value(body, "confirm").as_deref() != Some("yes") {
        return token_page(console, s, id, Some("Not revoked: tick the box to confirm.".into())).await;
    }
    let (c, id) = (Arc::clone(console), id.to_string());
    let target = format!("/tokens/{id}");
    tokio::task::spawn_blocking(move || -> anyhow::Result<bool> { Ok(registry(&c)?.revoke(&id)?) }).await??;
    Ok(http::redirect(&target))
}

/// One token: what it is, where it was planted, the incidents that used it (with how
/// many hits each), and revoking it (confirmed). `refused` says why a revoke was not done.
pub async fn token_page(console: &Arc<Console>, s: &Session, id: &str, refused: Option<String>) -> anyhow::Result<Reply> {
    token_page_after(console, s, id, refused, None).await
}

/// The token page; with `created`, the template its file was just made with (the
/// confirmation after the form: what was downloaded and where it goes).
pub async fn token_page_after(console: &Arc<Console>, s: &Session, id: &str, refused: Option<String>, created: Option<String>) -> anyhow::Result<Reply> {
    let created = created.and_then(|t| token::template::find(&t)).map(|t| serde_json::json!({"template": t.name, "description": t.description}));
    let (c, id) = (Arc::clone(console), id.to_string());
    let found = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<(token::Token, Vec<Value>)>> {
        let Some(t) = registry(&c)?.get(&id)? else { return Ok(None) };
        let reader = crate::store::StoreReader::open(&c.config.store.path, false)?;
        let search = crate::store::IncidentSearch { token: Some(format!("\"{id}\"")), suppressed: true, limit: 500, ..Default::default() };
        let mut found = reader.search_incidents(&search)?;
        // Incidents saved before stories name the token as `ID (LABEL)`.
        found.extend(reader.search_incidents(&crate::store::IncidentSearch { token: Some(format!("{id} (")), ..search })?);
        found.sort_by_key(|i| std::cmp::Reverse(i.last.as_micros()));
        found.dedup_by_key(|i| i.id);
        let now = crate::event::Timestamp::now();
        let incidents = found
            .iter()
            .map(|i| {
                let hits = i.story.tokens.iter().find(|u| u.id == t.id).map_or(1, |u| u.hits);
                let mut v = super::pages::incident_view(i, false);
                v["hits"] = hits.into();
                v["ago"] = Value::String(super::incident_list::ago(i.last, now));
                v
            })
            .collect();
        Ok(Some((t, incidents)))
    })
    .await??;
    let Some((token, incidents)) = found else { return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such token")) };
    let hits: u64 = incidents.iter().filter_map(|i| i["hits"].as_u64()).sum();
    let (account, csrf) = base_ctx(s);
    let status = if refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let body = render(&console.templates, "token.html", context! { account, csrf, token, incidents, hits, refused, created })?;
    Ok(http::html(status, body))
}

/// Records where a token was put by hand (as `honeyward token plant --record-only`).
pub async fn record_plant(console: &Arc<Console>, s: &Session, id: &str, body: &[u8]) -> anyhow::Result<Reply> {
    let form = |k: &str, max: usize| http::form_value(body, k).map(|v| v.trim().chars().take(max).collect::<String>()).filter(|v| !v.is_empty());
    let (Some(host), Some(path)) = (form("host", 255), form("path", 1024)) else {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "host and path are required"));
    };
    let plant = token::Plant { host, path, note: form("note", 500), template: None, created: crate::event::Timestamp::now() };
    let (c, id, by) = (Arc::clone(console), id.to_string(), s.account.clone());
    let target = format!("/tokens/{id}");
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut reg = registry(&c)?;
        let Some(t) = reg.get(&id)? else { anyhow::bail!("no token {id}") };
        reg.add_plant(&id, &plant, t.kind == TokenKind::File && plant.host == crate::config::host_name())?;
        tracing::info!(token = %id, host = %plant.host, path = %plant.path, %by, "plant recorded in the console");
        Ok(())
    })
    .await??;
    Ok(http::redirect(&target))
}
