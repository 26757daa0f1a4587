//! Pure encoders: a stored event in, bytes out. No I/O, no clock.

mod bulk;
mod cef;
mod chat;
mod ecs;
mod fields;
mod finding;
mod hec;
#[cfg(test)]
mod hostile;
mod json;
mod jsonw;
mod leef;
mod ocsf;
mod syslog;
mod text;

pub use bulk::{bulk_outcome, encode_bulk, BulkItem};
pub use cef::{cef_severity, encode_cef};
pub use chat::{chat_message, slack_escape, teams_escape, ChatFormat};
pub use ecs::{ecs_document, encode_ecs, ECS_VERSION};
pub use fields::{fields, visible, Field};
pub use finding::{encode_ocsf_finding, ocsf_finding, FINDING_CLASS};
pub use hec::{encode_hec, HecOptions};
pub use json::{encode_json, event_id_of_line, json_value, write_value};
pub use leef::encode_leef;
pub use ocsf::{encode_ocsf, ocsf_event, OCSF_VERSION};
pub use syslog::{encode_5424, encode_syslog, escape_param, syslog_severity, SyslogOptions, DEFAULT_ENTERPRISE_NUMBER};

use crate::config::EventFormat;
use crate::store::StoredEvent;

/// What an incidents-only sink says about the incident an event announces: its id,
/// and its title and summary as far as it has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub incident: crate::event::EventId,
    pub title: String,
    pub summary: String,
    /// The incident was announced before and has now become critical (a token used).
    pub escalation: bool,
}

impl Announcement {
    /// An announcement with nothing told yet (tests, and events outside any incident).
    pub fn bare(incident: crate::event::EventId) -> Self {
        Announcement { incident, title: String::new(), summary: String::new(), escalation: false }
    }
}

/// The product version written in CEF and LEEF headers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Appends one encoded event (no newline) in `format`.
pub fn encode(format: EventFormat, event: &StoredEvent, out: &mut Vec<u8>) {
    match format {
        EventFormat::Json => encode_json(event, out),
        EventFormat::Rfc5424 => encode_5424(event, &SyslogOptions::default(), out),
        EventFormat::Cef => encode_cef(event, VERSION, out),
        EventFormat::Leef => encode_leef(event, VERSION, out),
        EventFormat::Ecs => encode_ecs(event, out),
        EventFormat::Ocsf => encode_ocsf(event, out),
    }
}

/// Appends what an event stands for when it is sent: itself, or for incidents-only
/// sinks the incident it announces — with `format: ocsf` that is an OCSF Detection
/// Finding (2004); the other formats carry the announcing event itself.
pub fn encode_for(format: EventFormat, event: &StoredEvent, incident: Option<&Announcement>, out: &mut Vec<u8>) {
    match (format, incident) {
        (EventFormat::Ocsf, Some(announced)) => encode_ocsf_finding(event, announced, out),
        _ => encode(format, event, out),
    }
}

/// [`encode_for`] and a newline.
pub fn encode_line_for(format: EventFormat, event: &StoredEvent, incident: Option<&Announcement>, out: &mut Vec<u8>) {
    encode_for(format, event, incident, out);
    out.push(b'\n');
}

/// Appends one encoded event, terminated by a newline, to `out`. Every format keeps
/// attacker line breaks escaped, so one event is always one line.
pub fn encode_line(format: EventFormat, event: &StoredEvent, out: &mut Vec<u8>) {
    encode(format, event, out);
    out.push(b'\n');
}

/// The event id of a line written by [`encode_line`] in any format (JSON `"id"`,
/// RFC 5424 `id="..."`, CEF `externalId=`, LEEF `id=`, ECS `event.id`, OCSF
/// `metadata.uid`).
pub fn event_id_in_line(line: &[u8]) -> Option<crate::event::EventId> {
    if let Some(id) = event_id_of_line(line) {
        return Some(id);
    }
    let text = std::str::from_utf8(line).ok()?;
    ["[honeyward@", "externalId=", "^id=", "\"event\":{", "\"metadata\":{"].iter().find_map(|marker| {
        let rest = &text[text.find(marker)?..];
        // The id is the first hyphenated UUID after the marker.
        rest.char_indices().take(256).filter_map(|(i, _)| rest.get(i..i + 36)).find_map(crate::event::EventId::parse)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_one_line_whose_event_id_can_be_read_back() {
        let e = syslog::tests::auth(b"line1\nline2");
        for format in [EventFormat::Json, EventFormat::Rfc5424, EventFormat::Cef, EventFormat::Leef, EventFormat::Ecs, EventFormat::Ocsf] {
            let mut out = Vec::new();
            encode_line(format, &e, &mut out);
            assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "{format:?}");
            assert_eq!(event_id_in_line(&out[..out.len() - 1]), Some(e.event.id), "{format:?}");
        }
    }
}
