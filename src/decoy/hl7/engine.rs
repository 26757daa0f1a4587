//! How each imitated integration engine stamps the replies it sends: the time format
//! of MSH-7, whether MSH-10 echoes the message's control id or is the engine's own,
//! and whether MSH-12 echoes the message's version.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::ack::Stamp;
use crate::config::Hl7Engine;

/// An engine and the counter its own control ids come from.
#[derive(Debug)]
pub struct Engine {
    kind: Hl7Engine,
    next_id: AtomicU64,
}

impl Engine {
    pub fn new(kind: Hl7Engine) -> Self {
        // A running engine's counter is somewhere past its start, not at 1.
        Engine { kind, next_id: AtomicU64::new(100_000 + rand::random::<u64>() % 800_000) }
    }

    /// The stamp of a reply sent at `now`.
    pub fn stamp(&self, now: DateTime<Utc>) -> Stamp {
        let own_id = || Some(self.next_id.fetch_add(1, Ordering::Relaxed).to_string());
        match self.kind {
            // NextGen Connect's auto-generated ACK: seconds, control id and version echoed.
            Hl7Engine::MirthConnect => Stamp::echo(&now.format("%Y%m%d%H%M%S").to_string()),
            // Rhapsody numbers its own acknowledgements and writes the zone.
            Hl7Engine::Rhapsody => Stamp { timestamp: now.format("%Y%m%d%H%M%S%z").to_string(), control_id: own_id(), version: None },
            // A conformant 2.5.1 listener: milliseconds and zone, its own ids, always 2.5.1.
            Hl7Engine::Generic251 => Stamp { timestamp: now.format("%Y%m%d%H%M%S%.3f%z").to_string(), control_id: own_id(), version: Some("2.5.1") },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_stamps_its_own_way() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T10:15:01.234Z").unwrap().with_timezone(&Utc);
        assert_eq!(Engine::new(Hl7Engine::MirthConnect).stamp(now), Stamp::echo("20261206101501"));
        let r = Engine::new(Hl7Engine::Rhapsody);
        let (a, b) = (r.stamp(now), r.stamp(now));
        assert_eq!((a.timestamp.as_str(), a.version), ("20261206101501+0000", None));
        let ids: Vec<u64> = [a, b].iter().map(|s| s.control_id.as_deref().unwrap().parse().unwrap()).collect();
        assert_eq!(ids[1], ids[0] + 1);
        let g = Engine::new(Hl7Engine::Generic251).stamp(now);
        assert_eq!((g.timestamp.as_str(), g.version), ("20261206101501.234+0000", Some("2.5.1")));
    }
}
