//! The in-memory token index decoys and enrichment consult: (material kind, keyed
//! digest) → token and plant. Read-mostly; swapped whole when the registry changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::keyed_hash::{Digest, MaterialKey};
use super::kind::{MaterialKind, TokenKind};
use super::model::UrlResponse;
use super::patient::HoneyPatient;
use super::registry::Registry;
use super::TokenError;
use crate::event::{Plant, TokenHit, TokenState};

struct TokenInfo {
    id: String,
    kind: TokenKind,
    label: String,
    state: TokenState,
    plants: Vec<Plant>,
    url_response: Option<UrlResponse>,
}

struct Target {
    token: Arc<TokenInfo>,
    /// The one plant this material identifies (a canary file's path).
    plant: Option<Plant>,
}

#[derive(Default)]
struct Index {
    version: i64,
    /// The digest key the targets were made with.
    key: Option<MaterialKey>,
    targets: HashMap<(MaterialKind, Digest), Arc<Target>>,
    /// Honey patients of `patient` tokens (not secret), for the DICOM decoy's archive.
    patients: Arc<Vec<HoneyPatient>>,
}

/// A found token: cheap to return (no allocation); turn it into a [`TokenHit`] to
/// attach it to an event.
#[derive(Clone)]
pub struct TokenMatch(Arc<Target>);

impl TokenMatch {
    /// The token's id.
    pub fn id(&self) -> &str {
        &self.0.token.id
    }

    /// How a canary URL token wants to be answered (url tokens only).
    pub fn url_response(&self) -> Option<UrlResponse> {
        self.0.token.url_response
    }

    /// The hit to record: the token, its state, and the plant(s) it came from.
    pub fn hit(&self) -> TokenHit {
        let t = &self.0.token;
        let plants = match &self.0.plant {
            Some(p) => vec![p.clone()],
            None => t.plants.clone(),
        };
        TokenHit { id: t.id.clone(), kind: t.kind, label: t.label.clone(), state: t.state, plants, claimed_by_sensor: false }
    }
}

/// Shared, cheaply cloned handle to the current index.
#[derive(Clone)]
pub struct Matcher {
    index: Arc<RwLock<Arc<Index>>>,
}

impl Matcher {
    /// A matcher that knows no tokens.
    pub fn empty() -> Self {
        Matcher { index: Arc::new(RwLock::new(Arc::new(Index::default()))) }
    }

    /// Loads every token from the registry.
    pub fn load(registry: &Registry) -> Result<Self, TokenError> {
        let m = Matcher::empty();
        m.reload(registry)?;
        Ok(m)
    }

    /// Rebuilds the index from the registry and swaps it in.
    pub fn reload(&self, registry: &Registry) -> Result<(), TokenError> {
        let version = registry.version()?;
        let loaded = registry.load(None)?;
        let mut patients: Vec<HoneyPatient> = loaded.values().filter_map(|t| t.facts.patient.clone()).collect();
        patients.sort_by(|a, b| a.nhs_number.cmp(&b.nhs_number));
        let tokens: HashMap<String, Arc<TokenInfo>> = loaded
            .into_values()
            .map(|t| {
                let info = TokenInfo { id: t.id.clone(), kind: t.kind, label: t.label, state: t.state, plants: t.plants, url_response: t.facts.url_response };
                (t.id, Arc::new(info))
            })
            .collect();
        let plants = registry.plant_ids()?;
        let mut targets = HashMap::new();
        for row in registry.material()? {
            let Some(token) = tokens.get(&row.token) else { continue };
            let plant = row.plant.and_then(|id| plants.get(&id)).map(|(_, p)| p.clone());
            targets.insert((row.material, row.digest), Arc::new(Target { token: Arc::clone(token), plant }));
        }
        // The key comes with the index: a sensor's is replaced by its controller's.
        let fresh = Arc::new(Index { version, key: Some(registry.key().clone()), targets, patients: Arc::new(patients) });
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The honey patients of every `patient` token (active or revoked).
    pub fn patients(&self) -> Arc<Vec<HoneyPatient>> {
        Arc::clone(&self.index.read().unwrap_or_else(|p| p.into_inner()).patients)
    }

    /// The registry version the index was built from.
    pub fn version(&self) -> i64 {
        self.index.read().unwrap_or_else(|p| p.into_inner()).version
    }

    /// Number of registered pieces of material.
    pub fn len(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).targets.len()
    }

    /// True when no token is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The token an observed value belongs to, if any.
    pub fn find(&self, kind: MaterialKind, value: &[u8]) -> Option<TokenMatch> {
        let index = Arc::clone(&self.index.read().unwrap_or_else(|p| p.into_inner()));
        let digest = index.key.as_ref()?.digest(kind, value);
        index.targets.get(&(kind, digest)).map(|t| TokenMatch(Arc::clone(t)))
    }

    /// [`Matcher::find`], as the hit to record on an event.
    pub fn lookup(&self, kind: MaterialKind, value: &[u8]) -> Option<TokenHit> {
        self.find(kind, value).map(|m| m.hit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;
    use crate::token::{create_token, CreateOptions};

    #[test]
    fn registered_material_is_found_with_its_plant_and_state_after_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(&dir.path().join("t.db"), &dir.path().join("state"), crate::config::StoreSync::Normal).unwrap();
        let pw = create_token(&CreateOptions::new(TokenKind::SshPassword, "pw")).unwrap();
        let file = create_token(&CreateOptions::new(TokenKind::File, "canary")).unwrap();
        reg.insert(&[&pw, &file]).unwrap();
        let plant = Plant { host: "h".into(), path: "/srv/share/p.env".into(), note: None, template: Some("env".into()), created: Timestamp::now() };
        reg.add_plant(&file.token.id, &plant, true).unwrap();
        let m = Matcher::load(&reg).unwrap();

        let password = pw.secrets.password.as_ref().unwrap().expose();
        let hit = m.lookup(MaterialKind::Password, password.as_bytes()).unwrap();
        assert_eq!((hit.id.as_str(), hit.state), (pw.token.id.as_str(), TokenState::Active));
        assert!(m.lookup(MaterialKind::Password, b"not planted").is_none());
        assert!(m.lookup(MaterialKind::UrlPath, password.as_bytes()).is_none(), "material kinds never mix");
        let hit = m.lookup(MaterialKind::FilePath, b"/srv/share/p.env").unwrap();
        assert_eq!(hit.plants, vec![plant]);

        reg.revoke(&pw.token.id).unwrap();
        assert_ne!(reg.version().unwrap(), m.version());
        m.reload(&reg).unwrap();
        assert_eq!(m.lookup(MaterialKind::Password, password.as_bytes()).unwrap().state, TokenState::Revoked);
    }
}
