//! The honey shares of an SMB decoy as a session sees them: the configured files
//! (read once when the decoy starts), a `Patients` folder of DICOM files for the
//! honey patients of the patient tokens (made when a session opens), folders implied
//! by the paths, and believable times and file ids that stay the same for a path.

use std::io::Read;
use std::sync::Arc;

use super::info::Node;
use crate::config::{HoneyShare, ShareContent};
use crate::decoy::error::SetupError;
use crate::token::HoneyPatient;

/// The largest configured file read into a share.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// The folder holding the honey patients' images.
pub const PATIENTS_FOLDER: &str = "Patients";
/// 100-ns ticks in a day.
const DAY: u64 = 864_000_000_000;

/// One file of a share.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Folders and name from the share's root.
    pub path: Vec<String>,
    pub data: Arc<[u8]>,
    /// The NHS number of the honey patient the file shows, if it is one's image.
    pub patient: Option<String>,
}

/// A share's configured files, before patients are added.
#[derive(Debug, Clone)]
pub struct ShareSource {
    pub name: String,
    pub entries: Vec<Entry>,
    pub patients: bool,
}

/// Reads each share's configured files (each at most [`MAX_FILE_BYTES`]). Blocking.
pub fn load(shares: &[HoneyShare]) -> Result<Vec<ShareSource>, SetupError> {
    let mut out = Vec::with_capacity(shares.len());
    for share in shares {
        let mut entries = Vec::with_capacity(share.files.len());
        for file in &share.files {
            let data: Arc<[u8]> = match &file.content {
                ShareContent::Text(text) => Arc::from(text.as_bytes()),
                ShareContent::Source(path) => {
                    let unreadable = |cause| SetupError::Unreadable { path: path.clone(), cause };
                    let mut bytes = Vec::new();
                    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(unreadable)?;
                    if bytes.len() as u64 > MAX_FILE_BYTES {
                        return Err(SetupError::Damaged {
                            path: path.clone(),
                            reason: format!("larger than {} MiB, the most a honey file may be", MAX_FILE_BYTES >> 20),
                        });
                    }
                    Arc::from(bytes)
                }
            };
            entries.push(Entry { path: file.path.clone(), data, patient: None });
        }
        out.push(ShareSource { name: share.name.clone(), entries, patients: share.patients });
    }
    Ok(out)
}

/// The shares as one session sees them.
#[derive(Debug)]
pub struct View {
    pub shares: Vec<ShareSource>,
    /// Times are set back from this (a FILETIME, a day's start).
    base: u64,
}

/// What a path names in a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A folder (the root when the path is empty).
    Folder,
    /// The share's file at this index.
    File(usize),
}

/// A file name for a honey patient's image, as a PACS export names it.
fn patient_file_name(p: &HoneyPatient) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_alphanumeric() || *c == '-').collect::<String>();
    format!("{}_{}_{}.dcm", clean(&p.family_name).to_uppercase(), clean(&p.given_name), p.nhs_number)
}

