//! The sensor's link to its controller: the `controller` sink (batches of events,
//! signed, the cursor advancing only on the controller's acknowledgement), the
//! heartbeat, the token index pull, and the spool quota.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};

use super::signing::{self, Signed};
use crate::config::UpstreamConfig;
use crate::event::{Event, EventId, EventKind, Timestamp};
use crate::pipeline::{EventSender, Shutdown};
use crate::sink::http::client::{Answer, HttpClient};
use crate::sink::{Sink, SinkError};
use crate::store::StoredEvent;

/// Time allowed for each exchange with the controller.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Bodies larger than this are gzipped.
const GZIP_FROM_BYTES: usize = 16 * 1024;

/// A signed connection to the controller.
pub struct Upstream {
    client: HttpClient,
    sensor: String,
    key: Vec<u8>,
    authority: String,
}

impl Upstream {
    pub fn new(u: &UpstreamConfig) -> Result<Self, String> {
        let tls = crate::sink::tls::client_config_pem(&u.credential.controller_ca, None, &[b"http/1.1"])?;
        let client = HttpClient::with(u.url.clone(), Some(tls), TIMEOUT, true)?;
        let key = u.credential.key_bytes().ok_or("the credential's key is not base64")?;
        let authority = client.authority();
        Ok(Upstream { client, sensor: u.credential.sensor.clone(), key, authority })
    }

    /// Sends a signed request.
    pub async fn request(&mut self, method: &str, path: &str, body: Vec<u8>) -> Result<Answer, SinkError> {
        let timestamp_ms = Timestamp::now().as_micros() / 1000;
        let nonce = signing::nonce();
        let signature = signing::sign(&self.key, &Signed { method, path, timestamp_ms, nonce: &nonce, body: &body });
        let gzip = body.len() >= GZIP_FROM_BYTES;
        let payload = if gzip {
            crate::sink::http::gzip_body(&body)?
        } else {
            body
        };
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(USER_AGENT, concat!("honeyward-sensor/", env!("CARGO_PKG_VERSION")))
            .header(CONTENT_TYPE, "application/json")
            .header(signing::SENSOR_HEADER, self.sensor.as_str())
            .header(signing::TIMESTAMP_HEADER, timestamp_ms.to_string())
            .header(signing::NONCE_HEADER, nonce)
            .header(signing::SIGNATURE_HEADER, signature);
        if gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let request = request.body(Full::new(Bytes::from(payload))).map_err(|e| SinkError::Permanent(e.to_string()))?;
        self.client.send(request).await
    }
}

/// The sink that forwards to the controller: HTTPS ingest, or NATS JetStream.
pub enum ControllerSink {
    Https(Upstream),
    Nats(super::nats::NatsSink),
}

impl ControllerSink {
    pub fn new(u: &UpstreamConfig) -> Result<Self, SinkError> {
        match &u.nats_url {
            Some(url) => Ok(ControllerSink::Nats(super::nats::NatsSink::new(u, url)?)),
            None => Ok(ControllerSink::Https(Upstream::new(u).map_err(|e| SinkError::Permanent(format!("controller link: {e}")))?)),
        }
    }
}

impl Sink for ControllerSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        match self {
            ControllerSink::Https(up) => ingest(up, batch).await,
            ControllerSink::Nats(n) => n.send(batch).await,
        }
    }
}

/// One batch over HTTPS ingest.
async fn ingest(upstream: &mut Upstream, batch: &[StoredEvent]) -> Result<(), SinkError> {
    let mut body = Vec::with_capacity(batch.len() * 600 + 16);
    body.extend_from_slice(b"{\"events\":[");
    for (i, e) in batch.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        serde_json::to_writer(&mut body, &e.event).map_err(|e| SinkError::Permanent(e.to_string()))?;
    }
    body.extend_from_slice(b"]}");
    let answer = upstream.request("POST", "/v1/sensor/ingest", body).await?;
    let said = || String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]).into_owned();
    match answer.status {
        200 => Ok(()),
        400 | 413 => Err(SinkError::Rejected { reason: format!("controller: HTTP {} {}", answer.status, said()), items: Vec::new() }),
        status => Err(SinkError::Retryable(format!("controller: HTTP {status} {}", said()))),
    }
}

