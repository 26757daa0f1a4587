//! Keyed hashes of matching material (HMAC-SHA256 with ring), and the keys derived from
//! the master key for sensors (see `sensor_index`).
//!
//! The registry stores only these digests, never a planted secret, so the database
//! on its own reveals nothing worth stealing. The key lives in the state directory
//! (`token.key`, mode 0600), generated on first use.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ring::hmac;

use super::kind::MaterialKind;

/// Length of a digest.
pub const DIGEST_LEN: usize = 32;

/// A 32-byte keyed digest.
pub type Digest = [u8; DIGEST_LEN];

/// The HMAC key that turns material into digests.
#[derive(Clone)]
pub struct MaterialKey(hmac::Key);

impl MaterialKey {
    /// From raw key bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        MaterialKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// Loads `dir/token.key`, creating the directory (0700) and a fresh random key
    /// (0600) on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join("token.key");
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => return Ok(Self::from_bytes(&bytes)),
            Ok(bytes) => {
                return Err(std::io::Error::other(format!("{} holds {} bytes, expected 32", path.display(), bytes.len())));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        crate::state_file::private_dir(dir).map_err(|e| e.cause)?;
        // The key's directory must be private: fail rather than write it elsewhere.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let mut key = [0u8; 32];
        rand::RngExt::fill(&mut rand::rng(), &mut key[..]);
        // create_new: two processes starting at once must not overwrite each other's key.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut f) => {
                f.write_all(&key)?;
                f.sync_all()?;
                Ok(Self::from_bytes(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(dir),
            Err(e) => Err(e),
        }
    }

    /// A new 32-byte key for one purpose, derived from this one (HMAC of the purpose):
    /// the controller derives each sensor's key and the prehash key from its own.
    pub fn derive(&self, purpose: &[u8]) -> [u8; DIGEST_LEN] {
        let mut out = [0u8; DIGEST_LEN];
        out.copy_from_slice(hmac::sign(&self.0, purpose).as_ref());
        out
    }

    /// The digest of one piece of material. The kind is mixed in, so the same bytes as
    /// a password and as a URL path never collide.
    pub fn digest(&self, kind: MaterialKind, value: &[u8]) -> Digest {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(kind.as_str().as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        let tag = ctx.sign();
        let mut out = [0u8; DIGEST_LEN];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

pub const PREHASH_PURPOSE: &[u8] = b"honeyward prehash key v1";

/// The key observed values are prehashed with, derived from the master key.
pub fn prehasher(master: &MaterialKey) -> MaterialKey {
    MaterialKey::from_bytes(&master.derive(PREHASH_PURPOSE))
}

/// The key of one sensor's digests, derived from the master key.
pub fn sensor_key(master: &MaterialKey, sensor: &str) -> [u8; DIGEST_LEN] {
    let mut purpose = b"honeyward sensor key v1\0".to_vec();
    purpose.extend_from_slice(sensor.as_bytes());
    master.derive(&purpose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_with_private_permissions_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let a = MaterialKey::load_or_create(&state).unwrap();
        let b = MaterialKey::load_or_create(&state).unwrap();
        assert_eq!(a.digest(MaterialKind::Password, b"x"), b.digest(MaterialKind::Password, b"x"));
        let mode = std::fs::metadata(state.join("token.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_ne!(a.digest(MaterialKind::Password, b"x"), a.digest(MaterialKind::UrlPath, b"x"));
        assert_eq!(a.derive(b"sensor ward-a"), b.derive(b"sensor ward-a"));
        assert_ne!(a.derive(b"sensor ward-a"), a.derive(b"sensor ward-b"));
    }
}