/// A stable 64-bit hash (FNV-1a) of a share's path, without case.
fn path_hash(share: &str, path: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in std::iter::once(share).chain(path.iter().map(String::as_str)) {
        for b in part.to_lowercase().bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn eq_path(a: &[String], b: &[&str]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_lowercase() == y.to_lowercase())
}

fn starts_with(path: &[String], dir: &[&str]) -> bool {
    path.len() > dir.len() && path.iter().zip(dir).all(|(x, y)| x.to_lowercase() == y.to_lowercase())
}

impl View {
    /// The shares with their patients' images added. `now` is a FILETIME.
    pub fn new(sources: &[ShareSource], patients: &[HoneyPatient], now: u64) -> View {
        let images: Vec<Entry> = patients
            .iter()
            .filter_map(|p| {
                let data = crate::token::patient_file(p).ok()?;
                Some(Entry { path: vec![PATIENTS_FOLDER.into(), patient_file_name(p)], data: Arc::from(data), patient: Some(p.nhs_number.clone()) })
            })
            .collect();
        let shares = sources
            .iter()
            .map(|s| {
                let mut share = s.clone();
                if s.patients {
                    share.entries.extend(images.iter().cloned());
                }
                share
            })
            .collect();
        View { shares, base: now - now % DAY }
    }

    /// The share named `name` (without case).
    pub fn share(&self, name: &str) -> Option<usize> {
        self.shares.iter().position(|s| s.name.to_lowercase() == name.to_lowercase())
    }

    /// What `path` names in share `share`.
    pub fn find(&self, share: usize, path: &[&str]) -> Option<Found> {
        let s = self.shares.get(share)?;
        if path.is_empty() {
            return Some(Found::Folder);
        }
        if let Some(i) = s.entries.iter().position(|e| eq_path(&e.path, path)) {
            return Some(Found::File(i));
        }
        s.entries.iter().any(|e| starts_with(&e.path, path)).then_some(Found::Folder)
    }

    /// How a file or folder shows itself: `path` as found (its own case kept when it
    /// is a file's).
    pub fn node<'a>(&self, share: usize, path: &[&str], name: &'a str) -> Node<'a> {
        let (directory, size) = match self.find(share, path) {
            Some(Found::File(i)) => (false, self.shares.get(share).and_then(|s| s.entries.get(i)).map_or(0, |e| e.data.len() as u64)),
            _ => (true, 0),
        };
        let owned: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        let h = path_hash(self.shares.get(share).map_or("", |s| s.name.as_str()), &owned);
        // Made 40 to 700 days ago, last written between then and a week ago.
        let created = self.base.saturating_sub((40 + h % 660) * DAY + (h >> 20) % DAY);
        let span = self.base.saturating_sub(7 * DAY).saturating_sub(created).max(1);
        let written = created + (h >> 24) % span;
        Node { name, directory, size, created, written, file_id: (h >> 16) | 0x0001_0000_0000_0000 }
    }

    /// The names in folder `dir` of share `share`: (name, is a folder), folders first,
    /// then files, each in name order without case.
    pub fn list(&self, share: usize, dir: &[&str]) -> Vec<(String, bool)> {
        let Some(s) = self.shares.get(share) else { return Vec::new() };
        let mut folders: Vec<String> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for e in s.entries.iter().filter(|e| starts_with(&e.path, dir)) {
            let name = &e.path[dir.len()];
            if e.path.len() == dir.len() + 1 {
                files.push(name.clone());
            } else if !folders.iter().any(|f| f.to_lowercase() == name.to_lowercase()) {
                folders.push(name.clone());
            }
        }
        folders.sort_by_key(|f| f.to_lowercase());
        files.sort_by_key(|f| f.to_lowercase());
        folders.into_iter().map(|f| (f, true)).chain(files.into_iter().map(|f| (f, false))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        let entry = |p: &str, d: &str| Entry { path: p.split('/').map(String::from).collect(), data: Arc::from(d.as_bytes()), patient: None };
        let source = ShareSource { name: "Radiology".into(), entries: vec![entry("Reports/2026/q3.csv", "a,b\n"), entry("readme.txt", "hi")], patients: false };
        View::new(&[source], &[], 133_000_000_000_000_000)
    }

    #[test]
    fn paths_are_found_without_case_and_folders_are_implied() {
        let v = view();
        assert_eq!(v.share("RADIOLOGY"), Some(0));
        assert_eq!(v.find(0, &[]), Some(Found::Folder));
        assert_eq!(v.find(0, &["reports"]), Some(Found::Folder));
        assert_eq!(v.find(0, &["Reports", "2026", "Q3.CSV"]), Some(Found::File(0)));
        assert_eq!(v.find(0, &["Reports", "nope"]), None);
        assert_eq!(v.list(0, &[]), vec![("Reports".to_string(), true), ("readme.txt".to_string(), false)]);
    }

    #[test]
    fn times_and_ids_stay_the_same_for_a_path_and_are_in_the_past() {
        let v = view();
        let a = v.node(0, &["readme.txt"], "readme.txt");
        let b = v.node(0, &["README.TXT"], "readme.txt");
        assert_eq!((a.created, a.written, a.file_id), (b.created, b.written, b.file_id));
        assert!(a.created <= a.written && a.written <= v.base - 7 * DAY, "{a:?}");
        assert_eq!(a.size, 2);
        assert!(v.node(0, &["Reports"], "Reports").directory);
    }
}
