//! One SSH connection end to end: the imitated server's limit on unauthenticated
//! connections, the transport, authentication exactly as that server answers it
//! (every attempt recorded before it is answered), and — only for a login the
//! decoy's `accept:` lets in — the fake shell of [`super::channel`].

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::auth::{self, Acceptance, AuthState, Decision, Method, Request};
use super::channel;
use super::delay::{unix_second, Attempt};
use super::startups::Startup;
use super::transport::conn::{Ending, Transport};
use super::transport::io::Io;
use super::transport::msg;
use super::transport::version::Family;
use super::transport::wire::{Put, Reader};
#[cfg(test)]
use super::SshPersonality;
use super::{client_hello, SshRuntime};
use crate::config::AcceptPolicy;
use crate::decoy::connection::{Connection, Recorder};
use crate::event::{AttackerBytes, CloseReason, EventKind, SshAuthMethod};
use crate::token::{MaterialKind, TokenState};

/// Bytes of the client's algorithm lists kept in the `ssh_client` event.
const MAX_RECORDED_ALGORITHMS: usize = 8 * 1024;

/// Methods kept in `methods_tried` (a brute-forcer may send a thousand requests).
const MAX_METHODS_RECORDED: usize = 16;

/// How a connection ended, for the close event and what is sent last.
struct End {
    reason: CloseReason,
    /// The DISCONNECT text the imitated server sends (only OpenSSH sends any).
    notice: Option<String>,
}

impl End {
    fn from_ending(e: Ending, limit: bool) -> Self {
        match e {
            Ending::PeerClosed => End { reason: CloseReason::PeerClosed, notice: None },
            Ending::Cap => End { reason: CloseReason::MaxBytes, notice: None },
            Ending::Io(_) => End { reason: CloseReason::Error, notice: None },
            Ending::BadIdentification => End { reason: CloseReason::ProtocolError, notice: None },
            Ending::Protocol { notice } => End { reason: if limit { CloseReason::MaxAuthTries } else { CloseReason::ProtocolError }, notice },
        }
    }
}

/// What the authentication phase of one connection keeps.
pub(super) struct Session {
    pub rt: Arc<SshRuntime>,
    pub recorder: Recorder,
    auth: AuthState,
    /// Methods tried so far, in order (recorded with each attempt).
    methods_tried: Vec<&'static str>,
    /// Key blobs already offered (a signed request for one is the same attempt).
    offered: Vec<Vec<u8>>,
    service_accepted: bool,
    /// A keyboard-interactive prompt is waiting for its answer (user name kept).
    pending_info: Option<Vec<u8>>,
    client_recorded: bool,
    /// The personality offers keyboard-interactive (sshd's single PAM prompt).
    keyboard_interactive: bool,
    /// Set when the limit of failures ended the connection.
    limit_reached: bool,
    /// The logged-in session's recording.
    pub recording: Option<Box<super::recording::Recording>>,
}

/// Serves one SSH connection until the peer leaves or a limit ends it.
pub async fn serve(rt: Arc<SshRuntime>, stream: TcpStream, mut conn: Connection) {
    let family = rt.personality.profile.family;
    // Futures that only run at the start or the end are boxed, so that what every
    // held connection keeps (this future) stays small.
    let Some(mut startup) = rt.startups.admit(conn.recorder().source().ip()) else {
        Box::pin(refuse_startup(stream, family)).await;
        Box::pin(conn.close(CloseReason::MaxStartups)).await;
        return;
    };
    let limits = conn.context().limits;
    let io = Io::new(stream, limits.max_session_bytes);
    let mut t = Transport::new(io, Arc::clone(&rt.personality.profile), Arc::clone(&rt.host_keys), Arc::clone(&rt.moduli));
    let keyboard_interactive = family == Family::Openssh && rt.personality.auth_methods.contains(&super::personality::AuthMethod::KeyboardInteractive);
    let mut s = Session {
        auth: AuthState::new(family, rt.personality.max_auth_tries, keyboard_interactive),
        keyboard_interactive,
        rt: Arc::clone(&rt),
        recorder: conn.recorder(),
        methods_tried: Vec::new(),
        offered: Vec::new(),
        service_accepted: false,
        pending_info: None,
        client_recorded: false,
        limit_reached: false,
        recording: None,
    };
    let shutdown = conn.context().shutdown.clone();
    // LoginGraceTime bounds everything before authentication (the real server has no
    // other pre-auth timeout); the decoy's session deadline bounds the whole connection.
    let grace = Instant::now() + Duration::from_secs(rt.personality.login_grace_seconds);
    let deadline = conn.deadline();
    let run = async {
        let pre_auth = async {
            t.handshake().await?;
            Box::pin(s.record_client(&t)).await;
            Box::pin(s.authenticate(&mut t, &mut startup)).await
        };
        let user = match tokio::time::timeout_at(grace.min(deadline), pre_auth).await {
            Ok(Ok(user)) => user,
            Ok(Err(e)) => return End::from_ending(e, s.limit_reached),
            Err(_) => return End { reason: CloseReason::SessionTimeout, notice: None },
        };
        match Box::pin(channel::serve(
            &mut t,
            &mut channel::Logged { rt: &s.rt, recorder: &s.recorder, recording: &mut s.recording },
            &user,
            limits.idle_timeout,
        ))
        .await
        {
            Ok(reason) => End { reason, notice: None },
            Err(e) => End::from_ending(e, false),
        }
    };
    let end = tokio::select! {
        end = run => end,
        _ = shutdown.cancelled() => End { reason: CloseReason::Shutdown, notice: None },
        _ = tokio::time::sleep_until(deadline) => End { reason: CloseReason::SessionTimeout, notice: None },
    };
    Box::pin(s.record_client(&t)).await;
    if let Some(closed) = channel::finish_recording(&mut s.recording) {
        Box::pin(conn.emit(closed)).await;
    }
    conn.bytes_in = t.io.bytes_in;
    conn.bytes_out = t.io.bytes_out;
    Box::pin(t.close(end.notice.as_deref())).await;
    Box::pin(conn.close(end.reason)).await;
}

