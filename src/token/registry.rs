//! The token registry in the store: tokens, their plants, and the keyed digests
//! decoys recognise them by. A version counter lets running processes notice
//! changes made by the CLI and reload without a restart.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::keyed_hash::{Digest, MaterialKey};
use super::kind::{MaterialKind, TokenKind};
use super::model::{NewToken, Token, TokenFacts};
use super::TokenError;
use crate::config::StoreSync;
use crate::event::Timestamp;
use crate::event::{Plant, TokenState};
use crate::store::open_connection;

/// One row of matching material, as loaded for the matcher.
pub struct MaterialRow {
    pub material: MaterialKind,
    pub digest: Digest,
    pub token: String,
    /// Set when the material belongs to one plant (a canary file's path).
    pub plant: Option<i64>,
    /// Its digest under the prehash key, from which sensors' digests are derived (None
    /// for material registered before version 8 of the store, and on a sensor).
    pub prehash: Option<Digest>,
    /// A Windows account's NT hash, sealed (see `token/windows.rs`).
    pub sealed: Option<Vec<u8>>,
}

/// The registry, over its own connection to the store.
pub struct Registry {
    pub(super) conn: Connection,
    pub(super) key: MaterialKey,
    pub(super) state_dir: std::path::PathBuf,
}

pub(super) fn sql(e: rusqlite::Error) -> TokenError {
    TokenError::Store(e.to_string())
}

impl Registry {
    /// Opens the registry in the store at `store_path` (commits synced as `sync`); the
    /// digest key lives in `state_dir`.
    pub fn open(store_path: &Path, state_dir: &Path, sync: StoreSync) -> Result<Self, TokenError> {
        let conn = open_connection(store_path, sync, true).map_err(|e| TokenError::Store(e.to_string()))?;
        let key = MaterialKey::load_or_create(state_dir).map_err(|e| TokenError::Io(format!("token key in {}: {e}", state_dir.display())))?;
        Ok(Registry { conn, key, state_dir: state_dir.to_path_buf() })
    }

    /// The key digests are made with.
    pub fn key(&self) -> &MaterialKey {
        &self.key
    }

    /// On a sensor, the prehash key its controller gave it: observed values are
    /// prehashed with it before [`Registry::key`] digests them. None on a controller.
    pub fn prehash_key(&self) -> Result<Option<MaterialKey>, TokenError> {
        let bytes: Option<Vec<u8>> = self.conn.query_row("SELECT prehash_key FROM registry_version WHERE id = 1", [], |r| r.get(0)).map_err(sql)?;
        Ok(bytes.map(|b| MaterialKey::from_bytes(&b)))
    }

    /// Generates a token that can be registered here: a Windows account name must be
    /// one no other token owns (a generated one is drawn again; a chosen one is refused).
    pub fn generate(&self, opts: &super::CreateOptions) -> Result<NewToken, TokenError> {
        for _ in 0..64 {
            let new = super::create_token(opts)?;
            let taken = new.material.iter().filter(|(k, _)| *k == MaterialKind::WindowsAccount).try_fold(false, |taken, (k, v)| {
                let digest = self.key.digest(*k, v);
                let n: i64 = self
                    .conn
                    .query_row("SELECT count(*) FROM token_material WHERE material = ?1 AND digest = ?2", params![k.as_str(), &digest[..]], |r| r.get(0))
                    .map_err(sql)?;
                Ok::<_, TokenError>(taken || n > 0)
            })?;
            match (taken, &opts.username) {
                (false, _) => return Ok(new),
                (true, Some(user)) => {
                    return Err(TokenError::Invalid(format!("another token already owns the Windows account `{user}`: choose another --username")))
                }
                (true, None) => continue,
            }
        }
        Err(TokenError::Invalid("every generated Windows account name is taken: choose one with --username".into()))
    }

