//! The russh handler of an SSH decoy: records every authentication attempt (none,
//! password, public key offers) and rejects it with the full, never-shrinking list of
//! methods, as a real sshd does — unless the decoy's `accept:` lets it in, in which
//! case the fake shell answers (nothing is ever executed) and the session is recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use russh::keys::HashAlg;
use russh::server::{Auth, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodSet};

use super::client_hello;
use super::recording::Recording;
use super::shell::{self, ShellState};
use super::SshRuntime;
use crate::config::AcceptPolicy;
use crate::decoy::connection::Recorder;
use crate::decoy::counting::ByteCounts;
use crate::event::{AttackerBytes, EventKind, SshAuthMethod};
use crate::token::{MaterialKind, TokenState};

/// Largest recording kept per session.
const RECORDING_CAP_BYTES: u64 = 1 << 20;

/// One SSH connection's handler.
pub struct SshHandler {
    pub recorder: Recorder,
    pub rt: Arc<SshRuntime>,
    pub methods: MethodSet,
    pub hello: HelloOnce,
    pub failures: usize,
    /// The session's handle, set once the session runs (to disconnect it).
    pub session: Arc<std::sync::OnceLock<russh::server::Handle>>,
    /// Set once a login was accepted.
    pub shell: Option<ShellState>,
    pub line: Vec<u8>,
    /// A pty was requested: output gets CR LF line ends, as a terminal's ONLCR does.
    pub pty: bool,
    /// Shared with the connection task, which finishes it when the connection ends.
    pub recording: SharedRecording,
}

/// A session's recording, finished by whoever holds it last.
pub type SharedRecording = Arc<std::sync::Mutex<Option<Recording>>>;

/// Finishes the recording, if any, into its `ssh_session_closed` event.
pub fn finish_recording(recording: &SharedRecording) -> Option<EventKind> {
    let done = recording.lock().unwrap_or_else(|p| p.into_inner()).take()?.finish();
    Some(EventKind::SshSessionClosed { recording: done.path, sha256: done.sha256, bytes: done.bytes })
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
    async fn failed(&mut self) -> Auth {
        let jitter = self.rt.personality.failure_jitter_ms;
        if jitter > 0 {
            // On top of the fixed delay russh applies: real failures are not metronomic.
            tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(0..=jitter))).await;
        }
        self.failures += 1;
        if self.failures >= self.rt.personality.max_auth_tries {
            if let Some(handle) = self.session.get().cloned() {
                tokio::spawn(async move {
                    let _ = handle.disconnect(russh::Disconnect::ProtocolError, "Too many authentication failures".into(), String::new()).await;
                });
            }
        }
        self.reject()
    }

    /// True when `accept:` lets this material in (an active planted token).
    fn token_accepts(&self, kind: MaterialKind, value: &[u8]) -> bool {
        self.rt.accept == AcceptPolicy::Tokens
            && self.recorder.context().events.tokens().find(kind, value).is_some_and(|m| m.hit().state == TokenState::Active)
    }

    fn password_accepted(&self, user: &str, password: &str) -> bool {
        match &self.rt.accept {
            AcceptPolicy::Nobody => false,
            AcceptPolicy::Tokens => self.token_accepts(MaterialKind::Password, password.as_bytes()),
            AcceptPolicy::Credentials(list) => list.iter().any(|(u, p)| u == user && p == password),
        }
    }

    async fn record(&self, method: SshAuthMethod, user: &str, password: Option<&str>, key: Option<(String, String)>, accepted: bool) {
        self.hello.emit(&self.recorder).await;
        let (key_fingerprint, key_algorithm) = key.map_or((None, None), |(f, a)| (Some(f), Some(a)));
        let kind = EventKind::SshAuth { method, username: AttackerBytes::new(user), password: password.map(AttackerBytes::new), key_fingerprint, key_algorithm, accepted };
        self.recorder.emit(kind).await;
    }

    fn login(&mut self, user: &str) -> Auth {
        self.shell = Some(ShellState::login(user));
        Auth::Accept
    }

    /// Sends output to the client and the recording.
    fn send(&mut self, session: &mut Session, channel: ChannelId, text: &str) {
        let data = if self.pty { text.replace("\r\n", "\n").replace('\n', "\r\n") } else { text.to_string() };
        if let Some(r) = self.recording.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            r.output(data.as_bytes());
        }
        let _ = session.data(channel, data.into_bytes());
    }

    /// Runs one line in the fake shell; records it. Returns true when the shell exits.
    async fn run(&mut self, session: &mut Session, channel: ChannelId, line: &[u8], exec: bool) -> bool {
        self.recorder.emit(EventKind::SshCommand { line: AttackerBytes::new(line), exec }).await;
        let text = String::from_utf8_lossy(line).into_owned();
        let look = &self.rt.personality.shell;
        let Some(state) = self.shell.as_mut() else { return true };
        let outcome = shell::run_line(&text, state, look);
        let prompt = state.prompt(look);
        self.send(session, channel, &outcome.output);
        if outcome.exit {
            if !exec {
                self.send(session, channel, "logout\n");
            }
            return true;
        }
        if !exec {
            self.send(session, channel, &prompt);
        }
        false
    }

    fn end(&mut self, session: &mut Session, channel: ChannelId) {
        let _ = session.exit_status_request(channel, 0);
        let _ = session.eof(channel);
        let _ = session.close(channel);
    }
}

