//! The sensor's side of the fleet besides forwarding (which is the `controller` sink):
//! the heartbeat, the token index pull, and the spool quota.

use std::sync::Arc;
use std::time::Duration;

use crate::config::UpstreamConfig;
use crate::event::{Event, EventKind};
use crate::pipeline::EventSender;
use crate::shutdown::Shutdown;
use crate::sink::controller::Upstream;

/// One decoy's line in a heartbeat, as the controller's API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecoyStatus {
    pub decoy: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub listen: std::net::SocketAddr,
    pub up: bool,
}

/// Sends a heartbeat with the decoys' status every `interval`.
pub async fn heartbeat(u: UpstreamConfig, status: Vec<DecoyStatus>, shutdown: Shutdown) {
    let Ok(mut upstream) = Upstream::new(&u) else { return };
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
pub async fn token_sync(u: UpstreamConfig, store: crate::config::StoreConfig, sensor: String, shutdown: Shutdown) {
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
            index: Option<crate::token::SensorIndex>,
        }
        let Ok(Reply { index: Some(index) }) = serde_json::from_slice::<Reply>(&answer.body) else { continue };
        let (reg, name) = (Arc::clone(&registry), sensor.clone());
        let tokens = index.tokens.len();
        match tokio::task::spawn_blocking(move || reg.lock().unwrap_or_else(|p| p.into_inner()).install(&index, &name)).await {
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
        let shed = tokio::task::spawn_blocking(move || crate::store::shed_spool(&path, quota)).await;
        if let Ok(Ok(Some((count, first, last)))) = shed {
            tracing::warn!(count, "spool over its quota: oldest low-severity events not yet forwarded were dropped");
            let kind = EventKind::SpoolShed { events: count, first_seq: first, last_seq: last };
            events.emit(Event::host(sensor.clone(), kind)).await;
        }
    }
}
