//! The HTTP sinks: Splunk HEC, Elasticsearch `_bulk`, webhooks (generic JSON, Slack,
//! Teams) and plain POSTs of encoded lines. A batch is one request (a chat message is
//! one request per incident). The receiver's answer decides what happens next:
//!
//! - 2xx: delivered (for `_bulk`, item by item: 409 on `create` means already there);
//! - 401, 403, 404, 407, 408, 429, 5xx and transport errors: retried with backoff —
//!   the sink's credentials, URL or the receiver are at fault, not the events;
//! - 415 to a gzip body: sent again uncompressed, and gzip stays off;
//! - any other 4xx (400, 413, 422, ...): the events were refused; the runner narrows
//!   the batch down and sends each refused event to the dead letters.

pub(crate) mod client;

use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};

use super::format::{bulk_outcome, chat_message, encode_bulk, encode_hec, encode_json, encode_line_for, visible, write_value, Announcement, BulkItem};
use super::{Sink, SinkError};
use crate::config::{HttpAuth, HttpBody, HttpSinkConfig};
use crate::store::StoredEvent;
use client::{Answer, HttpClient};

/// Bytes of a refusal's answer quoted in its reason.
const REASON_CHARS: usize = 300;

/// An HTTP(S) destination.
pub struct HttpSink {
    config: HttpSinkConfig,
    client: HttpClient,
    gzip: bool,
    /// Incident ids of the events about to be sent (incidents-only mode).
    incidents: super::Announced,
}

/// What to do after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    /// Compressed body not understood: resend plain.
    Uncompressed,
    Refused,
}

/// A request body gzipped (fast compression: the network is rarely the bottleneck).
pub fn gzip_body(body: &[u8]) -> Result<Vec<u8>, SinkError> {
    let mut z = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
    z.write_all(body).and_then(|_| z.finish()).map_err(|e| SinkError::Retryable(format!("gzip: {e}")))
}

/// The table in the module documentation.
pub fn verdict(status: u16, gzipped: bool) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        415 if gzipped => Verdict::Uncompressed,
        401 | 403 | 404 | 407 | 408 | 429 => Verdict::Retry,
        400..=499 => Verdict::Refused,
        _ => Verdict::Retry,
    }
}

fn quote(answer: &Answer) -> String {
    let text = visible(&String::from_utf8_lossy(&answer.body[..answer.body.len().min(REASON_CHARS * 4)]));
    let text: String = text.chars().take(REASON_CHARS).collect();
    format!("HTTP {}: {}", answer.status, text.trim())
}

impl HttpSink {
    pub fn new(config: &HttpSinkConfig) -> Result<Self, SinkError> {
        let client = HttpClient::new(config).map_err(|e| SinkError::Permanent(format!("sink {}: {e}", config.name)))?;
        Ok(HttpSink { config: config.clone(), client, gzip: config.gzip, incidents: Default::default() })
    }

    pub fn announce(&mut self, incidents: super::Announced) {
        self.incidents = incidents;
    }

    /// Events per request: chat messages go one by one.
    pub fn max_batch(&self) -> usize {
        if matches!(self.config.body, HttpBody::Chat(_)) {
            1
        } else {
            usize::MAX
        }
    }

