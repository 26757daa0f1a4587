//! The console's pages, rendered from `templates/console/` (embedded). minijinja
//! escapes every value for HTML; the `shown` filter also makes invisible and
//! direction-changing characters visible, so an attacker cannot make a line read as
//! something else.

use std::sync::Arc;

use hyper::StatusCode;
use minijinja::{context, Environment};
use serde::Serialize;
use serde_json::Value;

use super::accounts::{Accounts, Session};
use super::http::{self, Reply};
use super::Console;
use crate::event::Technique;
use crate::incident::{members, Incident, IncidentFilter};
use crate::store::{StoreReader, StoredEvent};
use crate::token::{self, CreateOptions, NewToken, Registry, TokenKind};

/// Most incidents the incident list shows (the most recently opened).
const LIST_INCIDENTS: usize = 1_000;
/// Most events an incident's page shows (its first ones).
const INCIDENT_EVENTS: usize = 10_000;

/// Control, bidirectional-override and invisible formatting characters, shown as
/// `⟨U+XXXX⟩`; the rest unchanged (then HTML-escaped by the template engine).
pub fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let hidden = crate::event::is_hidden(c) && c != '\n' && c != '\t';
        if hidden {
            out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The template environment (auto-escaping for every `.html` template).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("shown", |v: String| shown(&v));
    for (name, source) in [
        ("base.html", include_str!("../../templates/console/base.html")),
        ("login.html", include_str!("../../templates/console/login.html")),
        ("enrol.html", include_str!("../../templates/console/enrol.html")),
        ("incidents.html", include_str!("../../templates/console/incidents.html")),
        ("incident.html", include_str!("../../templates/console/incident.html")),
        ("tokens.html", include_str!("../../templates/console/tokens.html")),
        ("health.html", include_str!("../../templates/console/health.html")),
        ("sinks.html", include_str!("../../templates/console/sinks.html")),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env
}

fn page(console: &Console, name: &str, ctx: minijinja::Value) -> anyhow::Result<Reply> {
    let body = console.templates.get_template(name)?.render(ctx)?;
    Ok(http::html(StatusCode::OK, body))
}

pub fn login(console: &Console, error: Option<&str>) -> Reply {
    page(console, "login.html", context! { password_login => console.cfg.password_login, error })
        .unwrap_or_else(|_| http::html(StatusCode::INTERNAL_SERVER_ERROR, String::new()))
}

pub async fn enrol(console: &Arc<Console>, invite: String) -> anyhow::Result<Reply> {
    let store = console.config.store.path.clone();
    let lookup = invite.clone();
    let account = tokio::task::spawn_blocking(move || Accounts::open(&store).and_then(|a| a.invite_account(&lookup))).await??;
    match account {
        Some(invite_account) => page(console, "enrol.html", context! { invite, invite_account }),
        None => Ok(http::html(StatusCode::FORBIDDEN, "<!doctype html><title>Link not valid</title><p>This sign-up link is used, expired or wrong. Ask for a new one: <code>honeyward console invite NAME</code>.".into())),
    }
}

/// Argon2id check of a stored PHC string.
pub fn password_matches(hash: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    PasswordVerifier::<str>::verify_password(&argon2::Argon2::default(), password.as_bytes(), hash).is_ok()
}

/// An Argon2id PHC string for a new password.
pub fn password_hash(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::PasswordHasher;
    let salt: [u8; 16] = rand::random();
    Ok(argon2::Argon2::default().hash_password_with_salt(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?.to_string())
}

async fn read<T: Send + 'static>(console: &Console, f: impl FnOnce(&StoreReader) -> anyhow::Result<T> + Send + 'static) -> anyhow::Result<T> {
    let path = console.config.store.path.clone();
    tokio::task::spawn_blocking(move || f(&StoreReader::open(&path, false)?)).await?
}

#[derive(Serialize)]
struct TechniqueView {
    id: String,
    name: &'static str,
}

fn techniques(i: &Incident) -> Vec<TechniqueView> {
    i.techniques.iter().map(|t| TechniqueView { id: t.clone(), name: Technique::from_id(t).map(Technique::name).unwrap_or("") }).collect()
}

fn incident_view(i: &Incident, acked: bool) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("techniques".into(), serde_json::to_value(techniques(i)).unwrap_or_default());
        m.insert("acked".into(), Value::Bool(acked));
        m.insert("source".into(), i.source.map(|s| Value::String(s.to_string())).unwrap_or(Value::Null));
    }
    v
}

