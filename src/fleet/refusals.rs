//! Refused sensor requests, counted per source and kind of refusal per minute: a
//! source's first refusal of a kind in a minute is recorded at once (and logged); the
//! rest of that minute become one more event, with their number, when the minute is
//! over. A flood of forged requests so costs the store two events per source and
//! kind per minute, not one per request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// Sources tallied per minute; past this, refusals from new sources are summed under
/// the first source that did not fit.
const MAX_SOURCES: usize = 10_000;

/// A source's refusals after its first in the current minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub peer: SocketAddr,
    /// The last sensor name claimed, and the last reason.
    pub claimed: String,
    pub reason: String,
    pub count: u64,
}

/// The current minute's tally.
#[derive(Debug, Default)]
pub struct Refusals {
    minute: i64,
    by_source: HashMap<(IpAddr, &'static str), Summary>,
    /// Refusals from sources that found the table full.
    overflow: Option<Summary>,
    /// Summaries of finished minutes not yet taken.
    pending: Vec<Summary>,
}

impl Refusals {
    /// Notes a refusal at `now_ms`; true when it is its source's first this minute
    /// (the caller records it at once). Earlier minutes' summaries wait for
    /// [`due`](Self::due).
    pub fn note(&mut self, peer: SocketAddr, code: &'static str, claimed: &str, reason: &str, now_ms: i64) -> bool {
        let minute = now_ms.div_euclid(60_000);
        if minute != self.minute {
            self.close_minute();
            self.minute = minute;
        }
        let key = (peer.ip(), code);
        if let Some(s) = self.by_source.get_mut(&key) {
            s.count += 1;
            s.claimed = claimed.to_string();
            s.reason = reason.to_string();
            return false;
        }
        if self.by_source.len() >= MAX_SOURCES {
            let s = self.overflow.get_or_insert_with(|| Summary { peer, claimed: String::new(), reason: String::new(), count: 0 });
            s.count += 1;
            s.claimed = claimed.to_string();
            s.reason = reason.to_string();
            return false;
        }
        self.by_source.insert(key, Summary { peer, claimed: claimed.to_string(), reason: reason.to_string(), count: 0 });
        true
    }

    /// Summaries to record now: those of a finished minute (before `now_ms`), or all
    /// of them with `all` (at shutdown). Sources with no refusal beyond their first
    /// have none.
    pub fn due(&mut self, now_ms: i64, all: bool) -> Vec<Summary> {
        if all || now_ms.div_euclid(60_000) != self.minute {
            self.close_minute();
        }
        std::mem::take(&mut self.pending)
    }

    /// Moves the current minute's summaries to the pending ones.
    fn close_minute(&mut self) {
        let mut done: Vec<Summary> = self.by_source.drain().map(|(_, s)| s).filter(|s| s.count > 0).collect();
        done.extend(self.overflow.take().filter(|s| s.count > 0));
        done.sort_by_key(|s| s.peer);
        self.pending.append(&mut done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(last: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], 40_000))
    }

    #[test]
    fn ten_thousand_refusals_from_one_source_are_one_event_now_and_one_count_later() {
        let mut r = Refusals::default();
        let firsts = (0..10_000).filter(|i| r.note(peer(1), "bad_signature", "ward-1", "bad signature", 120_000 + i)).count();
        assert_eq!(firsts, 1);
        assert!(r.due(125_000, false).is_empty(), "the minute is not over");
        let due = r.due(180_000, false);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].count, 9_999);
        assert!(r.due(180_000, false).is_empty(), "reported once");
    }

    #[test]
    fn each_kind_of_refusal_is_tallied_on_its_own() {
        let mut r = Refusals::default();
        assert!(r.note(peer(1), "revoked", "ward-1", "revoked sensor", 0));
        assert!(r.note(peer(1), "replayed", "ward-1", "replayed request", 1));
        assert!(!r.note(peer(1), "revoked", "ward-1", "revoked sensor", 2));
        let due = r.due(60_000, false);
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].reason.as_str(), due[0].count), ("revoked sensor", 1));
    }

    #[test]
    fn each_source_has_its_own_tally_and_a_full_table_sums_the_rest() {
        let mut r = Refusals::default();
        for i in 0..(MAX_SOURCES as u32 + 500) {
            let p = SocketAddr::from((std::net::Ipv4Addr::from(0x0a00_0000 + i), 1));
            r.note(p, "unknown_sensor", "x", "unknown sensor", 0);
            r.note(p, "unknown_sensor", "x", "unknown sensor", 1);
        }
        let due = r.due(0, true);
        let total: u64 = due.iter().map(|s| s.count).sum();
        // Sources in the table: one first each, one summed; the 500 others: both summed.
        assert_eq!(total, MAX_SOURCES as u64 + 1000);
        assert_eq!(due.len(), MAX_SOURCES + 1);
    }
}
