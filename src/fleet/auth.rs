//! Who a sensor request is from. Before any body is read: the signature headers must
//! be there, the claimed name well formed and an enrolled, unrevoked sensor's, and the
//! timestamp near the controller's clock. After the body (hashed while read): the
//! signature over it, then the nonce. Refusals all read the same to the peer and are
//! counted per source and kind per minute (see `refusals`).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::http::request::Parts;
use hyper::StatusCode;

use super::body::Body;
use super::reply::{error, Reply};
use super::state::{blocking, Controller};
use crate::event::{AttackerBytes, Event, EventKind, Remote, Timestamp};
use crate::shutdown::Shutdown;
use crate::sink::controller::signing::{self, Refusal, SignedHead};

/// Longest nonce accepted (ours are 32 hex characters).
const MAX_NONCE_CHARS: usize = 64;

fn now_ms() -> i64 {
    Timestamp::now().as_micros() / 1000
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request's signature headers, checked, with the claimed sensor's key.
pub struct Head {
    sensor: String,
    key: Vec<u8>,
    timestamp_ms: i64,
    nonce: String,
    signature: String,
}

/// The signing key of an enrolled, unrevoked sensor.
pub async fn sensor_key(controller: &Arc<Controller>, name: &str) -> Result<Vec<u8>, Refusal> {
    let name = name.to_string();
    match blocking(controller, move |c| c.fleet.lock().unwrap_or_else(|p| p.into_inner()).key(&name).ok().flatten()).await.flatten() {
        None => Err(Refusal::UnknownSensor),
        Some((_, true)) => Err(Refusal::Revoked),
        Some((key, false)) => Ok(key),
    }
}

/// Checks what can be checked without the body; on failure returns the claimed name
/// (as sent) and why.
pub async fn check_head(parts: &Parts, controller: &Arc<Controller>) -> Result<Head, (String, Refusal)> {
    let claimed = header(parts, signing::SENSOR_HEADER).unwrap_or("").to_string();
    let (Some(ts), Some(nonce), Some(sig)) =
        (header(parts, signing::TIMESTAMP_HEADER), header(parts, signing::NONCE_HEADER), header(parts, signing::SIGNATURE_HEADER))
    else {
        return Err((claimed, Refusal::Unsigned));
    };
    let Ok(timestamp_ms) = ts.parse::<i64>() else { return Err((claimed, Refusal::BadSignature)) };
    if !super::registry::valid_name(&claimed) || nonce.is_empty() || nonce.len() > MAX_NONCE_CHARS || sig.len() > 128 {
        // Not a name or nonce any sensor sends: refused before the registry is asked.
        return Err((claimed, Refusal::Unsigned));
    }
    let key = sensor_key(controller, &claimed).await.map_err(|r| (claimed.clone(), r))?;
    let skew = now_ms() - timestamp_ms;
    if skew.abs() > signing::MAX_SKEW_MS {
        return Err((claimed, Refusal::OffClock(skew)));
    }
    Ok(Head { sensor: claimed, key, timestamp_ms, nonce: nonce.to_string(), signature: sig.to_string() })
}

/// Checks the signature over the body and the nonce; on success returns the sensor's
/// name.
pub async fn authenticate(parts: &Parts, head: Head, body: &Body, controller: &Arc<Controller>) -> Result<String, (String, Refusal)> {
    let Head { sensor, key, timestamp_ms, nonce, signature } = head;
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let signed = SignedHead { method: parts.method.as_str(), path, timestamp_ms, nonce: &nonce };
    let now = now_ms();
    signing::verify_digest(&key, &signed, body.sha256.as_ref(), &signature, now).map_err(|r| (sensor.clone(), r))?;
    let expiry = timestamp_ms + signing::MAX_SKEW_MS;
    let name = sensor.clone();
    let fresh = blocking(controller, move |c| c.nonces.lock().unwrap_or_else(|p| p.into_inner()).remember(&name, &nonce, expiry, now)).await;
    match fresh {
        Some(Ok(true)) => {}
        Some(Ok(false)) => return Err((sensor, Refusal::Replayed)),
        Some(Err(e)) => tracing::warn!(error = %e, "cannot keep a request's nonce in the store; replay protection holds until a restart"),
        None => tracing::warn!("cannot check a request's nonce"),
    }
    Ok(sensor)
}

/// Answers a refused request: counted, recorded at once if it is its source's first
/// this minute, and told only what [`Refusal::shown_to_peer`] says.
pub async fn refuse(controller: &Controller, peer: SocketAddr, claimed: &str, reason: &Refusal) -> Reply {
    let claimed: String = claimed.chars().take(128).collect();
    let first = controller.refusals.lock().unwrap_or_else(|p| p.into_inner()).note(peer, reason.code(), &claimed, &reason.to_string(), now_ms());
    if first {
        let shown = crate::sink::format::visible(&claimed);
        tracing::warn!(sensor = %shown, %peer, %reason, "sensor request refused (more from this source this minute are counted)");
        record_refusal(controller, peer, &claimed, &reason.to_string(), 1).await;
    }
    error(StatusCode::UNAUTHORIZED, &reason.shown_to_peer())
}

/// Records refusals as one event of the controller.
pub async fn record_refusal(controller: &Controller, peer: SocketAddr, claimed: &str, reason: &str, count: u64) {
    let claimed: Vec<u8> = claimed.as_bytes().iter().copied().take(256).collect();
    let kind = EventKind::SensorRefused { sensor: AttackerBytes::new(claimed), reason: reason.to_string(), count };
    let event = Event { source: Some(Remote(peer)), ..Event::host(controller.name.clone(), kind) };
    controller.events.emit(event).await;
}

/// Records each source's refusals beyond its first, once a minute is over, and what is
/// left at shutdown.
pub async fn summarise_refusals(controller: Arc<Controller>, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        let stopping = tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tick.tick() => false,
        };
        let due = controller.refusals.lock().unwrap_or_else(|p| p.into_inner()).due(now_ms(), stopping);
        for s in due {
            tracing::warn!(sensor = %crate::sink::format::visible(&s.claimed), peer = %s.peer, count = s.count, reason = %s.reason, "more sensor requests refused from this source");
            record_refusal(&controller, s.peer, &s.claimed, &s.reason, s.count).await;
        }
        if stopping {
            return;
        }
    }
}