    /// Registers new tokens (their digests, never their secrets) in one transaction.
    pub fn insert(&mut self, tokens: &[&NewToken]) -> Result<(), TokenError> {
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut tok = tx
                .prepare_cached("INSERT INTO tokens (id, kind, label, created_us, state, changed_us, facts) VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6)")
                .map_err(sql)?;
            let mut mat = tx
                .prepare_cached("INSERT OR IGNORE INTO token_material (material, digest, token, prehash, sealed) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(sql)?;
            for t in tokens {
                let facts = serde_json::to_string(&t.token.facts).map_err(|e| TokenError::Store(e.to_string()))?;
                let tk = &t.token;
                tok.execute(params![tk.id, tk.kind.as_str(), tk.label, tk.created.as_micros(), tk.state.as_str(), facts]).map_err(sql)?;
                for (kind, value) in &t.material {
                    let (digest, prehash) = digests(&self.key, *kind, value);
                    let account = *kind == MaterialKind::WindowsAccount;
                    let sealed = t.nt_hash.filter(|_| account).map(|h| super::windows::seal(&self.key, &tk.id, &h));
                    let added = mat.execute(params![kind.as_str(), &digest[..], tk.id, &prehash[..], sealed]).map_err(sql)?;
                    if account && added == 0 {
                        // The account name is how an NTLM login finds its token: one each.
                        let user = String::from_utf8_lossy(value);
                        return Err(TokenError::Invalid(format!("another token already owns the Windows account `{user}`: choose another --username")));
                    }
                }
            }
        }
        bump_version(&tx)?;
        tx.commit().map_err(sql)
    }

