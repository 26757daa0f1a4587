//! Many sensors, one controller.
//!
//! A **controller** (`honeyward controller`) is the store of record: sensors forward
//! their events to it over HTTPS, each request signed with the key it got at
//! enrolment; it runs the token registry, incidents and sinks, notices sensors that
//! fall silent, and serves a JSON API. A **sensor** (`honeyward sensor`) runs decoys
//! and keeps its own store as a spool: events leave it only when the controller has
//! committed them, and it recognises tokens from the index it pulls, also while the
//! controller is away.

pub mod api;
mod auth;
mod body;
mod claims;
pub mod ingest;
pub mod nats;
mod nonces;
mod refusals;
pub mod registry;
mod reply;
pub mod sensor;
pub mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::event::{Event, EventKind};
use crate::pipeline::EventSender;
use crate::shutdown::Shutdown;
pub use registry::{Fleet, FleetError, SensorRow};
pub use state::Controller;

/// Why the controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("no `controller:` section")]
    NotConfigured,
    #[error("controller cannot listen on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: std::io::Error },
    #[error("controller certificate: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("controller certificate: {0}")]
    Pem(#[from] crate::pem::PemError),
    #[error(transparent)]
    Fleet(#[from] FleetError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Tokens(#[from] crate::token::TokenError),
}

/// Starts the controller's HTTPS endpoint and its silent-sensor watch; returns the
/// address it listens on.
pub async fn start_controller(
    config: &Config,
    events: EventSender,
    committed: Arc<watch::Sender<u64>>,
    shutdown: Shutdown,
    tasks: &TaskTracker,
) -> Result<SocketAddr, ControllerError> {
    let Some(cc) = config.controller.clone() else { return Err(ControllerError::NotConfigured) };
    let bind_error = |cause| ControllerError::Bind { addr: cc.listen, cause };
    let listener = tokio::net::TcpListener::bind(cc.listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let (chain, key) = match &cc.cert {
        Some((cert, key)) => crate::pem::chain_and_key(cert, key)?,
        None => {
            let source = crate::config::TlsSource::Generated { common_name: cc.server_name.clone(), organisation: "honeyward controller".into() };
            crate::tls::load(&source, &config.store.state_dir.join("controller"))?
        }
    };
    let tls = crate::tls::server_config(chain, key, &[b"http/1.1"])?;
    let fleet = Fleet::open(&config.store.path)?;
    let ingest = crate::store::open_connection(&config.store.path, config.store.sync, true)?;
    // Sensors' batches cannot grow the store past its cap either: a full store answers
    // 503 and the sensor keeps the batch.
    crate::store::Retention::of(config)
        .limit(&ingest)
        .map_err(|cause| crate::store::StoreError::Sqlite { path: config.store.path.display().to_string(), cause })?;
    let registry = crate::token::Registry::open(&config.store.path, &config.store.state_dir, config.store.sync)?;
    if let Ok(old @ 1..) = registry.material_without_prehash() {
        tracing::warn!(
            material = old,
            "tokens created before this version are recognised here but not given to sensors (sensors get only per-sensor digests); re-create them to let sensors recognise them"
        );
    }
    let controller = Arc::new(Controller {
        name: config.sensor.name.clone(),
        fleet: Mutex::new(fleet),
        ingest: Mutex::new(ingest),
        committed,
        events: events.clone(),
        registry: Mutex::new(registry),
        nonces: Mutex::new(nonces::Nonces::open(&config.store.path)?),
        refusals: Mutex::new(refusals::Refusals::default()),
        config: config.clone(),
    });
    tasks.spawn(auth::summarise_refusals(Arc::clone(&controller), shutdown.clone()));
    tasks.spawn(server::serve(listener, tls, Arc::clone(&controller), shutdown.clone()));
    if let Some(n) = cc.nats.clone() {
        tasks.spawn(nats::consume(Arc::clone(&controller), n, shutdown.clone()));
    }
    tasks.spawn(watch_silence(controller, cc.silent_after, shutdown));
    Ok(addr)
}

/// Raises a `sensor_silent` event (under the silent sensor's name, so it forms that
/// sensor's incident) once per silence.
async fn watch_silence(controller: Arc<Controller>, window: std::time::Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval((window / 4).clamp(std::time::Duration::from_millis(500), std::time::Duration::from_secs(10)));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let window_us = window.as_micros() as i64;
        let silent = state::blocking(&controller, move |c| c.fleet.lock().unwrap_or_else(|p| p.into_inner()).newly_silent(window_us)).await;
        for (sensor, silent_seconds) in silent.and_then(Result::ok).unwrap_or_default() {
            tracing::warn!(%sensor, silent_seconds, "sensor silent");
            let kind = EventKind::SensorSilent { sensor: sensor.clone(), silent_seconds };
            controller.events.emit(Event::host(sensor, kind)).await;
        }
    }
}