/// What a connection dropped by MaxStartups sees: OpenSSH writes one line and closes
/// (before any banner); Dropbear closes without a byte.
async fn refuse_startup(stream: TcpStream, family: Family) {
    let mut io = Io::new(stream, 0);
    if family == Family::Openssh {
        io.queue_raw(b"Exceeded MaxStartups\r\n");
    }
    io.close(false).await;
}

impl Session {
    /// Records the client's identification, HASSH and what it negotiated, once.
    async fn record_client(&mut self, t: &Transport) {
        if self.client_recorded || t.client.version.is_empty() || t.client.hassh_input.is_empty() {
            return;
        }
        self.client_recorded = true;
        let negotiated = t.client.negotiated.map(|n| {
            format!("{} {} {} {} {}", n.kex.name(), n.host_key.name(), n.c2s.cipher.name(), n.c2s.mac.map_or("-", |m| m.name()), n.c2s.compression.name())
        });
        // The HASSH covers the whole lists; the event keeps their first 8 KiB (a client
        // may send a KEXINIT of 256 KiB).
        let hassh = client_hello::hassh(&t.client.hassh_input);
        let algorithms = &t.client.hassh_input[..t.client.hassh_input.len().min(MAX_RECORDED_ALGORITHMS)];
        let kind =
            EventKind::SshClient { version: AttackerBytes::new(t.client.version.clone()), hassh, algorithms: AttackerBytes::new(algorithms), negotiated };
        self.recorder.emit(kind).await;
    }

    /// Runs authentication until a login is accepted (returning the user name) or the
    /// connection ends.
    async fn authenticate(&mut self, t: &mut Transport, startup: &mut Startup) -> Result<Vec<u8>, Ending> {
        let family = t.family();
        loop {
            let payload = t.next().await?;
            let received = Instant::now();
            let kind = payload.first().copied().unwrap_or(0);
            match kind {
                msg::SERVICE_REQUEST => self.service_request(t, &payload).await?,
                msg::USERAUTH_REQUEST if self.service_accepted || family == Family::Dropbear => {
                    if let Some(user) = self.userauth(t, &payload, received).await? {
                        t.queue(&[msg::USERAUTH_SUCCESS]);
                        t.authenticated();
                        t.queue_ext_info_after_auth();
                        startup.release();
                        if family == Family::Openssh {
                            t.queue(&hostkeys_announcement(&t.host_key_blobs()));
                        }
                        t.flush().await?;
                        return Ok(user);
                    }
                }
                msg::USERAUTH_INFO_RESPONSE if self.pending_info.is_some() => {
                    if let Some(user) = self.info_response(t, &payload, received).await? {
                        t.queue(&[msg::USERAUTH_SUCCESS]);
                        t.authenticated();
                        startup.release();
                        t.flush().await?;
                        return Ok(user);
                    }
                }
                other => t.reject_unexpected(other).await?,
            }
        }
    }

