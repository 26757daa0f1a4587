//! Validation of an SMB decoy's honey shares: share names and file paths as Windows
//! accepts them, each file's content from exactly one place.

use std::path::PathBuf;

use super::raw::{RawShare, RawShareFile};
use super::{HoneyShare, ShareContent, ShareFile};
use crate::config::checker::Checker;

/// Characters Windows refuses in a share name.
const SHARE_FORBIDDEN: &[char] = &['\\', '/', '[', ']', ':', '|', '<', '>', '+', '=', ';', ',', '*', '?', '"'];
/// Characters Windows refuses in a file name.
const NAME_FORBIDDEN: &[char] = &['\\', '/', ':', '|', '<', '>', '*', '?', '"'];
/// Folders below a share's root, at most.
const MAX_DEPTH: usize = 8;
/// Files in one share, at most.
const MAX_FILES: usize = 1000;
/// The largest source file (the decoy keeps its files in memory).
const MAX_SOURCE_BYTES: u64 = 16 << 20;

fn share_name_ok(name: &str) -> bool {
    (1..=80).contains(&name.chars().count())
        && !name.contains(SHARE_FORBIDDEN)
        && !name.chars().any(char::is_control)
        && !name.eq_ignore_ascii_case("IPC$")
        && name.trim() == name
}

/// A path's components when every one is a Windows file name.
fn components(path: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = path.split('/').map(str::to_string).collect();
    let ok = parts.len() <= MAX_DEPTH + 1
        && parts.iter().all(|p| {
            (1..=255).contains(&p.encode_utf16().count())
                && p != "."
                && p != ".."
                && !p.contains(NAME_FORBIDDEN)
                && !p.chars().any(char::is_control)
                && !p.ends_with([' ', '.'])
        });
    ok.then_some(parts)
}

impl Checker<'_> {
    /// The shares of an SMB decoy (one `Shared` share of honey patients by default).
    pub(super) fn shares(&mut self, raw: Option<Vec<RawShare>>) -> Vec<HoneyShare> {
        let Some(raw) = raw else { return vec![HoneyShare { name: "Shared".into(), files: Vec::new(), patients: true }] };
        let mut shares: Vec<HoneyShare> = Vec::new();
        for share in raw {
            let name = share.name.value;
            if !share_name_ok(&name) {
                self.error(
                    share.name.position,
                    format!("{name:?} is not a share name"),
                    "1 to 80 characters, none of \\ / [ ] : | < > + = ; , * ? \" and not IPC$",
                );
            } else if shares.iter().any(|s| s.name.eq_ignore_ascii_case(&name)) {
                self.error(share.name.position, format!("share {name:?} is configured twice"), "share names are compared without case");
            }
            let raw_files = share.files.unwrap_or_default();
            if raw_files.len() > MAX_FILES {
                self.error(share.name.position, format!("share {name:?} has {} files", raw_files.len()), format!("at most {MAX_FILES}"));
            }
            let mut files: Vec<ShareFile> = Vec::new();
            for file in raw_files {
                if let Some(f) = self.share_file(file, &files) {
                    files.push(f);
                }
            }
            shares.push(HoneyShare { name, files, patients: share.patients.unwrap_or(false) });
        }
        shares
    }

    fn share_file(&mut self, raw: RawShareFile, taken: &[ShareFile]) -> Option<ShareFile> {
        let Some(path) = components(&raw.path.value) else {
            self.error(
                raw.path.position,
                format!("{:?} is not a path in a share", raw.path.value),
                "folders and a file name separated by /, none empty, . or .., without \\ : | < > * ? \"",
            );
            return None;
        };
        let lower = |p: &[String]| p.iter().map(|c| c.to_lowercase()).collect::<Vec<_>>();
        let clash = taken.iter().any(|f| {
            let (a, b) = (lower(&f.path), lower(&path));
            a == b || a.starts_with(&b) || b.starts_with(&a)
        });
        if clash {
            self.error(
                raw.path.position,
                format!("{:?} clashes with another file of the share", raw.path.value),
                "each path names one file, not a folder of another",
            );
            return None;
        }
        let content = match (raw.source, raw.text) {
            (Some(source), None) => {
                // Checked here so that `validate` names the line; read when the decoy starts.
                match std::fs::metadata(&source.value) {
                    Ok(m) if m.is_file() && m.len() <= MAX_SOURCE_BYTES => {}
                    Ok(m) if m.is_file() => {
                        self.error(source.position, format!("{} is larger than 16 MiB", source.value), "a honey file is a document, not a disk image");
                    }
                    Ok(_) => self.error(source.position, format!("{} is not a file", source.value), "name a regular file"),
                    Err(e) => self.error(source.position, format!("cannot read source file {}: {e}", source.value), "name a file on this host"),
                }
                ShareContent::Source(PathBuf::from(source.value))
            }
            (None, Some(text)) => ShareContent::Text(text),
            _ => {
                self.error(raw.path.position, format!("file {:?} needs one of source or text", raw.path.value), "source: /path/on/this/host, or text: ...");
                return None;
            }
        };
        Some(ShareFile { path, content })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_names_pass_and_reserved_ones_do_not() {
        assert!(share_name_ok("Radiology"));
        assert!(share_name_ok("Finance$"));
        assert!(!share_name_ok("ipc$"));
        assert!(!share_name_ok("a/b"));
        assert!(!share_name_ok(""));
        assert_eq!(components("Reports/2026/q3.csv"), Some(vec!["Reports".into(), "2026".into(), "q3.csv".into()]));
        for bad in ["", "a//b", "../x", "a/./b", "a\\b", "x:y", "trailing.", "a/b/c/d/e/f/g/h/i/j"] {
            assert_eq!(components(bad), None, "{bad}");
        }
    }
}
