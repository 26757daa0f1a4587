//! The token registry as a snapshot a controller hands to its sensors: tokens (no
//! secrets: those are never stored), plants, keyed digests and the digest key, so a
//! sensor recognises every token by itself, even while the controller is away.
//!
//! The digest key travels too: a sensor must digest what attackers send to compare
//! it. Whoever holds a sensor's store and key can test guesses against the digests
//! offline, exactly as on the controller; generated tokens are long random values,
//! so that only matters for weak secrets an operator chose by hand.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::keyed_hash::MaterialKey;
use super::registry::{sql, Registry};
use super::TokenError;

/// A token's row: (id, kind, label, created_us, state, changed_us, facts JSON).
pub type TokenRow = (String, String, String, i64, String, i64, String);
/// A plant's row: (plant id, token, host, path, note, template, created_us).
pub type PlantRow = (i64, String, String, String, Option<String>, Option<String>, i64);

/// The whole registry at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: i64,
    /// The digest key, base64.
    pub key: String,
    pub tokens: Vec<TokenRow>,
    pub plants: Vec<PlantRow>,
    /// (material, digest base64, token, plant id)
    pub material: Vec<(String, String, String, Option<i64>)>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Registry {
    /// The registry as it is now, with the digest key read from the state directory.
    pub fn snapshot(&self) -> Result<Snapshot, TokenError> {
        use base64::Engine;
        let key = std::fs::read(self.state_dir.join("token.key")).map_err(|e| TokenError::Io(format!("token key: {e}")))?;
        let version = self.version()?;
        let mut st = self.conn.prepare("SELECT id, kind, label, created_us, state, changed_us, facts FROM tokens ORDER BY id").map_err(sql)?;
        let tokens = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let mut st = self.conn.prepare("SELECT id, token, host, path, note, template, created_us FROM token_plants ORDER BY id").map_err(sql)?;
        let plants = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let mut st = self.conn.prepare("SELECT material, digest, token, plant FROM token_material").map_err(sql)?;
        let material = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, b64().encode(r.get::<_, Vec<u8>>(1)?), r.get::<_, String>(2)?, r.get::<_, Option<i64>>(3)?)))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        Ok(Snapshot { version, key: b64().encode(key), tokens, plants, material })
    }

    /// Replaces this registry with a controller's snapshot (and its digest key), in one
    /// transaction; running matchers notice the new version and reload.
    pub fn replace_with(&mut self, snap: &Snapshot) -> Result<(), TokenError> {
        use base64::Engine;
        let key = b64().decode(&snap.key).map_err(|e| TokenError::Store(format!("snapshot key: {e}")))?;
        if key.len() != 32 {
            return Err(TokenError::Store("snapshot key is not 32 bytes".into()));
        }
        let key_path = self.state_dir.join("token.key");
        if std::fs::read(&key_path).ok().as_deref() != Some(&key[..]) {
            crate::state_file::replace(&key_path, &key, 0o600).map_err(|e| TokenError::Io(e.to_string()))?;
        }
        self.key = MaterialKey::from_bytes(&key);
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute_batch("DELETE FROM token_material; DELETE FROM token_plants; DELETE FROM tokens;").map_err(sql)?;
        {
            let mut st =
                tx.prepare("INSERT INTO tokens (id, kind, label, created_us, state, changed_us, facts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(sql)?;
            for t in &snap.tokens {
                st.execute(params![t.0, t.1, t.2, t.3, t.4, t.5, t.6]).map_err(sql)?;
            }
            let mut st =
                tx.prepare("INSERT INTO token_plants (id, token, host, path, note, template, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(sql)?;
            for p in &snap.plants {
                st.execute(params![p.0, p.1, p.2, p.3, p.4, p.5, p.6]).map_err(sql)?;
            }
            let mut st = tx.prepare("INSERT OR REPLACE INTO token_material (material, digest, token, plant) VALUES (?1, ?2, ?3, ?4)").map_err(sql)?;
            for m in &snap.material {
                let digest = b64().decode(&m.1).map_err(|e| TokenError::Store(format!("snapshot digest: {e}")))?;
                st.execute(params![m.0, digest, m.2, m.3]).map_err(sql)?;
            }
        }
        tx.execute("UPDATE registry_version SET version = ?1 WHERE id = 1", params![snap.version]).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Re-reads the digest key (a sensor's may have been replaced by a sync).
    pub fn refresh_key(&mut self) -> Result<(), TokenError> {
        self.key = MaterialKey::load_or_create(&self.state_dir).map_err(|e| TokenError::Io(format!("token key: {e}")))?;
        Ok(())
    }
}