fn base_ctx(s: &Session) -> (String, String) {
    (s.account.clone(), s.csrf.clone())
}

pub async fn incidents(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    let list = read(console, move |r| {
        let mut incidents = r.incidents(&IncidentFilter { since: None, suppressed: true, limit: LIST_INCIDENTS })?;
        let acks = r.acks()?;
        incidents.sort_by_key(|i| std::cmp::Reverse(i.last.as_micros()));
        Ok(incidents.iter().map(|i| incident_view(i, acks.contains_key(&i.id.to_string()))).collect::<Vec<_>>())
    })
    .await?;
    let (account, csrf) = base_ctx(s);
    page(console, "incidents.html", context! { account, csrf, incidents => list })
}

fn text_of(v: &Value) -> String {
    v.get("text").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// One line saying what an event was.
fn summary(kind: &str, d: &Value) -> String {
    match kind {
        "http_request" => format!("{} {} → {}", text_of(&d["method"]), text_of(&d["target"]), d["status"]),
        "ssh_auth" => format!("{} {} {}", d["method"].as_str().unwrap_or(""), text_of(&d["username"]), text_of(&d["password"])),
        "ssh_command" => format!("$ {}", text_of(&d["line"])),
        "dicom_association" => format!("{} → {}", text_of(&d["calling_ae"]), text_of(&d["called_ae"])),
        "dicom_command" => format!("{} {}", d["command"].as_str().unwrap_or(""), text_of(&d["sop_class"])),
        _ if d.is_null() => String::new(),
        _ => {
            let mut s = d.to_string();
            if s.len() > 300 {
                let cut = (0..=300).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s.truncate(cut);
                s.push('…');
            }
            s
        }
    }
}

fn dicom_keys(d: &Value) -> String {
    d["keys"]
        .as_array()
        .map(|keys| keys.iter().map(|k| format!("{}={}", k["keyword"].as_str().unwrap_or("?"), text_of(&k["value"]))).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What the incident page shows: every event, typed SSH lines, terminal replays,
/// HTTP requests, DICOM commands.
type Detail = (Vec<Value>, Vec<String>, Vec<String>, Vec<Value>, Vec<Value>);

fn detail(events: &[&StoredEvent], recordings: &std::path::Path) -> Detail {
    let (mut all, mut transcript, mut replays, mut http, mut dicom) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in events {
        let v = crate::sink::format::json_value(e);
        let kind = v["kind"].as_str().unwrap_or("").to_string();
        let d = &v["details"];
        let time = v["time"].as_str().unwrap_or("").to_string();
        match kind.as_str() {
            "ssh_command" => transcript.push(text_of(&d["line"])),
            "ssh_session_closed" => {
                if let Some(text) = d["recording"].as_str().and_then(|p| super::replay::transcript(recordings, std::path::Path::new(p))) {
                    replays.push(text);
                }
            }
            "http_request" => http.push(serde_json::json!({"time": time, "request": format!("{} {}", text_of(&d["method"]), text_of(&d["target"])), "status": d["status"], "user_agent": text_of(&d["user_agent"]), "tags": d["tags"]})),
            "dicom_command" => dicom.push(serde_json::json!({"time": time, "command": d["command"], "keys": dicom_keys(d), "matches": d["matches"]})),
            _ => {}
        }
        all.push(serde_json::json!({"time": time, "decoy": v["decoy"].as_str().unwrap_or(""), "kind": kind, "severity": v["severity"], "summary": summary(&kind, d)}));
    }
    (all, transcript, replays, http, dicom)
}

pub async fn incident(console: &Arc<Console>, s: &Session, id: &str) -> anyhow::Result<Reply> {
    let cfg = console.config.alerts.clone();
    let id = id.to_string();
    let recordings = console.config.store.state_dir.join("recordings");
    let found = read(console, move |r| {
        let Some(i) = crate::event::EventId::parse(&id).map(|id| r.incident(&id)).transpose()?.flatten() else { return Ok(None) };
        let events = members(r.incident_candidates(&i, INCIDENT_EVENTS)?, &i, &cfg);
        let mine: Vec<&StoredEvent> = events.iter().collect();
        let ack = r.acks()?.get(&id).map(|a| serde_json::to_value(a).unwrap_or_default());
        Ok(Some((incident_view(&i, ack.is_some()), ack, detail(&mine, &recordings))))
    })
    .await?;
    let Some((incident, ack, (events, transcript, replays, http, dicom))) = found else {
        return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such incident"));
    };
    let (account, csrf) = base_ctx(s);
    page(console, "incident.html", context! { account, csrf, incident, ack, events, transcript, replays, http, dicom })
}

pub async fn ack(console: &Arc<Console>, s: &Session, id: &str, body: &[u8]) -> anyhow::Result<Reply> {
    let (path, id, by) = (console.config.store.path.clone(), id.to_string(), s.account.clone());
    let note = http::form_value(body, "note").filter(|n| !n.is_empty()).map(|n| n.chars().take(500).collect::<String>());
    let target = format!("/incidents/{id}");
    let Some(event_id) = crate::event::EventId::parse(&id) else { return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "no such incident")) };
    tokio::task::spawn_blocking(move || StoreReader::open(&path, false)?.ack_incident(&event_id, &by, note.as_deref())).await??;
    Ok(http::redirect(&target))
}

fn registry(console: &Console) -> anyhow::Result<Registry> {
    let s = &console.config.store;
    Ok(Registry::open(&s.path, &s.state_dir, s.sync)?)
}

pub async fn tokens(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    let c = Arc::clone(console);
    let list = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<token::Token>> { Ok(registry(&c)?.list()?) }).await??;
    let kinds: Vec<&str> = token::ALL_KINDS.iter().map(|k| k.as_str()).collect();
    let templates: Vec<Value> = token::template::TEMPLATES.iter().map(|t| serde_json::json!({"name": t.name, "description": t.description})).collect();
    let (account, csrf) = base_ctx(s);
    page(console, "tokens.html", context! { account, csrf, tokens => list, kinds, templates })
}

