//! The association state machine (PS3.8 §9.2) for one connection: wait for an
//! A-ASSOCIATE-RQ within ARTIM, answer AC or RJ as the personality would, then serve
//! DIMSE messages until release or abort. Anything out of place gets an A-ABORT.

use bytes::BytesMut;
use dicom_ul::pdu::{AssociationRQ, Pdu, UserVariableItem};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::link::{Accepted, Link, Other};
use super::pdu::{self, ContextResult, ReadError, UserItem};
use super::personality::{AcItem, CalledAe, Malformed, APPLICATION_CONTEXT};
use super::{services, DicomRuntime};
use crate::decoy::connection::Recorder;
use crate::event::{AttackerBytes, CloseReason, DicomContext, EventKind};

/// A-ABORT source "service provider" and its reasons (PS3.8 Table 9-26).
const UNRECOGNIZED_PDU: u8 = 1;
const UNEXPECTED_PDU: u8 = 2;
const INVALID_PARAMETER: u8 = 6;

/// How a connection ended: why, and whether to reset it (RST) rather than close.
pub struct Ending {
    pub reason: CloseReason,
    pub reset: bool,
}

impl From<CloseReason> for Ending {
    fn from(reason: CloseReason) -> Self {
        Ending { reason, reset: false }
    }
}

/// Serves one connection; returns how it ended.
pub async fn serve<S>(rt: &DicomRuntime, io: &mut S, recorder: &Recorder) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let p = &rt.personality;
    let artim = std::time::Duration::from_secs(p.artim_timeout_seconds).min(rt.idle);
    let mut buf = BytesMut::with_capacity(4096);
    let received = match pdu::read(io, &mut buf, pdu::MAX_CONTROL_PDU, Instant::now() + artim).await {
        Ok(r) => r,
        Err(e) => return refuse_unreadable(rt, io, recorder, e, false).await,
    };
    let pdu::Received { pdu, ae_fields, raw_contexts } = received;
    let (rq, ae_fields) = match (pdu, ae_fields) {
        (Pdu::AssociationRQ(rq), Some(fields)) => (rq, fields),
        (Pdu::Unknown { pdu_type, .. }, _) => {
            return refuse(rt, io, recorder, UNRECOGNIZED_PDU, format!("unrecognized PDU type 0x{pdu_type:02x} before association")).await
        }
        (other, _) => {
            // DCMTK answers this one with an A-ABORT (user, no reason) before the reset.
            if rt.personality.malformed == Malformed::Reset {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::io::AsyncWriteExt::write_all(io, &pdu::abort(0, 0))).await;
            }
            return refuse(rt, io, recorder, UNEXPECTED_PDU, format!("{} before association", other.short_description())).await;
        }
    };

    let called = rq.called_ae_title.trim().to_string();
    let answers_queries = rt.answers_queries_from(rq.calling_ae_title.trim());
    let (results, contexts) = negotiate(rt, &rq, &raw_contexts);
    let peer = |want: fn(&UserVariableItem) -> Option<String>| rq.user_variables.iter().find_map(want).map(AttackerBytes::new);
    let peer_max = rq.user_variables.iter().find_map(|u| if let UserVariableItem::MaxLength(n) = u { Some(*n) } else { None });
    let reject = if rq.protocol_version & 1 == 0 {
        Some((1, 2, 2)) // ACSE provider: protocol version not supported
    } else if rq.application_context_name.trim_end_matches(['\0', ' ']) != APPLICATION_CONTEXT {
        Some((1, 1, 2)) // service user: application context name not supported
    } else {
        match &p.called_ae {
            CalledAe::Reject { result, source, reason } if called != rt.ae_title => Some((*result, *source, *reason)),
            _ => None,
        }
    };
    let event = EventKind::DicomAssociation {
        calling_ae: AttackerBytes::new(rq.calling_ae_title.trim()),
        called_ae: AttackerBytes::new(called.as_str()),
        implementation_class_uid: peer(|u| if let UserVariableItem::ImplementationClassUID(s) = u { Some(s.clone()) } else { None }),
        implementation_version: peer(|u| if let UserVariableItem::ImplementationVersionName(s) = u { Some(s.clone()) } else { None }),
        max_pdu_length: peer_max,
        contexts,
        accepted: reject.is_none(),
        rejected: reject.map(|(r, s, why)| {
            let meaning = match (s, why) {
                (2, 2) => "protocol version not supported",
                (1, 2) => "application context name not supported",
                _ => "called AE title not recognized",
            };
            format!("A-ASSOCIATE-RJ result {r} source {s} reason {why} ({meaning})")
        }),
    };
    // The answer goes out first; the event is recorded right after (no added latency).
    if let Some((result, source, reason)) = reject {
        let _ = tokio::time::timeout(artim, tokio::io::AsyncWriteExt::write_all(io, &pdu::associate_rj(result, source, reason))).await;
        recorder.emit(event).await;
        await_peer_close(io, artim).await;
        return CloseReason::PeerClosed.into();
    }

    let user = user_items(rt, &rq, &results);
    let ac_results: Vec<ContextResult<'_>> =
        results.iter().map(|(id, result, ts, _)| ContextResult { id: *id, result: *result, transfer_syntax: ts }).collect();
    let ac = pdu::associate_ac(&ae_fields, APPLICATION_CONTEXT, &ac_results, &user);
    let accepted: Vec<Accepted> = results
        .iter()
        .filter(|(_, result, _, _)| *result == 0)
        .map(|(id, _, ts, abstract_syntax)| Accepted { id: *id, abstract_syntax: abstract_syntax.clone(), transfer_syntax: ts.clone() })
        .collect();
    let mut link = Link::new(io, buf, p.max_pdu_length, peer_max.unwrap_or(0), rt.idle, &rt.quarantine);
    let sent = link.send(&ac).await;
    recorder.emit(event).await;
    if sent.is_err() {
        return CloseReason::Error.into();
    }
    loop {
        match link.next().await {
            Ok(message) => {
                if let Err(reason) = services::dispatch(rt, &mut link, recorder, &accepted, message, answers_queries).await {
                    return reason.into();
                }
            }
            Err(Other::ReleaseRq) => {
                let _ = link.send(&pdu::release_rp()).await;
                recorder.emit(EventKind::DicomRelease { how: "release".into(), reason: None }).await;
                await_peer_close(link.io, artim).await;
                return CloseReason::PeerClosed.into();
            }
            Err(Other::AbortRq) => {
                recorder.emit(EventKind::DicomRelease { how: "abort-received".into(), reason: None }).await;
                return CloseReason::PeerClosed.into();
            }
            Err(Other::Unexpected(t)) => {
                let reason = if t > 7 || t == 0 { UNRECOGNIZED_PDU } else { UNEXPECTED_PDU };
                return refuse(rt, link.io, recorder, reason, format!("PDU type 0x{t:02x} during association")).await;
            }
            Err(Other::Invalid(why)) => return refuse(rt, link.io, recorder, INVALID_PARAMETER, why.to_string()).await,
            Err(Other::Read(e)) => return refuse_unreadable(rt, link.io, recorder, e, true).await,
        }
    }
}