    /// Records a plant; a `file` token's plant also registers its path as material.
    pub fn add_plant(&mut self, id: &str, plant: &Plant, watch_path: bool) -> Result<(), TokenError> {
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO token_plants (token, host, path, note, template, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, plant.host, plant.path, plant.note, plant.template, plant.created.as_micros()],
        )
        .map_err(sql)?;
        if watch_path {
            let plant_id = tx.last_insert_rowid();
            let (digest, prehash) = digests(&self.key, MaterialKind::FilePath, plant.path.as_bytes());
            tx.execute(
                "INSERT OR REPLACE INTO token_material (material, digest, token, plant, prehash) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![MaterialKind::FilePath.as_str(), &digest[..], id, plant_id, &prehash[..]],
            )
            .map_err(sql)?;
        }
        tx.execute("UPDATE tokens SET changed_us = ?2 WHERE id = ?1", params![id, Timestamp::now().as_micros()]).map_err(sql)?;
        bump_version(&tx)?;
        tx.commit().map_err(sql)
    }

    /// Marks a token revoked (it is still recognised). False if there is no such token.
    pub fn revoke(&mut self, id: &str) -> Result<bool, TokenError> {
        let tx = self.conn.transaction().map_err(sql)?;
        let n = tx.execute("UPDATE tokens SET state = 'revoked', changed_us = ?2 WHERE id = ?1", params![id, Timestamp::now().as_micros()]).map_err(sql)?;
        bump_version(&tx)?;
        tx.commit().map_err(sql)?;
        Ok(n == 1)
    }

    /// Changes whenever a token, plant or state changes.
    pub fn version(&self) -> Result<i64, TokenError> {
        self.conn.query_row("SELECT version FROM registry_version WHERE id = 1", [], |r| r.get(0)).map_err(sql)
    }

    /// One token with its plants.
    pub fn get(&self, id: &str) -> Result<Option<Token>, TokenError> {
        Ok(self.load(Some(id))?.into_values().next())
    }

    /// Every token with its plants, oldest first.
    pub fn list(&self) -> Result<Vec<Token>, TokenError> {
        let mut all: Vec<Token> = self.load(None)?.into_values().collect();
        all.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// Tokens (optionally one) keyed by id, each with its plants in plant-id order.
    pub fn load(&self, only: Option<&str>) -> Result<HashMap<String, Token>, TokenError> {
        let mut out = HashMap::new();
        let mut st = self.conn.prepare_cached("SELECT id, kind, label, created_us, state, facts FROM tokens WHERE ?1 IS NULL OR id = ?1").map_err(sql)?;
        let rows = st
            .query_map(params![only], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (id, kind, label, created, state, facts) = row.map_err(sql)?;
            let kind = TokenKind::parse(&kind).ok_or_else(|| TokenError::Store(format!("token {id} has unknown kind {kind}")))?;
            let facts: TokenFacts = serde_json::from_str(&facts).map_err(|e| TokenError::Store(format!("token {id}: {e}")))?;
            let state = if state == "revoked" { TokenState::Revoked } else { TokenState::Active };
            out.insert(id.clone(), Token { id, kind, label, created: Timestamp::from_micros(created), state, facts, plants: Vec::new() });
        }
        let mut st =
            self.conn.prepare_cached(&format!("SELECT token, {PLANT_COLUMNS} FROM token_plants WHERE ?1 IS NULL OR token = ?1 ORDER BY id")).map_err(sql)?;
        let rows = st.query_map(params![only], |r| Ok((r.get::<_, String>(0)?, plant_at(r, 1)?))).map_err(sql)?;
        for row in rows {
            let (token, plant) = row.map_err(sql)?;
            if let Some(t) = out.get_mut(&token) {
                t.plants.push(plant);
            }
        }
        Ok(out)
    }

    /// Plant ids with their token, for resolving plant-specific material.
    pub fn plant_ids(&self) -> Result<HashMap<i64, (String, Plant)>, TokenError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT id, token, {PLANT_COLUMNS} FROM token_plants")).map_err(sql)?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, String>(1)?, plant_at(r, 2)?)))).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Every piece of matching material.
    pub fn material(&self) -> Result<Vec<MaterialRow>, TokenError> {
        let mut st = self.conn.prepare_cached("SELECT material, digest, token, plant, prehash, sealed FROM token_material").map_err(sql)?;
        let rows = st
            .query_map([], |r| {
                let blob = |i| r.get::<_, Option<Vec<u8>>>(i);
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<i64>>(3)?, blob(4)?, blob(5)?))
            })
            .map_err(sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (material, digest, token, plant, prehash, sealed) = row.map_err(sql)?;
            let (Some(material), Ok(digest)) = (MaterialKind::parse(&material), Digest::try_from(digest.as_slice())) else { continue };
            let prehash = prehash.and_then(|p| Digest::try_from(p.as_slice()).ok());
            out.push(MaterialRow { material, digest, token, plant, prehash, sealed });
        }
        Ok(out)
    }
}

/// The digest and the prehash of one piece of material, as a controller registers it.
fn digests(key: &MaterialKey, kind: MaterialKind, value: &[u8]) -> (Digest, Digest) {
    (key.digest(kind, value), super::keyed_hash::prehasher(key).digest(kind, value))
}

/// The plant columns, in the order [`plant_at`] reads them.
const PLANT_COLUMNS: &str = "host, path, note, template, created_us";

/// A plant from a row whose plant columns start at index `at`.
fn plant_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Plant> {
    Ok(Plant { host: r.get(at)?, path: r.get(at + 1)?, note: r.get(at + 2)?, template: r.get(at + 3)?, created: Timestamp::from_micros(r.get(at + 4)?) })
}

pub(super) fn bump_version(tx: &rusqlite::Transaction<'_>) -> Result<(), TokenError> {
    tx.execute("UPDATE registry_version SET version = version + 1 WHERE id = 1", []).map(drop).map_err(sql)
}

/// The registry version of a store, read cheaply by a running process (None before
/// the registry exists).
pub fn version_of(conn: &Connection) -> Option<i64> {
    conn.query_row("SELECT version FROM registry_version WHERE id = 1", [], |r| r.get(0)).optional().ok().flatten()
}
