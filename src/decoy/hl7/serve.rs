//! The `hl7` decoy at run time: an integration engine's MLLP listener that reads
//! frames, answers patient queries from the cohort and acknowledges every other HL7
//! message as the engine does (`AA`; `AR` for a message without a type or an HL7 v2
//! version), and records each as `hl7_message` with what it says, a honey patient
//! named or answered being a hit on that patient's token. Bytes outside frames,
//! frames over the cap and frames cut off are recorded too.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::ack::{ack, AckCode, Problem};
use super::engine::Engine;
use super::message::{parse, Message, Summary};
use super::mllp::{frame, Deframer, Frame, KEPT};
use super::query::{find, query};
use super::response::respond;
use crate::config::Hl7DecoyConfig;
use crate::decoy::connection::{Connection, Recorder};
use crate::decoy::{Cohort, Surroundings};
use crate::event::{AttackerBytes, CloseReason, EventKind, TokenHit};
use crate::tls::TlsError;
use crate::token::MaterialKind;

/// One decoy: its configuration, the engine it imitates, the cohort it answers from
/// and, for MLLP over TLS, its acceptor.
pub struct Hl7Runtime {
    pub config: Hl7DecoyConfig,
    engine: Engine,
    cohort: Arc<Cohort>,
    site_code: String,
    tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for Hl7Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hl7Runtime").field("config", &self.config).field("tls", &self.tls.is_some()).finish_non_exhaustive()
    }
}

impl Hl7Runtime {
    /// The runtime of `config`; its certificate, when it speaks TLS, loaded (or
    /// generated once) under the state directory.
    pub fn for_decoy(config: &Hl7DecoyConfig, around: &Surroundings) -> Result<Self, TlsError> {
        let tls = match &config.tls {
            Some(source) => {
                let (chain, key) = crate::tls::load(source, &around.state_dir.join("hl7").join(&config.name))?;
                Some(TlsAcceptor::from(crate::tls::server_config(chain, key, &[])?))
            }
            None => None,
        };
        Ok(Hl7Runtime {
            config: config.clone(),
            engine: Engine::new(config.engine),
            cohort: Arc::clone(&around.shared_cohort),
            site_code: around.cohort.site_code.clone(),
            tls,
        })
    }
}

/// Read size per call.
const READ_CHUNK: usize = 16 * 1024;

fn joined(values: &[String]) -> Option<AttackerBytes> {
    (!values.is_empty()).then(|| AttackerBytes::new(values.join(",")))
}

fn pair(a: &str, b: &str) -> Option<AttackerBytes> {
    (!a.is_empty() || !b.is_empty()).then(|| AttackerBytes::new(format!("{a}/{b}")))
}

/// Records what a frame was, with the token of a honey patient it named or was
/// answered with.
async fn record(recorder: &Recorder, kind: EventKind, hit: Option<TokenHit>) {
    let mut event = recorder.event(kind);
    event.token = hit;
    recorder.context().events.emit(event).await;
}

/// The event for bytes that were not a message.
fn unframed(framing: &str, kept: &[u8], length: usize) -> EventKind {
    EventKind::Hl7Message {
        framing: framing.into(),
        message_type: None,
        control_id: None,
        processing_id: None,
        version: None,
        sending: None,
        receiving: None,
        patient_ids: None,
        patient_names: None,
        segments: None,
        ack: None,
        matches: None,
        bytes: length as u64,
        raw: AttackerBytes::new(&kept[..kept.len().min(KEPT)]),
    }
}

/// Why a message is refused whatever it is, if it is.
fn refusal(s: &Summary) -> Option<(Problem, &'static str)> {
    if s.message_type.is_empty() {
        return Some((Problem::UnsupportedMessageType, "MSH-9 names no message type"));
    }
    let v = s.version.as_bytes();
    let hl7_v2 = v.len() >= 3 && v.starts_with(b"2.") && v[2].is_ascii_digit();
    (!hl7_v2).then_some((Problem::UnsupportedVersion, "MSH-12 is not an HL7 v2 version"))
}

/// The reply to a message, its MSA-1, how many patients it named, and the token of
/// the first honey patient among them.
fn reply(rt: &Hl7Runtime, recorder: &Recorder, m: &Message<'_>, s: &Summary) -> (Vec<u8>, AckCode, Option<u32>, Option<TokenHit>) {
    let stamp = rt.engine.stamp(chrono::Utc::now());
    if let Some(problem) = refusal(s) {
        return (ack(m, AckCode::Reject, &stamp, Some(problem)), AckCode::Reject, None, None);
    }
    let tokens = recorder.context().events.tokens();
    let Some((kind, criteria)) = query(m) else {
        return (ack(m, AckCode::Accept, &stamp, None), AckCode::Accept, None, None);
    };
    let (honey, seed) = (tokens.patients(), tokens.cohort_seed());
    let cohort = rt.cohort.patients(seed);
    let found = find(&criteria, &honey, &cohort);
    let hit = found.iter().find(|(_, token)| *token).and_then(|(p, _)| tokens.lookup(MaterialKind::PatientId, p.nhs_number.as_bytes()));
    let patients: Vec<_> = found.iter().map(|(p, _)| *p).collect();
    let code = if criteria.is_empty() { AckCode::Error } else { AckCode::Accept };
    (respond(m, kind, &criteria, &patients, &stamp, &rt.site_code), code, Some(patients.len() as u32), hit)
}

