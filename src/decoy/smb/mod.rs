//! The `smb` decoy: a Windows (or Samba) file server on TCP 445 or 139. It answers
//! NEGOTIATE and the NTLM legs of SESSION_SETUP as the personality's server does,
//! records what each client offered and every login (user, domain, workstation, NTLM
//! flags and version, the NTLMv2 response as hashcat 5600), recognises a planted
//! Windows account by checking the response against its NT hash, and refuses the
//! login as the server refuses a wrong password — or, with `accept: tokens`, lets a
//! planted account into read-only honey shares, every step recorded.

pub mod conn;
mod files;
pub mod info;
mod listing;
mod logged_in;
pub mod negotiate;
mod personality;
mod pipe;
pub mod session;
pub mod share;
pub mod signing;
pub mod smb1;
pub mod srvsvc;
pub mod step;
mod transform;
pub mod wire;

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connection::{Connection, Recorder};
use super::error::SetupError;
use crate::config::SmbDecoyConfig;
use crate::decoy::ntlm::{self, Host};
use crate::event::CloseReason;
use conn::SmbConn;
pub use personality::{SmbPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};
use step::{Login, Step};
use wire::frame_type;

/// The largest message read before anyone is logged in. NEGOTIATE and SESSION_SETUP
/// are a few hundred bytes; an SMB1 exploit's transaction a few KiB.
const MAX_MESSAGE: usize = 128 * 1024;

/// Exploit payloads kept per decoy, at most.
const QUARANTINE_OBJECTS: u64 = 200;
const QUARANTINE_BYTES: u64 = 64 << 20;

/// Everything an SMB decoy needs at run time.
pub struct SmbRuntime {
    pub personality: Arc<SmbPersonality>,
    pub host: Arc<Host>,
    /// Kept in the state directory, so the server keeps its GUID across restarts.
    pub server_guid: [u8; 16],
    /// When the decoy started, as a FILETIME.
    pub start_time: u64,
    /// Where exploit payloads are kept (`STATE_DIR/smb/NAME/quarantine`, by sha256).
    pub quarantine: crate::decoy::quarantine::Quarantine,
    /// Planted accounts get in (`accept: tokens`).
    pub accept_tokens: bool,
    /// The honey shares' configured files.
    pub shares: Vec<share::ShareSource>,
}

impl SmbRuntime {
    /// Loads (or makes) the server GUID in `STATE_DIR/smb/NAME`. Blocking.
    pub fn for_decoy(config: &SmbDecoyConfig, p: Arc<SmbPersonality>, state_dir: &std::path::Path) -> Result<Self, SetupError> {
        let dir = state_dir.join("smb").join(&config.name);
        crate::state_file::private_dir(&dir)?;
        let path = dir.join("server-guid");
        let host = p.ntlm.host(&config.names, &p.names());
        let server_guid = match std::fs::read(&path) {
            // Samba's GUID is its NetBIOS name, lower-cased and padded.
            _ if p.implementation == personality::Implementation::Samba => {
                let mut guid = [0u8; 16];
                for (g, b) in guid.iter_mut().zip(host.netbios_computer.to_lowercase().bytes()) {
                    *g = b;
                }
                guid
            }
            Ok(bytes) if bytes.len() == 16 => bytes.try_into().unwrap_or([0; 16]),
            _ => {
                let mut guid = [0u8; 16];
                rand::RngExt::fill(&mut rand::rng(), &mut guid[..]);
                crate::state_file::replace(&path, &guid, 0o600)?;
                guid
            }
        };
        let quarantine = crate::decoy::quarantine::Quarantine::open(&dir.join("quarantine"), "bin", QUARANTINE_OBJECTS, QUARANTINE_BYTES)?;
        let accept_tokens = config.accept == crate::config::AcceptPolicy::Tokens;
        let shares = if accept_tokens { share::load(&config.shares)? } else { Vec::new() };
        Ok(SmbRuntime { personality: p, host: Arc::new(host), server_guid, start_time: step::filetime_now(), quarantine, accept_tokens, shares })
    }
}

