//! Keeps a running process's matcher in step with the registry: the CLI creates and
//! revokes tokens in another process; this notices within a second and reloads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::matcher::Matcher;
use super::registry::Registry;
use crate::shutdown::Shutdown;

/// How often the registry version is checked.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Reloads `matcher` whenever the registry version changes; announces each new
/// version on `changed` (the canary watcher listens). Ends at shutdown.
pub async fn follow_registry(registry: Registry, matcher: Matcher, changed: watch::Sender<i64>, shutdown: Shutdown) {
    let registry = Arc::new(Mutex::new(registry));
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let (reg, m) = (Arc::clone(&registry), matcher.clone());
        let result = tokio::task::spawn_blocking(move || {
            let mut reg = reg.lock().unwrap_or_else(|p| p.into_inner());
            let version = reg.version()?;
            if version != m.version() {
                // A sensor's key may have been replaced by the controller's.
                reg.refresh_key()?;
                m.reload(&reg)?;
                return Ok(Some(version));
            }
            Ok::<_, super::TokenError>(None)
        })
        .await;
        match result {
            Ok(Ok(Some(version))) => {
                tracing::info!(version, tokens = matcher.len(), "token registry changed; matcher reloaded");
                changed.send_replace(version);
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the token registry"),
            Err(_) => break,
        }
    }
}
