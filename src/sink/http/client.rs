//! One kept-alive HTTP/1.1 connection to a sink's receiver, over TCP or TLS, with a
//! deadline on every step, answers read only up to a cap, and receivers on private
//! addresses refused unless the sink allows them (also when a name resolves there).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{is_private, HttpSinkConfig, SinkUrl};
use crate::sink::{SinkError, SinkSetupError};

/// Most of an answer kept (enough for a `_bulk` response of a full batch).
const ANSWER_CAP_BYTES: usize = 8 << 20;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A receiver's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// The connection to one receiver.
pub struct HttpClient {
    url: SinkUrl,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    timeout: Duration,
    allow_private: bool,
    sender: Option<SendRequest<Full<Bytes>>>,
}

fn retry(what: impl std::fmt::Display) -> SinkError {
    SinkError::Retryable(what.to_string())
}

impl HttpClient {
    pub fn new(config: &HttpSinkConfig) -> Result<Self, SinkSetupError> {
        let tls = if config.url.https { Some(crate::tls::client_config(&config.ca_file, config.client.as_ref(), &[b"http/1.1"])?) } else { None };
        Self::with(config.url.clone(), tls, config.timeout, config.allow_private_addresses)
    }

    /// A client for `url`, with this TLS configuration for https.
    pub fn with(url: SinkUrl, tls: Option<std::sync::Arc<rustls::ClientConfig>>, timeout: Duration, allow_private: bool) -> Result<Self, SinkSetupError> {
        let tls = match tls {
            Some(config) => {
                let name = ServerName::try_from(url.host.clone()).map_err(|cause| SinkSetupError::ServerName { host: url.host.clone(), cause })?;
                Some((tokio_rustls::TlsConnector::from(config), name))
            }
            None => None,
        };
        Ok(HttpClient { url, tls, timeout, allow_private, sender: None })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, SinkError> {
        let url = &self.url;
        let resolved = tokio::time::timeout(self.timeout, tokio::net::lookup_host((url.host.as_str(), url.port)))
            .await
            .map_err(|_| retry(format!("resolving {} timed out", url.host)))?
            .map_err(|e| retry(format!("resolving {}: {e}", url.host)))?;
        let (allowed, refused): (Vec<_>, Vec<_>) = resolved.partition(|a| self.allow_private || !is_private(a.ip()));
        if allowed.is_empty() {
            let shown: Vec<String> = refused.iter().map(|a| a.ip().to_string()).collect();
            return Err(retry(format!(
                "{url} resolves only to private addresses ({}); set allow_private_addresses: true for an internal receiver",
                shown.join(", ")
            )));
        }
        let mut last = String::new();
        for addr in allowed {
            let tcp = match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    last = format!("connecting to {addr}: {e}");
                    continue;
                }
                Err(_) => {
                    last = format!("connecting to {addr} timed out");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn Io> = match &self.tls {
                None => Box::new(tcp),
                Some((connector, name)) => Box::new(
                    tokio::time::timeout(self.timeout, connector.connect(name.clone(), tcp))
                        .await
                        .map_err(|_| retry(format!("TLS handshake with {addr} timed out")))?
                        .map_err(|e| retry(format!("TLS handshake with {addr}: {e}")))?,
                ),
            };
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| retry(format!("HTTP handshake with {addr}: {e}")))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            return Ok(sender);
        }
        Err(retry(last))
    }

    /// Sends a request and reads the answer (up to the cap), within the timeout.
    pub async fn send(&mut self, request: hyper::Request<Full<Bytes>>) -> Result<Answer, SinkError> {
        let result = self.exchange(request).await;
        if result.is_err() {
            // Whatever went wrong, the next attempt starts on a fresh connection.
            self.sender = None;
        }
        result
    }

    async fn exchange(&mut self, request: hyper::Request<Full<Bytes>>) -> Result<Answer, SinkError> {
        let reusable = match self.sender.as_mut() {
            Some(s) => tokio::time::timeout(self.timeout, s.ready()).await.is_ok_and(|r| r.is_ok()),
            None => false,
        };
        if !reusable {
            self.sender = Some(self.connect().await?);
        }
        let Some(sender) = self.sender.as_mut() else { return Err(retry("no connection")) };
        let url = &self.url;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = tokio::time::timeout_at(deadline, sender.send_request(request))
            .await
            .map_err(|_| retry(format!("{url} did not answer within {} s", self.timeout.as_secs())))?
            .map_err(|e| retry(format!("sending to {url}: {e}")))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut kept = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(retry(format!("{url} answer body timed out"))),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(retry(format!("reading the answer of {url}: {e}"))),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        let room = ANSWER_CAP_BYTES.saturating_sub(kept.len());
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
            }
        }
        Ok(Answer { status, body: Bytes::from(kept) })
    }

    /// `Host` header value.
    pub fn authority(&self) -> String {
        let host = if self.url.host.contains(':') { format!("[{}]", self.url.host) } else { self.url.host.clone() };
        let default = if self.url.https { 443 } else { 80 };
        if self.url.port == default {
            host
        } else {
            format!("{host}:{}", self.url.port)
        }
    }
}
