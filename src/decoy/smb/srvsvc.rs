//! The `srvsvc` named pipe on IPC$, far enough for what every SMB client asks of it
//! first: DCE/RPC BIND (NDR accepted, anything else refused as Windows refuses it) and
//! NetrShareEnum at level 1, answered with the server's shares (ADMIN$, C$, IPC$ and
//! the honey shares) as `smbclient -L`, impacket's `shares` and netexec `--shares`
//! read them (MS-SRVS §3.1.4.8, C706 for the PDUs, NDR for the stub). Everything
//! read is the attacker's: PDUs capped, every length checked. Pure: no I/O.

/// The most bytes one pipe buffers, in either direction.
const MAX_BUFFERED: usize = 64 * 1024;
/// The largest fragment the server sends and takes (Windows' 4280).
const MAX_FRAG: u16 = 4280;
/// srvsvc's interface, 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0, as it is on the wire.
const SRVSVC: [u8; 16] = [0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88];
/// NDR transfer syntax, 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.
const NDR: [u8; 16] = [0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60];
/// The bind-time feature negotiation syntax's first eight bytes (6cb71c2c-9812-4540).
const FEATURE_NEGOTIATION: [u8; 8] = [0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45];
/// NetrShareEnum's operation number.
const NETR_SHARE_ENUM: u16 = 15;
/// Share types (MS-SRVS §2.2.2.4).
pub const STYPE_DISKTREE: u32 = 0;
pub const STYPE_SPECIAL: u32 = 0x8000_0000;
pub const STYPE_IPC: u32 = 3;
/// WERR_INVALID_LEVEL; nca_s_op_rng_error (an operation srvsvc has, not answered here).
const WERR_INVALID_LEVEL: u32 = 124;
const NCA_OP_RNG_ERROR: u32 = 0x1c01_0002;

/// One share as NetrShareEnum lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEntry {
    pub name: String,
    pub kind: u32,
    pub remark: String,
}

/// Why the pipe gave up on what it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    #[error("not a DCE/RPC connection-oriented PDU")]
    NotRpc,
    #[error("more than the pipe buffers")]
    TooLarge,
}

/// What one PDU asked for, for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Bind { srvsvc: bool },
    ShareEnum { level: u32, listed: usize },
    Other { ptype: u8, opnum: u16 },
}

