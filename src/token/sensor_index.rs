//! What a sensor is given to recognise tokens, and nothing more: for each token only
//! its id, kind and state (with a canary URL's answer, and a honey patient's facts for
//! a sensor that serves DICOM), the canary files planted on its own host, and digests
//! of the material its own decoys can observe, under a key derived for that sensor
//! alone. No label, username, plant, note or other host is in it, so a sensor's disk
//! tells an intruder nothing about the rest of the trust, and one sensor's digests
//! match nothing anywhere else.
//!
//! Keys (HMAC-SHA256 under the controller's `token.key`, the master key): the prehash
//! key is HMAC(master, "honeyward prehash key v1"); a sensor's key is
//! HMAC(master, "honeyward sensor key v1" ‖ 0 ‖ name). A sensor digests an observed
//! value as digest(sensor key, prehash(value)), where both steps are
//! [`MaterialKey::digest`]. The controller keeps each value's prehash (never the
//! value), so it can give a sensor enrolled later its digests and check the digest a
//! sensor reports with a hit.

use std::collections::HashSet;

use base64::Engine;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::keyed_hash::{prehasher, sensor_key, Digest, MaterialKey, DIGEST_LEN, PREHASH_PURPOSE};
use super::kind::MaterialKind;
use super::model::{TokenFacts, UrlResponse};
use super::patient::HoneyPatient;
use super::registry::{sql, Registry};
use super::TokenError;
use crate::event::{TokenKind, TokenState};

/// What a sensor's decoys can observe, from the decoy types its heartbeat declared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs(u8);

const SSH: u8 = 1;
const HTTP: u8 = 2;
const DICOM: u8 = 4;
const WINDOWS: u8 = 8;

impl Needs {
    /// The needs of decoys of these types (`ssh`, `http`, `dicom`, `smb`, `rdp`, and
    /// `llmnr-canary`, which may offer a planted Windows account; others need nothing).
    pub fn of_decoy_types<'a>(types: impl IntoIterator<Item = &'a str>) -> Self {
        Needs(types.into_iter().fold(0, |bits, t| {
            bits | match t {
                "ssh" => SSH,
                "http" => HTTP,
                "dicom" | "hl7" => DICOM,
                "smb" | "rdp" | "llmnr-canary" => WINDOWS,
                _ => 0,
            }
        }))
    }

    /// Whether any of its decoys can observe material of this kind (canary file paths
    /// are given per plant, for the sensor's own host only).
    fn material(self, kind: MaterialKind) -> bool {
        let wanted = match kind {
            MaterialKind::Password => SSH | HTTP,
            MaterialKind::KeyFingerprint => SSH,
            MaterialKind::AccessKeyId | MaterialKind::BearerToken | MaterialKind::UrlPath => HTTP,
            MaterialKind::PatientId => DICOM,
            // Checking an NTLM login needs the account's NT hash too: given sealed
            // under the sensor's own key (see `sensor_index`).
            MaterialKind::WindowsAccount => WINDOWS,
            MaterialKind::FilePath => 0,
        };
        self.0 & wanted != 0
    }

    fn patients(self) -> bool {
        self.0 & DICOM != 0
    }
}

/// A token as a sensor knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorToken {
    pub id: String,
    pub kind: TokenKind,
    pub state: TokenState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_response: Option<UrlResponse>,
    /// Only for a sensor that serves DICOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<HoneyPatient>,
}

/// A canary file planted on the sensor's own host, to watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorFile {
    pub plant: i64,
    pub token: String,
    pub path: String,
}

/// One digest a sensor matches against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorMaterial {
    pub kind: MaterialKind,
    /// Base64 of the sensor's digest.
    pub digest: String,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plant: Option<i64>,
    /// A Windows account's NT hash, sealed under this sensor's key (base64): what its
    /// SMB and RDP decoys check NTLM logins with. Useless without that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
}

/// Everything one sensor is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorIndex {
    /// Changes when the registry or the sensor's needs do.
    pub version: i64,
    /// The sensor's key and the prehash key, base64.
    pub key: String,
    pub prehash_key: String,
    pub tokens: Vec<SensorToken>,
    pub files: Vec<SensorFile>,
    pub material: Vec<SensorMaterial>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Base64 of a digest, as hits and indexes carry it.
pub fn encode_digest(d: &Digest) -> String {
    b64().encode(d)
}

