//! The web console: incidents, tokens, decoy and sensor health, sinks, and `/metrics`,
//! served by `run`, `sensor` and `controller` on loopback (`console:` section).
//! Server-rendered HTML (minijinja, auto-escaped, attacker text made visible), one
//! small script for passkeys, sign-in with passkeys (optionally a password), a
//! one-time sign-up link at first start, CSRF tokens on every form.

mod accounts;
pub mod cbor;
mod decoy_page;
mod exports;
mod guard;
mod http;
mod incident_list;
mod incident_page;
mod metrics;
mod overview;
mod pages;
mod replay;
mod routes;
mod timeline;
mod token_pages;
pub mod webauthn;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::config::{Config, ConsoleConfig};
use crate::decoy::ConnectionGate;
use crate::shutdown::Shutdown;
pub use accounts::{valid_name as valid_account_name, Accounts};
pub use pages::password_hash;

/// A decoy of this process, for the health page and `/metrics`.
#[derive(Clone)]
pub struct DecoyHandle {
    pub name: String,
    pub kind: &'static str,
    pub addr: SocketAddr,
    pub gate: ConnectionGate,
}

/// What a pending WebAuthn ceremony is for.
#[derive(Debug, Clone)]
enum Purpose {
    SignIn,
    Enrol { invite: String },
}

struct Pending {
    challenge: [u8; 32],
    purpose: Purpose,
    expires: Instant,
    source: std::net::IpAddr,
}

/// Most ceremonies waiting at once (anyone can start one); a full table refuses more.
const MAX_PENDING: usize = 1024;
/// Most ceremonies one address may have waiting (a person needs one at a time).
const MAX_PENDING_PER_SOURCE: usize = 8;
/// Most sign-ups waiting at once: they have their own share, so a flood of sign-in
/// starts cannot keep a new analyst from registering, nor the other way round.
const MAX_PENDING_SIGNUPS: usize = 64;
const CEREMONY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the first sign-up link printed at start works.
pub const INVITE_VALID: Duration = Duration::from_secs(24 * 3600);

/// The console's shared state.
pub struct Console {
    pub cfg: ConsoleConfig,
    pub config: Arc<Config>,
    pub decoys: Vec<DecoyHandle>,
    rp: webauthn::RelyingParty,
    pending: Mutex<HashMap<String, Pending>>,
    templates: minijinja::Environment<'static>,
    guard: guard::Guard,
    /// The incidents whose pages were read last.
    digests: incident_page::Digests,
}

impl Console {
    fn new(config: Arc<Config>, cfg: ConsoleConfig, port: u16, decoys: Vec<DecoyHandle>) -> Self {
        let rp = webauthn::RelyingParty { id: cfg.rp_id(), origin: cfg.origin(port) };
        Console {
            rp,
            cfg,
            config,
            decoys,
            pending: Mutex::new(HashMap::new()),
            templates: pages::environment(),
            guard: guard::Guard::default(),
            digests: Default::default(),
        }
    }

    /// Starts a ceremony for `source`; `None` when too many are pending (in all, from
    /// that address, or sign-ups).
    fn begin(&self, purpose: Purpose, source: std::net::IpAddr) -> Option<(String, [u8; 32])> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        p.retain(|_, v| v.expires > now);
        let signup = matches!(purpose, Purpose::Enrol { .. });
        let (mine, signups) =
            p.values().fold((0, 0), |(m, s), v| (m + usize::from(v.source == source), s + usize::from(matches!(v.purpose, Purpose::Enrol { .. }))));
        let (others, full) = if signup { (signups, MAX_PENDING_SIGNUPS) } else { (p.len() - signups, MAX_PENDING - MAX_PENDING_SIGNUPS) };
        if others >= full || mine >= MAX_PENDING_PER_SOURCE {
            return None;
        }
        let id = accounts::random_secret();
        let challenge: [u8; 32] = rand::random();
        p.insert(id.clone(), Pending { challenge, purpose, expires: now + CEREMONY_TIMEOUT, source });
        Some((id, challenge))
    }

    /// Ends a ceremony (once: a challenge is never accepted twice).
    fn finish(&self, id: &str) -> Option<([u8; 32], Purpose)> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let v = p.remove(id)?;
        (v.expires > Instant::now()).then_some((v.challenge, v.purpose))
    }
}

/// Binds the console's address (with the decoys', before anything starts).
pub async fn bind(cfg: &ConsoleConfig) -> Result<TcpListener, ConsoleError> {
    TcpListener::bind(cfg.listen).await.map_err(|cause| ConsoleError::Bind { addr: cfg.listen, cause })
}

/// Hands the first-start sign-up link to the operator, never to a log shipper: on the
/// terminal when standard error is one, otherwise in `STATE_DIR/console-invite.txt`
/// (mode 0600), with only the file's name in the log.
fn hand_over_invite(link: &str, state_dir: &std::path::Path) -> Result<(), ConsoleError> {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("console: no account yet. Sign up as `admin` within 24 h, once, at {link}");
        return Ok(());
    }
    let path = state_dir.join(INVITE_FILE);
    crate::state_file::replace(&path, format!("{link}\n").as_bytes(), 0o600)?;
    tracing::warn!(
        "console: no account yet. The one-time sign-up link for `admin` (valid 24 h) is in {} (mode 0600); delete the file once used",
        path.display()
    );
    Ok(())
}

/// Where the first-start sign-up link is written when there is no terminal.
pub const INVITE_FILE: &str = "console-invite.txt";

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("console: cannot listen on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: std::io::Error },
    #[error("no `console:` section")]
    NotConfigured,
    #[error("console accounts: {0}")]
    Accounts(#[from] accounts::AccountsError),
    #[error("console set-up interrupted: {0}")]
    Interrupted(#[from] tokio::task::JoinError),
    #[error("console sign-up link: {0}")]
    State(#[from] crate::state_file::StateFileError),
}

/// Prints where the console is (and a sign-up link when there is no account yet) and
/// serves it until shutdown.
pub async fn start(
    listener: TcpListener,
    config: Arc<Config>,
    decoys: Vec<DecoyHandle>,
    shutdown: Shutdown,
    tasks: &tokio_util::task::TaskTracker,
) -> Result<SocketAddr, ConsoleError> {
    let Some(cfg) = config.console.clone() else { return Err(ConsoleError::NotConfigured) };
    let addr = listener.local_addr().map_err(|cause| ConsoleError::Bind { addr: cfg.listen, cause })?;
    let store = config.store.path.clone();
    let origin = cfg.origin(addr.port());
    let invite = tokio::task::spawn_blocking(move || -> Result<Option<String>, ConsoleError> {
        let a = Accounts::open(&store)?;
        Ok(if a.count()? == 0 { Some(a.invite("admin", INVITE_VALID)?) } else { None })
    })
    .await??;
    tracing::info!(%addr, "console listening on {addr} (open {origin})");
    if let Some(secret) = invite {
        hand_over_invite(&format!("{origin}/enrol?invite={secret}"), &config.store.state_dir)?;
    }
    let console = Arc::new(Console::new(config, cfg, addr.port(), decoys));
    tasks.spawn(routes::serve(listener, console, shutdown));
    Ok(addr)
}
