//! The controller's NATS JetStream consumer: fetches what sensors published through
//! the `controller` sink's NATS road, verifies each message's signature, commits the
//! events, and only then acknowledges.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer;
use futures_util::StreamExt;

use super::ingest;
use super::state::{self, Controller};
use crate::event::Event;
use crate::shutdown::Shutdown;
use crate::sink::controller::nats::{connect, stream_config, CONSUMER, STREAM};
use crate::sink::controller::signing::{self, Signed};

#[derive(serde::Deserialize)]
struct Batch {
    events: Vec<Event>,
}

/// Checks a message's signature; returns its events.
async fn verify(controller: &Arc<Controller>, message: &async_nats::jetstream::Message) -> Result<Vec<Event>, (String, signing::Refusal)> {
    let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
    let claimed = header(signing::SENSOR_HEADER).unwrap_or_default();
    let (Some(ts), Some(nonce), Some(sig)) = (header(signing::TIMESTAMP_HEADER), header(signing::NONCE_HEADER), header(signing::SIGNATURE_HEADER)) else {
        return Err((claimed, signing::Refusal::Unsigned));
    };
    if message.subject.as_str() != format!("honeyward.events.{claimed}") {
        return Err((claimed, signing::Refusal::BadSignature));
    }
    let key = super::auth::sensor_key(controller, &claimed).await.map_err(|r| (claimed.clone(), r))?;
    let timestamp_ms: i64 = ts.parse().map_err(|_| (claimed.clone(), signing::Refusal::BadSignature))?;
    let signed = Signed { method: "PUBLISH", path: message.subject.as_str(), timestamp_ms, nonce: &nonce, body: &message.payload };
    // Verified at the signature's own time: messages may wait in the stream.
    signing::verify(&key, &signed, &sig, timestamp_ms).map_err(|r| (claimed.clone(), r))?;
    let batch: Batch = serde_json::from_slice(&message.payload).map_err(|_| (claimed.clone(), signing::Refusal::BadSignature))?;
    if batch.events.iter().any(|e| e.sensor != claimed) {
        return Err((claimed, signing::Refusal::BadSignature));
    }
    Ok(batch.events)
}

/// The controller's consumer: fetch, verify, commit, then acknowledge.
pub async fn consume(controller: Arc<Controller>, nats: crate::config::NatsConfig, shutdown: Shutdown) {
    loop {
        let session = async {
            let js = connect(&nats).await.map_err(|e| e.to_string())?;
            let stream = js.get_or_create_stream(stream_config()).await.map_err(|e| format!("JetStream stream {STREAM}: {e}"))?;
            let config = consumer::pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            };
            let consumer: consumer::PullConsumer = stream.get_or_create_consumer(CONSUMER, config).await.map_err(|e| format!("JetStream consumer: {e}"))?;
            tracing::info!(url = %crate::sink::controller::nats::shown_url(&nats.url), stream = STREAM, consumer = CONSUMER, "consuming sensor events from NATS JetStream");
            loop {
                let mut batch = consumer.fetch().max_messages(256).expires(Duration::from_secs(1)).messages().await.map_err(|e| e.to_string())?;
                let mut messages = Vec::new();
                while let Some(m) = batch.next().await {
                    messages.push(m.map_err(|e| e.to_string())?);
                }
                if messages.is_empty() {
                    continue;
                }
                let mut events = Vec::new();
                let mut good = Vec::new();
                for m in messages {
                    match verify(&controller, &m).await {
                        Ok(mut evs) => {
                            let sensor = evs.first().map(|e| e.sensor.clone()).unwrap_or_default();
                            ingest::note_checks(&sensor, super::claims::check(&mut evs, crate::event::Timestamp::now(), controller.events.tokens(), &sensor));
                            events.append(&mut evs);
                            good.push(m);
                        }
                        Err((claimed, reason)) => {
                            tracing::warn!(sensor = %crate::sink::format::visible(&claimed), %reason, "NATS message refused");
                            let peer = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
                            super::auth::record_refusal(&controller, peer, &claimed, &reason.to_string(), 1).await;
                            // Never redelivered: it will not verify next time either.
                            let _ = m.ack_with(async_nats::jetstream::AckKind::Term).await;
                        }
                    }
                }
                let committed = state::blocking(&controller, move |c| {
                    let mut conn = c.ingest.lock().unwrap_or_else(|p| p.into_inner());
                    let last = crate::store::commit(&mut conn, &events, &mut Vec::with_capacity(1024))?;
                    crate::store::announce(&c.committed, last);
                    Ok::<_, rusqlite::Error>(())
                })
                .await;
                if !matches!(committed, Some(Ok(()))) {
                    return Err("cannot store events from NATS; they will be redelivered".to_string());
                }
                for m in good {
                    let _ = m.ack().await;
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), String>(())
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            r = session => if let Err(e) = r {
                tracing::warn!(error = %e, "NATS consumer stopped; retrying in 2 s");
            },
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
