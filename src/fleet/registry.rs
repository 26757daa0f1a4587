//! The controller's fleet registry in its store: enrolled sensors (with the key each
//! signs with, revocation, when last heard from and its last heartbeat) and the API's
//! bearer tokens (SHA-256 digests only).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::config::StoreSync;
use crate::event::Timestamp;
use crate::store::{open_connection, StoreError};

/// What can go wrong with the fleet registry.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("invalid sensor name `{0}`: use 1-64 letters, digits, `-`, `_` or `.`")]
    BadName(String),
    #[error("sensor `{0}` is already enrolled; revoke it first or pass --rotate to issue a new key")]
    Enrolled(String),
}

/// One enrolled sensor, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SensorRow {
    pub name: String,
    pub enrolled: Timestamp,
    pub revoked: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub last_source: Option<String>,
    /// The last heartbeat's decoy status, as the sensor sent it.
    pub status: Option<serde_json::Value>,
}

/// The registry.
pub struct Fleet {
    conn: Connection,
}

/// Sensor names end up in events, paths and headers: keep them plain.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut key = [0u8; N];
    rand::fill(&mut key);
    key
}

impl Fleet {
    pub fn open(path: &Path) -> Result<Self, FleetError> {
        Ok(Fleet { conn: open_connection(path, StoreSync::Full, true)? })
    }

