//! DICOM upper-layer PDUs on the wire. Reading: the 6-byte header first, its length
//! checked against a cap before a byte of the body is allocated, then dicom-ul's
//! decoder on the whole PDU. Writing: our own encoders, so every byte of the
//! A-ASSOCIATE-AC (item order, echoed AE fields) is the personality's.

use bytes::BytesMut;
use dicom_ul::pdu::{read_pdu, Pdu};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{timeout_at, Instant};

/// Largest PDU other than P-DATA that is read (an A-ASSOCIATE-RQ with many contexts
/// fits well within it).
pub const MAX_CONTROL_PDU: u32 = 64 * 1024;

/// A PDU as read: decoded, plus the raw AE fields of an A-ASSOCIATE-RQ (echoed back
/// byte for byte in the AC, as DCMTK does).
pub struct Received {
    pub pdu: Pdu,
    /// Called and calling AE title fields, exactly as sent (RQ only).
    pub ae_fields: Option<([u8; 16], [u8; 16])>,
    /// The proposed contexts' UIDs exactly as sent (RQ only): dicom-ul trims spaces,
    /// which DCMTK does not, so a space-padded UID must be seen before it does.
    pub raw_contexts: Vec<RawContext>,
}

/// A proposed presentation context's abstract and transfer syntaxes, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawContext {
    pub id: u8,
    pub abstract_syntax: Vec<u8>,
    pub transfer_syntaxes: Vec<Vec<u8>>,
}

/// The items (type, value) in `bytes`; stops at the first that does not fit.
fn items(mut bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&kind, rest) = bytes.split_first()?;
        let len = u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?]) as usize;
        let value = rest.get(3..3 + len)?;
        bytes = &rest[3 + len..];
        Some((kind, value))
    })
}

/// The presentation contexts of a whole A-ASSOCIATE-RQ, their UIDs as sent (at most
/// 128 contexts and 64 transfer syntaxes each; anything malformed ends the walk).
pub fn raw_contexts(rq: &[u8]) -> Vec<RawContext> {
    let Some(variable) = rq.get(74..) else { return Vec::new() };
    items(variable)
        .filter(|(kind, _)| *kind == 0x20)
        .take(128)
        .filter_map(|(_, value)| {
            let id = *value.first()?;
            let mut context = RawContext { id, ..RawContext::default() };
            for (kind, sub) in items(value.get(4..)?) {
                match kind {
                    0x30 => context.abstract_syntax = sub.to_vec(),
                    0x40 if context.transfer_syntaxes.len() < 64 => context.transfer_syntaxes.push(sub.to_vec()),
                    _ => {}
                }
            }
            Some(context)
        })
        .collect()
}

/// Why no PDU could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The peer closed the connection between PDUs.
    Closed,
    /// The deadline passed.
    Timeout,
    /// The length field is over the cap: (type, length, more bytes had already arrived).
    TooLarge(u8, u32, bool),
    /// The bytes do not decode as that PDU type.
    Malformed(u8),
    /// The connection failed (reset, byte cap).
    Io,
}

/// Reads one PDU; a P-DATA-TF may be up to `max_pdata` bytes long, others up to
/// [`MAX_CONTROL_PDU`].
pub async fn read<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, max_pdata: u32, deadline: Instant) -> Result<Received, ReadError> {
    fill(io, buf, 6, deadline).await?;
    let pdu_type = buf[0];
    let length = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
    let cap = if pdu_type == 0x04 { max_pdata } else { MAX_CONTROL_PDU };
    if length > cap {
        return Err(ReadError::TooLarge(pdu_type, length, buf.len() > 6));
    }
    fill(io, buf, 6 + length as usize, deadline).await?;
    let whole = buf.split_to(6 + length as usize).freeze();
    let ae_fields = (pdu_type == 0x01 && whole.len() >= 42).then(|| {
        let mut called = [0u8; 16];
        let mut calling = [0u8; 16];
        called.copy_from_slice(&whole[10..26]);
        calling.copy_from_slice(&whole[26..42]);
        (called, calling)
    });
    match read_pdu(whole.clone(), dicom_ul::pdu::MAXIMUM_PDU_SIZE, false) {
        Ok(Some(pdu)) => {
            let raw_contexts = if pdu_type == 0x01 { raw_contexts(&whole) } else { Vec::new() };
            Ok(Received { pdu, ae_fields, raw_contexts })
        }
        _ => Err(ReadError::Malformed(pdu_type)),
    }
}

async fn fill<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, want: usize, deadline: Instant) -> Result<(), ReadError> {
    while buf.len() < want {
        buf.reserve((want - buf.len()).min(64 * 1024));
        match timeout_at(deadline, io.read_buf(buf)).await {
            Err(_) => return Err(ReadError::Timeout),
            Ok(Ok(0)) if buf.is_empty() => return Err(ReadError::Closed),
            Ok(Ok(0)) => return Err(ReadError::Io),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(ReadError::Io),
        }
    }
    Ok(())
}