/// One proposed context's answer: (id, result, transfer syntax answered, abstract syntax).
type ContextAnswer = (u8, u8, String, String);

/// Each proposed context's answer, and
/// the contexts as recorded.
fn negotiate(rt: &DicomRuntime, rq: &AssociationRQ, raw: &[pdu::RawContext]) -> (Vec<ContextAnswer>, Vec<DicomContext>) {
    let mut results = Vec::new();
    let mut recorded = Vec::new();
    for pc in rq.presentation_contexts.iter().take(128) {
        // DCMTK drops the NUL that pads a UID to even length, but keeps spaces (and so
        // does not recognise a space-padded UID): negotiate on the UIDs as sent, which
        // dicom-ul has trimmed. The event keeps what was sent.
        let unpadded = |uid: &[u8]| String::from_utf8_lossy(uid).trim_end_matches('\0').to_string();
        let sent = raw.iter().find(|r| r.id == pc.id);
        let abstract_syntax = sent.map_or_else(|| pc.abstract_syntax.trim_end_matches('\0').to_string(), |r| unpadded(&r.abstract_syntax));
        let transfer_syntaxes: Vec<String> = match sent {
            Some(r) => r.transfer_syntaxes.iter().map(|t| unpadded(t)).collect(),
            None => pc.transfer_syntaxes.iter().map(|t| t.trim_end_matches('\0').to_string()).collect(),
        };
        let (result, ts) = rt.personality.negotiate(&abstract_syntax, &transfer_syntaxes);
        results.push((pc.id, result, ts.to_string(), abstract_syntax));
        recorded.push(DicomContext {
            id: pc.id,
            abstract_syntax: AttackerBytes::new(pc.abstract_syntax.as_str()),
            transfer_syntaxes: pc.transfer_syntaxes.iter().take(16).map(|t| AttackerBytes::new(t.as_str())).collect(),
            result,
        });
    }
    (results, recorded)
}

