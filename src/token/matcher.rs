//! The in-memory token index decoys and enrichment consult: (material kind, keyed
//! digest) → token and plant. Read-mostly; swapped whole when the registry changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::hit::{PlantRef, TokenHit};
use super::keyed_hash::{Digest, MaterialKey};
use super::kind::{MaterialKind, TokenKind};
use super::model::{Plant, TokenState};
use super::registry::Registry;
use super::TokenError;

struct TokenInfo {
    id: String,
    kind: TokenKind,
    label: String,
    state: TokenState,
    plants: Vec<PlantRef>,
}

struct Target {
    token: Arc<TokenInfo>,
    /// The one plant this material identifies (a canary file's path).
    plant: Option<PlantRef>,
}

#[derive(Default)]
struct Index {
    version: i64,
    targets: HashMap<(MaterialKind, Digest), Target>,
}

/// Shared, cheaply cloned handle to the current index.
#[derive(Clone)]
pub struct Matcher {
    key: Option<MaterialKey>,
    index: Arc<RwLock<Arc<Index>>>,
}

fn plant_ref(p: &Plant) -> PlantRef {
    PlantRef { host: p.host.clone(), path: p.path.clone(), note: p.note.clone(), template: p.template.clone() }
}

impl Matcher {
    /// A matcher that knows no tokens.
    pub fn empty() -> Self {
        Matcher { key: None, index: Arc::new(RwLock::new(Arc::new(Index::default()))) }
    }

    /// Loads every token from the registry.
    pub fn load(registry: &Registry) -> Result<Self, TokenError> {
        let m = Matcher { key: Some(registry.key().clone()), index: Arc::new(RwLock::new(Arc::new(Index::default()))) };
        m.reload(registry)?;
        Ok(m)
    }

    /// Rebuilds the index from the registry and swaps it in.
    pub fn reload(&self, registry: &Registry) -> Result<(), TokenError> {
        let version = registry.version()?;
        let tokens: HashMap<String, Arc<TokenInfo>> = registry
            .load(None)?
            .into_values()
            .map(|t| {
                let info = TokenInfo { id: t.id.clone(), kind: t.kind, label: t.label, state: t.state, plants: t.plants.iter().map(plant_ref).collect() };
                (t.id, Arc::new(info))
            })
            .collect();
        let plants = registry.plant_ids()?;
        let mut targets = HashMap::new();
        for row in registry.material()? {
            let Some(token) = tokens.get(&row.token) else { continue };
            let plant = row.plant.and_then(|id| plants.get(&id)).map(|(_, p)| plant_ref(p));
            targets.insert((row.material, row.digest), Target { token: Arc::clone(token), plant });
        }
        let fresh = Arc::new(Index { version, targets });
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
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
    pub fn lookup(&self, kind: MaterialKind, value: &[u8]) -> Option<TokenHit> {
        let key = self.key.as_ref()?;
        let digest = key.digest(kind, value);
        let index = Arc::clone(&self.index.read().unwrap_or_else(|p| p.into_inner()));
        let target = index.targets.get(&(kind, digest))?;
        let t = &target.token;
        let plants = match &target.plant {
            Some(p) => vec![p.clone()],
            None => t.plants.clone(),
        };
        Some(TokenHit { id: t.id.clone(), kind: t.kind, label: t.label.clone(), state: t.state, plants })
    }
}
