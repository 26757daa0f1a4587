//! The `rdp` decoy: a Windows host with Remote Desktop and Network Level
//! Authentication. It answers the X.224 Connection Request as the personality's
//! Windows does (recording the cookie, often the user name the intruder's tool was
//! given), takes TLS with a Windows-style self-signed certificate, answers CredSSP's
//! NTLM NEGOTIATE with a CHALLENGE naming the configured host, records the NTLM login
//! (checked against planted Windows accounts) and refuses it with the TSRequest error
//! Windows sends for a wrong password.

mod cert;
pub mod credssp;
mod personality;
pub mod x224;

use std::sync::Arc;
use std::time::Duration;

use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connection::{Connection, Recorder};
use super::error::SetupError;
use super::ntlm::{self, spnego, Host};
use crate::config::RdpDecoyConfig;
use crate::event::{AttackerBytes, CloseReason, EventKind};
pub use personality::{RdpPersonality, BUILT_IN as BUILT_IN_PERSONALITIES};
use x224::{failure, protocol};

/// The most a TSRequest may hold before anyone is let in (an AUTHENTICATE with its
/// public-key proof is about 1 KiB).
const MAX_TS_REQUEST: usize = 64 * 1024;
/// STATUS_LOGON_FAILURE, as Windows puts it in the TSRequest's errorCode.
const LOGON_FAILURE: u32 = 0xc000_006d;

/// Everything an RDP decoy needs at run time.
pub struct RdpRuntime {
    pub personality: Arc<RdpPersonality>,
    pub host: Arc<Host>,
    tls: SslAcceptor,
}

impl RdpRuntime {
    /// Loads (or makes) the certificate in `STATE_DIR/rdp/NAME`. Blocking.
    pub fn for_decoy(config: &RdpDecoyConfig, p: Arc<RdpPersonality>, state_dir: &std::path::Path) -> Result<Self, SetupError> {
        let dir = state_dir.join("rdp").join(&config.name);
        crate::state_file::private_dir(&dir)?;
        let host = p.ntlm.host(&config.names, &p.names());
        // A domain member's certificate names its FQDN (upper-case host, as Windows).
        let name = if host.dns_domain.is_empty() { host.netbios_computer.clone() } else { format!("{}.{}", host.netbios_computer, host.dns_domain) };
        let (certificate, key) = cert::load_or_make(&dir, &name, p.certificate_days)?;
        let tls = acceptor(&certificate, &key).map_err(|e| SetupError::RdpCertificate(e.to_string()))?;
        Ok(RdpRuntime { personality: p, host: Arc::new(host), tls })
    }
}

/// TLS 1.2 at most, with Schannel's suites in its order, server preference.
fn acceptor(certificate: &openssl::x509::X509, key: &openssl::pkey::PKey<openssl::pkey::Private>) -> Result<SslAcceptor, openssl::error::ErrorStack> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    b.set_cipher_list(
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA",
    )?;
    b.set_options(openssl::ssl::SslOptions::CIPHER_SERVER_PREFERENCE);
    b.set_certificate(certificate)?;
    b.set_private_key(key)?;
    b.check_private_key()?;
    Ok(b.build())
}

/// The protocols in a requestedProtocols field, by name.
fn protocol_names(bits: u32) -> String {
    let names =
        [(protocol::SSL, "ssl"), (protocol::HYBRID, "hybrid"), (protocol::RDSTLS, "rdstls"), (protocol::HYBRID_EX, "hybrid_ex"), (protocol::RDSAAD, "rdsaad")];
    let list: Vec<&str> = names.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect();
    if list.is_empty() {
        "rdp".into()
    } else {
        list.join(",")
    }
}

/// The answer to a Connection Request: NLA is required, so CredSSP (HYBRID_EX when
/// offered and the personality takes it) or RDSTLS is chosen, anything else refused.
fn answer(p: &RdpPersonality, requested: Option<u32>) -> Result<u32, u32> {
    let r = requested.unwrap_or(protocol::RDP);
    if r & protocol::HYBRID_EX != 0 && p.hybrid_ex {
        Ok(protocol::HYBRID_EX)
    } else if r & (protocol::HYBRID | protocol::HYBRID_EX) != 0 {
        Ok(protocol::HYBRID)
    } else if r & protocol::RDSTLS != 0 {
        Ok(protocol::RDSTLS)
    } else {
        Err(failure::HYBRID_REQUIRED_BY_SERVER)
    }
}