/// Sends a heartbeat with the decoys' status every `interval`.
pub async fn heartbeat(u: UpstreamConfig, decoys: Vec<crate::app::Listening>, shutdown: Shutdown) {
    let Ok(mut upstream) = Upstream::new(&u) else { return };
    let status: Vec<serde_json::Value> = decoys.iter().map(|d| serde_json::json!({"decoy": d.decoy, "type": d.kind, "listen": d.addr.to_string(), "up": true})).collect();
    let mut tick = tokio::time::interval(u.heartbeat);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let body = serde_json::json!({"decoys": status, "version": env!("CARGO_PKG_VERSION")}).to_string().into_bytes();
        match upstream.request("POST", "/v1/sensor/heartbeat", body).await {
            Ok(a) if a.status == 200 => {}
            Ok(a) => tracing::warn!(status = a.status, "controller refused the heartbeat"),
            Err(e) => tracing::debug!(error = %e, "heartbeat not delivered"),
        }
    }
}

/// Pulls the token index whenever it changes and installs it locally.
pub async fn token_sync(u: UpstreamConfig, store: crate::config::StoreConfig, shutdown: Shutdown) {
    let Ok(mut upstream) = Upstream::new(&u) else { return };
    let registry = match crate::token::Registry::open(&store.path, &store.state_dir, store.sync) {
        Ok(r) => Arc::new(std::sync::Mutex::new(r)),
        Err(e) => return tracing::error!(error = %e, "token sync cannot open the registry"),
    };
    let mut tick = tokio::time::interval(u.token_sync);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let reg = Arc::clone(&registry);
        let Ok(Ok(version)) = tokio::task::spawn_blocking(move || reg.lock().unwrap_or_else(|p| p.into_inner()).version()).await else { continue };
        let answer = match upstream.request("GET", &format!("/v1/sensor/tokens?version={version}"), Vec::new()).await {
            Ok(a) if a.status == 200 => a,
            Ok(a) => {
                tracing::warn!(status = a.status, "controller refused the token index request");
                continue;
            }
            Err(_) => continue, // the controller is away: keep the index we have
        };
        #[derive(serde::Deserialize)]
        struct Reply {
            snapshot: Option<crate::token::Snapshot>,
        }
        let Ok(Reply { snapshot: Some(snap) }) = serde_json::from_slice::<Reply>(&answer.body) else { continue };
        let reg = Arc::clone(&registry);
        let tokens = snap.tokens.len();
        match tokio::task::spawn_blocking(move || reg.lock().unwrap_or_else(|p| p.into_inner()).replace_with(&snap)).await {
            Ok(Ok(())) => tracing::info!(tokens, "token index updated from the controller"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot install the controller's token index"),
            Err(_) => break,
        }
    }
}

/// Keeps the spool (the local store) within its quota while the controller is away:
/// drops the oldest events not yet forwarded whose kind is low-severity (never a
/// token hit or anything medium and above), and records how many.
pub async fn spool_quota(u: UpstreamConfig, store: crate::config::StoreConfig, sensor: String, events: EventSender, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let (path, quota) = (store.path.clone(), u.spool_max_bytes);
        let shed = tokio::task::spawn_blocking(move || shed(&path, quota)).await;
        if let Ok(Ok(Some((count, first, last)))) = shed {
            tracing::warn!(count, "spool over its quota: oldest low-severity events not yet forwarded were dropped");
            let kind = EventKind::SpoolShed { events: count, first_seq: first, last_seq: last };
            events.emit(Event { id: EventId::new(), time: Timestamp::now(), sensor: sensor.clone(), decoy: None, source: None, destination: None, session: None, kind, token: None }).await;
        }
    }
}