/// A digest from its base64 (None if it is not one).
pub fn decode_digest(text: &str) -> Option<Digest> {
    b64().decode(text).ok().and_then(|v| Digest::try_from(v.as_slice()).ok())
}

fn decode_key(text: &str, what: &str) -> Result<Vec<u8>, TokenError> {
    let key = b64().decode(text).map_err(|e| TokenError::Store(format!("{what}: {e}")))?;
    if key.len() != DIGEST_LEN {
        return Err(TokenError::Store(format!("{what} is not {DIGEST_LEN} bytes")));
    }
    Ok(key)
}

impl Registry {
    /// The index of the sensor `sensor` whose decoys need `needs`. Material registered
    /// before the store kept prehashes (version 8) cannot be given to sensors; see
    /// [`Registry::material_without_prehash`].
    pub fn sensor_index(&self, sensor: &str, needs: Needs) -> Result<SensorIndex, TokenError> {
        let key = MaterialKey::from_bytes(&sensor_key(&self.key, sensor));
        let prehash = prehasher(&self.key);
        let plants = self.plant_ids()?;
        let (mut files, mut material, mut used) = (Vec::new(), Vec::new(), HashSet::new());
        for row in self.material()? {
            let pre = match (row.material, row.plant.and_then(|id| plants.get(&id).map(|p| (id, p)))) {
                // A canary file's path is no secret: watched on its own host only.
                (MaterialKind::FilePath, Some((id, (token, plant)))) if plant.host == sensor => {
                    files.push(SensorFile { plant: id, token: token.clone(), path: plant.path.clone() });
                    prehash.digest(MaterialKind::FilePath, plant.path.as_bytes())
                }
                (MaterialKind::FilePath, _) => continue,
                (kind, _) if !needs.material(kind) => continue,
                (_, _) => match row.prehash {
                    Some(p) => p,
                    None => continue,
                },
            };
            used.insert(row.token.clone());
            let digest = encode_digest(&key.digest(row.material, &pre));
            // The NT hash, opened with the master key and sealed again for this sensor.
            let sealed = row
                .sealed
                .as_deref()
                .and_then(|s| super::windows::unseal(&self.key, &row.token, s))
                .map(|hash| b64().encode(super::windows::seal(&key, &row.token, &hash)));
            let plant = row.plant.filter(|_| row.material == MaterialKind::FilePath);
            material.push(SensorMaterial { kind: row.material, digest, token: row.token, plant, sealed });
        }
        let mut tokens: Vec<SensorToken> = self
            .load(None)?
            .into_values()
            .filter(|t| used.contains(&t.id) || (needs.patients() && t.facts.patient.is_some()))
            .map(|t| SensorToken {
                id: t.id,
                kind: t.kind,
                state: t.state,
                url_response: t.facts.url_response,
                patient: t.facts.patient.filter(|_| needs.patients()),
            })
            .collect();
        tokens.sort_by(|a, b| a.id.cmp(&b.id));
        material.sort_by(|a, b| (&a.token, a.kind, &a.digest).cmp(&(&b.token, b.kind, &b.digest)));
        Ok(SensorIndex {
            version: self.sensor_index_version(needs)?,
            key: b64().encode(sensor_key(&self.key, sensor)),
            prehash_key: b64().encode(self.key.derive(PREHASH_PURPOSE)),
            tokens,
            files,
            material,
        })
    }

    /// The version a sensor with `needs` holds when its index is current.
    pub fn sensor_index_version(&self, needs: Needs) -> Result<i64, TokenError> {
        Ok(self.version()?.saturating_mul(256) | i64::from(needs.0))
    }

    /// Pieces of material (other than canary file paths) registered before the store
    /// kept prehashes: recognised by the controller, but not given to sensors.
    pub fn material_without_prehash(&self) -> Result<i64, TokenError> {
        self.conn.query_row("SELECT count(*) FROM token_material WHERE prehash IS NULL AND material != 'file_path'", [], |r| r.get(0)).map_err(sql)
    }

