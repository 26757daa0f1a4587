//! Binding decoys and the accept loop they share: connection limits, backpressure
//! from the event bus, refused-connection accounting and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::cohort::Cohort;
use super::connection::Connection;
use super::context::DecoyContext;
use super::error::{DecoyError, SetupError};
use super::personality;
use super::{dicom, http, poison, rdp, smb, ssh, tcp};
use crate::config::{CohortConfig, Config, DecoyConfig, TcpDecoyConfig};
use crate::event::EventKind;

/// A decoy that is listening.
#[derive(Debug, Clone)]
pub struct Listening {
    pub decoy: String,
    pub kind: &'static str,
    pub addr: SocketAddr,
}

/// A decoy whose listening socket is bound, ready to serve.
pub enum BoundDecoy {
    Tcp {
        config: Arc<TcpDecoyConfig>,
        listener: TcpListener,
    },
    Ssh {
        runtime: Arc<ssh::SshRuntime>,
        listener: TcpListener,
    },
    Http {
        runtime: Arc<http::HttpRuntime>,
        listener: TcpListener,
    },
    Dicom {
        runtime: Arc<dicom::DicomRuntime>,
        listener: TcpListener,
    },
    Smb {
        runtime: Arc<smb::SmbRuntime>,
        listener: TcpListener,
    },
    Hl7 {
        runtime: Arc<super::hl7::Hl7Runtime>,
        listener: TcpListener,
    },
    Rdp {
        runtime: Arc<rdp::RdpRuntime>,
        listener: TcpListener,
    },
    /// The poisoner canary: a UDP socket on its interface, no listener.
    Poison {
        runtime: Arc<poison::canary::PoisonRuntime>,
        socket: tokio::net::UdpSocket,
    },
}

/// What a decoy may know of the configuration around it.
#[derive(Debug, Clone)]
pub struct Surroundings {
    /// Where decoys keep their state (host keys, certificates, quarantine).
    pub state_dir: PathBuf,
    /// The cohort section of the configuration.
    pub cohort: CohortConfig,
    /// The cohort PACS-like decoys share (built once, generated on first use).
    pub shared_cohort: Arc<Cohort>,
    /// The first DICOM decoy's AE title and port (what Orthanc's `/system` reports).
    pub pacs: Option<(String, u16)>,
}

impl Surroundings {
    pub fn of(config: &Config) -> Self {
        let pacs = config.decoys.iter().find_map(|d| match d {
            DecoyConfig::Dicom(c) => {
                let ae = c.ae_title.clone().or_else(|| personality::dicom(c).ok().map(|p| p.ae_title.clone()));
                Some((ae.unwrap_or_else(|| "ORTHANC".into()), c.listen.port()))
            }
            _ => None,
        });
        let shared_cohort = Arc::new(Cohort::of(&config.cohort, None, None));
        Surroundings { state_dir: config.store.state_dir.clone(), cohort: config.cohort.clone(), shared_cohort, pacs }
    }
}

