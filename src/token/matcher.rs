//! The in-memory token index decoys and enrichment consult: (material kind, keyed
//! digest) → token and plant. Read-mostly; swapped whole when the registry changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::keyed_hash::{prehasher, sensor_key};
use super::keyed_hash::{Digest, MaterialKey};
use super::kind::{MaterialKind, TokenKind};
use super::model::UrlResponse;
use super::patient::HoneyPatient;
use super::registry::Registry;
use super::sensor_index::{decode_digest, encode_digest};
use super::windows::{unseal, NtHash};
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
    /// A Windows account's NT hash, unsealed (what its NTLM responses are checked with).
    nt_hash: Option<NtHash>,
}

/// How an observed value becomes the digest it is looked up by.
#[derive(Clone)]
enum Digester {
    /// A controller's or a standalone run's: the value's digest under `token.key`.
    Direct(MaterialKey),
    /// A sensor's: the digest of the value's prehash, under the key its controller
    /// derived for it (see `sensor_index`).
    Prehashed { prehash: MaterialKey, key: MaterialKey },
}

impl Digester {
    fn digest(&self, kind: MaterialKind, value: &[u8]) -> Digest {
        match self {
            Digester::Direct(key) => key.digest(kind, value),
            Digester::Prehashed { prehash, key } => key.digest(kind, &prehash.digest(kind, value)),
        }
    }
}

#[derive(Default)]
struct Index {
    version: i64,
    /// Made from the keys the targets were made with.
    digester: Option<Digester>,
    targets: HashMap<(MaterialKind, Digest), Arc<Target>>,
    /// On a controller, (kind, prehash, target) of every piece of material with a
    /// prehash: what a sensor's digests are derived from.
    prehashed: Vec<(MaterialKind, Digest, Arc<Target>)>,
    /// Honey patients of `patient` tokens (not secret), for the DICOM decoy's archive.
    patients: Arc<Vec<HoneyPatient>>,
    /// Seed of the decoys' synthetic cohort (see [`cohort_seed`]).
    cohort_seed: u64,
}

/// A found token: cheap to return (no allocation); turn it into a [`TokenHit`] to
/// attach it to an event.
#[derive(Clone)]
pub struct TokenMatch {
    target: Arc<Target>,
    /// On a sensor, the digest the token was found by: reported with the hit, so the
    /// controller can check that the sensor was given this token's material.
    digest: Option<Digest>,
}

impl TokenMatch {
    /// The token's id.
    pub fn id(&self) -> &str {
        &self.target.token.id
    }

    /// How a canary URL token wants to be answered (url tokens only).
    pub fn url_response(&self) -> Option<UrlResponse> {
        self.target.token.url_response
    }

    /// The hit to record: the token, its state, and the plant(s) it came from.
    pub fn hit(&self) -> TokenHit {
        let t = &self.target.token;
        let plants = match &self.target.plant {
            Some(p) => vec![p.clone()],
            None => t.plants.clone(),
        };
        TokenHit {
            id: t.id.clone(),
            kind: t.kind,
            label: t.label.clone(),
            state: t.state,
            plants,
            claimed_by_sensor: false,
            digest: self.digest.as_ref().map(encode_digest),
        }
    }
}

/// One sensor's digests of every token, as its controller derives them to check the
/// hits the sensor reports.
pub struct SensorDigests(HashMap<Digest, Arc<Target>>);

impl SensorDigests {
    /// The controller's full hit for a digest the sensor reported, if it is one of the
    /// digests that sensor was given.
    pub fn hit(&self, digest: &str) -> Option<TokenHit> {
        let target = self.0.get(&decode_digest(digest)?)?;
        Some(TokenMatch { target: Arc::clone(target), digest: None }.hit())
    }
}

/// The cohort seed: derived from the prehash key, which a controller derives from its
/// master key and gives every sensor (a one-way derivation; the seed reveals nothing).
fn cohort_seed(prehash: &MaterialKey) -> u64 {
    let bytes = prehash.derive(b"honeyward cohort seed v1");
    u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
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
        // The keys come with the index: a sensor's are replaced by its controller's.
        let digester = match registry.prehash_key()? {
            Some(prehash) => Digester::Prehashed { prehash, key: registry.key().clone() },
            None => Digester::Direct(registry.key().clone()),
        };
        let prehasher = matches!(digester, Digester::Direct(_)).then(|| prehasher(registry.key()));
        let cohort_seed = match (&digester, &prehasher) {
            (Digester::Prehashed { prehash, .. }, _) | (_, Some(prehash)) => cohort_seed(prehash),
            _ => 0,
        };
        let (mut targets, mut prehashed) = (HashMap::new(), Vec::new());
        for row in registry.material()? {
            let Some(token) = tokens.get(&row.token) else { continue };
            let plant = row.plant.and_then(|id| plants.get(&id)).map(|(_, p)| p.clone());
            let nt_hash = row.sealed.as_deref().and_then(|s| unseal(registry.key(), &row.token, s));
            let target = Arc::new(Target { token: Arc::clone(token), plant, nt_hash });
            // A canary file's path is known, so its prehash is too (also for old plants).
            let file = target.plant.as_ref().filter(|_| row.material == MaterialKind::FilePath);
            let prehash = file.and_then(|p| prehasher.as_ref().map(|k| k.digest(MaterialKind::FilePath, p.path.as_bytes()))).or(row.prehash);
            if let (Some(prehash), Some(_)) = (prehash, &prehasher) {
                prehashed.push((row.material, prehash, Arc::clone(&target)));
            }
            targets.insert((row.material, row.digest), target);
        }
        let fresh = Arc::new(Index { version, digester: Some(digester), targets, prehashed, patients: Arc::new(patients), cohort_seed });
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The digests the sensor `sensor` was given, to check the hits it reports (empty
    /// on a sensor, which has no master key).
    pub fn sensor_digests(&self, sensor: &str) -> SensorDigests {
        let index = Arc::clone(&self.index.read().unwrap_or_else(|p| p.into_inner()));
        let Some(Digester::Direct(master)) = &index.digester else { return SensorDigests(HashMap::new()) };
        let key = MaterialKey::from_bytes(&sensor_key(master, sensor));
        SensorDigests(index.prehashed.iter().map(|(kind, prehash, target)| (key.digest(*kind, prehash), Arc::clone(target))).collect())
    }

    /// The honey patients of every `patient` token (active or revoked).
    pub fn patients(&self) -> Arc<Vec<HoneyPatient>> {
        Arc::clone(&self.index.read().unwrap_or_else(|p| p.into_inner()).patients)
    }

    /// The seed the decoys generate their synthetic cohort from: the same on a
    /// controller, a standalone run and every sensor of that controller.
    pub fn cohort_seed(&self) -> u64 {
        self.index.read().unwrap_or_else(|p| p.into_inner()).cohort_seed
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
        let digester = index.digester.as_ref()?;
        let digest = digester.digest(kind, value);
        let reported = matches!(digester, Digester::Prehashed { .. }).then_some(digest);
        index.targets.get(&(kind, digest)).map(|t| TokenMatch { target: Arc::clone(t), digest: reported })
    }

    /// The Windows-password token that owns account `user` (any case), with the NT hash
    /// its NTLM responses are checked with.
    pub fn windows_account(&self, user: &str) -> Option<(TokenMatch, NtHash)> {
        let found = self.find(MaterialKind::WindowsAccount, user.to_lowercase().as_bytes())?;
        let hash = found.target.nt_hash?;
        Some((found, hash))
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
