//! The console's HTTP server and its routes: who may see what, CSRF and origin checks,
//! the passkey and password ceremonies. Pages themselves are in `pages` and `token_pages`.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::json;
use tokio::net::TcpListener;

use super::accounts::{Accounts, Session};
use super::http::{self, Reply};
use super::webauthn::{self, b64url, from_b64url};
use super::{decoy_page, exports, incident_list, incident_page, overview, pages, token_pages, Console, Purpose};
use crate::shutdown::Shutdown;

const MAX_CONNECTIONS: usize = 256;
/// A browser opens about six; a reverse proxy in front pools a few dozen.
const MAX_CONNECTIONS_PER_SOURCE: usize = 64;
const MAX_BODY_BYTES: usize = 64 * 1024;
const DEADLINE: Duration = Duration::from_secs(30);

/// Serves until shutdown.
pub async fn serve(listener: TcpListener, console: Arc<Console>, shutdown: Shutdown) {
    let options = crate::http_server::ServeOptions {
        what: "console",
        max_connections: MAX_CONNECTIONS,
        max_connections_per_source: MAX_CONNECTIONS_PER_SOURCE,
        deadline: DEADLINE,
        max_connection_life: Duration::from_secs(300),
        tls: None,
    };
    crate::http_server::serve(listener, options, shutdown, move |req, peer| handle(req, peer, Arc::clone(&console))).await
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

fn failed(e: anyhow::Error) -> Reply {
    tracing::warn!(error = %e, "console request failed");
    http::html(StatusCode::INTERNAL_SERVER_ERROR, "<!doctype html><title>Error</title><p>Something went wrong; see honeyward's log.".into())
}

/// Whether the request names this console as its host: a page of another site whose
/// name an attacker pointed at this address (DNS rebinding) names that site instead.
fn our_host(headers: &hyper::HeaderMap, console: &Console) -> bool {
    let Some(host) = headers.get(hyper::header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case(&console.rp.id) || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip == console.cfg.listen.ip())
}

async fn handle(req: Request<Incoming>, peer: std::net::SocketAddr, console: Arc<Console>) -> Reply {
    // /metrics is read by scrapers under whatever name they were given; everything
    // else answers only to the console's own name.
    if req.uri().path() != "/metrics" && !our_host(req.headers(), &console) {
        return http::text(StatusCode::MISDIRECTED_REQUEST, "text/plain", "this console answers only to its own host name");
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return http::text(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "too large"),
    };
    let path = parts.uri.path().to_string();
    // Static assets and metrics need no session.
    match (&parts.method, path.as_str()) {
        (&Method::GET, "/static/console.js") => {
            return http::text(StatusCode::OK, "text/javascript; charset=utf-8", include_str!("../../templates/console/console.js"))
        }
        (&Method::GET, "/static/console.css") => {
            return http::text(StatusCode::OK, "text/css; charset=utf-8", include_str!("../../templates/console/console.css"))
        }
        (&Method::GET, "/metrics") => return pages::metrics(&console).await.unwrap_or_else(failed),
        _ => {}
    }
    // A state-changing request must come from this console's own pages.
    if parts.method == Method::POST {
        let origin = parts.headers.get(hyper::header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.is_some_and(|o| o != console.rp.origin) {
            return http::text(StatusCode::FORBIDDEN, "text/plain", "cross-origin request refused");
        }
    }
    let store = console.config.store.path.clone();
    let cookie = http::session_cookie(&parts.headers);
    let session: Option<Session> = match cookie.clone() {
        Some(c) => {
            let store = store.clone();
            blocking(move || Ok(Accounts::open(&store)?.session(&c)?)).await.unwrap_or(None)
        }
        None => None,
    };
    let query = parts.uri.query().map(str::to_string);
    let result = match (&parts.method, path.as_str(), &session) {
        (&Method::GET, "/login", _) => Ok(pages::login(&console, None)),
        (&Method::GET, "/enrol", _) => pages::enrol(&console, http::query_value(query.as_deref(), "invite").unwrap_or_default()).await,
        (&Method::POST, "/login/options", _) => Ok(sign_in_options(&console, peer.ip())),
        (&Method::POST, "/login/finish", _) => sign_in_finish(&console, &body).await,
        (&Method::POST, "/login/password", _) => password_sign_in(&console, &body, peer.ip()).await,
        (&Method::POST, "/enrol/options", _) => enrol_options(&console, &body, peer.ip()).await,
        (&Method::POST, "/enrol/finish", _) => enrol_finish(&console, &body).await,
        (_, _, None) => {
            Ok(if parts.method == Method::GET { http::redirect("/login") } else { http::text(StatusCode::UNAUTHORIZED, "text/plain", "sign in first") })
        }
        (&Method::POST, _, Some(s)) if !http::form_value(&body, "csrf").is_some_and(|t| http::same_secret(&t, &s.csrf)) => {
            Ok(http::text(StatusCode::FORBIDDEN, "text/plain", "missing or wrong CSRF token; reload the page"))
        }
        (&Method::POST, "/logout", Some(_)) => {
            if let Some(c) = cookie {
                let _ = blocking(move || Ok(Accounts::open(&store)?.end_session(&c)?)).await;
            }
            Ok(http::with_session(http::redirect("/login"), None, 0))
        }
        (&Method::GET, "/", Some(s)) => overview::overview(&console, s).await,
        (&Method::GET, "/incidents", Some(s)) => incident_list::incidents(&console, s, query.as_deref()).await,
        (&Method::GET, "/incidents/export", Some(s)) => exports::export(&console, s, query.as_deref()).await,
        (&Method::POST, "/incidents/ack", Some(s)) => incident_list::acknowledge_chosen(&console, s, &body).await,
        (&Method::GET, p, Some(s)) if p.starts_with("/incidents/") => incident_page::incident(&console, s, &p["/incidents/".len()..], query.as_deref()).await,
        (&Method::POST, p, Some(s)) if p.starts_with("/incidents/") && p.ends_with("/unack") => {
            incident_page::acknowledge(&console, s, &p["/incidents/".len()..p.len() - "/unack".len()], &body, false).await
        }
        (&Method::POST, p, Some(s)) if p.starts_with("/incidents/") && p.ends_with("/ack") => {
            incident_page::acknowledge(&console, s, &p["/incidents/".len()..p.len() - "/ack".len()], &body, true).await
        }
        (&Method::GET, p, Some(s)) if p.starts_with("/decoys/") => decoy_page::decoy(&console, s, &p["/decoys/".len()..]).await,
        (&Method::GET, "/tokens", Some(s)) => token_pages::tokens(&console, s).await,
        (&Method::POST, "/tokens", Some(s)) => token_pages::create_token(&console, s, &body).await,
        (&Method::GET, p, Some(s)) if p.starts_with("/tokens/") && !p["/tokens/".len()..].contains('/') => {
            token_pages::token_page_after(&console, s, &p["/tokens/".len()..], None, http::query_value(query.as_deref(), "created")).await
        }
        (&Method::POST, p, Some(s)) if p.starts_with("/tokens/") && p.ends_with("/revoke") => {
            token_pages::revoke_token(&console, s, &p["/tokens/".len()..p.len() - "/revoke".len()], &body).await
        }
        (&Method::POST, p, Some(s)) if p.starts_with("/tokens/") && p.ends_with("/plant") => {
            token_pages::record_plant(&console, s, &p["/tokens/".len()..p.len() - "/plant".len()], &body).await
        }
        (&Method::GET, "/health", Some(s)) => pages::health(&console, s).await,
        (&Method::GET, "/sinks", Some(s)) => pages::sinks(&console, s).await,
        _ => Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "not found")),
    };
    result.unwrap_or_else(failed)
}