/// Reads the next SMB message, answering a port-139 session request and skipping
/// keep-alives on the way. Counts what it reads into `bytes_in`.
async fn next_message(stream: &mut TcpStream, bytes_in: &mut u64, limits: &crate::config::ConnectionLimits) -> Result<Vec<u8>, CloseReason> {
    loop {
        let mut head = [0u8; 4];
        match tokio::time::timeout(limits.idle_timeout, stream.read_exact(&mut head)).await {
            Err(_) => return Err(CloseReason::IdleTimeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(CloseReason::PeerClosed),
            Ok(Err(_)) => return Err(CloseReason::Error),
            Ok(Ok(_)) => {}
        }
        *bytes_in += 4;
        let (kind, len) = wire::frame_header(head);
        if len > MAX_MESSAGE || *bytes_in + len as u64 > limits.max_session_bytes {
            return Err(CloseReason::MaxBytes);
        }
        let mut body = vec![0u8; len];
        match tokio::time::timeout(limits.idle_timeout, stream.read_exact(&mut body)).await {
            Err(_) => return Err(CloseReason::IdleTimeout),
            Ok(Err(_)) => return Err(CloseReason::PeerClosed),
            Ok(Ok(_)) => {}
        }
        *bytes_in += len as u64;
        match kind {
            frame_type::MESSAGE => return Ok(body),
            frame_type::REQUEST => {
                // Port 139: any called name is this server.
                if stream.write_all(&[frame_type::POSITIVE, 0, 0, 0]).await.is_err() {
                    return Err(CloseReason::Error);
                }
            }
            frame_type::KEEP_ALIVE => {}
            _ => return Err(CloseReason::ProtocolError),
        }
    }
}

/// Checks a login against the planted Windows accounts and records it; the answer.
/// With `accept: tokens`, a planted account's proven password opens a session.
async fn login(rt: &SmbRuntime, state: &mut SmbConn, login: &Login, recorder: &Recorder) -> Vec<u8> {
    let attempt = ntlm::login::Attempt { auth: &login.auth, server_challenge: login.server_challenge };
    let planted = attempt.planted_with_key(recorder);
    if let (true, Some((found, base_key))) = (rt.accept_tokens, planted.as_ref()) {
        let exported = ntlm::keys::exported_session_key(base_key, login.auth.flags, &login.auth.encrypted_session_key);
        let patients = recorder.context().events.tokens().patients();
        let view = Arc::new(share::View::new(&rt.shares, &patients, step::filetime_now()));
        let reply = state.accept_login(login, &exported, view);
        let mut event = recorder.event(attempt.event("smb", wire::status::name(wire::status::SUCCESS), true));
        event.token = Some(found.hit());
        recorder.context().events.emit(event).await;
        return reply;
    }
    let (reply, status) = state.answer_login(login);
    let mut event = recorder.event(attempt.event("smb", wire::status::name(status), status == wire::status::SUCCESS && !login.auth.is_anonymous()));
    event.token = planted.map(|(m, _)| m.hit());
    recorder.context().events.emit(event).await;
    reply
}

/// Records a step inside a session; reading a honey patient's image is a hit on
/// the patient's token.
async fn touch(recorder: &Recorder, kind: crate::event::EventKind, patient: Option<&str>) {
    let mut event = recorder.event(kind);
    event.token = patient.and_then(|nhs| recorder.context().events.tokens().lookup(crate::token::MaterialKind::PatientId, nhs.as_bytes()));
    recorder.context().events.emit(event).await;
}

/// Keeps an exploit's payload in the quarantine (by sha256, never run) and records it.
async fn quarantine(rt: &SmbRuntime, recorder: &Recorder, stage: &str, command: &str, data: &[u8]) {
    let stored = (!data.is_empty()).then(|| {
        let mut w = rt.quarantine.begin();
        w.write(data, &rt.quarantine);
        rt.quarantine.finish(w)
    });
    let kind = crate::event::EventKind::SmbExploit {
        stage: stage.into(),
        command: command.into(),
        bytes: data.len() as u64,
        quarantined: stored.as_ref().is_some_and(|s| s.kept),
        sha256: stored.map(|s| s.sha256),
    };
    recorder.emit(kind).await;
}

/// Serves one connection.
pub async fn handle(rt: Arc<SmbRuntime>, mut stream: TcpStream, mut conn: Connection) {
    let limits = conn.context().limits;
    let _ = stream.set_nodelay(true);
    let recorder = conn.recorder();
    let shutdown = conn.context().shutdown.clone();
    let deadline = conn.deadline();
    let mut state = SmbConn::new(Arc::clone(&rt.personality), Arc::clone(&rt.host), rt.server_guid, rt.start_time);
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    let reason = 'serve: loop {
        let message = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break CloseReason::Shutdown,
            _ = tokio::time::sleep_until(deadline) => break CloseReason::SessionTimeout,
            m = next_message(&mut stream, &mut bytes_in, &limits) => m,
        };
        let message = match message {
            Ok(m) => m,
            Err(reason) => break reason,
        };
        for step in state.on_message(&message) {
            let out = match step {
                Step::Send(bytes) => bytes,
                Step::Emit(kind) => {
                    recorder.emit(*kind).await;
                    continue;
                }
                Step::Login(l) => login(&rt, &mut state, &l, &recorder).await,
                Step::Touch { kind, patient } => {
                    touch(&recorder, *kind, patient.as_deref()).await;
                    continue;
                }
                Step::Login1(l) => {
                    let (auth, challenge, how) = *l;
                    let (reply, status) = state.answer_login1(&auth, &how);
                    let attempt = ntlm::login::Attempt { auth: &auth, server_challenge: challenge };
                    attempt.record(&recorder, "smb", wire::status::name(status), false).await;
                    reply
                }
                Step::Quarantine { stage, command, data } => {
                    quarantine(&rt, &recorder, stage, command, &data).await;
                    continue;
                }
                Step::Close => break 'serve CloseReason::ProtocolError,
            };
            let framed = wire::frame(&out);
            if stream.write_all(&framed).await.is_err() {
                break 'serve CloseReason::Error;
            }
            bytes_out += framed.len() as u64;
        }
    };
    for step in state.finish() {
        match step {
            Step::Quarantine { stage, command, data } => quarantine(&rt, &recorder, stage, command, &data).await,
            Step::Touch { kind, patient } => touch(&recorder, *kind, patient.as_deref()).await,
            _ => {}
        }
    }
    conn.bytes_in = bytes_in;
    conn.bytes_out = bytes_out;
    conn.close(reason).await;
}
