//! The `ssh` decoy: passes for a stock OpenSSH server (personality), records every
//! authentication attempt, and recognises planted passwords and keys.

pub mod client_hello;
mod handler;
mod hostkeys;
mod personality;
mod recording;
pub mod shell;
pub mod transport;

use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use russh::SshId;
use tokio::net::TcpStream;

use super::connection::Connection;
use super::counting::{ByteCounts, Counting};
use std::path::{Path, PathBuf};

use crate::config::{AcceptPolicy, SshDecoyConfig};
use crate::event::CloseReason;
pub use hostkeys::{key_dir, load_or_generate as load_host_keys};
pub use personality::{SshPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Everything an SSH decoy needs at run time, built once at start.
pub struct SshRuntime {
    pub server: Arc<russh::server::Config>,
    pub personality: Arc<SshPersonality>,
    pub accept: AcceptPolicy,
    /// Where session recordings go.
    pub recordings: PathBuf,
}

/// Builds the russh server configuration for a decoy and its host keys.
pub fn runtime(config: &SshDecoyConfig, keys: Vec<russh::keys::PrivateKey>, state_dir: &Path) -> SshRuntime {
    let personality = Arc::clone(&config.personality);
    let limits = &config.limits;
    let server = russh::server::Config {
        server_id: SshId::Standard(personality.banner.clone().into()),
        methods: personality.methods(),
        auth_rejection_time: personality.failure_delay(),
        // OpenSSH answers the client's initial `none` at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        preferred: personality.preferred(),
        // MaxAuthTries is enforced by the handler, after recording each attempt: russh's
        // own limit drops the request that crosses it without showing it to us.
        max_auth_attempts: 0,
        inactivity_timeout: Some(limits.idle_timeout),
        nodelay: true,
        ..Default::default()
    };
    SshRuntime {
        server: Arc::new(server),
        personality,
        accept: config.accept.clone(),
        recordings: state_dir.join("recordings").join(&config.name),
    }
}

/// Serves one SSH connection until the peer leaves or a limit ends it.
pub async fn handle(rt: Arc<SshRuntime>, stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let counts = Arc::new(ByteCounts::capturing(client_hello::CAPTURE_BYTES));
    let stream = Counting::new(stream, Arc::clone(&counts), limits.max_session_bytes);
    let hello = handler::HelloOnce { counts: Arc::clone(&counts), done: Default::default() };
    let session_handle = Arc::new(std::sync::OnceLock::new());
    let recording: handler::SharedRecording = Default::default();
    let handler = handler::SshHandler {
        recorder: conn.recorder(),
        rt: Arc::clone(&rt),
        methods: rt.personality.methods(),
        hello: hello.clone(),
        failures: 0,
        session: Arc::clone(&session_handle),
        shell: None,
        line: Vec::new(),
        pty: false,
        recording: Arc::clone(&recording),
    };
    let shutdown = conn.context().shutdown.clone();
    // LoginGraceTime: nobody is ever let in, so it bounds every connection.
    let grace = tokio::time::Instant::now() + Duration::from_secs(rt.personality.login_grace_seconds);
    let deadline = conn.deadline().min(grace);
    let session = async {
        match russh::server::run_stream(Arc::clone(&rt.server), stream, handler).await {
            Ok(running) => {
                let _ = session_handle.set(running.handle());
                running.await
            }
            Err(e) => Err(e),
        }
    };
    let reason = tokio::select! {
        r = session => match r {
            Ok(()) | Err(russh::Error::Disconnect | russh::Error::HUP) => CloseReason::PeerClosed,
            Err(russh::Error::IO(e)) if matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                CloseReason::PeerClosed
            }
            Err(russh::Error::InactivityTimeout | russh::Error::Elapsed(_) | russh::Error::ConnectionTimeout) => CloseReason::IdleTimeout,
            Err(_) if counts.read.load(Ordering::Relaxed) >= limits.max_session_bytes => CloseReason::MaxBytes,
            Err(russh::Error::IO(_)) => CloseReason::Error,
            Err(e) => {
                tracing::debug!(error = %e, "ssh protocol error");
                CloseReason::ProtocolError
            }
        },
        _ = shutdown.cancelled() => CloseReason::Shutdown,
        _ = tokio::time::sleep_until(deadline) => CloseReason::SessionTimeout,
    };
    hello.emit(&conn.recorder()).await;
    if let Some(closed) = handler::finish_recording(&recording) {
        conn.emit(closed).await;
    }
    conn.bytes_in = counts.read.load(Ordering::Relaxed);
    conn.bytes_out = counts.written.load(Ordering::Relaxed);
    conn.close(reason).await;
}
