//! C-MOVE to a destination the operator mapped to an address (`move_destinations`):
//! the decoy opens its own association to it as a storage SCU and sends the matched
//! honey instances. Unmapped destinations are refused (0xA801) before anything is
//! opened: an attacker can never make the decoy connect where the config does not say.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use dicom_ul::pdu::Pdu;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::archive::Found;
use super::dimse::field;
use super::link::Link;
use super::pdu::{self, UserItem};
use super::DicomRuntime;
use crate::token::HONEY_SOP_CLASS;

const SUCCESS: u16 = 0x0000;
const SUB_OPERATIONS_FAILED: u16 = 0xA702;
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

/// Sends `found` to `destination` (AE title, address); returns (status, done, failed).
pub async fn send(rt: &DicomRuntime, destination: &str, addr: SocketAddr, found: &[Found], originator: (&str, u16)) -> (u16, u16, u16) {
    let total = found.len() as u16;
    match tokio::time::timeout(Duration::from_secs(30), store_all(rt, destination, addr, found, originator)).await {
        Ok(Some((done, failed))) => (super::retrieve::outcome(done, failed), done, failed),
        _ => (SUB_OPERATIONS_FAILED, 0, total),
    }
}

async fn store_all(rt: &DicomRuntime, destination: &str, addr: SocketAddr, found: &[Found], originator: (&str, u16)) -> Option<(u16, u16)> {
    let p = &rt.personality;
    let mut stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await.ok()?.ok()?;
    let _ = stream.set_nodelay(true);
    let mut user = vec![UserItem::MaxLength(p.max_pdu_length), UserItem::ImplementationClassUid(&p.implementation_class_uid)];
    if let Some(name) = &p.implementation_version_name {
        user.push(UserItem::ImplementationVersionName(name));
    }
    let rq = pdu::associate_rq(destination, &rt.ae_title, &[(1, HONEY_SOP_CLASS, &[EXPLICIT_LE, IMPLICIT_LE])], &user);
    tokio::io::AsyncWriteExt::write_all(&mut stream, &rq).await.ok()?;
    let mut buf = BytesMut::new();
    let ac = pdu::read(&mut stream, &mut buf, pdu::MAX_CONTROL_PDU, Instant::now() + rt.idle).await.ok()?;
    let Pdu::AssociationAC(ac) = ac.pdu else { return None };
    let accepted = ac.presentation_contexts.iter().find(|c| c.id == 1 && c.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance)?;
    let ts = dicom_transfer_syntax_registry::TransferSyntaxIndex::get(&dicom_transfer_syntax_registry::TransferSyntaxRegistry, &accepted.transfer_syntax)?;
    let peer_max = ac.user_variables.iter().find_map(|u| if let dicom_ul::pdu::UserVariableItem::MaxLength(n) = u { Some(*n) } else { None }).unwrap_or(0);
    let mut link = Link::new(&mut stream, buf, p.max_pdu_length, peer_max, rt.idle, &rt.quarantine);
    let (mut done, mut failed) = (0u16, 0u16);
    for (n, f) in found.iter().enumerate() {
        let Some((rq, data)) = super::retrieve::store_request(f, 1 + n as u16, ts, Some(originator)) else {
            failed += 1;
            continue;
        };
        link.send_message(1, &rq, Some(&data)).await.ok()?;
        match link.next().await {
            Ok(m) if m.command.field == field::C_STORE_RSP && m.command.status == Some(SUCCESS) => done += 1,
            Ok(_) => failed += 1,
            Err(_) => return Some((done, failed + (found.len() - n - 1) as u16 + 1)),
        }
    }
    let _ = link.send(&pdu::release_rq()).await;
    let _ = pdu::read(link.io, &mut BytesMut::new(), pdu::MAX_CONTROL_PDU, Instant::now() + Duration::from_secs(5)).await;
    Some((done, failed))
}
