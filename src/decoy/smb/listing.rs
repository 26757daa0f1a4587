//! QUERY_DIRECTORY and QUERY_INFO inside a session on a honey share: a folder listed
//! page by page in the class asked for (`.` and `..` first, then folders and files),
//! a file's, the volume's and the security descriptor's information, each answered
//! as a read-only Windows share answers and recorded as `smb_file`.

use super::conn::SmbConn;
use super::files::{file_id, response, READ_ACCESS};
use super::info::{self, Node, Volume};
use super::logged_in::Related;
use super::share::Found;
use super::step::Step;
use super::wire::{status, u16_at, u32_at, Header, SMB2_HEADER};

/// SMB2_RESTART_SCANS, SMB2_RETURN_SINGLE_ENTRY, SMB2_REOPEN.
const RESTART_SCANS: u8 = 0x01;
const SINGLE_ENTRY: u8 = 0x02;
const REOPEN: u8 = 0x10;
/// Entries one listing keeps, at most (a folder of a honey share has fewer).
const MAX_LISTED: usize = 4096;

/// Whether `name` matches a listing's pattern, without case: `*` any run, `?` one
/// character, and the DOS forms `<` `>` `"` read as `*` `?` `.`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern
        .chars()
        .map(|c| match c {
            '<' => '*',
            '>' => '?',
            '"' => '.',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let n: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    // Iterative wildcard match with one backtrack point: linear-ish, no recursion.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl SmbConn {
    pub(super) fn query_directory(&mut self, si: usize, h: &Header, m: &[u8], share: usize, related: &Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let (Some(&class), Some(&flags), Some(out_len)) = (m.get(b + 2), m.get(b + 3), u32_at(m, b + 28)) else {
            return vec![self.answer(h, status::INVALID_PARAMETER, &[])];
        };
        let pattern = match (u16_at(m, b + 24), u16_at(m, b + 26)) {
            (Some(offset), Some(len)) => super::wire::buffer(m, offset, len).map(super::files::utf16),
            _ => None,
        };
        let Some(at) = file_id(m, b + 8, related).and_then(|id| self.sessions[si].open(id)) else { return vec![self.answer(h, status::FILE_CLOSED, &[])] };
        let session = &self.sessions[si];
        let open = &session.opens[at];
        if open.found != Found::Folder {
            return vec![self.answer(h, status::INVALID_PARAMETER, &[])];
        }
        let share_name = session.tree(open.tree).map(|t| t.name.clone()).unwrap_or_default();
        let dir_owned = open.path.clone();
        let dir: Vec<&str> = dir_owned.iter().map(String::as_str).collect();
        let mut steps = Vec::new();
        if open.listing.is_none() || flags & (RESTART_SCANS | REOPEN) != 0 {
            let pattern = pattern.filter(|p| !p.is_empty()).unwrap_or_else(|| "*".into());
            let mut names: Vec<(String, bool)> = vec![(".".into(), true), ("..".into(), true)];
            names.extend(session.view.list(share, &dir));
            names.retain(|(n, _)| matches(&pattern, n));
            names.truncate(MAX_LISTED);
            let code = if names.is_empty() { status::NO_SUCH_FILE } else { status::SUCCESS };
            let detail = Some(format!("pattern {pattern}, {} entries, class {class}", names.len()));
            steps.push(Step::Emit(Box::new(Self::file_event(session, "list", &share_name, &open.named, code, None, detail))));
            self.sessions[si].opens[at].listing = Some(names);
            if code != status::SUCCESS {
                steps.push(self.answer(h, code, &[]));
                return steps;
            }
        }
        let session = &self.sessions[si];
        let open = &session.opens[at];
        let names = open.listing.as_deref().unwrap_or_default();
        if names.is_empty() {
            steps.push(self.answer(h, status::NO_MORE_FILES, &[]));
            return steps;
        }
        let take = if flags & SINGLE_ENTRY != 0 { 1 } else { names.len() };
        let nodes: Vec<Node<'_>> = names
            .iter()
            .take(take)
            .map(|(name, _)| {
                let path: Vec<&str> = match name.as_str() {
                    "." => dir.clone(),
                    ".." => dir[..dir.len().saturating_sub(1)].to_vec(),
                    other => dir.iter().copied().chain([other]).collect(),
                };
                session.view.node(share, &path, name)
            })
            .collect();
        match info::directory_entries(class, &nodes, out_len as usize) {
            Ok((bytes, count)) => {
                if let Some(list) = self.sessions[si].opens[at].listing.as_mut() {
                    list.drain(..count.min(list.len()));
                }
                let mut body = Vec::with_capacity(8 + bytes.len());
                body.extend(9u16.to_le_bytes());
                body.extend(((SMB2_HEADER + 8) as u16).to_le_bytes());
                body.extend((bytes.len() as u32).to_le_bytes());
                body.extend_from_slice(&bytes);
                steps.push(Step::Send(response(&self.granted(h, status::SUCCESS), &body)));
            }
            Err(e) => steps.push(self.answer(h, e.status(), &[])),
        }
        steps
    }

    pub(super) fn query_info(&mut self, si: usize, h: &Header, m: &[u8], share: usize, related: &Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let (Some(&kind), Some(&class), Some(out_len), Some(additional)) = (m.get(b + 2), m.get(b + 3), u32_at(m, b + 4), u32_at(m, b + 16)) else {
            return vec![self.answer(h, status::INVALID_PARAMETER, &[])];
        };
        let Some(at) = file_id(m, b + 24, related).and_then(|id| self.sessions[si].open(id)) else { return vec![self.answer(h, status::FILE_CLOSED, &[])] };
        let session = &self.sessions[si];
        let open = &session.opens[at];
        let share_name = session.tree(open.tree).map(|t| t.name.clone()).unwrap_or_default();
        let parts: Vec<&str> = open.path.iter().map(String::as_str).collect();
        let out_len = out_len as usize;
        let answer: Result<info::Info, info::InfoError> = match kind {
            1 => {
                let node = session.view.node(share, &parts, parts.last().copied().unwrap_or(""));
                info::file_info(class, &node, &format!("\\{}", open.path.join("\\")), READ_ACCESS, out_len)
            }
            2 => {
                let root = session.view.node(share, &[], "");
                let serial = (root.file_id as u32) ^ 0x5a3c_96e1;
                let volume = Volume {
                    label: "Data",
                    serial,
                    created: root.created,
                    total_units: 536_870_655,
                    free_units: 204_117_942 + u64::from(serial % 4096),
                    sectors_per_unit: 8,
                    bytes_per_sector: 512,
                };
                info::fs_info(class, &volume, out_len)
            }
            3 => {
                let directory = open.found == Found::Folder;
                match info::security_descriptor_of(directory, additional, out_len) {
                    Ok(bytes) => Ok(info::Info { bytes, overflow: false }),
                    // The size it needs goes back in the error's data (MS-SMB2 §3.3.5.20.3).
                    Err(info::InfoError::BufferTooSmall { needed }) => {
                        let header = self.granted(h, status::BUFFER_TOO_SMALL);
                        return vec![Step::Send(super::wire::error_response_with(&header, &needed.to_le_bytes()))];
                    }
                    Err(e) => Err(e),
                }
            }
            _ => Err(info::InfoError::UnknownClass),
        };
        let (code, bytes) = match answer {
            Ok(i) => (if i.overflow { status::BUFFER_OVERFLOW } else { status::SUCCESS }, i.bytes),
            Err(e) => (e.status(), Vec::new()),
        };
        let detail = Some(format!("type {kind}, class {class}"));
        let event = Self::file_event(session, "query_info", &share_name, &open.named, code, None, detail);
        if code != status::SUCCESS && code != status::BUFFER_OVERFLOW {
            return vec![Step::Emit(Box::new(event)), self.answer(h, code, &[])];
        }
        let mut body = Vec::with_capacity(8 + bytes.len());
        body.extend(9u16.to_le_bytes());
        body.extend(((SMB2_HEADER + 8) as u16).to_le_bytes());
        body.extend((bytes.len() as u32).to_le_bytes());
        body.extend_from_slice(&bytes);
        if bytes.is_empty() {
            body.push(0);
        }
        vec![Step::Emit(Box::new(event)), Step::Send(response(&self.granted(h, code), &body))]
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn listing_patterns_match_as_windows_wildcards_do() {
        for (p, n, want) in [
            ("*", "anything.txt", true),
            ("*", ".", true),
            ("*.csv", "Q3.CSV", true),
            ("*.csv", "q3.csv.bak", false),
            ("q?.csv", "q3.csv", true),
            ("report", "REPORT", true),
            ("report", "report2", false),
            ("<.dcm", "x.dcm", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
        ] {
            assert_eq!(matches(p, n), want, "{p} {n}");
        }
    }
}
