//! Pure encoders: a stored event in, bytes out. No I/O, no clock.

mod cef;
mod fields;
mod json;
mod leef;
mod syslog;

pub use cef::{cef_severity, encode_cef};
pub use fields::{fields, visible, Field};
pub use json::{encode_json, event_id_of_line};
pub use leef::encode_leef;
pub use syslog::{encode_5424, escape_param, syslog_severity, SyslogOptions, DEFAULT_ENTERPRISE_NUMBER};

use crate::config::EventFormat;
use crate::store::StoredEvent;

/// Appends one encoded event, terminated by a newline, to `out`.
pub fn encode_line(format: EventFormat, event: &StoredEvent, out: &mut Vec<u8>) {
    match format {
        EventFormat::Json => encode_json(event, out),
    }
    out.push(b'\n');
}