/// One open of the pipe: bytes written and not yet a whole PDU, answers not yet read.
#[derive(Debug, Default)]
pub struct Pipe {
    input: Vec<u8>,
    output: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// A PDU's common header (C706 §12.6.3.1) around `body`.
fn pdu(ptype: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let len = 16 + body.len();
    let mut out = Vec::with_capacity(len);
    out.extend([5, 0, ptype, 0x03, 0x10, 0, 0, 0]);
    out.extend((len as u16).to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(call_id.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The bind_ack to a bind: each presentation context accepted with NDR when it is
/// srvsvc's and offers NDR, acknowledged when it is feature negotiation, refused
/// otherwise.
fn bind_ack(bind: &[u8], call_id: u32) -> Option<(Vec<u8>, bool)> {
    let count = usize::from(*bind.get(24)?);
    let mut results = Vec::new();
    let mut at = 28;
    let mut srvsvc = false;
    for _ in 0..count.min(16) {
        let syntaxes = usize::from(*bind.get(at + 2)?);
        let abstract_syntax = bind.get(at + 4..at + 20)?;
        let offers_ndr = (0..syntaxes).any(|i| bind.get(at + 24 + i * 20..at + 40 + i * 20) == Some(&NDR[..]));
        let first = bind.get(at + 24..at + 44)?;
        if abstract_syntax == SRVSVC && offers_ndr && !srvsvc {
            srvsvc = true;
            results.extend([0, 0, 0, 0]);
            results.extend(NDR);
            results.extend(2u32.to_le_bytes());
        } else if first.get(..8) == Some(&FEATURE_NEGOTIATION[..]) {
            // negotiate_ack, no features.
            results.extend([3, 0, 0, 0]);
            results.extend([0; 20]);
        } else {
            // provider_rejection: proposed transfer syntaxes not supported.
            results.extend([2, 0, 2, 0]);
            results.extend([0; 20]);
        }
        at = at.checked_add(24 + syntaxes * 20)?;
    }
    let mut body = Vec::new();
    body.extend(MAX_FRAG.to_le_bytes());
    body.extend(MAX_FRAG.to_le_bytes());
    body.extend(0x0001_2f8au32.to_le_bytes()); // assoc group
    let address = b"\\PIPE\\srvsvc\0";
    body.extend((address.len() as u16).to_le_bytes());
    body.extend_from_slice(address);
    while (16 + body.len()) % 4 != 0 {
        body.push(0);
    }
    body.extend([count.min(16) as u8, 0, 0, 0]);
    body.extend(results);
    Some((pdu(12, call_id, &body), srvsvc))
}

/// An NDR conformant varying string of `s` with its NUL, padded to four bytes.
fn ndr_string(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
    out.extend((units.len() as u32).to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend((units.len() as u32).to_le_bytes());
    for u in units {
        out.extend(u.to_le_bytes());
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// NetrShareEnum's answer at `level` (1: name, type, remark).
fn share_enum_stub(level: u32, shares: &[ShareEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    if level != 1 {
        out.extend(level.to_le_bytes());
        out.extend(level.to_le_bytes());
        out.extend(0u32.to_le_bytes()); // no container
        out.extend(0u32.to_le_bytes()); // TotalEntries
        out.extend(0u32.to_le_bytes()); // no resume handle
        out.extend(WERR_INVALID_LEVEL.to_le_bytes());
        return out;
    }
    let mut referent = 0x0002_0000u32;
    let mut next = || {
        referent += 4;
        referent
    };
    out.extend(1u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(next().to_le_bytes()); // the container
    out.extend((shares.len() as u32).to_le_bytes());
    out.extend(next().to_le_bytes()); // the array
    out.extend((shares.len() as u32).to_le_bytes());
    for s in shares {
        out.extend(next().to_le_bytes());
        out.extend(s.kind.to_le_bytes());
        out.extend(next().to_le_bytes());
    }
    for s in shares {
        ndr_string(&mut out, &s.name);
        ndr_string(&mut out, &s.remark);
    }
    out.extend((shares.len() as u32).to_le_bytes()); // TotalEntries
    out.extend(next().to_le_bytes()); // ResumeHandle
    out.extend(0u32.to_le_bytes());
    out.extend(0u32.to_le_bytes()); // WERR_OK
    out
}

/// The level a NetrShareEnum request asks for: after the optional server name.
fn requested_level(stub: &[u8]) -> Option<u32> {
    let mut at = 0;
    if u32_at(stub, at)? != 0 {
        let actual = u32_at(stub, at + 12)? as usize;
        at = (at + 16).checked_add(actual.checked_mul(2)?)?;
        at = at.checked_add(3)? & !3;
    } else {
        at += 4;
    }
    u32_at(stub, at)
}

/// A response PDU carrying `stub` (or a fault with `fault_status`).
fn response(call_id: u32, context: u16, stub: Result<Vec<u8>, u32>) -> Vec<u8> {
    let mut body = Vec::new();
    match stub {
        Ok(stub) => {
            body.extend((stub.len() as u32).to_le_bytes());
            body.extend(context.to_le_bytes());
            body.extend([0, 0]);
            body.extend(stub);
            pdu(2, call_id, &body)
        }
        Err(status) => {
            body.extend(0u32.to_le_bytes());
            body.extend(context.to_le_bytes());
            body.extend([0, 0]);
            body.extend(status.to_le_bytes());
            body.extend([0; 4]);
            pdu(3, call_id, &body)
        }
    }
}

impl Pipe {
    /// Takes a WRITE's bytes; answers every whole PDU into the read queue. What each
    /// PDU asked for.
    pub fn write(&mut self, data: &[u8], shares: &[ShareEntry]) -> Result<Vec<Call>, RpcError> {
        if self.input.len() + data.len() > MAX_BUFFERED {
            return Err(RpcError::TooLarge);
        }
        self.input.extend_from_slice(data);
        let mut calls = Vec::new();
        while self.input.len() >= 16 {
            if self.input[0] != 5 || self.input[1] != 0 {
                return Err(RpcError::NotRpc);
            }
            let len = usize::from(u16_at(&self.input, 8).unwrap_or(0));
            if len < 16 {
                return Err(RpcError::NotRpc);
            }
            if self.input.len() < len {
                break;
            }
            let pdu: Vec<u8> = self.input.drain(..len).collect();
            let (ptype, call_id) = (pdu[2], u32_at(&pdu, 12).unwrap_or(0));
            let (answer, call) = match ptype {
                11 => match bind_ack(&pdu, call_id) {
                    Some((ack, srvsvc)) => (ack, Call::Bind { srvsvc }),
                    None => return Err(RpcError::NotRpc),
                },
                0 => {
                    let (context, opnum) = (u16_at(&pdu, 20).unwrap_or(0), u16_at(&pdu, 22).unwrap_or(0));
                    let stub = pdu.get(24..).unwrap_or_default();
                    match (opnum, requested_level(stub)) {
                        (NETR_SHARE_ENUM, Some(level)) => {
                            let listed = if level == 1 { shares.len() } else { 0 };
                            (response(call_id, context, Ok(share_enum_stub(level, shares))), Call::ShareEnum { level, listed })
                        }
                        _ => (response(call_id, context, Err(NCA_OP_RNG_ERROR)), Call::Other { ptype, opnum }),
                    }
                }
                _ => (Vec::new(), Call::Other { ptype, opnum: 0 }),
            };
            if self.output.len() + answer.len() > MAX_BUFFERED {
                return Err(RpcError::TooLarge);
            }
            self.output.extend(answer);
            calls.push(call);
        }
        Ok(calls)
    }

    /// A READ: up to `max` answered bytes.
    pub fn read(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.output.len());
        self.output.drain(..n).collect()
    }

    /// Whether answers are waiting.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }
}

#[cfg(test)]
#[path = "srvsvc_tests.rs"]
mod tests;
