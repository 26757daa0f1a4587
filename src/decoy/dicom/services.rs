//! DIMSE services on an established association: C-ECHO, C-STORE (into the
//! quarantine), C-FIND and C-GET against the honey archive, C-MOVE refused with the
//! real status for an unknown destination, anything else "unrecognized operation".
//! Every command is recorded; a match on a honey-patient token is a critical hit.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use tokio::io::{AsyncRead, AsyncWrite};

use super::archive::{Found, Level};
use super::dimse::{self, field};
use super::link::{Accepted, Link, Message};
use super::personality::{query_retrieve as query_retrieve_class, Service};
use super::DicomRuntime;
use crate::decoy::connection::Recorder;
use crate::event::{AttackerBytes, CloseReason, DicomKey, EventKind};
use crate::token::MaterialKind;

/// Status codes (PS3.4 Annex C).
const SUCCESS: u16 = 0x0000;
const PENDING: u16 = 0xFF00;
const OUT_OF_RESOURCES: u16 = 0xA700;
const MOVE_DESTINATION_UNKNOWN: u16 = 0xA801;
const IDENTIFIER_DOES_NOT_MATCH: u16 = 0xA900;
const UNRECOGNIZED_OPERATION: u16 = 0x0211;
/// Recorded (never sent) for a query refused with an A-ABORT: "refused: not authorized".
const REFUSED_UNKNOWN_AE: u16 = 0x0124;
/// Most keys kept from an identifier; most records answered.
const MAX_KEYS: usize = 64;
const MAX_MATCHES: usize = 500;
/// Most instances one C-GET or C-MOVE sends (a large CT study has about 800).
const MAX_RETRIEVED: usize = 2000;

/// A parsed query/retrieve identifier.
struct Identifier {
    level: Option<String>,
    /// (tag, VR, value) as sent.
    keys: Vec<(Tag, VR, String)>,
}

fn parse_identifier(data: &[u8], transfer_syntax: &str) -> Option<Identifier> {
    let ts = TransferSyntaxRegistry.get(transfer_syntax)?;
    let obj = InMemDicomObject::read_dataset_with_ts(data, ts).ok()?;
    let mut keys = Vec::new();
    let mut level = None;
    for elem in &obj {
        let tag = elem.header().tag;
        let value = elem.to_str().map(|s| s.to_string()).unwrap_or_default();
        if tag == Tag(0x0008, 0x0052) {
            level = Some(value.trim().to_string());
        } else if keys.len() < MAX_KEYS {
            keys.push((tag, elem.vr(), value));
        }
    }
    Some(Identifier { level, keys })
}

fn recorded_keys(id: &Identifier) -> Vec<DicomKey> {
    id.keys
        .iter()
        .map(|(tag, _, value)| DicomKey {
            tag: format!("{:04X},{:04X}", tag.0, tag.1),
            keyword: dicom_dictionary_std::StandardDataDictionary.by_tag(*tag).map(|e| e.alias.to_string()),
            value: AttackerBytes::new(value.as_str()),
        })
        .collect()
}

use dicom_core::dictionary::DataDictionary as _;

/// The identifier answered for one record: the requested keys with the record's values.
fn answer(found: &Found, level: Level, level_text: &str, id: &Identifier) -> InMemDicomObject {
    let record = found.record(level);
    let mut obj = InMemDicomObject::new_empty();
    obj.put(DataElement::new(Tag(0x0008, 0x0052), VR::CS, PrimitiveValue::from(level_text)));
    for (tag, vr, _) in &id.keys {
        let textual = !matches!(vr, VR::SQ | VR::US | VR::UL | VR::SS | VR::SL | VR::FL | VR::FD | VR::OB | VR::OW | VR::UN | VR::AT);
        if !textual {
            continue;
        }
        let value = if *tag == Tag(0x0008, 0x0005) { "ISO_IR 100".to_string() } else { record.value((tag.0, tag.1)).unwrap_or_default() };
        obj.put(DataElement::new(*tag, *vr, PrimitiveValue::from(value)));
    }
    obj
}

fn encode(obj: &InMemDicomObject, transfer_syntax: &str) -> Option<Vec<u8>> {
    let ts = TransferSyntaxRegistry.get(transfer_syntax)?;
    let mut out = Vec::new();
    obj.write_dataset_with_ts(&mut out, ts).ok()?;
    Some(out)
}

