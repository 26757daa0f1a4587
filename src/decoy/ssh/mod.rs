//! The `ssh` decoy: passes for the SSH server its personality names (OpenSSH or
//! Dropbear, byte for byte on the wire, with the real server's timing), records every
//! authentication attempt, and recognises planted passwords and keys. The transport
//! is our own ([`transport`]): no library offers what the real servers offer.

pub(crate) mod auth;
mod channel;
pub mod client_hello;
pub mod delay;
mod hostkeys;
mod personality;
mod recording;
mod session;
pub mod shell;
pub mod startups;
pub mod transport;
pub(crate) mod userkey;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpStream;

use super::connection::Connection;
use crate::config::{AcceptPolicy, SshDecoyConfig};
pub use hostkeys::{key_dir, load_or_generate as load_host_keys};
pub use personality::{AuthMethod, ShellLook, SshPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};

/// Where OpenSSH reads its group-exchange primes on Debian.
pub const MODULI_FILE: &str = "/etc/ssh/moduli";

/// Everything an SSH decoy needs at run time, built once at start.
pub struct SshRuntime {
    pub personality: Arc<SshPersonality>,
    pub accept: AcceptPolicy,
    /// Where session recordings go.
    pub recordings: PathBuf,
    pub host_keys: Arc<transport::hostkey::HostKeys>,
    pub moduli: Arc<transport::kex::dh::Moduli>,
    pub delay: delay::DelayModel,
    pub startups: startups::Startups,
}

/// Builds a decoy's runtime from its configuration and host keys.
pub fn runtime(
    config: &SshDecoyConfig,
    personality: Arc<SshPersonality>,
    keys: &[ssh_key::PrivateKey],
    state_dir: &Path,
) -> Result<SshRuntime, super::SetupError> {
    Ok(SshRuntime {
        accept: config.accept.clone(),
        recordings: state_dir.join("recordings").join(&config.name),
        host_keys: Arc::new(transport::hostkey::HostKeys::new(keys)?),
        moduli: Arc::new(transport::kex::dh::Moduli::load(Path::new(MODULI_FILE))),
        delay: delay::DelayModel::new(personality.failure_delay.clone()),
        startups: startups::Startups::new(personality.unauthenticated.clone()),
        personality,
    })
}

/// Serves one SSH connection until the peer leaves or a limit ends it.
pub async fn handle(rt: Arc<SshRuntime>, stream: TcpStream, conn: Connection) {
    session::serve(rt, stream, conn).await
}
