//! The syslog sink: RFC 5424 messages to a collector over TCP or TLS (RFC 5425) with
//! octet-counting framing (`LEN SP MSG`, so a message may hold any byte and still be
//! exactly one record) or over UDP, one datagram per message (RFC 5426). TLS trusts
//! only the configured CA (pinning) and checks the collector's name.

use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::format::encode_syslog;
use super::{Sink, SinkError, SinkSetupError};
use crate::config::{SyslogSinkConfig, SyslogTransport};
use crate::store::StoredEvent;

/// Time allowed to connect and to write a batch.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Largest UDP datagram sent; a longer message is cut (its JSON then no longer
/// parses, the structured data still does).
const MAX_DATAGRAM: usize = 65_000;

/// A stream to the collector, plain or TLS.
type Stream = Box<dyn AsyncWrite + Unpin + Send + Sync>;

/// A syslog destination.
pub struct SyslogSink {
    config: SyslogSinkConfig,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    tcp: Option<Stream>,
    udp: Option<UdpSocket>,
}

fn connector(tls: &crate::config::SyslogTls) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), SinkSetupError> {
    let config = crate::tls::client_config(&tls.ca_file, tls.client.as_ref(), &[])?;
    let name = ServerName::try_from(tls.server_name.clone()).map_err(|cause| SinkSetupError::ServerName { host: tls.server_name.clone(), cause })?;
    Ok((tokio_rustls::TlsConnector::from(config), name))
}

impl SyslogSink {
    /// A sink; for TLS, its CA (and client certificate) are loaded now.
    pub fn new(config: &SyslogSinkConfig) -> Result<Self, SinkError> {
        let tls = config.tls.as_ref().map(connector).transpose().map_err(|e| SinkError::Permanent(format!("syslog sink {}: {e}", config.name)))?;
        Ok(SyslogSink { config: config.clone(), tls, tcp: None, udp: None })
    }

    async fn connect(&self) -> Result<Stream, SinkError> {
        let addr = self.config.address;
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| SinkError::Retryable(format!("connecting to {addr} timed out")))?
            .map_err(|e| SinkError::Retryable(format!("connecting to {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let Some((connector, name)) = &self.tls else { return Ok(Box::new(stream)) };
        let tls = tokio::time::timeout(TIMEOUT, connector.connect(name.clone(), stream))
            .await
            .map_err(|_| SinkError::Retryable(format!("TLS handshake with {addr} timed out")))?
            .map_err(|e| SinkError::Retryable(format!("TLS handshake with {addr}: {e}")))?;
        Ok(Box::new(tls))
    }

    async fn send_tcp(&mut self, frames: &[u8]) -> Result<(), SinkError> {
        let addr = self.config.address;
        if self.tcp.is_none() {
            self.tcp = Some(self.connect().await?);
        }
        let Some(stream) = self.tcp.as_mut() else { return Err(SinkError::Retryable("no connection".into())) };
        let written = tokio::time::timeout(TIMEOUT, async {
            stream.write_all(frames).await?;
            stream.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.tcp = None;
                Err(SinkError::Retryable(format!("writing to {addr}: {e}")))
            }
            Err(_) => {
                self.tcp = None;
                Err(SinkError::Retryable(format!("writing to {addr} timed out")))
            }
        }
    }

    async fn send_udp(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        let addr = self.config.address;
        if self.udp.is_none() {
            let local = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let socket = UdpSocket::bind(local).await.map_err(|e| SinkError::Retryable(format!("UDP socket: {e}")))?;
            self.udp = Some(socket);
        }
        let Some(socket) = self.udp.as_ref() else { return Err(SinkError::Retryable("no socket".into())) };
        let mut msg = Vec::with_capacity(1024);
        for e in batch {
            msg.clear();
            encode_syslog(e, &self.config.options, self.config.format, &mut msg);
            msg.truncate(MAX_DATAGRAM);
            socket.send_to(&msg, addr).await.map_err(|e| SinkError::Retryable(format!("sending to {addr}: {e}")))?;
        }
        Ok(())
    }
}

/// Appends `LEN SP MSG` for each event.
pub fn octet_counted(batch: &[StoredEvent], options: &crate::sink::format::SyslogOptions, format: crate::config::EventFormat, out: &mut Vec<u8>) {
    let mut msg = Vec::with_capacity(1024);
    for e in batch {
        msg.clear();
        encode_syslog(e, options, format, &mut msg);
        out.extend_from_slice(msg.len().to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&msg);
    }
}

impl Sink for SyslogSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        match self.config.transport {
            SyslogTransport::Tcp | SyslogTransport::Tls => {
                let mut frames = Vec::with_capacity(batch.len() * 1024);
                octet_counted(batch, &self.config.options, self.config.format, &mut frames);
                self.send_tcp(&frames).await
            }
            SyslogTransport::Udp => self.send_udp(batch).await,
        }
    }
}
