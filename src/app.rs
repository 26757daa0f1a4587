//! Wiring of one honeyward process: bind every decoy, open the store, start the
//! writer, the sinks and the decoys; on shutdown stop them in the order that loses
//! nothing (decoys → connections record their close → store drains → sinks catch up).

pub use crate::decoy::Listening;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::decoy::{self, ConnectionGate, DecoyContext, DecoyError, MemoryBudget};
use crate::pipeline;
use crate::shutdown::Shutdown;
use crate::sink::{run_sink, AnySink, SinkError, SinkRun};
use crate::store::{self, StoreError, StoreReader};
use crate::token::{self, Matcher, Registry, TokenError};
use crate::watch::WatchContext;

/// How long sinks may keep delivering after the store has drained at shutdown (they
/// resume from their cursors at the next start; README promises an exit within about
/// five seconds).
const SINK_DRAIN_DEADLINE: Duration = Duration::from_secs(3);

/// Why honeyward could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Decoy(#[from] DecoyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error(transparent)]
    Controller(#[from] crate::fleet::ControllerError),
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// The store or the state directory can be read by other users.
    #[error("{what} {} can be read by other users (mode {mode:o}); it holds captured credentials and honeyward's keys: `chmod {fix} {}`", path.display(), path.display())]
    Exposed { what: &'static str, path: std::path::PathBuf, mode: u32, fix: &'static str },
    #[error("running as root after binding the decoys' ports: pass --user NAME to drop to an unprivileged user (or --allow-root, not recommended)")]
    RootRefused,
    #[error(transparent)]
    Console(#[from] crate::console::ConsoleError),
    #[error("sink `{sink}` cannot start: {reason}")]
    Sink { sink: String, reason: SinkError },
    #[error("cannot start the event pipeline's thread (sinks, incidents, retention): {0}")]
    PipelineThread(std::io::Error),
}

/// A started honeyward.
pub struct Running {
    /// One entry per decoy, with the address actually bound.
    pub listeners: Vec<Listening>,
    shutdown: Shutdown,
    stopped: JoinHandle<()>,
}

impl Running {
    /// Asks everything to stop (like SIGTERM).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Waits until shutdown has completed: every accepted connection closed and
    /// recorded, every event committed, sinks caught up (or past their deadline).
    pub async fn wait(self) {
        let _ = self.stopped.await;
    }
}

/// What to do about root once the decoys' ports are bound.
#[derive(Debug, Clone, Default)]
pub enum AfterBind {
    /// Keep the identity the process has (as root only with `--allow-root`).
    #[default]
    Stay,
    /// Become this unprivileged user.
    Become(crate::privilege::Identity),
    /// Refuse to go on as root.
    RefuseRoot,
}

/// Starts everything in `config`; stops when `shutdown` is cancelled.
/// Nothing is left running if this returns an error.
pub async fn start(config: Config, shutdown: Shutdown) -> Result<Running, AppError> {
    start_as(config, shutdown, AfterBind::Stay).await
}

/// Refuses a store (or its -wal/-shm) or state directory that other users can read or
/// write: they hold every captured credential, the token key and the host keys.
fn refuse_exposed(config: &Config) -> Result<(), AppError> {
    use std::os::unix::fs::PermissionsExt;
    let store = &config.store.path;
    let side = |suffix: &str| std::path::PathBuf::from(format!("{}{suffix}", store.display()));
    let checks = [
        ("store", store.clone(), "600"),
        ("store", side("-wal"), "600"),
        ("store", side("-shm"), "600"),
        ("state directory", config.store.state_dir.clone(), "700"),
    ];
    for (what, path, fix) in checks {
        if let Ok(meta) = std::fs::metadata(&path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(AppError::Exposed { what, path, mode, fix });
            }
        }
    }
    Ok(())
}