    /// Enrols `name` and returns its new key. `rotate` replaces the key (and lifts a
    /// revocation) of an existing sensor.
    pub fn enrol(&self, name: &str, rotate: bool) -> Result<[u8; 32], FleetError> {
        if !valid_name(name) {
            return Err(FleetError::BadName(name.to_string()));
        }
        let exists: Option<Option<i64>> = self.conn.query_row("SELECT revoked_us FROM sensors WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
        if matches!(exists, Some(None)) && !rotate {
            return Err(FleetError::Enrolled(name.to_string()));
        }
        let key = random_bytes::<32>();
        self.conn.execute(
            "INSERT INTO sensors (name, key, enrolled_us) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET key = excluded.key, enrolled_us = excluded.enrolled_us, revoked_us = NULL, silent_reported = 0",
            params![name, key.to_vec(), Timestamp::now().as_micros()],
        )?;
        Ok(key)
    }

    /// Revokes a sensor: its next request is refused. False if unknown.
    pub fn revoke(&self, name: &str) -> Result<bool, FleetError> {
        Ok(self.conn.execute("UPDATE sensors SET revoked_us = ?2 WHERE name = ?1 AND revoked_us IS NULL", params![name, Timestamp::now().as_micros()])? == 1)
    }

    /// The sensor's key and whether it is revoked.
    pub fn key(&self, name: &str) -> Result<Option<(Vec<u8>, bool)>, FleetError> {
        Ok(self.conn.query_row("SELECT key, revoked_us IS NOT NULL FROM sensors WHERE name = ?1", params![name], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    /// The decoys the sensor's last heartbeat declared; None before its first.
    pub fn declared_decoys(&self, name: &str) -> Result<Option<Vec<String>>, FleetError> {
        self.declared(name, "decoy")
    }

    /// The types of the decoys its last heartbeat declared (`ssh`, `http`, ...), which
    /// decide what its token index holds; None before its first.
    pub fn declared_types(&self, name: &str) -> Result<Option<Vec<String>>, FleetError> {
        self.declared(name, "type")
    }

    /// One field of every decoy the sensor's last heartbeat declared.
    fn declared(&self, name: &str, field: &str) -> Result<Option<Vec<String>>, FleetError> {
        let status: Option<Option<String>> = self.conn.query_row("SELECT status FROM sensors WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
        let Some(Some(text)) = status else { return Ok(None) };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Ok(Some(value["decoys"].as_array().map(|list| list.iter().filter_map(|d| d[field].as_str().map(str::to_string)).collect()).unwrap_or_default()))
    }

    /// Notes an authenticated request; with `status`, a heartbeat.
    pub fn seen(&self, name: &str, source: &str, status: Option<&serde_json::Value>) -> Result<(), FleetError> {
        let now = Timestamp::now().as_micros();
        match status {
            Some(s) => self.conn.execute(
                "UPDATE sensors SET last_seen_us = ?2, last_source = ?3, status = ?4, silent_reported = 0 WHERE name = ?1",
                params![name, now, source, s.to_string()],
            )?,
            None => {
                self.conn.execute("UPDATE sensors SET last_seen_us = ?2, last_source = ?3, silent_reported = 0 WHERE name = ?1", params![name, now, source])?
            }
        };
        Ok(())
    }

    /// Every enrolled sensor.
    pub fn list(&self) -> Result<Vec<SensorRow>, FleetError> {
        let mut stmt = self.conn.prepare("SELECT name, enrolled_us, revoked_us, last_seen_us, last_source, status FROM sensors ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(SensorRow {
                name: r.get(0)?,
                enrolled: Timestamp::from_micros(r.get(1)?),
                revoked: r.get::<_, Option<i64>>(2)?.map(Timestamp::from_micros),
                last_seen: r.get::<_, Option<i64>>(3)?.map(Timestamp::from_micros),
                last_source: r.get(4)?,
                status: r.get::<_, Option<String>>(5)?.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sensors (not revoked, heard from at least once) silent for longer than
    /// `window_us` and not yet reported; marks them reported. (name, seconds silent)
    pub fn newly_silent(&self, window_us: i64) -> Result<Vec<(String, u64)>, FleetError> {
        let now = Timestamp::now().as_micros();
        let mut stmt = self.conn.prepare(
            "SELECT name, last_seen_us FROM sensors WHERE revoked_us IS NULL AND silent_reported = 0 AND last_seen_us IS NOT NULL AND last_seen_us < ?1",
        )?;
        let silent: Vec<(String, i64)> = stmt.query_map(params![now - window_us], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (name, _) in &silent {
            self.conn.execute("UPDATE sensors SET silent_reported = 1 WHERE name = ?1", params![name])?;
        }
        Ok(silent.into_iter().map(|(n, last)| (n, ((now - last) / 1_000_000).max(0) as u64)).collect())
    }

    /// Issues an API bearer token named `name` (printed once; only its digest is kept).
    pub fn create_api_token(&self, name: &str) -> Result<String, FleetError> {
        if !valid_name(name) {
            return Err(FleetError::BadName(name.to_string()));
        }
        use base64::Engine;
        let token = format!("hwapi_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()));
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        self.conn.execute(
            "INSERT INTO api_tokens (name, digest, created_us) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, created_us = excluded.created_us, revoked_us = NULL",
            params![name, digest.as_ref().to_vec(), Timestamp::now().as_micros()],
        )?;
        Ok(token)
    }

    /// The name of the API token `token`, if it is valid.
    pub fn api_token(&self, token: &str) -> Result<Option<String>, FleetError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        Ok(self
            .conn
            .query_row("SELECT name FROM api_tokens WHERE digest = ?1 AND revoked_us IS NULL", params![digest.as_ref().to_vec()], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrol_revoke_rotate_and_api_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let fleet = Fleet::open(&dir.path().join("c.db")).unwrap();
        let key = fleet.enrol("ward-7", false).unwrap();
        assert_eq!(fleet.key("ward-7").unwrap(), Some((key.to_vec(), false)));
        assert!(matches!(fleet.enrol("ward-7", false), Err(FleetError::Enrolled(_))));
        assert!(matches!(fleet.enrol("../etc", false), Err(FleetError::BadName(_))));
        assert!(fleet.revoke("ward-7").unwrap());
        assert!(fleet.key("ward-7").unwrap().unwrap().1);
        let rotated = fleet.enrol("ward-7", true).unwrap();
        assert_ne!(rotated, key);
        assert!(!fleet.key("ward-7").unwrap().unwrap().1);
        let token = fleet.create_api_token("soc").unwrap();
        assert_eq!(fleet.api_token(&token).unwrap().as_deref(), Some("soc"));
        assert_eq!(fleet.api_token("hwapi_nope").unwrap(), None);
    }
}
