//! The canary file watcher: every `file` token planted on this host and every path
//! under `canaries:` is watched for opens (inotify, through notify). The parent
//! directory is watched, so a canary replaced by rename keeps being watched; a
//! deleted canary is reported as missing, not fatal. honeyward never opens a canary.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::event::{AccessKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use crate::config::CanaryConfig;
use crate::event::{Event, EventKind};
use crate::pipeline::EventSender;
use crate::shutdown::Shutdown;
use crate::token::{Registry, TokenKind};

/// What the watcher needs.
pub struct WatchContext {
    pub sensor: Arc<str>,
    /// Plants whose host is one of these are on this host.
    pub host_names: Vec<String>,
    pub events: EventSender,
    pub shutdown: Shutdown,
    pub canaries: Vec<CanaryConfig>,
    /// The registry, for the plants of `file` tokens.
    pub registry: Registry,
    /// Changes when the registry does.
    pub registry_changed: watch::Receiver<i64>,
}

/// Watched paths → label.
fn targets(cx: &WatchContext) -> HashMap<PathBuf, String> {
    let mut out: HashMap<PathBuf, String> = cx.canaries.iter().map(|c| (c.path.clone(), c.label.clone())).collect();
    match cx.registry.list() {
        Ok(tokens) => {
            for t in tokens.iter().filter(|t| t.kind == TokenKind::File) {
                for p in t.plants.iter().filter(|p| cx.host_names.contains(&p.host)) {
                    // A sensor knows its tokens by id only.
                    let label = if t.label.is_empty() { t.id.clone() } else { format!("{} ({})", t.label, t.id) };
                    out.insert(PathBuf::from(&p.path), label);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list planted canary files"),
    }
    out
}

/// Watches until shutdown. Returns at once (with a warning) if inotify is unavailable.
pub async fn run(mut cx: WatchContext) {
    let (tx, mut rx) = mpsc::channel::<notify::Result<notify::Event>>(4096);
    let mut watcher = match notify::recommended_watcher(move |res| {
        let _ = tx.blocking_send(res);
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "canary file watcher unavailable");
            return;
        }
    };
    let mut watched_dirs: HashSet<PathBuf> = HashSet::new();
    let mut current: HashMap<PathBuf, String> = HashMap::new();
    let mut missing: HashSet<PathBuf> = HashSet::new();
    let mut reload = true;
    loop {
        if reload {
            reload = false;
            current = tokio::task::block_in_place(|| targets(&cx));
            let dirs: HashSet<PathBuf> = current.keys().filter_map(|p| p.parent().map(Path::to_path_buf)).collect();
            for d in dirs.difference(&watched_dirs) {
                if let Err(e) = watcher.watch(d, RecursiveMode::NonRecursive) {
                    tracing::warn!(dir = %d.display(), error = %e, "cannot watch canary directory");
                }
            }
            for d in watched_dirs.difference(&dirs) {
                let _ = watcher.unwatch(d);
            }
            watched_dirs = dirs;
            for (path, label) in &current {
                // symlink_metadata is a stat: it never opens the canary.
                if path.symlink_metadata().is_err() && missing.insert(path.clone()) {
                    tracing::warn!(path = %path.display(), label, "canary file is missing");
                    cx.events.emit(Event::host(&*cx.sensor, EventKind::CanaryMissing { path: path.display().to_string() })).await;
                }
            }
            tracing::info!(files = current.len(), dirs = watched_dirs.len(), "watching canary files");
        }
        let next = tokio::select! {
            _ = cx.shutdown.cancelled() => break,
            changed = cx.registry_changed.changed() => {
                reload = changed.is_ok();
                continue;
            }
            n = rx.recv() => n,
        };
        let Some(result) = next else { break };
        let ev = match result {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(error = %e, "canary watcher error");
                continue;
            }
        };
        for path in ev.paths.iter().filter(|p| current.contains_key(*p)) {
            let text = path.display().to_string();
            match ev.kind {
                notify::EventKind::Access(AccessKind::Open(_)) => {
                    tracing::warn!(path = %text, "canary file opened");
                    cx.events.emit(Event::host(&*cx.sensor, EventKind::FileOpened { path: text })).await;
                }
                notify::EventKind::Remove(_) | notify::EventKind::Modify(ModifyKind::Name(RenameMode::From)) if missing.insert(path.clone()) => {
                    tracing::warn!(path = %text, "canary file deleted or moved away");
                    cx.events.emit(Event::host(&*cx.sensor, EventKind::CanaryMissing { path: text })).await;
                }
                notify::EventKind::Create(_) | notify::EventKind::Modify(ModifyKind::Name(_)) if path.symlink_metadata().is_ok() => {
                    missing.remove(path);
                }
                _ => {}
            }
        }
    }
}