/// Creates a token and answers with its file, the only copy of its secrets.
pub async fn create_token(console: &Arc<Console>, s: &Session, body: &[u8]) -> anyhow::Result<Reply> {
    let form = |k: &str| http::form_value(body, k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(kind) = form("kind").as_deref().and_then(TokenKind::parse) else {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "unknown token kind"));
    };
    let label: String = form("label").unwrap_or_default().chars().take(200).collect();
    if label.is_empty() {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "a label is required"));
    }
    let template = form("template").filter(|t| token::template::find(t).is_some()).unwrap_or_else(|| token::default_template(kind).to_string());
    let host = crate::config::host_name();
    let opts = CreateOptions { endpoint: form("endpoint"), host: host.clone(), ..CreateOptions::new(kind, label) };
    if kind == TokenKind::Url && opts.endpoint.is_none() {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "a url token needs the decoy URL it points at"));
    }
    let c = Arc::clone(console);
    let by = s.account.clone();
    let made = tokio::task::spawn_blocking(move || -> anyhow::Result<Result<(String, Vec<u8>), String>> {
        let new: NewToken = match registry(&c)?.generate(&opts) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.to_string())),
        };
        // Render first, so a template that cannot use this token leaves nothing behind.
        let bytes = match token::template::artifact(&new.token, &new.secrets, &template, &host, None) {
            Ok((bytes, _mode)) => bytes,
            Err(e) => return Ok(Err(format!("template {template} cannot hold a {} token: {e}", new.token.kind.as_str()))),
        };
        registry(&c)?.insert(&[&new])?;
        tracing::info!(token = %new.token.id, kind = new.token.kind.as_str(), %by, "token created in the console");
        Ok(Ok((new.token.id.clone(), bytes)))
    })
    .await??;
    // What the form asked for cannot be made: the form's fault (400), not the server's.
    let (id, bytes) = match made {
        Ok(made) => made,
        Err(why) => return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", why)),
    };
    let extension = if kind == TokenKind::Patient { "dcm" } else { "txt" };
    Ok(http::attachment(&format!("{id}.{extension}"), bytes))
}