/// What a command did, for its event.
#[derive(Default)]
struct Outcome {
    level: Option<AttackerBytes>,
    keys: Vec<DicomKey>,
    matches: u32,
    status: u16,
    token: Option<crate::token::TokenMatch>,
}

/// Handles one message; queries and retrieves only when `answers_queries` (else the
/// association is aborted, as a stock Orthanc does for an unknown AE). Err ends the
/// association with that reason.
pub async fn dispatch<S>(
    rt: &DicomRuntime,
    link: &mut Link<'_, S>,
    recorder: &Recorder,
    accepted: &[Accepted],
    m: Message,
    answers_queries: bool,
) -> Result<(), CloseReason>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(ctx) = accepted.iter().find(|c| c.id == m.context).cloned() else {
        recorder
            .emit(EventKind::DicomRelease {
                how: "abort-sent".into(),
                reason: Some(format!("message on presentation context {} that was not accepted", m.context)),
            })
            .await;
        let _ = link.send(&super::pdu::abort(2, 5)).await;
        return Err(CloseReason::ProtocolError);
    };
    let c = &m.command;
    let sop_class = c.sop_class.clone().unwrap_or_else(|| ctx.abstract_syntax.clone());
    let outcome = match c.field {
        field::C_ECHO_RQ => {
            link.send_message(ctx.id, &dimse::response(field::C_ECHO_RSP, &sop_class, c.message_id, false, SUCCESS, None), None).await.map_err(io_err)?;
            Outcome::default()
        }
        field::C_STORE_RQ => {
            let stored = m.stored.as_ref();
            let kept = stored.is_some_and(|s| s.kept);
            let status = if kept { SUCCESS } else { OUT_OF_RESOURCES };
            let instance = c.sop_instance.clone().unwrap_or_default();
            link.send_message(ctx.id, &dimse::response(field::C_STORE_RSP, &sop_class, c.message_id, false, status, Some(&instance)), None)
                .await
                .map_err(io_err)?;
            recorder
                .emit(EventKind::DicomStore {
                    sop_class: c.sop_class.as_deref().map(AttackerBytes::new),
                    sop_instance_uid: AttackerBytes::new(instance.as_str()),
                    bytes: stored.map_or(0, |s| s.bytes),
                    sha256: stored.map_or_else(String::new, |s| s.sha256.clone()),
                    quarantined: kept,
                })
                .await;
            return Ok(());
        }
        field::C_FIND_RQ | field::C_GET_RQ | field::C_MOVE_RQ if !answers_queries => {
            // Recorded like any command, then the association is aborted (below).
            let id = m.data.as_deref().and_then(|d| parse_identifier(d, &ctx.transfer_syntax));
            Outcome {
                level: id.as_ref().and_then(|i| i.level.as_deref()).map(AttackerBytes::new),
                keys: id.as_ref().map(recorded_keys).unwrap_or_default(),
                status: REFUSED_UNKNOWN_AE,
                ..Outcome::default()
            }
        }
        field::C_FIND_RQ | field::C_GET_RQ | field::C_MOVE_RQ => query_retrieve(rt, link, recorder, accepted, &ctx, &m, &sop_class).await?,
        field::C_CANCEL_RQ => Outcome::default(),
        other => {
            let rsp = dimse::response(other | 0x8000, &sop_class, c.message_id, false, UNRECOGNIZED_OPERATION, None);
            link.send_message(ctx.id, &rsp, None).await.map_err(io_err)?;
            Outcome { status: UNRECOGNIZED_OPERATION, ..Outcome::default() }
        }
    };
    let mut e = recorder.event(EventKind::DicomCommand {
        command: dimse::name(c.field),
        sop_class: c.sop_class.as_deref().map(AttackerBytes::new),
        level: outcome.level,
        keys: outcome.keys,
        move_destination: c.move_destination.as_deref().map(AttackerBytes::new),
        matches: outcome.matches,
        status: outcome.status,
    });
    e.token = outcome.token.map(|t| t.hit());
    recorder.context().events.emit(e).await;
    if outcome.status == REFUSED_UNKNOWN_AE {
        recorder
            .emit(EventKind::DicomRelease { how: "abort-sent".into(), reason: Some("query or retrieve from a calling AE the PACS does not know".into()) })
            .await;
        let _ = link.send(&super::pdu::abort(0, 0)).await;
        return Err(CloseReason::ProtocolError);
    }
    Ok(())
}

