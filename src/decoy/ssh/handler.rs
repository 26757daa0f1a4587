//! The russh handler of an SSH decoy: records every authentication attempt (none,
//! password, public key offers) and rejects it with the full, never-shrinking list of
//! methods, as a real sshd does.

use russh::keys::HashAlg;
use russh::server::{Auth, PublicKeyOffer};
use russh::MethodSet;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::client_hello;
use crate::decoy::connection::Recorder;
use crate::decoy::counting::ByteCounts;
use crate::event::{AttackerBytes, EventKind, SshAuthMethod};

/// One SSH connection's handler.
pub struct SshHandler {
    pub recorder: Recorder,
    pub methods: MethodSet,
    pub hello: HelloOnce,
    /// MaxAuthTries: after this many failed password/key attempts, disconnect.
    pub max_auth_tries: usize,
    pub failures: usize,
    /// The session's handle, set once the session runs (to disconnect it).
    pub session: Arc<std::sync::OnceLock<russh::server::Handle>>,
}

/// Emits the client's `ssh_client` event once per connection: at the first
/// authentication request, or at close for clients that never get that far.
#[derive(Clone)]
pub struct HelloOnce {
    pub counts: Arc<ByteCounts>,
    pub done: Arc<AtomicBool>,
}

impl HelloOnce {
    /// Records the client hello if it has been seen and not yet recorded.
    pub async fn emit(&self, recorder: &Recorder) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        if let Some(h) = client_hello::parse(&self.counts.first_bytes()) {
            if !self.done.swap(true, Ordering::Relaxed) {
                let kind = EventKind::SshClient { version: AttackerBytes::new(h.version), hassh: h.hassh, algorithms: AttackerBytes::new(h.algorithms) };
                recorder.emit(kind).await;
            }
        }
    }
}

impl SshHandler {
    fn reject(&self) -> Auth {
        Auth::Reject { proceed_with_methods: Some(self.methods.clone()), partial_success: false }
    }

    /// Counts a failed attempt; at MaxAuthTries disconnects the way sshd does, after
    /// the attempt has been recorded (so no attempt is ever lost).
    fn failed(&mut self) -> Auth {
        self.failures += 1;
        if self.failures >= self.max_auth_tries {
            if let Some(handle) = self.session.get().cloned() {
                tokio::spawn(async move {
                    let _ = handle.disconnect(russh::Disconnect::ProtocolError, "Too many authentication failures".into(), String::new()).await;
                });
            }
        }
        self.reject()
    }

    async fn record(&self, method: SshAuthMethod, user: &str, password: Option<&str>, key: Option<(String, String)>) {
        self.hello.emit(&self.recorder).await;
        let (key_fingerprint, key_algorithm) = key.map_or((None, None), |(f, a)| (Some(f), Some(a)));
        self.recorder
            .emit(EventKind::SshAuth {
                method,
                username: AttackerBytes::new(user),
                password: password.map(AttackerBytes::new),
                key_fingerprint,
                key_algorithm,
                accepted: false,
            })
            .await;
    }
}

impl russh::server::Handler for SshHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        self.record(SshAuthMethod::None, user, None, None).await;
        Ok(self.reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.record(SshAuthMethod::Password, user, Some(password), None).await;
        Ok(self.failed())
    }

    async fn auth_publickey_offered(&mut self, user: &str, offer: PublicKeyOffer<'_>) -> Result<Auth, Self::Error> {
        // Recorded and refused on the offer: no signature is ever asked for.
        let fingerprint = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        self.record(SshAuthMethod::Publickey, user, None, Some((fingerprint, offer.algorithm.to_string()))).await;
        Ok(self.failed())
    }
}