pub async fn revoke_token(console: &Arc<Console>, id: &str) -> anyhow::Result<Reply> {
    let (c, id) = (Arc::clone(console), id.to_string());
    tokio::task::spawn_blocking(move || -> anyhow::Result<bool> { Ok(registry(&c)?.revoke(&id)?) }).await??;
    Ok(http::redirect("/tokens"))
}

/// Records where a token was put by hand (as `honeyward token plant --record-only`).
pub async fn record_plant(console: &Arc<Console>, s: &Session, id: &str, body: &[u8]) -> anyhow::Result<Reply> {
    let form = |k: &str, max: usize| http::form_value(body, k).map(|v| v.trim().chars().take(max).collect::<String>()).filter(|v| !v.is_empty());
    let (Some(host), Some(path)) = (form("host", 255), form("path", 1024)) else {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "host and path are required"));
    };
    let plant = token::Plant { host, path, note: form("note", 500), template: None, created: crate::event::Timestamp::now() };
    let (c, id, by) = (Arc::clone(console), id.to_string(), s.account.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut reg = registry(&c)?;
        let Some(t) = reg.get(&id)? else { anyhow::bail!("no token {id}") };
        reg.add_plant(&id, &plant, t.kind == TokenKind::File && plant.host == crate::config::host_name())?;
        tracing::info!(token = %id, host = %plant.host, path = %plant.path, %by, "plant recorded in the console");
        Ok(())
    })
    .await??;
    Ok(http::redirect("/tokens"))
}

pub async fn health(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    let decoys: Vec<Value> = console
        .decoys
        .iter()
        .map(|d| serde_json::json!({"name": d.name, "kind": d.kind, "addr": d.addr.to_string(), "open": d.gate.open_connections()}))
        .collect();
    let silent_after = console.config.controller.as_ref().map(|c| c.silent_after);
    let path = console.config.store.path.clone();
    let sensors = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Value>> {
        let now = crate::event::Timestamp::now().as_micros();
        Ok(crate::fleet::Fleet::open(&path)?
            .list()?
            .into_iter()
            .map(|r| {
                let state = if r.revoked.is_some() {
                    "revoked"
                } else if r.last_seen.is_some_and(|t| silent_after.is_none_or(|d| now - t.as_micros() <= d.as_micros() as i64)) {
                    "healthy"
                } else {
                    "silent"
                };
                serde_json::json!({"name": r.name, "enrolled": r.enrolled, "last_seen": r.last_seen, "last_source": r.last_source, "state": state, "status": r.status.map(|s| s.to_string()).unwrap_or_default()})
            })
            .collect())
    })
    .await??;
    let (account, csrf) = base_ctx(s);
    page(console, "health.html", context! { account, csrf, decoys, sensors })
}

