//! `sensor:` section: this host's identity (its name in every event) and memory budget.

use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// `sensor:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSensor {
    /// Name put in every event. Default: the host name.
    pub name: Option<At<String>>,
    /// Resident memory budget of the whole process, MiB (32..=1048576). At or over it,
    /// every decoy refuses new connections (recorded as `connections_refused` with
    /// limit `max_memory`) until memory is back under. Default: no budget.
    pub max_memory_mb: Option<At<u64>>,
}

/// This host's identity.
#[derive(Debug, Clone)]
pub struct SensorConfig {
    /// Names this sensor in every event.
    pub name: String,
    /// Resident memory budget of the process, MiB; decoys refuse new connections at it.
    pub max_memory_mb: Option<u64>,
}

impl Checker<'_> {
    pub(super) fn sensor(&mut self, raw: RawSensor) -> SensorConfig {
        let name = match raw.name {
            Some(n) => {
                if n.value.is_empty() || n.value.len() > 255 || !n.value.bytes().all(|b| b.is_ascii_graphic()) {
                    self.error(
                        n.position,
                        format!("sensor name {:?} is not usable", n.value),
                        "use 1 to 255 printable ASCII characters without spaces (it becomes the syslog HOSTNAME)",
                    );
                }
                n.value
            }
            None => host_name(),
        };
        let max_memory_mb = raw.max_memory_mb.as_ref().map(|_| self.number(&raw.max_memory_mb, "max_memory_mb", 0, 32..=1_048_576));
        SensorConfig { name, max_memory_mb }
    }
}

/// This machine's host name, or `honeyward` if it cannot be read.
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string(),
        _ => "honeyward".to_string(),
    }
}