/// Reads one TPKT frame (at most a small X.224 request).
async fn read_tpkt<S: AsyncRead + Unpin>(io: &mut S) -> Result<Vec<u8>, CloseReason> {
    let mut head = [0u8; 4];
    io.read_exact(&mut head).await.map_err(|_| CloseReason::PeerClosed)?;
    let len = x224::tpkt_length(head).filter(|&l| (11..=1024).contains(&l)).ok_or(CloseReason::ProtocolError)?;
    let mut frame = head.to_vec();
    frame.resize(len, 0);
    io.read_exact(&mut frame[4..]).await.map_err(|_| CloseReason::PeerClosed)?;
    Ok(frame)
}

/// Reads one TSRequest (a DER SEQUENCE), capped.
async fn read_ts_request<S: AsyncRead + Unpin>(io: &mut S) -> Result<Vec<u8>, CloseReason> {
    let mut buf = Vec::with_capacity(512);
    loop {
        match credssp::element_length(&buf) {
            Ok(Some(n)) if n > MAX_TS_REQUEST => return Err(CloseReason::MaxBytes),
            Ok(Some(n)) if buf.len() >= n => {
                buf.truncate(n);
                return Ok(buf);
            }
            Ok(_) => {}
            Err(_) => return Err(CloseReason::ProtocolError),
        }
        let mut chunk = [0u8; 2048];
        let n = io.read(&mut chunk).await.map_err(|_| CloseReason::Error)?;
        if n == 0 {
            return Err(CloseReason::PeerClosed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_TS_REQUEST + 8 {
            return Err(CloseReason::MaxBytes);
        }
    }
}

/// CredSSP over TLS: the NTLM NEGOTIATE answered, the AUTHENTICATE recorded and
/// refused. Returns why the connection ended.
async fn credssp_exchange<S: AsyncRead + AsyncWrite + Unpin>(rt: &RdpRuntime, io: &mut S, recorder: &Recorder) -> CloseReason {
    let version = rt.personality.credssp_version;
    let Ok(first) = read_ts_request(io).await else { return CloseReason::PeerClosed };
    let Some(token) = credssp::parse(&first).ok().and_then(|t| t.nego_token.map(<[u8]>::to_vec)) else { return CloseReason::ProtocolError };
    let wrapped = !token.starts_with(b"NTLMSSP\0");
    let Some(negotiate) = spnego::ntlmssp(&token).and_then(|m| ntlm::parse_negotiate(m).ok()) else { return CloseReason::ProtocolError };
    let mut server_challenge = [0u8; 8];
    rand::RngExt::fill(&mut rand::rng(), &mut server_challenge[..]);
    let flags = ntlm::windows_flags(negotiate.flags, rt.host.target);
    let challenge = ntlm::challenge(flags, server_challenge, &rt.host, ntlm::filetime_now());
    let challenge =
        if wrapped { spnego::neg_token_resp(Some(spnego::ACCEPT_INCOMPLETE), Some(spnego::OID_NTLMSSP), Some(&challenge), None) } else { challenge };
    if io.write_all(&credssp::encode(version, Some(&challenge), None, None, None)).await.is_err() {
        return CloseReason::Error;
    }
    let second = match read_ts_request(io).await {
        Ok(s) => s,
        Err(reason) => return reason,
    };
    let auth = credssp::parse(&second).ok().and_then(|t| t.nego_token.and_then(spnego::ntlmssp).and_then(|m| ntlm::parse_authenticate(m).ok()));
    let Some(auth) = auth else { return CloseReason::ProtocolError };
    let attempt = ntlm::login::Attempt { auth: &auth, server_challenge };
    attempt.record(recorder, "rdp", "STATUS_LOGON_FAILURE".into(), false).await;
    let _ = io.write_all(&credssp::encode(version, None, None, Some(LOGON_FAILURE), None)).await;
    let _ = io.shutdown().await;
    CloseReason::PeerClosed
}

async fn serve(rt: &RdpRuntime, stream: &mut TcpStream, recorder: &Recorder, idle: Duration) -> CloseReason {
    let frame = match tokio::time::timeout(idle, read_tpkt(stream)).await {
        Ok(Ok(f)) => f,
        Ok(Err(reason)) => return reason,
        Err(_) => return CloseReason::IdleTimeout,
    };
    let Ok(request) = x224::parse_connection_request(&frame) else { return CloseReason::ProtocolError };
    let chosen = answer(&rt.personality, request.requested_protocols);
    recorder
        .emit(EventKind::RdpNegotiate {
            cookie: request.cookie.map(AttackerBytes::new),
            mstshash: request.mstshash.map(AttackerBytes::new),
            requested: protocol_names(request.requested_protocols.unwrap_or(0)),
            selected: chosen.ok().map(protocol_names),
            refused: chosen.err().map(|_| "hybrid_required_by_server".to_string()),
        })
        .await;
    let reply = match chosen {
        Ok(selected) => x224::connection_confirm(rt.personality.negotiation_flags, selected),
        Err(code) => x224::negotiation_failure(code),
    };
    if stream.write_all(&reply).await.is_err() {
        return CloseReason::Error;
    }
    if chosen.is_err() {
        return CloseReason::ProtocolError;
    }
    // No TLS state until the ClientHello is there: a connection left waiting after its
    // X.224 request costs a socket, not an OpenSSL session (about 40 KiB).
    // (A peek, not readiness: the socket still reads as ready from the request.)
    let mut first = [0u8; 1];
    match tokio::time::timeout(idle, stream.peek(&mut first)).await {
        Ok(Ok(0)) => return CloseReason::PeerClosed,
        Ok(Ok(_)) => {}
        Ok(Err(_)) => return CloseReason::Error,
        Err(_) => return CloseReason::IdleTimeout,
    }
    let Ok(ssl) = Ssl::new(rt.tls.context()) else { return CloseReason::Error };
    let Ok(mut tls) = tokio_openssl::SslStream::new(ssl, stream) else { return CloseReason::Error };
    match tokio::time::timeout(idle, std::pin::Pin::new(&mut tls).accept()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return CloseReason::ProtocolError,
        Err(_) => return CloseReason::IdleTimeout,
    }
    match tokio::time::timeout(idle * 2, credssp_exchange(rt, &mut tls, recorder)).await {
        Ok(reason) => reason,
        Err(_) => CloseReason::IdleTimeout,
    }
}

/// Serves one connection.
pub async fn handle(rt: Arc<RdpRuntime>, mut stream: TcpStream, conn: Connection) {
    let limits = conn.context().limits;
    let _ = stream.set_nodelay(true);
    let recorder = conn.recorder();
    let shutdown = conn.context().shutdown.clone();
    let reason = tokio::select! {
        r = serve(&rt, &mut stream, &recorder, limits.idle_timeout) => r,
        _ = shutdown.cancelled() => CloseReason::Shutdown,
        _ = tokio::time::sleep_until(conn.deadline()) => CloseReason::SessionTimeout,
    };
    conn.close(reason).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nla_is_required_and_hybrid_ex_taken_when_offered() {
        let p = RdpPersonality::parse(BUILT_IN_PERSONALITIES[0].1).unwrap();
        assert_eq!(answer(&p, Some(protocol::SSL | protocol::HYBRID | protocol::HYBRID_EX)), Ok(protocol::HYBRID_EX));
        assert_eq!(answer(&p, Some(protocol::SSL | protocol::HYBRID)), Ok(protocol::HYBRID));
        assert_eq!(answer(&p, Some(protocol::RDSTLS)), Ok(protocol::RDSTLS));
        assert_eq!(answer(&p, Some(protocol::SSL)), Err(failure::HYBRID_REQUIRED_BY_SERVER));
        assert_eq!(answer(&p, None), Err(failure::HYBRID_REQUIRED_BY_SERVER));
        assert_eq!(protocol_names(0), "rdp");
        assert_eq!(protocol_names(0x0b), "ssl,hybrid,hybrid_ex");
    }
}