impl russh::server::Handler for SshHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        self.record(SshAuthMethod::None, user, None, None, false).await;
        Ok(self.reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let accepted = self.password_accepted(user, password);
        self.record(SshAuthMethod::Password, user, Some(password), None, accepted).await;
        Ok(if accepted { self.login(user) } else { self.failed().await })
    }

    async fn auth_keyboard_interactive<'a>(&'a mut self, user: &str, _submethods: &str, response: Option<russh::server::Response<'a>>) -> Result<Auth, Self::Error> {
        let Some(mut answers) = response else {
            // PAM's single prompt, as sshd with KbdInteractiveAuthentication yes asks it.
            return Ok(Auth::Partial { name: "".into(), instructions: "".into(), prompts: vec![("Password: ".into(), false)].into() });
        };
        let answer = answers.next().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let accepted = self.password_accepted(user, &answer);
        self.record(SshAuthMethod::KeyboardInteractive, user, Some(&answer), None, accepted).await;
        Ok(if accepted { self.login(user) } else { self.failed().await })
    }

    async fn auth_publickey_offered(&mut self, user: &str, offer: PublicKeyOffer<'_>) -> Result<Auth, Self::Error> {
        let fingerprint = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        let accepted = self.token_accepts(MaterialKind::KeyFingerprint, fingerprint.as_bytes());
        self.record(SshAuthMethod::Publickey, user, None, Some((fingerprint, offer.algorithm.to_string())), accepted).await;
        // Refused on the offer (no signature asked for) unless a planted key may log in.
        Ok(if accepted { Auth::Accept } else { self.failed().await })
    }

    async fn auth_publickey(&mut self, user: &str, key: VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        let fingerprint = key.public_key.fingerprint(HashAlg::Sha256).to_string();
        if self.token_accepts(MaterialKind::KeyFingerprint, fingerprint.as_bytes()) {
            return Ok(self.login(user));
        }
        Ok(self.failed().await)
    }

    async fn channel_open_session(&mut self, _channel: Channel<Msg>, reply: russh::server::ChannelOpenHandle, _session: &mut Session) -> Result<(), Self::Error> {
        if self.shell.is_some() {
            let name = self.recorder.event(EventKind::ConnectionOpened).session.map(|s| s.to_string()).unwrap_or_default();
            let mut recording = self.recording.lock().unwrap_or_else(|p| p.into_inner());
            if recording.is_none() {
                *recording = Recording::create(&self.rt.recordings, &name, 80, 24, RECORDING_CAP_BYTES).ok();
            }
        }
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.pty = true;
        let _ = session.channel_success(channel);
        Ok(())
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        let _ = session.channel_success(channel);
        let look = &self.rt.personality.shell;
        let greeting = format!("{}{}", look.motd, self.shell.as_ref().map(|s| s.prompt(look)).unwrap_or_default());
        self.send(session, channel, &greeting);
        Ok(())
    }

    async fn exec_request(&mut self, channel: ChannelId, data: &[u8], session: &mut Session) -> Result<(), Self::Error> {
        let _ = session.channel_success(channel);
        let line = data[..data.len().min(shell::MAX_LINE)].to_vec();
        self.run(session, channel, &line, true).await;
        self.end(session, channel);
        Ok(())
    }

    #[allow(clippy::collapsible_match)] // backspace on an empty line must not fall through to "printable"
    async fn data(&mut self, channel: ChannelId, data: &[u8], session: &mut Session) -> Result<(), Self::Error> {
        if let Some(r) = self.recording.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            r.input(data);
        }
        for &b in data {
            match b {
                b'\r' | b'\n' => {
                    self.send(session, channel, "\n");
                    let line = std::mem::take(&mut self.line);
                    if self.run(session, channel, &line, false).await {
                        self.end(session, channel);
                        return Ok(());
                    }
                }
                0x7f | 0x08 => {
                    // Backspace: erase one character on screen, as readline does.
                    if self.line.pop().is_some() {
                        let _ = session.data(channel, b"\x08 \x08".to_vec());
                    }
                }
                0x03 => {
                    self.line.clear();
                    let prompt = self.shell.as_ref().map(|s| s.prompt(&self.rt.personality.shell)).unwrap_or_default();
                    self.send(session, channel, &format!("^C\n{prompt}"));
                }
                0x04 if self.line.is_empty() => {
                    self.send(session, channel, "logout\n");
                    self.end(session, channel);
                    return Ok(());
                }
                b if b >= 0x20 && self.line.len() < shell::MAX_LINE => {
                    self.line.push(b);
                    let _ = session.data(channel, vec![b]);
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn subsystem_request(&mut self, channel: ChannelId, name: &str, session: &mut Session) -> Result<(), Self::Error> {
        // SFTP and friends are refused: nothing is ever written from input.
        self.recorder.emit(EventKind::SshRequestRefused { request: "subsystem".into(), target: AttackerBytes::new(name) }).await;
        let _ = session.channel_failure(channel);
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let target = AttackerBytes::new(format!("{host_to_connect}:{port_to_connect}"));
        self.recorder.emit(EventKind::SshRequestRefused { request: "direct-tcpip".into(), target }).await;
        reply.reject(russh::ChannelOpenFailure::AdministrativelyProhibited).await;
        Ok(())
    }

    async fn tcpip_forward(&mut self, address: &str, port: &mut u32, _session: &mut Session) -> Result<bool, Self::Error> {
        let target = AttackerBytes::new(format!("{address}:{port}"));
        self.recorder.emit(EventKind::SshRequestRefused { request: "tcpip-forward".into(), target }).await;
        Ok(false)
    }
}
