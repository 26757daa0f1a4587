//! The `hl7` decoy at run time: an integration engine's MLLP listener (NextGen
//! Connect's, "Mirth") that reads frames, acknowledges every HL7 message with an
//! `AA` as Mirth's auto-generated ACK does, and records each as `hl7_message` with
//! what it says, a honey patient named in it being a hit on that patient's token.
//! Bytes outside frames, frames over the cap and frames cut off are recorded too.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ack::{ack, AckCode};
use super::message::parse;
use super::mllp::{frame, Deframer, Frame, KEPT};
use crate::config::Hl7DecoyConfig;
use crate::decoy::connection::{Connection, Recorder};
use crate::event::{AttackerBytes, CloseReason, EventKind};
use crate::token::MaterialKind;

/// Read size per call.
const READ_CHUNK: usize = 16 * 1024;

fn joined(values: &[String]) -> Option<AttackerBytes> {
    (!values.is_empty()).then(|| AttackerBytes::new(values.join(",")))
}

fn pair(a: &str, b: &str) -> Option<AttackerBytes> {
    (!a.is_empty() || !b.is_empty()).then(|| AttackerBytes::new(format!("{a}/{b}")))
}

/// Records what a frame was, with the token of the first honey patient it names.
async fn record(recorder: &Recorder, kind: EventKind, patient_ids: &[String]) {
    let tokens = recorder.context().events.tokens();
    let hit = patient_ids.iter().find_map(|id| tokens.lookup(MaterialKind::PatientId, id.as_bytes()));
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
        bytes: length as u64,
        raw: AttackerBytes::new(&kept[..kept.len().min(KEPT)]),
    }
}

/// Answers one frame: the ACK to send (if any), after recording it.
async fn answer(recorder: &Recorder, f: Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Message(m) => {
            let Ok(message) = parse(&m) else {
                record(recorder, unframed("not hl7", &m, m.len()), &[]).await;
                return None;
            };
            let s = message.summary();
            let now = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
            let reply = ack(&message, AckCode::Accept, &now, None);
            let msh9 = message.segments.first().and_then(|msh| message.field(msh, 9)).unwrap_or_default();
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
                ack: Some(AckCode::Accept.as_str().into()),
                bytes: m.len() as u64,
                raw: AttackerBytes::new(&m[..m.len().min(KEPT)]),
            };
            record(recorder, kind, &s.patient_ids).await;
            Some(frame(&reply))
        }
        Frame::Stray { kept, length } => {
            record(recorder, unframed("no start block", &kept, length), &[]).await;
            None
        }
        Frame::Oversized { kept, length } => {
            record(recorder, unframed("oversized", &kept, length), &[]).await;
            None
        }
    }
}

/// Serves one connection.
pub async fn handle(config: Arc<Hl7DecoyConfig>, mut stream: TcpStream, mut conn: Connection) {
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
            if let Some(reply) = answer(&recorder, f).await {
                if stream.write_all(&reply).await.is_err() {
                    break 'serve CloseReason::Error;
                }
                conn.bytes_out += reply.len() as u64;
            }
        }
    };
    match deframer.finish() {
        Some(Frame::Stray { kept, length }) if kept.first() == Some(&super::mllp::START) => {
            record(&recorder, unframed("unterminated", &kept, length), &[]).await
        }
        Some(f) => {
            let _ = answer(&recorder, f).await;
        }
        None => {}
    }
    conn.close(reason).await;
}