fn refused(message: &str) -> Reply {
    http::json(StatusCode::FORBIDDEN, &json!({ "error": message }))
}

fn signed_in(console: &Console, secret: String) -> Reply {
    http::with_session(http::json(StatusCode::OK, &json!({"ok": true})), Some(&secret), console.cfg.session.as_secs())
}

fn sign_in_options(console: &Console, source: std::net::IpAddr) -> Reply {
    match console.begin(Purpose::SignIn, source) {
        Some((id, challenge)) => http::json(StatusCode::OK, &json!({"id": id, "challenge": b64url(&challenge), "rp_id": console.rp.id})),
        None => http::json(StatusCode::SERVICE_UNAVAILABLE, &json!({"error": "too many sign-ins at once; try again"})),
    }
}

fn field(v: &serde_json::Value, key: &str) -> Option<Vec<u8>> {
    v.get(key).and_then(|s| s.as_str()).and_then(from_b64url)
}

async fn sign_in_finish(console: &Arc<Console>, body: &[u8]) -> anyhow::Result<Reply> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let Some((challenge, Purpose::SignIn)) = v.get("id").and_then(|i| i.as_str()).and_then(|id| console.finish(id)) else {
        return Ok(refused("that sign-in expired; try again"));
    };
    let (Some(credential_id), Some(client), Some(auth), Some(sig)) =
        (field(&v, "credential_id"), field(&v, "client_data"), field(&v, "authenticator_data"), field(&v, "signature"))
    else {
        return Ok(refused("incomplete answer"));
    };
    let (store, rp, lasts) = (console.config.store.path.clone(), console.rp.clone(), console.cfg.session);
    let outcome = blocking(move || {
        let a = Accounts::open(&store)?;
        let Some(key) = a.passkey(&credential_id)? else { return Ok(Err("this passkey is not registered here")) };
        let answer = webauthn::Assertion { client_data_json: &client, authenticator_data: &auth, signature: &sig };
        let stored = webauthn::StoredKey { algorithm: key.algorithm, public_key: &key.public_key, sign_count: key.sign_count };
        match webauthn::verify_assertion(&rp, &challenge, &answer, &stored) {
            Ok(count) => {
                a.passkey_used(&credential_id, count)?;
                tracing::info!(account = %key.account, "console sign-in with a passkey");
                Ok(Ok(a.start_session(&key.account, lasts)?))
            }
            Err(e) => {
                tracing::warn!(account = %key.account, error = %e, "console sign-in refused");
                Ok(Err("the passkey's answer did not verify"))
            }
        }
    })
    .await?;
    Ok(match outcome {
        Ok(secret) => signed_in(console, secret),
        Err(why) => refused(why),
    })
}

