//! The `ssh` decoy: passes for a stock OpenSSH server (personality), records every
//! authentication attempt, and recognises planted passwords and keys.

mod client_hello;
mod handler;
mod hostkeys;
mod personality;

use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use russh::SshId;
use tokio::net::TcpStream;

use super::connection::Connection;
use super::counting::{ByteCounts, Counting};
use crate::config::ConnectionLimits;
use crate::event::CloseReason;
pub use hostkeys::{key_dir, load_or_generate as load_host_keys};
pub use personality::{SshPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Everything an SSH decoy needs at run time, built once at start.
pub struct SshRuntime {
    pub server: Arc<russh::server::Config>,
    pub personality: Arc<SshPersonality>,
}

/// Builds the russh server configuration for a personality and its host keys.
pub fn runtime(personality: Arc<SshPersonality>, keys: Vec<russh::keys::PrivateKey>, limits: &ConnectionLimits) -> SshRuntime {
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
    SshRuntime { server: Arc::new(server), personality }
}

/// Serves one SSH connection until the peer leaves or a limit ends it.
pub async fn handle(rt: Arc<SshRuntime>, stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let counts = Arc::new(ByteCounts::capturing(client_hello::CAPTURE_BYTES));
    let stream = Counting::new(stream, Arc::clone(&counts), limits.max_session_bytes);
    let hello = handler::HelloOnce { counts: Arc::clone(&counts), done: Default::default() };
    let session_handle = Arc::new(std::sync::OnceLock::new());
    let handler = handler::SshHandler {
        recorder: conn.recorder(),
        methods: rt.personality.methods(),
        hello: hello.clone(),
        max_auth_tries: rt.personality.max_auth_tries,
        failures: 0,
        session: Arc::clone(&session_handle),
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
    conn.bytes_in = counts.read.load(Ordering::Relaxed);
    conn.bytes_out = counts.written.load(Ordering::Relaxed);
    conn.close(reason).await;
}