/// [`start`], then drop (or refuse) root right after binding, before anything reads
/// attacker bytes or opens the store.
pub async fn start_as(config: Config, shutdown: Shutdown, after_bind: AfterBind) -> Result<Running, AppError> {
    refuse_exposed(&config)?;
    // Bind every decoy before starting anything, so a busy port fails cleanly.
    let mut bound = Vec::with_capacity(config.decoys.len());
    let around = decoy::Surroundings::of(&config);
    for d in &config.decoys {
        bound.push((d.clone(), decoy::bind(d, &around).await?));
    }
    let console_listener = match &config.console {
        Some(c) => Some(crate::console::bind(c).await?),
        None => None,
    };
    match &after_bind {
        AfterBind::Stay => {}
        AfterBind::RefuseRoot => {
            if crate::privilege::is_root() {
                return Err(AppError::RootRefused);
            }
        }
        AfterBind::Become(id) => {
            crate::privilege::drop_to(id, &config.store.state_dir, &config.store.path)?;
            tracing::info!(user = %id.user, uid = id.uid, gid = id.gid, "ports bound; now running as {} without capabilities", id.user);
        }
    }

    let open_registry = || Registry::open(&config.store.path, &config.store.state_dir, config.store.sync);
    let registry = open_registry()?;
    let matcher = Matcher::load(&registry)?;
    tracing::info!(material = matcher.len(), "token registry loaded");
    let (events, bus_rx) = pipeline::bus(config.store.queue_capacity_events.get(), matcher.clone());
    let (committed_tx, committed_rx) = watch::channel(0u64);
    let committed_tx = Arc::new(committed_tx);
    let retention = store::Retention::of(&config);
    let handoff = store::Handoff { committed: Arc::clone(&committed_tx), recent: store::RecentBatch::new(), progress: store::SinkProgress::new() };
    let writer = store::spawn_writer(&config.store, retention.clone(), config.sensor.name.clone(), bus_rx, handoff.clone())?;

    let abort = CancellationToken::new();
    // The pipeline's own runtime, at the process's priority: the sinks, so that a
    // committed event is delivered without queueing behind decoy work (an SSH brute
    // force's handshakes) on the shared workers; and everything else that writes to the
    // store, so that no thread at the decoys' lower priority holds SQLite's write lock
    // while the writer waits for it (preempted by whatever else the host runs).
    let pipeline = PipelineRuntime::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pipeline")
            .thread_keep_alive(crate::resident::IDLE_THREAD_KEEP_ALIVE)
            .enable_all()
            .build()
            .map_err(AppError::PipelineThread)?,
    );
    // Incidents form as events commit; everyone reads what the follower saves.
    let tasks = TaskTracker::new();
    tasks.spawn_on(crate::incident::follow(config.store.path.clone(), config.alerts.clone(), committed_rx.clone(), shutdown.clone()), &pipeline.handle);
    if retention.is_active() {
        tasks.spawn_on(keep_retention(config.store.clone(), retention, shutdown.clone()), &pipeline.handle);
    }
    let mut sinks = Vec::with_capacity(config.sinks.len());
    for s in &config.sinks {
        let reader = StoreReader::open(&config.store.path, true)?;
        let (sink, cursor) = AnySink::open(s, &reader).map_err(|reason| AppError::Sink { sink: s.name().to_string(), reason })?;
        let run = SinkRun {
            config: s.clone(),
            sink,
            cursor,
            reader,
            incidents: config.alerts.clone(),
            committed: committed_rx.clone(),
            recent: handoff.recent.clone(),
            progress: handoff.progress.clone(),
            abort: abort.clone(),
        };
        sinks.push(pipeline.handle.spawn(run_sink(run)));
    }

    let sensor: Arc<str> = Arc::from(config.sensor.name.as_str());
    let memory = config.sensor.max_memory_mb.map(MemoryBudget::new);
    if let Some(m) = &memory {
        tasks.spawn(Arc::clone(m).monitor(shutdown.clone()));
    }
    tasks.spawn(crate::resident::give_back_when_quiet(committed_rx.clone(), shutdown.clone()));
    let mut listeners = Vec::with_capacity(bound.len());
    let mut console_decoys = Vec::with_capacity(bound.len());
    for (d, b) in bound {
        let addr = b.local_addr().unwrap_or_else(|_| d.listen());
        tracing::info!(decoy = d.name(), r#type = d.type_name(), %addr, "decoy {} ({}) listening on {}", d.name(), d.type_name(), addr);
        listeners.push(Listening { decoy: d.name().to_string(), kind: d.type_name(), addr });
        let limits = d.limits();
        let cx = DecoyContext {
            decoy: Arc::from(d.name()),
            sensor: Arc::clone(&sensor),
            events: events.clone(),
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
            limits,
            gate: ConnectionGate::with_memory(limits.max_connections, limits.max_connections_per_source, memory.clone()),
        };
        console_decoys.push(crate::console::DecoyHandle { name: d.name().to_string(), kind: d.type_name(), addr, gate: cx.gate.clone() });
        tasks.spawn(b.serve(cx));
    }
    if let Some(listener) = console_listener {
        let shared = Arc::new(config.clone());
        crate::console::start(listener, shared, console_decoys, shutdown.clone(), &tasks).await?;
    }
    if config.controller.is_some() {
        let addr = crate::fleet::start_controller(&config, events.clone(), Arc::clone(&committed_tx), shutdown.clone(), &tasks).await?;
        tracing::info!(%addr, "controller api listening on {addr} (HTTPS)");
    }
    if let Some(u) = &config.upstream {
        tracing::info!(controller = %u.url, sensor = %u.credential.sensor, "forwarding to the controller");
        let status = listeners.iter().map(|l| crate::fleet::sensor::DecoyStatus { decoy: l.decoy.clone(), kind: l.kind, listen: l.addr, up: true }).collect();
        tasks.spawn(crate::fleet::sensor::heartbeat(u.clone(), status, shutdown.clone()));
        tasks.spawn(crate::fleet::sensor::token_sync(u.clone(), config.store.clone(), config.sensor.name.clone(), shutdown.clone()));
        tasks.spawn(crate::fleet::sensor::spool_quota(u.clone(), config.store.clone(), config.sensor.name.clone(), events.clone(), shutdown.clone()));
    }
    let (registry_tx, registry_rx) = watch::channel(matcher.version());
    tasks.spawn(token::follow_registry(registry, matcher, registry_tx, shutdown.clone()));
    let mut host_names = vec![config.sensor.name.clone(), crate::config::host_name()];
    host_names.dedup();
    tasks.spawn(crate::watch::run(WatchContext {
        sensor: Arc::clone(&sensor),
        host_names,
        events: events.clone(),
        shutdown: shutdown.clone(),
        canaries: config.canaries.clone(),
        registry: open_registry()?,
        registry_changed: registry_rx,
    }));
    // From here on only decoys and the watcher hold the bus; when they are gone, the
    // writer drains.
    drop(events);

    let stop_token = shutdown.clone();
    let stopped = tokio::spawn(async move {
        stop_token.cancelled().await;
        tasks.close();
        tasks.wait().await;
        tracing::info!("decoys stopped; committing queued events");
        writer.join().await;
        let mut drained = async || {
            for s in sinks.iter_mut().filter(|s| !s.is_finished()) {
                let _ = s.await;
            }
        };
        if tokio::time::timeout(SINK_DRAIN_DEADLINE, drained()).await.is_err() {
            tracing::warn!("sinks did not catch up within {:?}; they resume from their cursors at next start", SINK_DRAIN_DEADLINE);
            abort.cancel();
            // Aborted sinks save their cursors on the way out.
            let _ = tokio::time::timeout(Duration::from_secs(1), drained()).await;
        }
        drop(pipeline);
        tracing::info!("stopped");
    });
    Ok(Running { listeners, shutdown, stopped })
}

