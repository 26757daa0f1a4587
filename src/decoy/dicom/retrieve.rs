//! C-GET: each matched honey instance goes back over the same association as a
//! C-STORE sub-operation (the requestor acts as storage SCP), then one final
//! C-GET-RSP with the sub-operation counts.

use tokio::io::{AsyncRead, AsyncWrite};

use super::archive::{Found, Level};
use super::dimse::{self, field, Value};
use super::link::{Accepted, Link};
use crate::event::CloseReason;
use crate::token::{instance_dataset, HONEY_SOP_CLASS};
use dicom_transfer_syntax_registry::TransferSyntax;

const SUCCESS: u16 = 0x0000;
const SUB_OPERATIONS_FAILED: u16 = 0xA702;
const WARNING_SOME_FAILED: u16 = 0xB000;

/// Sends every found instance; returns (final status, completed, failed).
pub async fn get<S>(link: &mut Link<'_, S>, accepted: &[Accepted], found: &[Found]) -> Result<(u16, u16, u16), CloseReason>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(ctx) = accepted.iter().find(|c| c.abstract_syntax == HONEY_SOP_CLASS) else {
        // The requestor offered no context to store secondary capture images on.
        return Ok((SUB_OPERATIONS_FAILED, 0, found.len() as u16));
    };
    let Some(ts) = dicom_transfer_syntax_registry::TransferSyntaxIndex::get(&dicom_transfer_syntax_registry::TransferSyntaxRegistry, &ctx.transfer_syntax)
    else {
        return Ok((SUB_OPERATIONS_FAILED, 0, found.len() as u16));
    };
    let (mut done, mut failed) = (0u16, 0u16);
    for (n, f) in found.iter().enumerate() {
        let message_id = 0x1000u16.wrapping_add(n as u16);
        let Some((rq, data)) = store_request(f, message_id, ts, None) else {
            failed += 1;
            continue;
        };
        link.send_message(ctx.id, &rq, Some(&data)).await.map_err(|_| CloseReason::Error)?;
        match link.next().await {
            Ok(m) if m.command.field == field::C_STORE_RSP && m.command.status == Some(SUCCESS) => done += 1,
            Ok(_) => failed += 1,
            Err(_) => return Err(CloseReason::ProtocolError),
        }
    }
    Ok((outcome(done, failed), done, failed))
}

/// The final status of a set of sub-operations.
pub fn outcome(done: u16, failed: u16) -> u16 {
    match (done, failed) {
        (_, 0) => SUCCESS,
        (0, _) => SUB_OPERATIONS_FAILED,
        _ => WARNING_SOME_FAILED,
    }
}

/// A C-STORE-RQ command and data set (in `ts`) for one found instance; for C-MOVE
/// sub-operations the Move Originator AE and Message ID are added.
pub fn store_request(f: &Found, message_id: u16, ts: &TransferSyntax, originator: Option<(&str, u16)>) -> Option<(Vec<u8>, Vec<u8>)> {
    let record = f.record(Level::Image);
    let (study, series, number) = (record.study()?, record.series()?, f.instance?);
    let uid = series.instance_uid(number)?;
    let mut data = Vec::new();
    instance_dataset(&f.patient, study, series, number)?.write_dataset_with_ts(&mut data, ts).ok()?;
    let mut elements = vec![
        (0x0002, Value::Uid(HONEY_SOP_CLASS)),
        (0x0100, Value::Us(field::C_STORE_RQ)),
        (0x0110, Value::Us(message_id)),
        (0x0700, Value::Us(0)),
        (0x0800, Value::Us(0)),
        (0x1000, Value::Uid(&uid)),
    ];
    if let Some((ae, id)) = originator {
        elements.push((0x1030, Value::Ae(ae)));
        elements.push((0x1031, Value::Us(id)));
    }
    Some((dimse::encode(&elements), data))
}

/// The final C-GET/C-MOVE response with Number of Completed/Failed/Warning
/// Sub-operations.
pub fn final_response(response_field: u16, sop_class: &str, responding_to: u16, status: u16, done: u16, failed: u16) -> Vec<u8> {
    dimse::encode(&[
        (0x0002, Value::Uid(sop_class)),
        (0x0100, Value::Us(response_field)),
        (0x0120, Value::Us(responding_to)),
        (0x0800, Value::Us(dimse::NO_DATA_SET)),
        (0x0900, Value::Us(status)),
        (0x1021, Value::Us(done)),
        (0x1022, Value::Us(failed)),
        (0x1023, Value::Us(0)),
    ])
}
