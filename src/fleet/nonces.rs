//! The nonces of signed sensor requests, kept until their signature is too old to be
//! accepted: in memory, and in the store so that a request captured before a
//! controller restart is still refused as a replay after it. Written with
//! `synchronous=NORMAL` on a connection of their own: a nonce survives a process
//! crash or restart (what a replay needs) without an fsync per request.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection};

use crate::config::StoreSync;
use crate::store::{open_connection, StoreError};

/// Most nonces kept in memory before the expired ones are dropped.
const RECENT_MAX: usize = 100_000;

/// Nonces remembered between two prunings of the expired ones in the store.
const PRUNE_EVERY: u32 = 256;

/// Seen nonces.
pub struct Nonces {
    recent: HashMap<(String, String), i64>,
    conn: Connection,
    since_prune: u32,
}

impl Nonces {
    pub fn open(store: &Path) -> Result<Self, StoreError> {
        Ok(Nonces { recent: HashMap::new(), conn: open_connection(store, StoreSync::Normal, true)?, since_prune: 0 })
    }

    /// Records `nonce` of `sensor` until `expires_ms`; `Ok(false)` when it was seen
    /// before and has not expired (a replay, also across restarts). Expired nonces
    /// are forgotten on the way (every [`PRUNE_EVERY`] nonces).
    pub fn remember(&mut self, sensor: &str, nonce: &str, expires_ms: i64, now_ms: i64) -> Result<bool, rusqlite::Error> {
        if self.recent.len() > RECENT_MAX {
            self.recent.retain(|_, expiry| *expiry > now_ms);
        }
        if self.recent.insert((sensor.to_string(), nonce.to_string()), expires_ms).is_some_and(|e| e > now_ms) {
            return Ok(false);
        }
        self.since_prune += 1;
        if self.since_prune >= PRUNE_EVERY {
            self.since_prune = 0;
            self.conn.prepare_cached("DELETE FROM sensor_nonces WHERE expires_ms <= ?1")?.execute(params![now_ms])?;
        }
        // An expired row for the same nonce may still be there: it is replaced.
        let added = self
            .conn
            .prepare_cached(
                "INSERT INTO sensor_nonces (sensor, nonce, expires_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sensor, nonce) DO UPDATE SET expires_ms = excluded.expires_ms WHERE sensor_nonces.expires_ms <= ?4",
            )?
            .execute(params![sensor, nonce, expires_ms, now_ms])?;
        Ok(added == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_until_it_expires_also_after_reopening() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = dir.path().join("s.db");
        let mut n = Nonces::open(&store).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.remember("ward-1", "abc", 1_000, 0).ok(), Some(true));
        assert_eq!(n.remember("ward-1", "abc", 1_000, 10).ok(), Some(false));
        assert_eq!(n.remember("ward-2", "abc", 1_000, 10).ok(), Some(true), "nonces are per sensor");
        drop(n);
        let mut n = Nonces::open(&store).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.remember("ward-1", "abc", 1_000, 20).ok(), Some(false), "remembered across a restart");
        assert_eq!(n.remember("ward-1", "abc", 3_000, 1_000).ok(), Some(true), "expired, so fresh again");
    }
}
