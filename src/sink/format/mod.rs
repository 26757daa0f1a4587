//! Pure encoders: a stored event in, bytes out. No I/O, no clock.

mod json;

pub use json::{encode_json, event_id_of_line};

use crate::config::EventFormat;
use crate::store::StoredEvent;

/// Appends one encoded event, terminated by a newline, to `out`.
pub fn encode_line(format: EventFormat, event: &StoredEvent, out: &mut Vec<u8>) {
    match format {
        EventFormat::Json => encode_json(event, out),
    }
    out.push(b'\n');
}