async fn password_sign_in(console: &Arc<Console>, body: &[u8], source: std::net::IpAddr) -> anyhow::Result<Reply> {
    if !console.cfg.password_login {
        return Ok(http::text(StatusCode::NOT_FOUND, "text/plain", "password sign-in is off"));
    }
    if let Some(wait) = console.guard.waiting(source) {
        let mut reply = http::text(StatusCode::TOO_MANY_REQUESTS, "text/plain", "too many wrong passwords from this address; wait and try again");
        if let Ok(v) = hyper::header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            reply.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        return Ok(reply);
    }
    let (Some(account), Some(password)) = (http::form_value(body, "account"), http::form_value(body, "password")) else {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "account and password are required"));
    };
    if account.len() > 256 || password.len() > 1024 {
        return Ok(http::text(StatusCode::BAD_REQUEST, "text/plain", "account or password too long"));
    }
    let store = console.config.store.path.clone();
    let lookup = account.clone();
    let hash = blocking(move || Ok(Accounts::open(&store)?.password_hash(&lookup)?)).await?;
    if !console.guard.password_matches(hash, password).await {
        console.guard.failed(source);
        tracing::warn!(account = %crate::sink::format::visible(&account), %source, "console password sign-in refused");
        return Ok(pages::login(console, Some("Wrong account or password.")));
    }
    console.guard.succeeded(source);
    let store = console.config.store.path.clone();
    let lasts = console.cfg.session;
    let secret = blocking(move || Ok(Accounts::open(&store)?.start_session(&account, lasts)?)).await?;
    Ok(http::with_session(http::redirect("/incidents"), Some(&secret), lasts.as_secs()))
}

async fn enrol_options(console: &Arc<Console>, body: &[u8], source: std::net::IpAddr) -> anyhow::Result<Reply> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let invite = v.get("invite").and_then(|i| i.as_str()).unwrap_or_default().to_string();
    let store = console.config.store.path.clone();
    let lookup = invite.clone();
    let found = blocking(move || {
        let a = Accounts::open(&store)?;
        let Some(account) = a.invite_account(&lookup)? else { return Ok(None) };
        let handle = a.handle(&account)?.unwrap_or_else(|| rand::random::<[u8; 16]>().to_vec());
        Ok(Some((account, handle)))
    })
    .await?;
    let Some((account, handle)) = found else { return Ok(refused("this sign-up link is used, expired or wrong")) };
    Ok(match console.begin(Purpose::Enrol { invite }, source) {
        Some((id, challenge)) => http::json(
            StatusCode::OK,
            &json!({"id": id, "challenge": b64url(&challenge), "rp_id": console.rp.id, "account": account, "user_id": b64url(&handle)}),
        ),
        None => http::json(StatusCode::SERVICE_UNAVAILABLE, &json!({"error": "too many sign-ups at once; try again"})),
    })
}

async fn enrol_finish(console: &Arc<Console>, body: &[u8]) -> anyhow::Result<Reply> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let Some((challenge, Purpose::Enrol { invite })) = v.get("id").and_then(|i| i.as_str()).and_then(|id| console.finish(id)) else {
        return Ok(refused("that sign-up expired; reload the link"));
    };
    let (Some(client), Some(attestation)) = (field(&v, "client_data"), field(&v, "attestation_object")) else { return Ok(refused("incomplete answer")) };
    let passkey = match webauthn::verify_registration(&console.rp, &challenge, &client, &attestation) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "console passkey registration refused");
            return Ok(refused("the new passkey did not verify"));
        }
    };
    let (store, lasts) = (console.config.store.path.clone(), console.cfg.session);
    let secret = blocking(move || {
        let mut a = Accounts::open(&store)?;
        let Some(account) = a.redeem(&invite, &passkey)? else { return Ok(None) };
        tracing::info!(%account, "console passkey registered");
        Ok(Some(a.start_session(&account, lasts)?))
    })
    .await?;
    Ok(match secret {
        Some(s) => signed_in(console, s),
        None => refused("this sign-up link was used meanwhile"),
    })
}