/// Answers one frame: the reply to send (if any), after recording it.
async fn answer(rt: &Hl7Runtime, recorder: &Recorder, f: Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Message(m) => {
            let Ok(message) = parse(&m) else {
                record(recorder, unframed("not hl7", &m, m.len()), None).await;
                return None;
            };
            let s = message.summary();
            let (reply, code, matches, answered) = reply(rt, recorder, &message, &s);
            let msh9 = message.segments.first().and_then(|msh| message.field(msh, 9)).unwrap_or_default();
            let named = {
                let tokens = recorder.context().events.tokens();
                s.patient_ids.iter().find_map(|id| tokens.lookup(MaterialKind::PatientId, id.as_bytes()))
            };
            let kind = EventKind::Hl7Message {
                framing: "message".into(),
                message_type: Some(AttackerBytes::new(msh9)),
                control_id: Some(AttackerBytes::new(s.control_id.as_str())),
                processing_id: Some(AttackerBytes::new(s.processing_id.as_str())),
                version: Some(AttackerBytes::new(s.version.as_str())),
                sending: pair(&s.sending_application, &s.sending_facility),
                receiving: pair(&s.receiving_application, &s.receiving_facility),
                patient_ids: joined(&s.patient_ids),
                patient_names: joined(&s.patient_names),
                segments: Some(s.segments.join(",")),
                ack: Some(code.as_str().into()),
                matches,
                bytes: m.len() as u64,
                raw: AttackerBytes::new(&m[..m.len().min(KEPT)]),
            };
            record(recorder, kind, named.or(answered)).await;
            Some(frame(&reply))
        }
        Frame::Stray { kept, length } => {
            record(recorder, unframed("no start block", &kept, length), None).await;
            None
        }
        Frame::Oversized { kept, length } => {
            record(recorder, unframed("oversized", &kept, length), None).await;
            None
        }
    }
}

/// Serves one connection, inside TLS when the decoy speaks it (a handshake that
/// fails or stalls past the idle timeout closes the connection).
pub async fn handle(rt: Arc<Hl7Runtime>, stream: TcpStream, conn: Connection) {
    let Some(acceptor) = rt.tls.clone() else { return serve(rt, stream, conn).await };
    match tokio::time::timeout(rt.config.limits.idle_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => serve(rt, tls, conn).await,
        Ok(Err(_)) => conn.close(CloseReason::Error).await,
        Err(_) => conn.close(CloseReason::IdleTimeout).await,
    }
}

/// Reads frames off `stream` and answers each until the connection ends.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(rt: Arc<Hl7Runtime>, mut stream: S, mut conn: Connection) {
    let config = &rt.config;
    let limits = config.limits;
    let deadline = conn.deadline();
    let shutdown = conn.context().shutdown.clone();
    let recorder = conn.recorder();
    let mut deframer = Deframer::new(config.max_message_bytes);
    let mut buf = vec![0u8; READ_CHUNK];
    let reason = 'serve: loop {
        let read = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break CloseReason::Shutdown,
            _ = tokio::time::sleep_until(deadline) => break CloseReason::SessionTimeout,
            r = tokio::time::timeout(limits.idle_timeout, stream.read(&mut buf)) => r,
        };
        let n = match read {
            Err(_) => break CloseReason::IdleTimeout,
            Ok(Err(_)) => break CloseReason::Error,
            Ok(Ok(0)) => break CloseReason::PeerClosed,
            Ok(Ok(n)) => n,
        };
        conn.bytes_in += n as u64;
        if conn.bytes_in > limits.max_session_bytes {
            break CloseReason::MaxBytes;
        }
        for f in deframer.push(&buf[..n]) {
            if let Some(reply) = answer(&rt, &recorder, f).await {
                if stream.write_all(&reply).await.is_err() {
                    break 'serve CloseReason::Error;
                }
                conn.bytes_out += reply.len() as u64;
            }
        }
    };
    match deframer.finish() {
        Some(Frame::Stray { kept, length }) if kept.first() == Some(&super::mllp::START) => {
            record(&recorder, unframed("unterminated", &kept, length), None).await
        }
        Some(f) => {
            let _ = answer(&rt, &recorder, f).await;
        }
        None => {}
    }
    conn.close(reason).await;
}