/// Binds a decoy's listening socket and prepares what it needs (e.g. SSH host keys in
/// the state directory) without serving yet, so that every decoy can be bound before
/// any starts.
pub async fn bind(config: &DecoyConfig, around: &Surroundings) -> Result<BoundDecoy, DecoyError> {
    let state_dir = around.state_dir.as_path();
    let unreadable = |cause| DecoyError::Personality { decoy: config.name().to_string(), cause: Box::new(cause) };
    Ok(match config {
        DecoyConfig::Tcp(c) => BoundDecoy::Tcp { config: Arc::new(c.clone()), listener: listen(config, 0)? },
        DecoyConfig::Ssh(c) => {
            let p = personality::ssh(c).map_err(unreadable)?;
            let listener = listen(config, p.ip_tos)?;
            let dir = ssh::key_dir(state_dir, &c.name);
            let (algorithms, rsa_bits) = (p.host_key_names(), p.rsa_bits);
            let (config, state_dir) = (c.clone(), state_dir.to_path_buf());
            let runtime = prepare(&c.name, move || {
                let keys = ssh::load_host_keys(&dir, &algorithms, rsa_bits)?;
                ssh::runtime(&config, p, &keys, &state_dir)
            })
            .await?;
            BoundDecoy::Ssh { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Http(c) => {
            let p = personality::http(c).map_err(unreadable)?;
            let listener = listen(config, 0)?;
            let (config, around) = (c.clone(), around.clone());
            let runtime = prepare(&c.name, move || http::HttpRuntime::for_decoy(&config, p, &around)).await?;
            BoundDecoy::Http { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Dicom(c) => {
            let p = personality::dicom(c).map_err(unreadable)?;
            let listener = listen(config, 0)?;
            let (config, around) = (c.clone(), around.clone());
            let runtime = prepare(&c.name, move || dicom::DicomRuntime::for_decoy(&config, p, &around)).await?;
            BoundDecoy::Dicom { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Smb(c) => {
            let p = personality::smb(c).map_err(unreadable)?;
            let listener = listen(config, 0)?;
            let (config, state_dir) = (c.clone(), state_dir.to_path_buf());
            let runtime = prepare(&c.name, move || smb::SmbRuntime::for_decoy(&config, p, &state_dir)).await?;
            BoundDecoy::Smb { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Rdp(c) => {
            let p = personality::rdp(c).map_err(unreadable)?;
            let listener = listen(config, 0)?;
            let (config, state_dir) = (c.clone(), state_dir.to_path_buf());
            let runtime = prepare(&c.name, move || rdp::RdpRuntime::for_decoy(&config, p, &state_dir)).await?;
            BoundDecoy::Rdp { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Hl7(c) => {
            let listener = listen(config, 0)?;
            let (config, around) = (c.clone(), around.clone());
            let runtime = prepare(&c.name, move || Ok(super::hl7::Hl7Runtime::for_decoy(&config, &around)?)).await?;
            BoundDecoy::Hl7 { runtime: Arc::new(runtime), listener }
        }
        DecoyConfig::Poison(c) => {
            let (runtime, socket) = poison::canary::PoisonRuntime::open(c).map_err(|cause| DecoyError::Setup { decoy: c.name.clone(), cause })?;
            let socket = tokio::net::UdpSocket::from_std(socket)
                .map_err(|cause| DecoyError::Setup { decoy: c.name.clone(), cause: SetupError::Interface(cause.to_string()) })?;
            BoundDecoy::Poison { runtime: Arc::new(runtime), socket }
        }
    })
}

/// The decoy's listening socket; accepted sockets (and the SYN-ACK) inherit its IPv4
/// type of service `tos` (0: the system's default).
fn listen(config: &DecoyConfig, tos: u32) -> Result<TcpListener, DecoyError> {
    let addr = config.listen();
    let err = |cause| DecoyError::Bind { decoy: config.name().to_string(), addr, cause };
    let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    if tos != 0 && addr.is_ipv4() {
        socket.set_tos_v4(tos).map_err(err)?;
    }
    socket.bind(addr).map_err(err)?;
    socket.listen(4096).map_err(err)
}

/// Runs a decoy's blocking set-up (certificates, state files) off the runtime.
async fn prepare<T: Send + 'static>(decoy: &str, f: impl FnOnce() -> Result<T, SetupError> + Send + 'static) -> Result<T, DecoyError> {
    tokio::task::spawn_blocking(f).await.map_err(SetupError::from).and_then(|r| r).map_err(|cause| DecoyError::Setup { decoy: decoy.to_string(), cause })
}

impl BoundDecoy {
    /// The address actually bound (resolves port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            BoundDecoy::Tcp { listener, .. }
            | BoundDecoy::Ssh { listener, .. }
            | BoundDecoy::Http { listener, .. }
            | BoundDecoy::Dicom { listener, .. }
            | BoundDecoy::Smb { listener, .. }
            | BoundDecoy::Rdp { listener, .. }
            | BoundDecoy::Hl7 { listener, .. } => listener.local_addr(),
            BoundDecoy::Poison { socket, .. } => socket.local_addr(),
        }
    }

    /// Serves until shutdown; returns once the listener is closed. Connection tasks
    /// keep running on `cx.tasks` until they have recorded their close.
    pub async fn serve(self, cx: DecoyContext) {
        match self {
            BoundDecoy::Tcp { config, listener } => accept_loop(listener, cx, move |stream, conn| tcp::handle(Arc::clone(&config), stream, conn)).await,
            BoundDecoy::Ssh { runtime, listener } => accept_loop(listener, cx, move |stream, conn| ssh::handle(Arc::clone(&runtime), stream, conn)).await,
            BoundDecoy::Http { runtime, listener } => accept_loop(listener, cx, move |stream, conn| http::handle(Arc::clone(&runtime), stream, conn)).await,
            BoundDecoy::Dicom { runtime, listener } => accept_loop(listener, cx, move |stream, conn| dicom::handle(Arc::clone(&runtime), stream, conn)).await,
            BoundDecoy::Smb { runtime, listener } => accept_loop(listener, cx, move |stream, conn| smb::handle(Arc::clone(&runtime), stream, conn)).await,
            BoundDecoy::Rdp { runtime, listener } => accept_loop(listener, cx, move |stream, conn| rdp::handle(Arc::clone(&runtime), stream, conn)).await,
            BoundDecoy::Hl7 { runtime, listener } => {
                accept_loop(listener, cx, move |stream, conn| super::hl7::handle(Arc::clone(&runtime), stream, conn)).await
            }
            BoundDecoy::Poison { runtime, socket } => poison::canary::serve(runtime, socket, cx).await,
        }
    }
}

/// IPv4 peers on a dual-stack socket appear as `::ffff:a.b.c.d`; record them as IPv4.
fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, cx: DecoyContext, handler: F)
where
    F: Fn(TcpStream, Connection) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    let reporter = tokio::spawn(report_refused(cx.clone()));
    // The local address is the listener's unless it listens on a wildcard address.
    let fixed_local = listener.local_addr().ok().filter(|a| !a.ip().is_unspecified()).map(canonical);
    loop {
        // Backpressure: while the store is behind, leave new peers in the backlog.
        tokio::select! {
            biased;
            _ = cx.shutdown.cancelled() => break,
            _ = cx.events.wait_for_capacity() => {}
        }
        let accepted = tokio::select! {
            biased;
            _ = cx.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and similar: back off briefly, keep serving.
                tracing::warn!(decoy = %cx.decoy, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let peer = canonical(peer);
        let Ok(permit) = cx.gate.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let local = fixed_local.or_else(|| stream.local_addr().ok().map(canonical)).unwrap_or(peer);
        let conn_cx = cx.clone();
        let handler = Arc::clone(&handler);
        cx.tasks.spawn(async move {
            let conn = Connection::open(conn_cx, peer, local, permit).await;
            handler(stream, conn).await;
        });
    }
    drop(listener);
    let _ = reporter.await;
}

/// Every second (and once at shutdown), stores how many connections the limits refused.
async fn report_refused(cx: DecoyContext) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let stopping = tokio::select! {
            _ = cx.shutdown.cancelled() => true,
            _ = tick.tick() => false,
        };
        for (limit, count) in cx.gate.take_refused() {
            if count > 0 {
                tracing::warn!(decoy = %cx.decoy, count, ?limit, "connections refused by a limit");
                cx.events.emit(cx.event(EventKind::ConnectionsRefused { count, limit })).await;
            }
        }
        if stopping {
            break;
        }
    }
}
