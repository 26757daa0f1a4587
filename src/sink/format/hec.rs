//! Splunk HTTP Event Collector envelopes (`/services/collector/event`): one JSON
//! object per event, concatenated. The event itself is nested as JSON (formats
//! `json`, `ecs`, `ocsf`) or as a string (`rfc5424`, `cef`, `leef`).

use super::json::write_value;
use super::{encode, encode_json};
use crate::config::EventFormat;
pub use crate::config::HecOptions;
use crate::store::StoredEvent;

/// Appends one envelope (no separator needed between envelopes; a newline is added
/// for readability). With `incident` (incidents-only sinks), `ocsf` nests a Detection
/// Finding.
pub fn encode_hec(stored: &StoredEvent, options: &HecOptions, incident: Option<&super::Announcement>, out: &mut Vec<u8>) {
    let e = &stored.event;
    let us = e.time.as_micros();
    out.extend_from_slice(format!("{{\"time\":{}.{:06},", us.div_euclid(1_000_000), us.rem_euclid(1_000_000)).as_bytes());
    let mut meta = serde_json::Map::new();
    meta.insert("host".into(), e.sensor.clone().into());
    meta.insert("source".into(), format!("honeyward:{}", e.decoy.as_deref().unwrap_or("sensor")).into());
    meta.insert("sourcetype".into(), options.sourcetype.clone().into());
    if let Some(index) = &options.index {
        meta.insert("index".into(), index.clone().into());
    }
    for (k, v) in &meta {
        write_value(&serde_json::Value::String(k.clone()), out);
        out.push(b':');
        write_value(v, out);
        out.push(b',');
    }
    out.extend_from_slice(b"\"event\":");
    match options.format {
        EventFormat::Json => encode_json(stored, out),
        EventFormat::Ecs | EventFormat::Ocsf => super::encode_for(options.format, stored, incident, out),
        EventFormat::Rfc5424 | EventFormat::Cef | EventFormat::Leef => {
            let mut line = Vec::with_capacity(512);
            encode(options.format, stored, &mut line);
            write_value(&serde_json::Value::String(String::from_utf8_lossy(&line).into_owned()), out);
        }
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::format::syslog::tests::auth;

    #[test]
    fn each_event_is_one_envelope_that_a_json_stream_reader_reads_back() {
        let events = [auth(b"a\"b]c\\d"), auth(b"line\nbreak\0"), auth(b"\xff\xfe")];
        for format in [EventFormat::Json, EventFormat::Ecs, EventFormat::Ocsf, EventFormat::Cef, EventFormat::Leef, EventFormat::Rfc5424] {
            let options = HecOptions { format, index: Some("honeypot".into()), ..Default::default() };
            let mut body = Vec::new();
            for e in &events {
                encode_hec(e, &options, None, &mut body);
            }
            let parsed: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&body).into_iter().collect::<Result<_, _>>().unwrap();
            assert_eq!(parsed.len(), 3, "{format:?}");
            for (p, e) in parsed.iter().zip(&events) {
                assert_eq!(p["time"].as_f64().unwrap(), 1_795_883_913.123456);
                assert_eq!(p["host"], "pacs vlan sensor");
                assert_eq!(p["source"], "honeyward:ssh");
                assert_eq!(p["index"], "honeypot");
                let line = match &p["event"] {
                    serde_json::Value::String(s) => s.clone().into_bytes(),
                    v => v.to_string().into_bytes(),
                };
                assert_eq!(crate::sink::format::event_id_in_line(&line), Some(e.event.id), "{format:?}");
            }
        }
    }
}