pub async fn sinks(console: &Arc<Console>, s: &Session) -> anyhow::Result<Reply> {
    let list: Vec<(String, &'static str)> = console.config.sinks.iter().map(|k| (k.name().to_string(), k.type_name())).collect();
    let rows = read(console, move |r| {
        let head = r.max_seq()?;
        let mut out = Vec::new();
        for (name, kind) in list {
            let o = r.sink_overview(&name, head)?;
            let st = o.status;
            let letters: Vec<Value> = r.dead_letters(&name)?.into_iter().take(200).map(|d| serde_json::json!({"seq": d.seq, "event_id": d.event_id, "time": d.time, "reason": d.reason})).collect();
            out.push(serde_json::json!({"name": name, "kind": kind, "lag": o.lag_events, "last_success": st.last_success, "last_error": st.last_error, "dead_letters": st.dead_letters, "letters": letters}));
        }
        Ok(out)
    })
    .await?;
    let (account, csrf) = base_ctx(s);
    page(console, "sinks.html", context! { account, csrf, sinks => rows })
}

/// `/metrics`.
pub async fn metrics(console: &Arc<Console>) -> anyhow::Result<Reply> {
    use super::metrics::{render, Process, SinkNumbers, Snapshot};
    let connections_open = console.decoys.iter().map(|d| (d.name.clone(), d.gate.open_connections())).collect();
    let window_us = console.config.alerts.window_us;
    let sinks: Vec<String> = console.config.sinks.iter().map(|k| k.name().to_string()).collect();
    let store_path = console.config.store.path.clone();
    let snapshot = read(console, move |r| {
        let now = crate::event::Timestamp::now().as_micros();
        let tally = r.incident_tally(now.saturating_sub(window_us))?;
        let head = r.max_seq()?;
        let mut numbers = Vec::new();
        for name in sinks {
            let o = r.sink_overview(&name, head)?;
            let st = &o.status;
            let failing = match (&st.last_error_time, &st.last_success) {
                (Some(e), Some(ok)) => e.as_micros() > ok.as_micros(),
                (Some(_), None) => true,
                _ => false,
            };
            let seconds = |t: &crate::event::Timestamp| t.as_micros() as f64 / 1e6;
            numbers.push(SinkNumbers {
                lag_events: o.lag_events,
                dead_letters: st.dead_letters,
                last_success_seconds: st.last_success.as_ref().map(seconds),
                last_error_seconds: st.last_error_time.as_ref().map(seconds),
                failing,
                name,
            });
        }
        let size = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let wal = std::path::PathBuf::from(format!("{}-wal", store_path.display()));
        Ok(Snapshot {
            events: r.counts()?,
            connections_open,
            incidents_open: tally.open,
            incidents_unacknowledged: tally.unacknowledged,
            sinks: numbers,
            store_bytes: size(store_path) + size(wal),
            process: Process::read(),
        })
    })
    .await?;
    Ok(http::text(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", render(&snapshot)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_made_visible() {
        assert!(environment().get_template("incident.html").is_ok(), "the embedded templates parse");
        let mut env = Environment::new();
        env.add_filter("shown", |v: String| shown(&v));
        env.add_template("t.html", "<td>{{ v|shown }}</td><td title=\"{{ v|shown }}\"></td>").unwrap();
        let out = env
            .get_template("t.html")
            .unwrap()
            .render(context! { v => "<script>alert(1)</script>\"><img src=x onerror=alert(2)>\u{202e}gnp.exe\u{0}" })
            .unwrap();
        assert!(!out.contains("<script>") && !out.contains("<img"), "{out}");
        assert!(out.contains("&lt;script&gt;") && out.contains("&quot;&gt;&lt;img"), "{out}");
        assert!(out.contains("⟨U+202E⟩gnp.exe⟨U+0000⟩"), "{out}");
        assert!(!out.contains('\u{202e}'), "{out}");
    }

    #[test]
    fn passwords_hash_and_verify_with_argon2id() {
        let h = password_hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches(&h, "correct horse"));
        assert!(!password_matches(&h, "wrong"));
        assert!(!password_matches("not a hash", "x"));
    }
}
