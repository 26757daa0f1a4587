//! The sensor's signed HTTPS connection to its controller: every request carries the
//! sensor's name, a timestamp, a nonce and an HMAC over them and the body.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};

use super::signing::{self, Signed};
use crate::config::UpstreamConfig;
use crate::event::Timestamp;
use crate::sink::http::client::{Answer, HttpClient};
use crate::sink::{SinkError, SinkSetupError};

/// Time allowed for each exchange with the controller.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Bodies larger than this are gzipped.
const GZIP_FROM_BYTES: usize = 16 * 1024;

/// A signed connection to the controller.
pub struct Upstream {
    client: HttpClient,
    sensor: String,
    key: Vec<u8>,
    authority: String,
}

impl Upstream {
    pub fn new(u: &UpstreamConfig) -> Result<Self, SinkSetupError> {
        let tls = crate::tls::client_config_pem(&u.credential.controller_ca, None, &[b"http/1.1"])?;
        let client = HttpClient::with(u.url.clone(), Some(tls), TIMEOUT, true)?;
        let key = u.credential.key_bytes().ok_or(SinkSetupError::CredentialKey)?;
        let authority = client.authority();
        Ok(Upstream { client, sensor: u.credential.sensor.clone(), key, authority })
    }

    /// Sends a signed request.
    pub async fn request(&mut self, method: &str, path: &str, body: Vec<u8>) -> Result<Answer, SinkError> {
        let timestamp_ms = Timestamp::now().as_micros() / 1000;
        let nonce = signing::nonce();
        let signature = signing::sign(&self.key, &Signed { method, path, timestamp_ms, nonce: &nonce, body: &body });
        let gzip = body.len() >= GZIP_FROM_BYTES;
        let payload = if gzip { crate::sink::http::gzip_body(&body)? } else { body };
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(USER_AGENT, concat!("honeyward-sensor/", env!("CARGO_PKG_VERSION")))
            .header(CONTENT_TYPE, "application/json")
            .header(signing::SENSOR_HEADER, self.sensor.as_str())
            .header(signing::TIMESTAMP_HEADER, timestamp_ms.to_string())
            .header(signing::NONCE_HEADER, nonce)
            .header(signing::SIGNATURE_HEADER, signature);
        if gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let request = request.body(Full::new(Bytes::from(payload))).map_err(|e| SinkError::Permanent(e.to_string()))?;
        self.client.send(request).await
    }
}