    async fn service_request(&mut self, t: &mut Transport, payload: &[u8]) -> Result<(), Ending> {
        let mut r = Reader::new(payload);
        let _ = r.u8();
        let name = r.string().map_err(|_| Ending::Protocol { notice: None })?;
        if name != b"ssh-userauth" {
            let notice = (t.family() == Family::Openssh).then(|| format!("bad service request {}", String::from_utf8_lossy(name)));
            return Err(Ending::Protocol { notice });
        }
        self.service_accepted = true;
        let mut reply = vec![msg::SERVICE_ACCEPT];
        reply.put_string(b"ssh-userauth");
        // Sent with whatever else is answered before the next read.
        t.queue(&reply);
        Ok(())
    }

    /// True when `accept:` lets this secret in (an active planted token, or a listed
    /// credential).
    fn accepts(&self, kind: MaterialKind, user: &[u8], secret: &[u8]) -> bool {
        match &self.rt.accept {
            AcceptPolicy::Nobody => false,
            AcceptPolicy::Tokens => self.recorder.context().events.tokens().find(kind, secret).is_some_and(|m| m.hit().state == TokenState::Active),
            AcceptPolicy::Credentials(list) => kind == MaterialKind::Password && list.iter().any(|(u, p)| u.as_bytes() == user && p.as_bytes() == secret),
        }
    }

    async fn record(&mut self, method: SshAuthMethod, user: &[u8], password: Option<&[u8]>, key: Option<(String, String)>, accepted: bool) {
        let (key_fingerprint, key_algorithm) = key.map_or((None, None), |(f, a)| (Some(f), Some(a)));
        let methods_tried = Some(self.methods_tried.join(","));
        let kind = EventKind::SshAuth {
            method,
            username: AttackerBytes::new(user),
            password: password.map(AttackerBytes::new),
            key_fingerprint,
            key_algorithm,
            accepted,
            methods_tried,
        };
        self.recorder.emit(kind).await;
    }

    /// One USERAUTH_REQUEST: recorded, judged, answered after the imitated delay.
    async fn userauth(&mut self, t: &mut Transport, payload: &[u8], received: Instant) -> Result<Option<Vec<u8>>, Ending> {
        let req = auth::parse(payload).map_err(|_| Ending::Protocol { notice: None })?;
        if let Method::Publickey { hostbound: Some(h), .. } = &req.method {
            if *h != t.host_key_blob.as_slice() {
                return Err(Ending::Protocol { notice: None });
            }
        }
        // The order of the first methods tells clients apart; later ones add nothing.
        if self.methods_tried.len() < MAX_METHODS_RECORDED {
            self.methods_tried.push(req.method.name());
        }
        let acceptance = self.acceptance(t, &req).await;
        let decision = self.auth.judge(&req, acceptance);
        match decision {
            Decision::Close(notice) => Err(Ending::Protocol { notice }),
            Decision::PkOk | Decision::InfoRequest => {
                let reply = match &req.method {
                    Method::Publickey { algorithm, blob, .. } => {
                        let mut p = vec![msg::USERAUTH_60];
                        p.put_string(algorithm);
                        p.put_string(blob);
                        p
                    }
                    _ => info_request(),
                };
                t.send(&reply).await?;
                // sshd's per-user minimum applies after the reply it sends in the handler.
                if t.family() == Family::Openssh {
                    tokio::time::sleep_until(received + self.rt.delay.failure(self.auth.first_user(), Attempt::Other, unix_second())).await;
                }
                Ok(None)
            }
            decision => self.answer(t, decision, received).await,
        }
    }

    /// Decides acceptance and records the attempt (a keyboard-interactive request is
    /// recorded with its answer, a signed key request only if not offered before).
    async fn acceptance(&mut self, t: &Transport, req: &Request<'_>) -> Acceptance {
        match &req.method {
            Method::None => {
                self.record(SshAuthMethod::None, req.user, None, None, false).await;
                Acceptance::No
            }
            Method::Password { password, .. } => {
                let yes = self.accepts(MaterialKind::Password, req.user, password);
                self.record(SshAuthMethod::Password, req.user, Some(password), None, yes).await;
                if yes {
                    Acceptance::Yes
                } else {
                    Acceptance::No
                }
            }
            Method::Publickey { algorithm, blob, hostbound, signature } => {
                let fingerprint = super::userkey::fingerprint(blob);
                let planted = fingerprint.as_deref().is_some_and(|f| self.accepts(MaterialKind::KeyFingerprint, req.user, f.as_bytes()));
                let verdict = match signature {
                    None if planted => Acceptance::KeyOk,
                    Some(sig) if planted && super::userkey::verify(t.session_id(), req, algorithm, blob, *hostbound, sig) => Acceptance::Yes,
                    _ => Acceptance::No,
                };
                let first_offer = !self.offered.iter().any(|b| b == blob);
                if first_offer {
                    self.offered.push(blob.to_vec());
                    let key = fingerprint.map(|f| (f, String::from_utf8_lossy(algorithm).into_owned()));
                    self.record(SshAuthMethod::Publickey, req.user, None, key, verdict != Acceptance::No).await;
                }
                verdict
            }
            Method::KeyboardInteractive if self.keyboard_interactive => {
                // Recorded with the answer to the prompt.
                self.pending_info = Some(req.user.to_vec());
                Acceptance::No
            }
            Method::KeyboardInteractive => {
                self.record(SshAuthMethod::KeyboardInteractive, req.user, None, None, false).await;
                Acceptance::No
            }
            Method::Other(_) => {
                self.record(SshAuthMethod::None, req.user, None, None, false).await;
                Acceptance::No
            }
        }
    }

