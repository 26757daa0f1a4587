//! Where what attackers push goes (DICOM C-STORE objects, SMB exploit payloads):
//! streamed to a temporary file while hashed, then kept as `<sha256>.<ext>` if the
//! quotas (objects and bytes) allow, else deleted. The bytes are never parsed or run;
//! names come from our hash, never from the attacker.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::decoy::error::SetupError;

/// The quarantine directory and its quotas.
pub struct Quarantine {
    dir: PathBuf,
    /// The kept files' extension (`dcm`, `bin`).
    ext: &'static str,
    max_objects: u64,
    max_bytes: u64,
    objects: AtomicU64,
    bytes: AtomicU64,
}

/// One object being received.
pub struct Writer {
    file: Option<std::fs::File>,
    temp: PathBuf,
    hash: Option<ring::digest::Context>,
    pub bytes: u64,
    /// It would not fit the byte quota: stop writing, refuse at the end.
    over: bool,
}

/// What became of a received object.
pub struct Stored {
    pub sha256: String,
    pub bytes: u64,
    pub kept: bool,
}

impl Quarantine {
    /// Opens (creating) `dir`, whose kept files end `.ext`, and counts what it holds.
    pub fn open(dir: &Path, ext: &'static str, max_objects: u64, max_bytes: u64) -> Result<Self, SetupError> {
        crate::state_file::private_dir(dir)?;
        let (mut objects, mut bytes) = (0, 0);
        for entry in std::fs::read_dir(dir).map_err(|cause| SetupError::Unreadable { path: dir.to_path_buf(), cause })?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("tmp-") {
                let _ = std::fs::remove_file(entry.path()); // left by a crash
            } else if name.strip_suffix(ext).is_some_and(|n| n.ends_with('.')) {
                objects += 1;
                bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        Ok(Quarantine { dir: dir.to_path_buf(), ext, max_objects, max_bytes, objects: AtomicU64::new(objects), bytes: AtomicU64::new(bytes) })
    }

    /// Starts receiving an object.
    pub fn begin(&self) -> Writer {
        let temp = self.dir.join(format!("tmp-{}", uuid::Uuid::now_v7()));
        let full = self.objects.load(Ordering::Relaxed) >= self.max_objects || self.bytes.load(Ordering::Relaxed) >= self.max_bytes;
        let file = if full { None } else { std::fs::OpenOptions::new().write(true).create_new(true).open(&temp).ok() };
        Writer { over: file.is_none(), file, temp, hash: Some(ring::digest::Context::new(&ring::digest::SHA256)), bytes: 0 }
    }

    /// Finishes an object: kept under its hash if the quotas allow.
    pub fn finish(&self, mut w: Writer) -> Stored {
        let digest = w.hash.take().map(|h| h.finish());
        let sha256: String = digest.as_ref().map(|d| d.as_ref().iter().map(|b| format!("{b:02x}")).collect()).unwrap_or_default();
        let mut kept = false;
        if let (Some(mut file), false) = (w.file.take(), w.over) {
            let fits = self.objects.load(Ordering::Relaxed) < self.max_objects && self.bytes.load(Ordering::Relaxed) + w.bytes <= self.max_bytes;
            let target = self.dir.join(format!("{sha256}.{}", self.ext));
            if fits && file.flush().and_then(|()| file.sync_all()).is_ok() {
                if target.exists() {
                    kept = true; // the same object again: one copy
                } else if std::fs::rename(&w.temp, &target).is_ok() {
                    self.objects.fetch_add(1, Ordering::Relaxed);
                    self.bytes.fetch_add(w.bytes, Ordering::Relaxed);
                    kept = true;
                }
            }
        }
        let _ = std::fs::remove_file(&w.temp);
        Stored { sha256, bytes: w.bytes, kept }
    }
}

impl Drop for Writer {
    /// An object cut off by an abort leaves no temporary file behind.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

impl Writer {
    /// Appends a fragment (hashed always, written while it fits).
    pub fn write(&mut self, data: &[u8], quarantine: &Quarantine) {
        if let Some(h) = &mut self.hash {
            h.update(data);
        }
        self.bytes += data.len() as u64;
        if quarantine.bytes.load(Ordering::Relaxed) + self.bytes > quarantine.max_bytes {
            self.over = true;
        }
        if !self.over {
            if let Some(f) = &mut self.file {
                self.over = f.write_all(data).is_err();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_kept_by_hash_until_a_quota_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::open(dir.path(), "dcm", 2, 1 << 20).unwrap();
        let store = |data: &[u8]| {
            let mut w = q.begin();
            w.write(data, &q);
            q.finish(w)
        };
        let a = store(b"first");
        assert!(a.kept && dir.path().join(format!("{}.dcm", a.sha256)).exists());
        assert!(store(b"first").kept, "a duplicate is one copy");
        assert!(store(b"second").kept);
        assert!(!store(b"third").kept, "two objects is the quota");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
        let small = Quarantine::open(&dir.path().join("small"), "bin", 10, 4).unwrap();
        let mut w = small.begin();
        w.write(b"too large", &small);
        assert!(!small.finish(w).kept);
    }
}