/// The pipeline's runtime, let go without waiting when dropped: from the stop task
/// once the sinks are drained, or when a later part of start-up fails (a busy
/// controller port). A runtime dropped the ordinary way inside async code panics.
struct PipelineRuntime {
    handle: tokio::runtime::Handle,
    /// Taken only on drop.
    runtime: Option<tokio::runtime::Runtime>,
}

impl PipelineRuntime {
    fn new(runtime: tokio::runtime::Runtime) -> Self {
        PipelineRuntime { handle: runtime.handle().clone(), runtime: Some(runtime) }
    }
}

impl Drop for PipelineRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Applies `store.retention` every 5 s, over one connection of its own: the age rule,
/// and the size rule for events the writer did not commit itself (a controller's ingest).
async fn keep_retention(store: crate::config::StoreConfig, retention: store::Retention, shutdown: Shutdown) {
    let opened = tokio::task::spawn_blocking(move || store::open_connection(&store.path, store.sync, false)).await;
    let conn = match opened {
        Ok(Ok(c)) => Arc::new(std::sync::Mutex::new(c)),
        Ok(Err(e)) => return tracing::error!(error = %e, "retention cannot open the store; nothing will be deleted"),
        Err(_) => return,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let (c, r) = (Arc::clone(&conn), retention.clone());
        let pass = tokio::task::spawn_blocking(move || r.enforce(&c.lock().unwrap_or_else(|p| p.into_inner()), crate::event::Timestamp::now())).await;
        match pass {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(events = n, "retention deleted events every sink had passed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "retention pass failed; retried in 5 s"),
            Err(_) => break,
        }
    }
}
