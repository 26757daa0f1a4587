//! One established association's message layer: P-DATA fragments assembled into
//! DIMSE messages (command, then data set) under caps, C-STORE data streamed into the
//! quarantine, and our messages fragmented to the peer's max PDU.

use bytes::BytesMut;
use dicom_ul::pdu::{PDataValueType, Pdu};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::dimse::{self, Command};
use super::pdu::{self, ReadError};
use crate::decoy::quarantine::{Quarantine, Stored, Writer};

/// An accepted presentation context.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: u8,
    pub abstract_syntax: String,
    pub transfer_syntax: String,
}

/// Largest command set accepted.
const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// Largest data set kept in memory (query and retrieve identifiers).
const MAX_IDENTIFIER_BYTES: usize = 256 * 1024;

/// A complete message from the peer.
pub struct Message {
    pub context: u8,
    pub command: Command,
    /// The identifier (C-FIND/C-GET/C-MOVE), in memory.
    pub data: Option<Vec<u8>>,
    /// A C-STORE object, already in the quarantine (or refused by it).
    pub stored: Option<Stored>,
}

/// What arrived instead of a message.
#[derive(Debug)]
pub enum Other {
    ReleaseRq,
    AbortRq,
    /// A PDU that has no place here (a second A-ASSOCIATE-RQ, an unknown type).
    Unexpected(u8),
    /// Fragments that break the rules (data before command, over the caps).
    Invalid(&'static str),
    Read(ReadError),
}

enum DataSink {
    Memory(Vec<u8>),
    File(Box<Writer>),
}

/// The peer end of an association.
pub struct Link<'a, S> {
    pub io: &'a mut S,
    buf: BytesMut,
    /// Our max PDU (what we accept).
    pub our_max: u32,
    /// The peer's max PDU (what we may send; 0 = unlimited).
    pub peer_max: u32,
    pub idle: std::time::Duration,
    quarantine: &'a Quarantine,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Link<'a, S> {
    pub fn new(io: &'a mut S, buf: BytesMut, our_max: u32, peer_max: u32, idle: std::time::Duration, quarantine: &'a Quarantine) -> Self {
        Link { io, buf, our_max, peer_max, idle, quarantine }
    }

    /// Sends raw PDU bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        tokio::time::timeout(self.idle, self.io.write_all(bytes)).await.map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }

    /// Sends a DIMSE message: command set, then the data set if any.
    pub async fn send_message(&mut self, context: u8, command: &[u8], data: Option<&[u8]>) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(command.len() + data.map_or(0, <[u8]>::len) + 64);
        pdu::pdata(&mut out, context, true, command, self.peer_max);
        if let Some(data) = data {
            pdu::pdata(&mut out, context, false, data, self.peer_max);
        }
        self.send(&out).await
    }

    /// The next complete message, or what came instead.
    pub async fn next(&mut self) -> Result<Message, Other> {
        let max_pdata = if self.our_max == 0 { 1 << 24 } else { self.our_max };
        let mut command: Vec<u8> = Vec::new();
        let mut decoded: Option<(u8, Command)> = None;
        let mut sink: Option<DataSink> = None;
        loop {
            let received = pdu::read(self.io, &mut self.buf, max_pdata, Instant::now() + self.idle).await.map_err(Other::Read)?;
            let values = match received.pdu {
                Pdu::PData { data } => data,
                Pdu::ReleaseRQ => return Err(Other::ReleaseRq),
                Pdu::AbortRQ { .. } => return Err(Other::AbortRq),
                Pdu::Unknown { pdu_type, .. } => return Err(Other::Unexpected(pdu_type)),
                Pdu::AssociationRQ(_) => return Err(Other::Unexpected(0x01)),
                Pdu::AssociationAC(_) => return Err(Other::Unexpected(0x02)),
                Pdu::AssociationRJ(_) => return Err(Other::Unexpected(0x03)),
                Pdu::ReleaseRP => return Err(Other::Unexpected(0x06)),
            };
            for v in values {
                match (v.value_type, &mut decoded) {
                    (PDataValueType::Command, None) => {
                        if command.len() + v.data.len() > MAX_COMMAND_BYTES {
                            return Err(Other::Invalid("command set over 64 KiB"));
                        }
                        command.extend_from_slice(&v.data);
                        if v.is_last {
                            let c = dimse::decode(&command).map_err(|_| Other::Invalid("command set does not decode"))?;
                            if !c.has_data_set {
                                return Ok(Message { context: v.presentation_context_id, command: c, data: None, stored: None });
                            }
                            sink = Some(if c.field == dimse::field::C_STORE_RQ {
                                DataSink::File(Box::new(self.quarantine.begin()))
                            } else {
                                DataSink::Memory(Vec::new())
                            });
                            decoded = Some((v.presentation_context_id, c));
                        }
                    }
                    (PDataValueType::Data, Some(_)) => {
                        match sink.as_mut() {
                            Some(DataSink::Memory(m)) => {
                                if m.len() + v.data.len() > MAX_IDENTIFIER_BYTES {
                                    return Err(Other::Invalid("identifier over 256 KiB"));
                                }
                                m.extend_from_slice(&v.data);
                            }
                            Some(DataSink::File(w)) => w.write(&v.data, self.quarantine),
                            None => {}
                        }
                        if v.is_last {
                            let (context, c) = decoded.take().ok_or(Other::Invalid("data without a command"))?;
                            return Ok(match sink.take() {
                                Some(DataSink::File(w)) => Message { context, command: c, data: None, stored: Some(self.quarantine.finish(*w)) },
                                Some(DataSink::Memory(m)) => Message { context, command: c, data: Some(m), stored: None },
                                None => Message { context, command: c, data: None, stored: None },
                            });
                        }
                    }
                    (PDataValueType::Data, None) => return Err(Other::Invalid("data set before its command")),
                    (PDataValueType::Command, Some(_)) => return Err(Other::Invalid("command inside a data set")),
                }
            }
        }
    }
}