fn header(out: &mut Vec<u8>, pdu_type: u8, length: usize) {
    out.push(pdu_type);
    out.push(0);
    out.extend_from_slice(&(length as u32).to_be_bytes());
}

fn item(out: &mut Vec<u8>, item_type: u8, value: &[u8]) {
    out.push(item_type);
    out.push(0);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// One presentation context result of an AC.
pub struct ContextResult<'a> {
    pub id: u8,
    pub result: u8,
    pub transfer_syntax: &'a str,
}

/// A user information sub-item of an AC, in the order given.
pub enum UserItem<'a> {
    MaxLength(u32),
    ImplementationClassUid(&'a str),
    ImplementationVersionName(&'a str),
    /// SCP/SCU role selection for a SOP class.
    Role {
        sop_class: &'a str,
        scu: bool,
        scp: bool,
    },
}

/// The user information sub-items, in the order given.
fn user_information(user: &[UserItem<'_>]) -> Vec<u8> {
    let mut info = Vec::new();
    for u in user {
        match u {
            UserItem::MaxLength(n) => item(&mut info, 0x51, &n.to_be_bytes()),
            UserItem::ImplementationClassUid(uid) => item(&mut info, 0x52, uid.as_bytes()),
            UserItem::Role { sop_class, scu, scp } => {
                let mut v = (sop_class.len() as u16).to_be_bytes().to_vec();
                v.extend_from_slice(sop_class.as_bytes());
                v.push(u8::from(*scu));
                v.push(u8::from(*scp));
                item(&mut info, 0x54, &v);
            }
            UserItem::ImplementationVersionName(name) => item(&mut info, 0x55, name.as_bytes()),
        }
    }
    info
}

/// An A-ASSOCIATE-AC.
pub fn associate_ac(ae_fields: &([u8; 16], [u8; 16]), application_context: &str, results: &[ContextResult<'_>], user: &[UserItem<'_>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&ae_fields.0);
    body.extend_from_slice(&ae_fields.1);
    body.extend_from_slice(&[0; 32]);
    item(&mut body, 0x10, application_context.as_bytes());
    for r in results {
        let mut ctx = vec![r.id, 0, r.result, 0];
        item(&mut ctx, 0x40, r.transfer_syntax.as_bytes());
        item(&mut body, 0x21, &ctx);
    }
    item(&mut body, 0x50, &user_information(user));
    let mut out = Vec::with_capacity(body.len() + 6);
    header(&mut out, 0x02, body.len());
    out.extend_from_slice(&body);
    out
}

/// An A-ASSOCIATE-RQ (for C-MOVE sub-operations): one context per (id, abstract
/// syntax, transfer syntaxes).
pub fn associate_rq(called: &str, calling: &str, contexts: &[(u8, &str, &[&str])], user: &[UserItem<'_>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(format!("{called:<16.16}").as_bytes());
    body.extend_from_slice(format!("{calling:<16.16}").as_bytes());
    body.extend_from_slice(&[0; 32]);
    item(&mut body, 0x10, super::personality::APPLICATION_CONTEXT.as_bytes());
    for (id, abstract_syntax, transfer_syntaxes) in contexts {
        let mut ctx = vec![*id, 0, 0, 0];
        item(&mut ctx, 0x30, abstract_syntax.as_bytes());
        for ts in *transfer_syntaxes {
            item(&mut ctx, 0x40, ts.as_bytes());
        }
        item(&mut body, 0x20, &ctx);
    }
    item(&mut body, 0x50, &user_information(user));
    let mut out = Vec::with_capacity(body.len() + 6);
    header(&mut out, 0x01, body.len());
    out.extend_from_slice(&body);
    out
}

/// An A-RELEASE-RQ.
pub fn release_rq() -> Vec<u8> {
    vec![0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]
}

/// An A-ASSOCIATE-RJ.
pub fn associate_rj(result: u8, source: u8, reason: u8) -> Vec<u8> {
    vec![0x03, 0, 0, 0, 0, 4, 0, result, source, reason]
}

/// An A-RELEASE-RP.
pub fn release_rp() -> Vec<u8> {
    vec![0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]
}

/// An A-ABORT (source 0 service user, 2 service provider).
pub fn abort(source: u8, reason: u8) -> Vec<u8> {
    vec![0x07, 0, 0, 0, 0, 4, 0, 0, source, reason]
}

/// P-DATA-TF PDUs carrying `data` on context `id`, fragmented so that no PDU is longer
/// than the peer's maximum (`max_pdu`, 0 meaning unlimited).
pub fn pdata(out: &mut Vec<u8>, id: u8, command: bool, data: &[u8], max_pdu: u32) {
    let max_pdu = if max_pdu == 0 { 1 << 20 } else { max_pdu.clamp(64, 1 << 24) } as usize;
    let room = max_pdu - 6; // PDV item length (4) + context id + control header
    let mut start = 0;
    loop {
        let end = (start + room).min(data.len());
        let last = end == data.len();
        let chunk = &data[start..end];
        let control = u8::from(command) | (u8::from(last) << 1);
        header(out, 0x04, chunk.len() + 6);
        out.extend_from_slice(&((chunk.len() + 2) as u32).to_be_bytes());
        out.push(id);
        out.push(control);
        out.extend_from_slice(chunk);
        if last {
            break;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_4_gb_length_is_refused_before_anything_is_allocated() {
        let mut io: &[u8] = &[0x01, 0, 0xff, 0xff, 0xff, 0xff, 1, 2];
        let mut buf = BytesMut::new();
        let r = read(&mut io, &mut buf, 16384, Instant::now() + std::time::Duration::from_secs(1)).await;
        assert_eq!(r.err(), Some(ReadError::TooLarge(1, u32::MAX, true)));
        assert!(buf.capacity() < 1 << 20);
    }

    #[tokio::test]
    async fn truncated_and_unknown_pdus_are_told_apart() {
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        let mut io: &[u8] = &[0x04, 0, 0, 0, 0, 10, 1, 2];
        assert_eq!(read(&mut io, &mut BytesMut::new(), 16384, deadline).await.err(), Some(ReadError::Io));
        let mut io: &[u8] = &[0x09, 0, 0, 0, 0, 2, 1, 2];
        let r = read(&mut io, &mut BytesMut::new(), 16384, deadline).await.ok().map(|r| r.pdu);
        assert!(matches!(r, Some(Pdu::Unknown { pdu_type: 9, .. })), "{r:?}");
        let mut io: &[u8] = &[];
        assert_eq!(read(&mut io, &mut BytesMut::new(), 16384, deadline).await.err(), Some(ReadError::Closed));
    }

    #[test]
    fn pdata_fragments_respect_the_peer_maximum_and_mark_the_last() {
        let mut out = Vec::new();
        pdata(&mut out, 1, false, &[7u8; 300], 128);
        let mut at = 0;
        let mut lasts = Vec::new();
        while at < out.len() {
            let len = u32::from_be_bytes(out[at + 2..at + 6].try_into().unwrap()) as usize;
            assert!(len <= 128);
            lasts.push(out[at + 11] & 2 == 2);
            at += 6 + len;
        }
        assert_eq!(lasts, [false, false, true]);
        let mut empty = Vec::new();
        pdata(&mut empty, 3, true, &[], 16384);
        assert_eq!(empty, [0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 3, 3]);
    }

    #[test]
    fn an_ac_echoes_the_ae_fields_and_orders_user_items_as_given() {
        let fields = (*b"ANY-SCP         ", *b"ECHOSCU         ");
        let ac = associate_ac(
            &fields,
            "1.2.840.10008.3.1.1.1",
            &[ContextResult { id: 1, result: 0, transfer_syntax: "1.2.840.10008.1.2" }],
            &[UserItem::MaxLength(16384), UserItem::ImplementationClassUid("1.2.3"), UserItem::ImplementationVersionName("X")],
        );
        assert_eq!(&ac[10..26], b"ANY-SCP         ");
        let parsed = read_pdu(bytes::Bytes::from(ac), dicom_ul::pdu::MAXIMUM_PDU_SIZE, true).unwrap().unwrap();
        let Pdu::AssociationAC(ac) = parsed else { panic!() };
        assert_eq!(ac.presentation_contexts.len(), 1);
        assert_eq!(ac.user_variables.len(), 3);
    }

    #[test]
    fn raw_contexts_keep_the_padding_as_sent_and_survive_truncation() {
        let rq = associate_rq("ANY", "ME", &[(1, "1.2.840.10008.1.1 ", &["1.2.840.10008.1.2\0"]), (3, "1.2.3", &["1.2.840.10008.1.2.1", "1.2.3 "])], &[]);
        let got = raw_contexts(&rq);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].id, got[0].abstract_syntax.as_slice()), (1, &b"1.2.840.10008.1.1 "[..]));
        assert_eq!(got[0].transfer_syntaxes, vec![b"1.2.840.10008.1.2\0".to_vec()]);
        assert_eq!(got[1].transfer_syntaxes.len(), 2);
        for cut in 0..rq.len() {
            let _ = raw_contexts(&rq[..cut]); // never panics on a short PDU
        }
    }
}