fn io_err(_: std::io::Error) -> CloseReason {
    CloseReason::Error
}

/// C-FIND, C-GET or C-MOVE: match the identifier against the archive, answer (pending
/// responses, sub-operations or the move), then the final response.
async fn query_retrieve<S>(
    rt: &DicomRuntime,
    link: &mut Link<'_, S>,
    recorder: &Recorder,
    accepted: &[Accepted],
    ctx: &Accepted,
    m: &Message,
    sop_class: &str,
) -> Result<Outcome, CloseReason>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let c = &m.command;
    let response_field = c.field | 0x8000;
    let id = m.data.as_deref().and_then(|d| parse_identifier(d, &ctx.transfer_syntax));
    let level = id.as_ref().and_then(|i| i.level.as_deref()).and_then(Level::parse);
    let destination = c.move_destination.as_deref().and_then(|ae| rt.move_destinations.iter().find(|(name, _)| name == ae.trim()));
    let (status, found) = match (&id, level, query_retrieve_class(sop_class)) {
        // An unmapped move destination is refused before anything is looked up.
        (Some(_), Some(_), Some((_, Service::Move))) if destination.is_none() => (MOVE_DESTINATION_UNKNOWN, Vec::new()),
        (Some(id), Some(level), Some((_, service))) => {
            let keys: Vec<((u16, u16), String)> = id.keys.iter().map(|(t, _, v)| ((t.0, t.1), v.clone())).collect();
            // A retrieve sends instances whatever the level it names.
            let (at, limit) = if service == Service::Find { (level, MAX_MATCHES) } else { (Level::Image, MAX_RETRIEVED) };
            let tokens = recorder.context().events.tokens();
            (SUCCESS, rt.archive.query(at, &keys, limit, &tokens.patients(), tokens.cohort_seed()))
        }
        _ => (IDENTIFIER_DOES_NOT_MATCH, Vec::new()),
    };
    let token = found.iter().find(|f| f.token).and_then(|f| recorder.context().events.tokens().find(MaterialKind::PatientId, f.patient.nhs_number.as_bytes()));
    let mut counts = (0u16, 0u16);
    let final_status = match (c.field, &id, level, destination) {
        (field::C_FIND_RQ, Some(id), Some(level), _) if status == SUCCESS => {
            let level_text = id.level.clone().unwrap_or_default();
            for f in &found {
                let Some(data) = encode(&answer(f, level, &level_text, id), &ctx.transfer_syntax) else { continue };
                let rsp = dimse::response(response_field, sop_class, c.message_id, true, PENDING, None);
                link.send_message(ctx.id, &rsp, Some(&data)).await.map_err(io_err)?;
            }
            SUCCESS
        }
        (field::C_MOVE_RQ, Some(_), Some(_), Some((ae, addr))) if status == SUCCESS => {
            let (status, done, failed) = super::moving::send(rt, ae, *addr, &found, (&rt.ae_title, c.message_id)).await;
            counts = (done, failed);
            status
        }
        (field::C_MOVE_RQ, _, _, None) if status == SUCCESS => MOVE_DESTINATION_UNKNOWN,
        (field::C_GET_RQ, Some(_), Some(_), _) if status == SUCCESS => {
            let (status, done, failed) = super::retrieve::get(link, accepted, &found).await?;
            counts = (done, failed);
            status
        }
        _ => status,
    };
    let rsp = if c.field == field::C_FIND_RQ {
        dimse::response(response_field, sop_class, c.message_id, false, final_status, None)
    } else {
        super::retrieve::final_response(response_field, sop_class, c.message_id, final_status, counts.0, counts.1)
    };
    link.send_message(ctx.id, &rsp, None).await.map_err(io_err)?;
    Ok(Outcome {
        level: id.as_ref().and_then(|i| i.level.as_deref()).map(AttackerBytes::new),
        keys: id.as_ref().map(recorded_keys).unwrap_or_default(),
        matches: found.len() as u32,
        status: final_status,
        token,
    })
}