    /// Replaces this (a sensor's) registry with its controller's index, in one
    /// transaction, erasing what was there (`secure_delete`: an index from an older
    /// controller held plants and labels); running matchers notice the new version.
    pub fn install(&mut self, index: &SensorIndex, sensor: &str) -> Result<(), TokenError> {
        let key = decode_key(&index.key, "sensor key")?;
        let prehash_key = decode_key(&index.prehash_key, "prehash key")?;
        let key_path = self.state_dir.join("token.key");
        if std::fs::read(&key_path).ok().as_deref() != Some(&key[..]) {
            crate::state_file::replace(&key_path, &key, 0o600).map_err(|e| TokenError::Io(e.to_string()))?;
        }
        self.key = MaterialKey::from_bytes(&key);
        self.conn.pragma_update(None, "secure_delete", true).map_err(sql)?;
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute_batch("DELETE FROM token_material; DELETE FROM token_plants; DELETE FROM tokens;").map_err(sql)?;
        {
            let mut st =
                tx.prepare("INSERT INTO tokens (id, kind, label, created_us, state, changed_us, facts) VALUES (?1, ?2, '', 0, ?3, 0, ?4)").map_err(sql)?;
            for t in &index.tokens {
                let facts = TokenFacts { url_response: t.url_response, patient: t.patient.clone(), ..TokenFacts::default() };
                let facts = serde_json::to_string(&facts).map_err(|e| TokenError::Store(e.to_string()))?;
                st.execute(params![t.id, t.kind.as_str(), t.state.as_str(), facts]).map_err(sql)?;
            }
            let mut st = tx
                .prepare("INSERT INTO token_plants (id, token, host, path, note, template, created_us) VALUES (?1, ?2, ?3, ?4, NULL, NULL, 0)")
                .map_err(sql)?;
            for f in &index.files {
                st.execute(params![f.plant, f.token, sensor, f.path]).map_err(sql)?;
            }
            let mut st =
                tx.prepare("INSERT OR REPLACE INTO token_material (material, digest, token, plant, sealed) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(sql)?;
            for m in &index.material {
                let digest = decode_digest(&m.digest).ok_or_else(|| TokenError::Store(format!("index digest of {} is not a digest", m.token)))?;
                let sealed = m.sealed.as_deref().and_then(|s| b64().decode(s).ok());
                st.execute(params![m.kind.as_str(), &digest[..], m.token, m.plant, sealed]).map_err(sql)?;
            }
        }
        tx.execute("UPDATE registry_version SET version = ?1, prehash_key = ?2 WHERE id = 1", params![index.version, prehash_key]).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Re-reads the digest key (a sensor's may have been replaced by a sync).
    pub fn refresh_key(&mut self) -> Result<(), TokenError> {
        self.key = MaterialKey::load_or_create(&self.state_dir).map_err(|e| TokenError::Io(format!("token key: {e}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Plant, Timestamp};
    use crate::token::{create_token, CreateOptions, Matcher};

    fn plant(host: &str, path: &str) -> Plant {
        Plant { host: host.into(), path: path.into(), note: Some("left in root's history".into()), template: Some("env".into()), created: Timestamp::now() }
    }

    #[test]
    fn a_sensor_index_holds_ids_and_its_own_digests_only_and_its_hits_are_checked_by_the_controller() {
        let dir = tempfile::tempdir().unwrap();
        let mut controller = Registry::open(&dir.path().join("c.db"), &dir.path().join("c"), crate::config::StoreSync::Normal).unwrap();
        let pw = create_token(&CreateOptions::new(TokenKind::SshPassword, "backup svc on ward-b")).unwrap();
        let theirs = create_token(&CreateOptions::new(TokenKind::File, "finance canary")).unwrap();
        let ours = create_token(&CreateOptions::new(TokenKind::File, "ward-a canary")).unwrap();
        let patient = create_token(&CreateOptions::new(TokenKind::Patient, "honey patient")).unwrap();
        controller.insert(&[&pw, &theirs, &ours, &patient]).unwrap();
        controller.add_plant(&pw.token.id, &plant("ward-b", "/root/.bash_history"), false).unwrap();
        controller.add_plant(&theirs.token.id, &plant("ward-b", "/srv/finance/payroll.env"), true).unwrap();
        controller.add_plant(&ours.token.id, &plant("ward-a", "/srv/a/keys.env"), true).unwrap();

        let index = controller.sensor_index("ward-a", Needs::of_decoy_types(["ssh", "tcp"])).unwrap();
        let text = serde_json::to_string(&index).unwrap();
        let name = patient.token.facts.patient.as_ref().unwrap().family_name.clone();
        for secret in ["backup svc", "ward-b", "finance", "payroll", "root's history", "bash_history", &pw.token.facts.username.clone().unwrap(), &name] {
            assert!(!text.contains(secret), "{secret:?} is in ward-a's index: {text}");
        }
        assert_eq!(index.files, vec![SensorFile { plant: 3, token: ours.token.id.clone(), path: "/srv/a/keys.env".into() }]);
        let ids: Vec<&str> = index.tokens.iter().map(|t| t.id.as_str()).collect();
        // A canary file holds a password too, which an intruder may try on any decoy.
        assert_eq!(ids.len(), 3, "the credentials, not the honey patient: {ids:?}");
        assert!(!ids.contains(&patient.token.id.as_str()));
        let with_dicom = controller.sensor_index("ward-a", Needs::of_decoy_types(["dicom"])).unwrap();
        assert!(serde_json::to_string(&with_dicom).unwrap().contains(&name), "a DICOM decoy serves the honey patient");
        assert_ne!(index.version, with_dicom.version, "a sensor whose decoys change pulls again");

        // Installed on the sensor: the planted password is recognised, by id only, with
        // the digest the controller can check; another sensor's digests differ.
        let mut sensor = Registry::open(&dir.path().join("s.db"), &dir.path().join("s"), crate::config::StoreSync::Normal).unwrap();
        sensor.install(&index, "ward-a").unwrap();
        let on_sensor = Matcher::load(&sensor).unwrap();
        let password = pw.secrets.password.as_ref().unwrap().expose();
        let hit = on_sensor.lookup(MaterialKind::Password, password.as_bytes()).unwrap();
        assert_eq!((hit.id.as_str(), hit.label.as_str(), hit.plants.len()), (pw.token.id.as_str(), "", 0));
        assert!(on_sensor.lookup(MaterialKind::FilePath, b"/srv/a/keys.env").is_some());
        assert!(on_sensor.lookup(MaterialKind::FilePath, b"/srv/finance/payroll.env").is_none());
        let digest = hit.digest.clone().unwrap();
        let on_controller = Matcher::load(&controller).unwrap();
        let whole = on_controller.sensor_digests("ward-a").hit(&digest).unwrap();
        assert_eq!((whole.label.as_str(), whole.plants[0].host.as_str(), whole.digest.as_deref()), ("backup svc on ward-b", "ward-b", None));
        assert!(on_controller.sensor_digests("ward-b").hit(&digest).is_none(), "ward-a's digest means nothing for ward-b");
        let b = controller.sensor_index("ward-b", Needs::of_decoy_types(["ssh"])).unwrap();
        assert!(b.material.iter().all(|m| !index.material.iter().any(|n| n.digest == m.digest)));
        assert_eq!(controller.material_without_prehash().unwrap(), 0);
    }

    #[test]
    fn a_windows_account_reaches_only_sensors_with_smb_or_rdp_decoys_sealed_under_their_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut controller = Registry::open(&dir.path().join("c.db"), &dir.path().join("c"), crate::config::StoreSync::Normal).unwrap();
        let opts = CreateOptions {
            username: Some("svc_pacs".into()),
            password: Some("Trevolka-Mistan-Baiper47!".into()),
            ..CreateOptions::new(TokenKind::WindowsPassword, "export job")
        };
        let account = controller.generate(&opts).unwrap();
        controller.insert(&[&account]).unwrap();
        let ssh_only = controller.sensor_index("ward-a", Needs::of_decoy_types(["ssh"])).unwrap();
        assert!(ssh_only.material.iter().all(|m| m.kind != MaterialKind::WindowsAccount && m.sealed.is_none()));
        let smb = controller.sensor_index("ward-a", Needs::of_decoy_types(["smb"])).unwrap();
        let text = serde_json::to_string(&smb).unwrap();
        let hash = super::super::windows::nt_hash("Trevolka-Mistan-Baiper47!");
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        for secret in ["svc_pacs", "Trevolka", hex.as_str(), "export job"] {
            assert!(!text.contains(secret), "{secret:?} in the index");
        }
        let mut sensor = Registry::open(&dir.path().join("s.db"), &dir.path().join("s"), crate::config::StoreSync::Normal).unwrap();
        sensor.install(&smb, "ward-a").unwrap();
        let on_sensor = Matcher::load(&sensor).unwrap();
        let (found, got) = on_sensor.windows_account("SVC_PACS").unwrap();
        assert_eq!((found.id(), got), (account.token.id.as_str(), hash));
        let rdp_b = controller.sensor_index("ward-b", Needs::of_decoy_types(["rdp"])).unwrap();
        let sealed = |i: &SensorIndex| i.material.iter().find_map(|m| m.sealed.clone()).unwrap();
        assert_ne!(sealed(&smb), sealed(&rdp_b), "each sensor's copy is sealed under its own key");
    }
}
