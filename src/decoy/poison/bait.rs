//! The poisoner canary's offer: a login to the SMB server a poisoner runs at the
//! address it claimed, as a Windows client whose name lookup it poisoned would make
//! it, with a planted Windows account. What Responder captures is then a honeytoken's
//! NTLMv2 response: if it is cracked or relayed and used at any decoy, that use is a
//! hit. Everything the server sends is an attacker's: frames capped, deadlines set.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::decoy::der::tlv;
use crate::decoy::ntlm::{self, client, spnego};
use crate::decoy::smb::wire::{self, status, Header};

/// The largest frame read from the poisoner.
const MAX_FRAME: usize = 64 * 1024;

/// A planted account, ready to log in with.
pub struct Bait {
    pub user: String,
    pub domain: String,
    pub nt_hash: [u8; 16],
    /// The name the canary's client goes by (one of the honey names).
    pub workstation: String,
}

/// How an offer ended.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("no connection: {0}")]
    Connect(std::io::Error),
    #[error("no answer in time")]
    Timeout,
    #[error("the connection broke: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server did not speak SMB2 ({0})")]
    NotSmb2(&'static str),
}

async fn send(stream: &mut TcpStream, message: &[u8]) -> Result<(), OfferError> {
    stream.write_all(&wire::frame(message)).await?;
    Ok(())
}

async fn receive(stream: &mut TcpStream) -> Result<(Header, Vec<u8>), OfferError> {
    loop {
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).await?;
        let (kind, len) = wire::frame_header(head);
        if len > MAX_FRAME {
            return Err(OfferError::NotSmb2("frame too large"));
        }
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await?;
        if kind == wire::frame_type::KEEP_ALIVE {
            continue;
        }
        let header = Header::read(&body).ok_or(OfferError::NotSmb2("not an SMB2 answer"))?;
        // An interim answer (STATUS_PENDING) is followed by the real one.
        if header.status != 0x0000_0103 {
            return Ok((header, body));
        }
    }
}

fn request(command: u16, message_id: u64, session_id: u64, body: &[u8]) -> Vec<u8> {
    let header = Header { credit_charge: 1, command, credits: 1, message_id, session_id, process_id: 0xfeff, ..Header::default() };
    let mut out = Vec::with_capacity(wire::SMB2_HEADER + body.len());
    header.write(&mut out);
    out.extend_from_slice(body);
    out
}

/// SESSION_SETUP carrying `token`.
fn session_setup(message_id: u64, session_id: u64, token: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(24 + token.len());
    body.extend(25u16.to_le_bytes());
    body.extend([0, 1]); // Flags, SecurityMode: signing enabled
    body.extend(1u32.to_le_bytes()); // Capabilities: DFS
    body.extend(0u32.to_le_bytes()); // Channel
    body.extend(((wire::SMB2_HEADER + 24) as u16).to_le_bytes());
    body.extend((token.len() as u16).to_le_bytes());
    body.extend(0u64.to_le_bytes());
    body.extend_from_slice(token);
    request(wire::command::SESSION_SETUP, message_id, session_id, &body)
}

/// A client's first SPNEGO token: NegTokenInit offering NTLMSSP, carrying `ntlm`.
fn neg_token_init(ntlm: &[u8]) -> Vec<u8> {
    let mech_types = tlv(0xa0, &tlv(0x30, &tlv(0x06, spnego::OID_NTLMSSP)));
    let init = tlv(0x30, &[mech_types, tlv(0xa2, &tlv(0x04, ntlm))].concat());
    tlv(0x60, &[tlv(0x06, spnego::OID_SPNEGO), tlv(0xa0, &init)].concat())
}

/// The SECURITY blob of a SESSION_SETUP answer.
fn security_blob(m: &[u8]) -> Option<&[u8]> {
    let offset = wire::u16_at(m, wire::SMB2_HEADER + 4)?;
    let len = wire::u16_at(m, wire::SMB2_HEADER + 6)?;
    wire::buffer(m, offset, len)
}

/// Logs in to the SMB server at `to` with `bait`; the NT status it answered.
pub async fn offer(to: SocketAddr, bait: &Bait, deadline: Duration) -> Result<String, OfferError> {
    tokio::time::timeout(deadline, exchange(to, bait)).await.map_err(|_| OfferError::Timeout)?
}

async fn exchange(to: SocketAddr, bait: &Bait) -> Result<String, OfferError> {
    let mut stream = TcpStream::connect(to).await.map_err(OfferError::Connect)?;
    let mut guid = [0u8; 16];
    rand::RngExt::fill(&mut rand::rng(), &mut guid[..]);
    let mut negotiate = Vec::with_capacity(44);
    negotiate.extend(36u16.to_le_bytes());
    negotiate.extend(4u16.to_le_bytes()); // DialectCount
    negotiate.extend(1u16.to_le_bytes()); // SecurityMode: signing enabled
    negotiate.extend([0, 0]);
    negotiate.extend(0x7fu32.to_le_bytes());
    negotiate.extend(guid);
    negotiate.extend([0; 8]); // no negotiate contexts (no 3.1.1)
    for dialect in [0x0202u16, 0x0210, 0x0300, 0x0302] {
        negotiate.extend(dialect.to_le_bytes());
    }
    send(&mut stream, &request(wire::command::NEGOTIATE, 0, 0, &negotiate)).await?;
    let (h, _) = receive(&mut stream).await?;
    if h.status != status::SUCCESS {
        return Ok(status::name(h.status));
    }
    send(&mut stream, &session_setup(1, 0, &neg_token_init(&client::negotiate_message()))).await?;
    let (h, m) = receive(&mut stream).await?;
    if h.status != status::MORE_PROCESSING_REQUIRED {
        return Ok(status::name(h.status));
    }
    let token = security_blob(&m).and_then(spnego::ntlmssp).ok_or(OfferError::NotSmb2("no NTLM challenge"))?;
    let challenge = client::parse_challenge(token).map_err(|_| OfferError::NotSmb2("a malformed NTLM challenge"))?;
    let mut client_challenge = [0u8; 8];
    rand::RngExt::fill(&mut rand::rng(), &mut client_challenge[..]);
    let auth = client::authenticate(&challenge, &bait.nt_hash, &bait.user, &bait.domain, &bait.workstation, client_challenge, ntlm::filetime_now());
    let resp = spnego::neg_token_resp(None, None, Some(&auth), None);
    send(&mut stream, &session_setup(2, h.session_id, &resp)).await?;
    let (h, _) = receive(&mut stream).await?;
    Ok(status::name(h.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_token_is_one_the_decoys_own_spnego_parser_reads_as_ntlm() {
        let token = neg_token_init(&client::negotiate_message());
        let parsed = spnego::parse(&token).unwrap();
        assert!(parsed.init);
        assert_eq!(parsed.mech_types, vec![spnego::OID_NTLMSSP]);
        assert_eq!(spnego::ntlmssp(&token), Some(&client::negotiate_message()[..]));
    }
}