/// The AC's user information items in the personality's order; role selection answers
/// echo the roles the requestor proposed for contexts we accepted.
fn user_items<'a>(rt: &'a DicomRuntime, rq: &'a AssociationRQ, results: &[(u8, u8, String, String)]) -> Vec<UserItem<'a>> {
    let p = &rt.personality;
    let mut items = Vec::new();
    for item in &p.ac_items {
        match item {
            AcItem::MaxLength => items.push(UserItem::MaxLength(p.max_pdu_length)),
            AcItem::ImplementationClassUid => items.push(UserItem::ImplementationClassUid(&p.implementation_class_uid)),
            AcItem::ImplementationVersionName => {
                if let Some(name) = &p.implementation_version_name {
                    items.push(UserItem::ImplementationVersionName(name));
                }
            }
            AcItem::RoleSelection => {
                for u in &rq.user_variables {
                    if let UserVariableItem::ScuScpRoleSelectionSubItem(sop_class, roles) = u {
                        if results.iter().any(|(_, r, _, a)| *r == 0 && a == sop_class) {
                            items.push(UserItem::Role { sop_class, scu: roles.scu, scp: roles.scp });
                        }
                    }
                }
            }
        }
    }
    items
}

/// Refuses a peer that broke the protocol, as the personality's product does: an
/// A-ABORT from the service provider with `reason` (the standard; dcm4che), or a
/// reset (DCMTK, and so Orthanc). Records why.
async fn refuse<S: AsyncWrite + Unpin>(rt: &DicomRuntime, io: &mut S, recorder: &Recorder, reason: u8, why: String) -> Ending {
    let reset = rt.personality.malformed == Malformed::Reset;
    if !reset {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::io::AsyncWriteExt::write_all(io, &pdu::abort(2, reason))).await;
    }
    let how = if reset { "reset-sent" } else { "abort-sent" };
    recorder.emit(EventKind::DicomRelease { how: how.into(), reason: Some(why) }).await;
    Ending { reason: CloseReason::ProtocolError, reset }
}

/// A read that failed: a close ends quietly; a deadline ends quietly before
/// association, and with an A-ABORT after it when the product does that (Orthanc);
/// anything else is refused.
async fn refuse_unreadable<S: AsyncRead + AsyncWrite + Unpin>(rt: &DicomRuntime, io: &mut S, recorder: &Recorder, e: ReadError, associated: bool) -> Ending {
    match e {
        ReadError::Closed => CloseReason::PeerClosed.into(),
        ReadError::Timeout if associated && rt.personality.idle_abort => {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::io::AsyncWriteExt::write_all(io, &pdu::abort(0, 0))).await;
            recorder.emit(EventKind::DicomRelease { how: "abort-sent".into(), reason: Some("idle association".into()) }).await;
            CloseReason::IdleTimeout.into()
        }
        ReadError::Timeout => CloseReason::IdleTimeout.into(),
        ReadError::Io => CloseReason::Error.into(),
        ReadError::TooLarge(t, len, more) => {
            let why = format!("PDU type 0x{t:02x} of {len} bytes is over the limit");
            if rt.personality.malformed == Malformed::Reset && !more {
                // DCMTK waits for the rest of such a PDU and closes on its timeout; a
                // reset comes only when more bytes are already there.
                let mut sink = [0u8; 1];
                let idle = tokio::time::timeout(rt.idle, tokio::io::AsyncReadExt::read(io, &mut sink)).await;
                if !matches!(idle, Ok(Ok(n)) if n > 0) {
                    recorder.emit(EventKind::DicomRelease { how: "closed".into(), reason: Some(why) }).await;
                    return CloseReason::IdleTimeout.into();
                }
            }
            refuse(rt, io, recorder, INVALID_PARAMETER, why).await
        }
        ReadError::Malformed(t) => refuse(rt, io, recorder, INVALID_PARAMETER, format!("PDU type 0x{t:02x} does not decode")).await,
    }
}

/// After A-ASSOCIATE-RJ or A-RELEASE-RP the close is the peer's, as in DCMTK (and so
/// storescp and Orthanc): wait until it closes, its ARTIM timer's worth at most,
/// discarding up to 64 KiB it may still send.
async fn await_peer_close<S: AsyncRead + Unpin>(io: &mut S, artim: std::time::Duration) {
    let until = Instant::now() + artim;
    let mut sink = [0u8; 4096];
    let mut read = 0;
    while read < 64 * 1024 {
        match tokio::time::timeout_at(until, tokio::io::AsyncReadExt::read(io, &mut sink)).await {
            Ok(Ok(n)) if n > 0 => read += n,
            _ => break,
        }
    }
}
