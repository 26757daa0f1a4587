//! NATS JetStream as the road from sensors to controllers, instead of HTTPS ingest
//! (heartbeats and the token index still use HTTPS).
//!
//! Sensors publish each batch to `honeyward.events.<sensor>` and count it delivered
//! when JetStream acknowledges that it stored it. The controller reads the stream with
//! the durable pull consumer `honeyward-controller` and acknowledges a message only
//! after its events are committed, so a controller that stops mid-stream gets the
//! unacknowledged messages again; storing by event id makes that harmless.
//!
//! Messages carry the same HMAC signature as HTTPS requests (over `PUBLISH`, the
//! subject and the payload), so the controller knows which enrolled sensor sent them;
//! there is no timestamp window or nonce check, because a message may wait in the
//! stream for days and is redelivered by design.
//!
//! Stream `HONEYWARD`: subjects `honeyward.events.>`, file storage, limits retention,
//! messages kept 7 days (`max_age`), so an outage of the controllers up to a week
//! loses nothing; size it with `max_bytes` on the NATS side for your volume.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use super::signing::{self, Signed};
use crate::config::NatsConfig;
use crate::event::Timestamp;
use crate::sink::{Sink, SinkError};
use crate::store::StoredEvent;

/// The stream every sensor publishes to.
pub const STREAM: &str = "HONEYWARD";
/// The controllers' durable consumer.
pub const CONSUMER: &str = "honeyward-controller";
/// How long messages are kept.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// Largest payload published (NATS' default limit is 1 MiB).
const MAX_PAYLOAD_BYTES: usize = 512 * 1024;

pub fn stream_config() -> stream::Config {
    stream::Config {
        name: STREAM.into(),
        subjects: vec!["honeyward.events.>".into()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: MAX_AGE,
        ..Default::default()
    }
}

/// A NATS server that cannot be reached.
#[derive(Debug, thiserror::Error)]
#[error("NATS {url}: {cause}")]
pub struct NatsConnectError {
    /// As [`shown_url`] shows it.
    pub url: String,
    pub cause: async_nats::ConnectError,
}

/// NATS URLs (one, or several separated by commas) as logs, errors and the store's
/// sink status show them: a user name and password, or a token, become `***`.
pub fn shown_url(urls: &str) -> String {
    let one = |url: &str| -> String {
        let Some(scheme_end) = url.find("://") else { return url.to_string() };
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        match rest[..authority_end].rfind('@') {
            Some(at) => format!("{}://***@{}", &url[..scheme_end], &rest[at + 1..]),
            None => url.to_string(),
        }
    };
    urls.split(',').map(|u| one(u.trim())).collect::<Vec<_>>().join(",")
}

/// Connects as `nats` says: its credentials file, and TLS required with its CA.
pub async fn connect(nats: &NatsConfig) -> Result<jetstream::Context, NatsConnectError> {
    let url = nats.url.as_str();
    let failed = |cause: async_nats::ConnectError| NatsConnectError { url: shown_url(url), cause };
    let mut options = async_nats::ConnectOptions::new().name("honeyward").retry_on_initial_connect();
    if let Some(creds) = &nats.creds_file {
        options = options.credentials_file(creds).await.map_err(|e| failed(async_nats::ConnectError::with_source(async_nats::ConnectErrorKind::Io, e)))?;
    }
    if let Some(ca) = &nats.ca_file {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    let client = options.connect(url).await.map_err(failed)?;
    Ok(jetstream::new(client))
}

/// A sensor's sink publishing to JetStream.
pub struct NatsSink {
    nats: NatsConfig,
    js: Option<jetstream::Context>,
    sensor: String,
    key: Vec<u8>,
}

impl NatsSink {
    pub fn new(u: &crate::config::UpstreamConfig, nats: &NatsConfig) -> Result<Self, SinkError> {
        let key = u.credential.key_bytes().ok_or_else(|| SinkError::Permanent("the credential's key is not base64".into()))?;
        Ok(NatsSink { nats: nats.clone(), js: None, sensor: u.credential.sensor.clone(), key })
    }

    async fn publish(&mut self, payload: Vec<u8>) -> Result<(), SinkError> {
        if self.js.is_none() {
            let js = tokio::time::timeout(Duration::from_secs(10), connect(&self.nats))
                .await
                .map_err(|_| SinkError::Retryable(format!("NATS {}: connect timed out", shown_url(&self.nats.url))))?
                .map_err(|e| SinkError::Retryable(e.to_string()))?;
            js.get_or_create_stream(stream_config()).await.map_err(|e| SinkError::Retryable(format!("JetStream stream {STREAM}: {e}")))?;
            self.js = Some(js);
        }
        let Some(js) = self.js.as_ref() else { return Err(SinkError::Retryable("no NATS connection".into())) };
        let subject = format!("honeyward.events.{}", self.sensor);
        let timestamp_ms = Timestamp::now().as_micros() / 1000;
        let nonce = signing::nonce();
        let signature = signing::sign(&self.key, &Signed { method: "PUBLISH", path: &subject, timestamp_ms, nonce: &nonce, body: &payload });
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(signing::SENSOR_HEADER, self.sensor.as_str());
        headers.insert(signing::TIMESTAMP_HEADER, timestamp_ms.to_string().as_str());
        headers.insert(signing::NONCE_HEADER, nonce.as_str());
        headers.insert(signing::SIGNATURE_HEADER, signature.as_str());
        let acked = async { js.publish_with_headers(subject, headers, payload.into()).await.map_err(|e| e.to_string())?.await.map_err(|e| e.to_string()) };
        match tokio::time::timeout(Duration::from_secs(15), acked).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(SinkError::Retryable(format!("JetStream publish: {e}"))),
            Err(_) => Err(SinkError::Retryable("JetStream did not acknowledge within 15 s".into())),
        }
    }
}

impl Sink for NatsSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        // One message per chunk under the payload limit; a failure re-sends the
        // whole batch (the controller stores by event id).
        let mut payload = Vec::with_capacity(MAX_PAYLOAD_BYTES);
        let mut count = 0;
        for e in batch {
            let mut one = Vec::with_capacity(600);
            serde_json::to_writer(&mut one, &e.event).map_err(|e| SinkError::Permanent(e.to_string()))?;
            if count > 0 && payload.len() + one.len() + 2 > MAX_PAYLOAD_BYTES {
                payload.extend_from_slice(b"]}");
                self.publish(std::mem::take(&mut payload)).await?;
                count = 0;
            }
            payload.extend_from_slice(if count == 0 { b"{\"events\":[" } else { b"," });
            payload.extend_from_slice(&one);
            count += 1;
        }
        if count > 0 {
            payload.extend_from_slice(b"]}");
            self.publish(payload).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_nats_url_are_never_shown() {
        for (url, shown) in [
            ("nats://honeyward:s3cret-pw@nats.trust.nhs.uk:4222", "nats://***@nats.trust.nhs.uk:4222"),
            ("tls://tok3n@10.1.2.3:4222/", "tls://***@10.1.2.3:4222/"),
            ("nats://a:b@h1:4222, nats://h2:4222", "nats://***@h1:4222,nats://h2:4222"),
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ] {
            assert_eq!(shown_url(url), shown);
        }
    }
}