    /// Carries out a decision. `Ok(Some(user))` on success.
    async fn answer(&mut self, t: &mut Transport, decision: Decision, received: Instant) -> Result<Option<Vec<u8>>, Ending> {
        let delay = |attempt| self.rt.delay.failure(self.auth.first_user(), attempt, unix_second());
        match decision {
            Decision::Success => Ok(Some(self.auth.first_user().to_vec())),
            Decision::PkOk | Decision::InfoRequest => Ok(None),
            Decision::Failure(attempt) => {
                tokio::time::sleep_until(received + delay(attempt)).await;
                t.queue(&self.failure_message());
                Ok(None)
            }
            Decision::LimitReached(attempt, text) => {
                tokio::time::sleep_until(received + delay(attempt)).await;
                self.limit_reached = true;
                Err(Ending::Protocol { notice: Some(text.to_string()) })
            }
            Decision::Close(notice) => Err(Ending::Protocol { notice }),
        }
    }

    fn failure_message(&self) -> Vec<u8> {
        let mut p = vec![msg::USERAUTH_FAILURE];
        p.put_name_list(&self.rt.personality.method_list());
        p.put_bool(false);
        p
    }

    /// The answer to a keyboard-interactive prompt.
    async fn info_response(&mut self, t: &mut Transport, payload: &[u8], received: Instant) -> Result<Option<Vec<u8>>, Ending> {
        let user = self.pending_info.take().unwrap_or_default();
        let mut r = Reader::new(payload);
        let _ = r.u8();
        let count = r.u32().map_err(|_| Ending::Protocol { notice: None })?;
        let answer = if count > 0 { r.string().map_err(|_| Ending::Protocol { notice: None })?.to_vec() } else { Vec::new() };
        let yes = self.accepts(MaterialKind::Password, &user, &answer);
        self.record(SshAuthMethod::KeyboardInteractive, &user, Some(&answer), None, yes).await;
        if yes {
            return Ok(Some(user));
        }
        let decision = self.auth.info_response_failed();
        self.answer(t, decision, received).await
    }
}

/// PAM's single password prompt as sshd relays it (name, instruction and language
/// empty; one prompt, not echoed).
fn info_request() -> Vec<u8> {
    let mut p = vec![msg::USERAUTH_60];
    p.put_string(b"");
    p.put_string(b"");
    p.put_string(b"");
    p.put_u32(1);
    p.put_string(b"Password: ");
    p.put_bool(false);
    p
}

/// OpenSSH's `hostkeys-00@openssh.com` after a login: every host key blob, no reply wanted.
fn hostkeys_announcement(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut p = vec![msg::GLOBAL_REQUEST];
    p.put_string(b"hostkeys-00@openssh.com");
    p.put_bool(false);
    for b in blobs {
        p.put_string(b);
    }
    p
}

#[cfg(test)]
mod size_probe {
    fn future_size<A, B, C, F: std::future::Future>(_f: fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[tokio::test]
    async fn print_sizes() {
        use super::*;
        eprintln!("Transport {}", std::mem::size_of::<Transport>());
        eprintln!("Session {}", std::mem::size_of::<Session>());
        eprintln!("Connection {}", std::mem::size_of::<Connection>());
        eprintln!("Recorder {}", std::mem::size_of::<Recorder>());
        eprintln!("serve future {}", future_size(serve));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = tokio::net::TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let p = SshPersonality::built_in("openssh-debian12").unwrap().unwrap();
        let mut t = Transport::new(Io::new(c, 1), Arc::clone(&p.profile), Arc::default(), Arc::default());
        {
            let f = t.handshake();
            eprintln!("handshake {}", std::mem::size_of_val(&f));
        }
        {
            let f = t.next();
            eprintln!("next {}", std::mem::size_of_val(&f));
        }
        {
            let f = refuse_startup(tokio::net::TcpStream::connect(l.local_addr().unwrap()).await.unwrap(), Family::Openssh);
            eprintln!("refuse {}", std::mem::size_of_val(&f));
        }
    }
}
