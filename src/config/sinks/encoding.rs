//! Encoder options a sink's configuration carries: plain data that the formats in
//! `sink::format` read.

use super::output::EventFormat;

/// Which chat a webhook sink posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatFormat {
    Slack,
    Teams,
}

/// Splunk HEC envelope settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecOptions {
    pub format: EventFormat,
    /// Splunk index (default: the token's default index).
    pub index: Option<String>,
    pub sourcetype: String,
}

impl Default for HecOptions {
    fn default() -> Self {
        HecOptions { format: EventFormat::Json, index: None, sourcetype: "honeyward:event".into() }
    }
}

/// Private enterprise number used in the SD-ID when none is configured (the
/// documentation example of RFC 5424).
pub const DEFAULT_ENTERPRISE_NUMBER: u32 = 32473;

/// What varies between syslog deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogOptions {
    /// Facility code (0–23; default 10, authpriv).
    pub facility: u8,
    pub enterprise_number: u32,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        SyslogOptions { facility: 10, enterprise_number: DEFAULT_ENTERPRISE_NUMBER }
    }
}