    fn body(&self, batch: &[StoredEvent]) -> (Vec<u8>, &'static str) {
        let mut out = Vec::with_capacity(batch.len() * 1024);
        let kind = match &self.config.body {
            HttpBody::Lines(format) => {
                for e in batch {
                    encode_line_for(*format, e, self.incidents.get(&e.seq), &mut out);
                }
                if matches!(format, crate::config::EventFormat::Json | crate::config::EventFormat::Ecs | crate::config::EventFormat::Ocsf) {
                    "application/x-ndjson"
                } else {
                    "text/plain; charset=utf-8"
                }
            }
            HttpBody::Hec(options) => {
                for e in batch {
                    encode_hec(e, options, self.incidents.get(&e.seq), &mut out);
                }
                "application/json"
            }
            HttpBody::Bulk { index } => {
                for e in batch {
                    encode_bulk(e, index, &mut out);
                }
                "application/x-ndjson"
            }
            HttpBody::JsonEvents => {
                out.extend_from_slice(b"{\"events\":[");
                for (i, e) in batch.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    encode_json(e, &mut out);
                }
                out.extend_from_slice(b"]}");
                "application/json"
            }
            HttpBody::Chat(format) => {
                for e in batch {
                    let bare = Announcement::bare(e.event.id);
                    write_value(&chat_message(*format, e, self.incidents.get(&e.seq).unwrap_or(&bare)), &mut out);
                }
                "application/json"
            }
        };
        (out, kind)
    }

    fn request(&self, body: &[u8], content_type: &'static str, gzip: bool) -> Result<hyper::Request<Full<Bytes>>, SinkError> {
        let payload = if gzip { gzip_body(body)? } else { body.to_vec() };
        let mut request = hyper::Request::post(self.config.url.path.as_str())
            .header(HOST, self.client.authority())
            .header(USER_AGENT, concat!("honeyward/", env!("CARGO_PKG_VERSION")))
            .header(CONTENT_TYPE, content_type);
        if gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let auth = match &self.config.auth {
            HttpAuth::None => None,
            HttpAuth::Bearer(s) => Some(format!("Bearer {}", s.expose())),
            HttpAuth::Splunk(s) => Some(format!("Splunk {}", s.expose())),
            HttpAuth::ApiKey(s) => Some(format!("ApiKey {}", s.expose())),
            HttpAuth::Basic { username, password } => {
                use base64::Engine;
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()))))
            }
        };
        if let Some(auth) = auth {
            let mut value = HeaderValue::from_str(&auth).map_err(|_| SinkError::Permanent("the credential is not a valid header value".into()))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        request.body(Full::new(Bytes::from(payload))).map_err(|e| SinkError::Permanent(format!("building the request: {e}")))
    }

    fn bulk_items(&self, answer: &Answer) -> Result<(), SinkError> {
        let items = bulk_outcome(&answer.body).map_err(|e| SinkError::Retryable(e.to_string()))?;
        if let Some(BulkItem::Retry(reason)) = items.iter().find(|i| matches!(i, BulkItem::Retry(_))) {
            // Sent again whole: the items already stored come back as 409.
            return Err(SinkError::Retryable(format!("Elasticsearch: {reason}")));
        }
        let refused: Vec<(usize, String)> = items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| if let BulkItem::Rejected(r) = item { Some((i, format!("Elasticsearch: {r}"))) } else { None })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(SinkError::Rejected { reason: refused[0].1.clone(), items: refused })
        }
    }
}

impl Sink for HttpSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        let (body, content_type) = self.body(batch);
        let mut gzip = self.gzip;
        loop {
            let request = self.request(&body, content_type, gzip)?;
            let answer = self.client.send(request).await?;
            match verdict(answer.status, gzip) {
                Verdict::Delivered if matches!(self.config.body, HttpBody::Bulk { .. }) => return self.bulk_items(&answer),
                Verdict::Delivered => return Ok(()),
                Verdict::Uncompressed => {
                    tracing::warn!(sink = %self.config.name, "the receiver does not take gzip (415): sending uncompressed from now on");
                    self.gzip = false;
                    gzip = false;
                }
                Verdict::Retry => return Err(SinkError::Retryable(format!("{}: {}", self.config.url, quote(&answer)))),
                Verdict::Refused => return Err(SinkError::Rejected { reason: quote(&answer), items: Vec::new() }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_verdicts() {
        for (status, gzipped, want) in [
            (200, false, Verdict::Delivered),
            (204, true, Verdict::Delivered),
            (400, false, Verdict::Refused),
            (413, false, Verdict::Refused),
            (422, true, Verdict::Refused),
            (415, true, Verdict::Uncompressed),
            (415, false, Verdict::Refused),
            (401, false, Verdict::Retry),
            (403, false, Verdict::Retry),
            (404, false, Verdict::Retry),
            (408, false, Verdict::Retry),
            (429, false, Verdict::Retry),
            (500, false, Verdict::Retry),
            (503, true, Verdict::Retry),
            (302, false, Verdict::Retry),
        ] {
            assert_eq!(verdict(status, gzipped), want, "{status} gzip={gzipped}");
        }
    }
}
