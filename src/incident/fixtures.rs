//! Events for the incident tests: a failed SSH password from a source at a time.

use crate::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp};

/// A failed SSH password for `root` on sensor `ward-7`, decoy `ssh`, from `source`
/// (an IP address), `seconds` after a fixed instant.
pub fn ssh_auth(source: &str, seconds: i64) -> Event {
    Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::from_micros(1_795_883_913_000_000 + seconds * 1_000_000),
        sensor: "ward-7".into(),
        decoy: Some("ssh".into()),
        source: Some(format!("{source}:40000").parse().expect("a test address")),
        destination: None,
        session: None,
        kind: EventKind::SshAuth {
            method: SshAuthMethod::Password,
            username: AttackerBytes::new("root"),
            password: None,
            key_fingerprint: None,
            key_algorithm: None,
            accepted: false,
            methods_tried: None,
        },
        token: None,
    }
}
