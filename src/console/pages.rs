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
use crate::incident::Incident;
use crate::store::StoreReader;

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
        ("overview.html", include_str!("../../templates/console/overview.html")),
        ("token.html", include_str!("../../templates/console/token.html")),
        ("decoy.html", include_str!("../../templates/console/decoy.html")),
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
    let body = render(&console.templates, name, ctx)?;
    Ok(http::html(StatusCode::OK, body))
}

/// Renders a page with `section`, the nav link it belongs under (`aria-current`).
pub(super) fn render(templates: &Environment<'static>, name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    let section = match name {
        "incidents.html" | "incident.html" => "/incidents",
        "tokens.html" | "token.html" => "/tokens",
        "overview.html" => "/",
        "health.html" | "decoy.html" => "/health",
        "sinks.html" => "/sinks",
        _ => "",
    };
    templates.get_template(name)?.render(context! { section, ..ctx })
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

pub(super) async fn read<T: Send + 'static>(console: &Console, f: impl FnOnce(&StoreReader) -> anyhow::Result<T> + Send + 'static) -> anyhow::Result<T> {
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

pub(super) fn incident_view(i: &Incident, acked: bool) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("techniques".into(), serde_json::to_value(techniques(i)).unwrap_or_default());
        m.insert("acked".into(), Value::Bool(acked));
        m.insert("source".into(), i.source.map(|s| Value::String(s.to_string())).unwrap_or(Value::Null));
        m.insert("title".into(), Value::String(i.title(crate::event::Audience::Team)));
        m.insert("summary".into(), Value::String(i.summary(crate::event::Audience::Team)));
    }
    v
}

pub(super) fn base_ctx(s: &Session) -> (String, String) {
    (s.account.clone(), s.csrf.clone())
}

/// `revoked`, `healthy` (heard from within `silent_after`, or ever without one) or `silent`.
pub(super) fn sensor_state(r: &crate::fleet::SensorRow, now_us: i64, silent_after: Option<std::time::Duration>) -> &'static str {
    if r.revoked.is_some() {
        "revoked"
    } else if r.last_seen.is_some_and(|t| silent_after.is_none_or(|d| now_us - t.as_micros() <= d.as_micros() as i64)) {
        "healthy"
    } else {
        "silent"
    }
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
                let state = sensor_state(&r, now, silent_after);
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
            let failing = st.is_failing();
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
    fn each_page_marks_its_own_section_in_the_nav_and_has_one_h1() {
        let env = environment();
        let empty: Vec<String> = Vec::new();
        for (page, section) in
            [("overview.html", "/"), ("incidents.html", "/incidents"), ("tokens.html", "/tokens"), ("health.html", "/health"), ("sinks.html", "/sinks")]
        {
            let form = serde_json::json!({"severities": [], "sort": "last"});
            let lists = context! { incidents => empty, tokens => empty, kinds => empty, templates => empty, decoys => empty, sensors => empty, sinks => empty, counts => empty, orders => empty, severities => empty, failing_sinks => empty, silent => empty, chart => "", tlps => empty };
            let out = render(&env, page, context! { account => "analyst", csrf => "x", form, limit => 1000, ..lists }).unwrap();
            assert_eq!(out.matches("aria-current=\"page\"").count(), 1, "{page}: {out}");
            assert!(out.contains(&format!("<a href=\"{section}\" aria-current=\"page\">")), "{page}: {out}");
            assert_eq!(out.matches("<h1").count(), 1, "{page}");
            assert!(out.contains("<a class=\"skip\" href=\"#main\">") && out.contains("<main id=\"main\""), "{page}");
        }
        let login = env.get_template("login.html").unwrap().render(context! { error => "That passkey is not known here." }).unwrap();
        assert!(login.contains("<p class=\"error\" role=\"alert\">"), "{login}");
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