/// One round of shedding; (count, first seq, last seq) if anything was dropped.
pub fn shed(path: &std::path::Path, quota_bytes: u64) -> Result<Option<(u64, u64, u64)>, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let used = |c: &rusqlite::Connection| -> rusqlite::Result<u64> {
        let pages: i64 = c.query_row("SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())", [], |r| r.get(0))?;
        let size: i64 = c.query_row("SELECT page_size FROM pragma_page_size()", [], |r| r.get(0))?;
        Ok((pages.max(0) * size) as u64)
    };
    if used(&conn)? <= quota_bytes {
        return Ok(None);
    }
    let cursor: i64 = conn.query_row("SELECT coalesce((SELECT seq FROM sink_cursors WHERE sink = 'controller'), 0)", [], |r| r.get(0))?;
    let low: Vec<String> = EventKind::low_severity_ids().iter().map(|id| id.to_string()).collect();
    let (mut count, mut first, mut last) = (0u64, u64::MAX, 0u64);
    // Down to 90% of the quota, in steps, oldest first; the freed pages are reused.
    while used(&conn)? > quota_bytes / 10 * 9 {
        let sql = format!(
            "SELECT seq FROM events WHERE seq > ?1 AND kind IN ({}) AND body NOT LIKE '%\"token\":%' ORDER BY seq LIMIT 2000",
            low.join(",")
        );
        let seqs: Vec<i64> = conn.prepare(&sql)?.query_map([cursor], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if seqs.is_empty() {
            break;
        }
        let tx = conn.unchecked_transaction()?;
        for s in &seqs {
            tx.execute("DELETE FROM events WHERE seq = ?1", [s])?;
        }
        tx.commit()?;
        count += seqs.len() as u64;
        first = first.min(seqs[0] as u64);
        last = last.max(seqs[seqs.len() - 1] as u64);
    }
    Ok((count > 0).then_some((count, first, last)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{AttackerBytes, CloseReason, SshAuthMethod};

    fn event(kind: EventKind) -> Event {
        Event { id: EventId::new(), time: Timestamp::now(), sensor: "ward-7".into(), decoy: Some("d".into()), source: Some("203.0.113.9:4000".parse().unwrap()), destination: None, session: None, kind, token: None }
    }

    #[test]
    fn a_full_spool_sheds_only_unforwarded_low_severity_events_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let mut conn = crate::store::open_connection(&path, crate::config::StoreSync::Normal, true).unwrap();
        let padding = "x".repeat(2000);
        let mut batch = Vec::new();
        for i in 0..3000 {
            batch.push(if i % 3 == 0 {
                event(EventKind::SshAuth { method: SshAuthMethod::Password, username: AttackerBytes::new(padding.as_str()), password: None, key_fingerprint: None, key_algorithm: None, accepted: false, methods_tried: None })
            } else {
                event(EventKind::ConnectionClosed { duration_ms: 1, bytes_in: 1, bytes_out: 1, reason: CloseReason::PeerClosed })
            });
        }
        crate::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
        conn.execute("INSERT INTO sink_cursors (sink, seq, updated_us) VALUES ('controller', 100, 0)", []).unwrap();
        let auths_before: i64 = conn.query_row("SELECT count(*) FROM events WHERE kind = 200", [], |r| r.get(0)).unwrap();
        let (count, first, last) = shed(&path, 4 * 1024 * 1024).unwrap().expect("over the quota: something is shed");
        assert!(count > 0 && first > 100, "never what was already forwarded: {first}");
        assert!(last >= first);
        let auths_after: i64 = conn.query_row("SELECT count(*) FROM events WHERE kind = 200", [], |r| r.get(0)).unwrap();
        assert_eq!(auths_before, auths_after, "authentication attempts are never shed");
        let kept_early: i64 = conn.query_row("SELECT count(*) FROM events WHERE seq <= 100", [], |r| r.get(0)).unwrap();
        assert_eq!(kept_early, 100);
        assert!(shed(&path, 1 << 30).unwrap().is_none(), "under the quota: nothing");
    }
}
