//! Inside a session a planted credential opened: TREE_CONNECT to the honey shares
//! (and IPC$), CREATE, CLOSE, READ and refused writes, each answered as a read-only
//! Windows share answers and recorded as `smb_file` (reads summed per open file, a
//! honey patient's image read being a hit on its token). Listings and information
//! queries are in [`super::listing`].

use std::sync::Arc;

use super::conn::SmbConn;
use super::logged_in::{Open, Related, Session, Tree};
use super::share::Found;
use super::step::Step;
use super::wire::{command, status, u16_at, u32_at, u64_at, Header, SMB2_HEADER};
use crate::event::{AttackerBytes, EventKind};

/// Shares connected per session, and files open per session, at most.
const MAX_TREES: usize = 16;
const MAX_OPENS: usize = 64;
/// A FileId meaning "the file the compound's CREATE opened".
const RELATED_FILE: (u64, u64) = (u64::MAX, u64::MAX);
/// Access rights that change something (MS-SMB2 §2.2.13.1): refused on a read-only share.
const WRITE_ACCESS: u32 =
    0x0000_0002 | 0x0000_0004 | 0x0000_0010 | 0x0000_0040 | 0x0000_0100 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x1000_0000 | 0x4000_0000;
/// ACCESS_SYSTEM_SECURITY: needs a privilege nobody here holds.
const SYSTEM_SECURITY: u32 = 0x0100_0000;
/// What a read-only share grants (read, execute, read attributes and EAs, synchronize).
pub(super) const READ_ACCESS: u32 = 0x0012_00a9;
/// FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE, FILE_DELETE_ON_CLOSE.
const DIRECTORY_FILE: u32 = 0x1;
const NON_DIRECTORY_FILE: u32 = 0x40;
const DELETE_ON_CLOSE: u32 = 0x1000;

/// UTF-16LE bytes as text (lossy).
pub(super) fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

/// A FileId at `at` in a request body, the compound's own when it is the related one.
pub(super) fn file_id(m: &[u8], at: usize, related: &Related) -> Option<(u64, u64)> {
    let id = (u64_at(m, at)?, u64_at(m, at + 8)?);
    Some(if id == RELATED_FILE { related.file.unwrap_or(id) } else { id })
}

/// A response body after `header`.
pub(super) fn response(header: &Header, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SMB2_HEADER + body.len());
    header.write(&mut out);
    out.extend_from_slice(body);
    out
}

/// A path inside a share as CREATE names it: components split on `\`. None when the
/// name is malformed (a leading `\`, an empty, `.` or `..` component, a stream).
fn components(name: &str) -> Result<Vec<&str>, u32> {
    if name.is_empty() {
        return Ok(Vec::new());
    }
    if name.starts_with('\\') {
        return Err(status::INVALID_PARAMETER);
    }
    let parts: Vec<&str> = name.trim_end_matches('\\').split('\\').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains(['*', '?', '<', '>', '"', '|'])) {
        return Err(status::OBJECT_NAME_INVALID);
    }
    if parts.iter().any(|p| p.contains(':')) {
        return Err(status::OBJECT_NAME_NOT_FOUND);
    }
    Ok(parts)
}

impl SmbConn {
    /// The header of an answer inside a session: credits as asked (up to the
    /// personality's grant).
    pub(super) fn granted(&self, h: &Header, code: u32) -> Header {
        self.reply(h, code, h.credits.clamp(1, self.p.max_credits_granted), h.session_id)
    }

    /// An answer inside a session: `body` after the header, or the error body when
    /// `body` is empty.
    pub(super) fn answer(&self, h: &Header, code: u32, body: &[u8]) -> Step {
        let header = self.granted(h, code);
        Step::Send(if body.is_empty() { super::wire::error_response(&header) } else { response(&header, body) })
    }

    /// The event of one step in `session`.
    pub(super) fn file_event(s: &Session, operation: &str, share: &str, path: &str, code: u32, bytes: Option<u64>, detail: Option<String>) -> EventKind {
        EventKind::SmbFile {
            operation: operation.into(),
            user: AttackerBytes::new(if s.anonymous { "(null session)" } else { s.user.as_str() }),
            share: AttackerBytes::new(share),
            path: AttackerBytes::new(path),
            status: status::name(code),
            bytes,
            detail: detail.map(AttackerBytes::new),
        }
    }

    /// A request on a session a planted credential opened.
    pub(super) fn on_session_command(&mut self, si: usize, h: &Header, m: &[u8], related: &mut Related) -> Vec<Step> {
        related.session = h.session_id;
        match h.command {
            command::LOGOFF => {
                // Signed here: the session is gone by the time the frame is put together.
                let mut steps = self.close_all(si);
                let mut answer = response(&self.granted(h, status::SUCCESS), &[4, 0, 0, 0]);
                let session = self.sessions.remove(si);
                if !self.in_transform && (h.flags & super::wire::FLAG_SIGNED != 0 || session.signing_required) {
                    session.signer.sign(&mut answer);
                }
                steps.push(Step::Send(answer));
                steps
            }
            command::TREE_CONNECT => self.tree_connect(si, h, m, related),
            command::TREE_DISCONNECT => {
                let code = match self.sessions[si].trees.iter().position(|t| t.id == h.tree_id) {
                    Some(t) => {
                        self.sessions[si].trees.remove(t);
                        status::SUCCESS
                    }
                    None => status::NETWORK_NAME_DELETED,
                };
                vec![self.answer(h, code, &[4, 0, 0, 0])]
            }
            command::ECHO => vec![self.answer(h, status::SUCCESS, &[4, 0, 0, 0])],
            command::CANCEL | command::OPLOCK_BREAK => Vec::new(),
            _ => self.on_tree_command(si, h, m, related),
        }
    }

    /// A request on a connected share.
    fn on_tree_command(&mut self, si: usize, h: &Header, m: &[u8], related: &mut Related) -> Vec<Step> {
        let tree_id = if h.flags & super::wire::FLAG_RELATED != 0 && h.tree_id == u32::MAX { related.tree } else { h.tree_id };
        let Some(tree) = self.sessions[si].tree(tree_id) else { return vec![self.answer(h, status::NETWORK_NAME_DELETED, &[])] };
        let (share, share_name) = (tree.share, tree.name.clone());
        related.tree = tree_id;
        match (h.command, share) {
            (command::CREATE, Some(share)) => self.create(si, h, m, share, &share_name, related),
            (command::CREATE, None) => self.open_pipe(si, h, m, related),
            (command::CLOSE, _) => self.close(si, h, m, related),
            (command::READ, None) | (command::WRITE, None) | (command::IOCTL, None) => self.on_pipe(si, h, m, related),
            (command::READ, _) => self.read(si, h, m, related),
            (command::QUERY_DIRECTORY, Some(share)) => self.query_directory(si, h, m, share, related),
            (command::QUERY_INFO, Some(share)) => self.query_info(si, h, m, share, related),
            (command::WRITE | command::SET_INFO | command::FLUSH, _) => {
                let operation = match h.command {
                    command::WRITE => "write",
                    command::SET_INFO => "set_info",
                    _ => "flush",
                };
                let path = file_id(m, SMB2_HEADER + if h.command == command::WRITE { 16 } else { 8 }, related)
                    .and_then(|id| self.sessions[si].open(id))
                    .map(|o| self.sessions[si].opens[o].named.clone())
                    .unwrap_or_default();
                let event = Self::file_event(&self.sessions[si], operation, &share_name, &path, status::ACCESS_DENIED, None, None);
                vec![Step::Emit(Box::new(event)), self.answer(h, status::ACCESS_DENIED, &[])]
            }
            (command::IOCTL, _) => {
                // Only a DFS referral has an answer worth giving: no DFS here.
                let ctl = u32_at(m, SMB2_HEADER + 4).unwrap_or(0);
                let code = if ctl == 0x0006_0194 { status::NOT_FOUND } else { status::NOT_SUPPORTED };
                let event = Self::file_event(&self.sessions[si], "ioctl", &share_name, "", code, None, Some(format!("0x{ctl:08x}")));
                vec![Step::Emit(Box::new(event)), self.answer(h, code, &[])]
            }
            _ => vec![self.answer(h, status::NOT_SUPPORTED, &[])],
        }
    }

    fn tree_connect(&mut self, si: usize, h: &Header, m: &[u8], related: &mut Related) -> Vec<Step> {
        let path = match (u16_at(m, SMB2_HEADER + 4), u16_at(m, SMB2_HEADER + 6)) {
            (Some(offset), Some(len)) => super::wire::buffer(m, offset, len).map(utf16),
            _ => None,
        };
        let Some(path) = path else { return vec![self.answer(h, status::INVALID_PARAMETER, &[])] };
        // `\\server\share`: the server part is whatever the client called us.
        let name = path.trim_start_matches('\\').split_once('\\').map_or(path.as_str(), |(_, share)| share).to_string();
        let session = &self.sessions[si];
        let share = session.view.share(&name);
        let ipc = name.eq_ignore_ascii_case("IPC$");
        let admin = self.p.implementation == super::personality::Implementation::Windows && ["ADMIN$", "C$"].iter().any(|a| a.eq_ignore_ascii_case(&name));
        let code = match (share, ipc) {
            _ if session.trees.len() >= MAX_TREES => status::INSUFFICIENT_RESOURCES,
            (None, true) => status::SUCCESS,
            // Nobody here is an administrator; a null session reaches IPC$ only.
            _ if admin || (session.anonymous && !ipc) => status::ACCESS_DENIED,
            (Some(_), _) => status::SUCCESS,
            (None, false) => status::BAD_NETWORK_NAME,
        };
        // How the client protects its session: what an analyst compares with its tooling.
        let protection = if self.in_transform {
            "encrypted"
        } else if h.flags & super::wire::FLAG_SIGNED != 0 {
            "signed"
        } else {
            "unsigned"
        };
        let event = Self::file_event(session, "tree_connect", &name, "", code, None, Some(protection.into()));
        if code != status::SUCCESS {
            return vec![Step::Emit(Box::new(event)), self.answer(h, code, &[])];
        }
        let session = &mut self.sessions[si];
        let id = session.next_tree;
        session.next_tree += 1;
        session.trees.push(Tree { id, share, name });
        related.tree = id;
        // ShareType, Reserved, ShareFlags, Capabilities, MaximalAccess.
        let mut body = vec![16, 0];
        if ipc {
            body.extend([0x02, 0]);
            body.extend(0x30u32.to_le_bytes());
            body.extend(0u32.to_le_bytes());
            body.extend(0x001f_00a9u32.to_le_bytes());
        } else {
            body.extend([0x01, 0]);
            body.extend(0u32.to_le_bytes());
            body.extend(0u32.to_le_bytes());
            body.extend(READ_ACCESS.to_le_bytes());
        }
        let header = Header { tree_id: id, ..self.granted(h, status::SUCCESS) };
        vec![Step::Emit(Box::new(event)), Step::Send(response(&header, &body))]
    }

    fn create(&mut self, si: usize, h: &Header, m: &[u8], share: usize, share_name: &str, related: &mut Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let fields = (u32_at(m, b + 24), u32_at(m, b + 36), u32_at(m, b + 40), u16_at(m, b + 44), u16_at(m, b + 46));
        let (Some(access), Some(disposition), Some(options), Some(offset), Some(len)) = fields else {
            return vec![self.answer(h, status::INVALID_PARAMETER, &[])];
        };
        let Some(named) = super::wire::buffer(m, offset, len).map(utf16) else { return vec![self.answer(h, status::INVALID_PARAMETER, &[])] };
        let detail = Some(format!("access 0x{access:08x}, disposition {disposition}, options 0x{options:08x}"));
        let session = &self.sessions[si];
        let outcome = components(&named).and_then(|parts| {
            let found = session.view.find(share, &parts);
            let parent_exists = parts.len() <= 1 || session.view.find(share, &parts[..parts.len() - 1]) == Some(Found::Folder);
            let creates = matches!(disposition, 0 | 2 | 3 | 5);
            match found {
                None if !parent_exists => Err(status::OBJECT_PATH_NOT_FOUND),
                None if creates => Err(status::ACCESS_DENIED),
                None => Err(status::OBJECT_NAME_NOT_FOUND),
                Some(_) if disposition == 2 => Err(status::OBJECT_NAME_COLLISION),
                Some(_) if access & SYSTEM_SECURITY != 0 => Err(status::PRIVILEGE_NOT_HELD),
                Some(_) if access & WRITE_ACCESS != 0 || matches!(disposition, 0 | 4 | 5) || options & DELETE_ON_CLOSE != 0 => Err(status::ACCESS_DENIED),
                Some(Found::File(_)) if options & DIRECTORY_FILE != 0 => Err(status::NOT_A_DIRECTORY),
                Some(Found::Folder) if options & NON_DIRECTORY_FILE != 0 => Err(status::FILE_IS_A_DIRECTORY),
                Some(_) if session.opens.len() >= MAX_OPENS => Err(status::INSUFFICIENT_RESOURCES),
                Some(found) => Ok((parts.iter().map(|p| p.to_string()).collect::<Vec<_>>(), found)),
            }
        });
        let (path, found) = match outcome {
            Ok(ok) => ok,
            Err(code) => {
                let event = Self::file_event(session, "open", share_name, &named, code, None, detail);
                return vec![Step::Emit(Box::new(event)), self.answer(h, code, &[])];
            }
        };
        let event = Self::file_event(session, "open", share_name, &named, status::SUCCESS, None, detail);
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let node = session.view.node(share, &refs, "");
        let session = &mut self.sessions[si];
        let id = (session.next_file, rand::RngExt::random::<u64>(&mut rand::rng()) | 1);
        session.next_file += 1;
        session.opens.push(Open { id, tree: related.tree, path, named, found, listing: None, pipe: None, read_bytes: 0, reads: 0 });
        related.file = Some(id);
        let mut body = Vec::with_capacity(89);
        body.extend(89u16.to_le_bytes());
        body.extend([0, 0]); // no oplock, no flags
        body.extend(1u32.to_le_bytes()); // FILE_OPENED
        for t in [node.created, node.written, node.written, node.written] {
            body.extend(t.to_le_bytes());
        }
        body.extend(node.allocation().to_le_bytes());
        body.extend(node.size.to_le_bytes());
        body.extend(node.attributes().to_le_bytes());
        body.extend(0u32.to_le_bytes());
        body.extend(id.0.to_le_bytes());
        body.extend(id.1.to_le_bytes());
        body.extend([0; 8]); // no create contexts
        body.push(0);
        vec![Step::Emit(Box::new(event)), Step::Send(response(&self.granted(h, status::SUCCESS), &body))]
    }

    fn close(&mut self, si: usize, h: &Header, m: &[u8], related: &Related) -> Vec<Step> {
        let flags = u16_at(m, SMB2_HEADER + 2).unwrap_or(0);
        let Some(at) = file_id(m, SMB2_HEADER + 8, related).and_then(|id| self.sessions[si].open(id)) else {
            return vec![self.answer(h, status::FILE_CLOSED, &[])];
        };
        let mut body = vec![60, 0];
        body.extend(flags.to_le_bytes());
        body.extend([0; 4]);
        let session = &self.sessions[si];
        let open = &session.opens[at];
        match session.tree(open.tree).and_then(|t| t.share) {
            Some(share) if flags & 1 != 0 => {
                let refs: Vec<&str> = open.path.iter().map(String::as_str).collect();
                let node = session.view.node(share, &refs, "");
                for t in [node.created, node.written, node.written, node.written] {
                    body.extend(t.to_le_bytes());
                }
                body.extend(node.allocation().to_le_bytes());
                body.extend(node.size.to_le_bytes());
                body.extend(node.attributes().to_le_bytes());
            }
            _ => body.extend([0; 52]),
        }
        let mut steps = self.forget(si, at);
        steps.push(Step::Send(response(&self.granted(h, status::SUCCESS), &body)));
        steps
    }

    /// Drops open `at`, with the read event of what was read through it.
    fn forget(&mut self, si: usize, at: usize) -> Vec<Step> {
        let session = &mut self.sessions[si];
        let open = session.opens.remove(at);
        if open.reads == 0 {
            return Vec::new();
        }
        let tree = session.tree(open.tree);
        let share_name = tree.map(|t| t.name.clone()).unwrap_or_default();
        let patient = match (tree.and_then(|t| t.share), open.found) {
            (Some(s), Found::File(i)) => session.view.shares.get(s).and_then(|s| s.entries.get(i)).and_then(|e| e.patient.clone()),
            _ => None,
        };
        let detail = Some(format!("{} reads", open.reads));
        let event = Self::file_event(session, "read", &share_name, &open.named, status::SUCCESS, Some(open.read_bytes), detail);
        vec![Step::Touch { kind: Box::new(event), patient }]
    }

    /// Every open file of a session dropped (LOGOFF, the connection's end).
    pub(super) fn close_all(&mut self, si: usize) -> Vec<Step> {
        let mut steps = Vec::new();
        while !self.sessions[si].opens.is_empty() {
            steps.extend(self.forget(si, 0));
        }
        steps
    }

    fn read(&mut self, si: usize, h: &Header, m: &[u8], related: &Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let (Some(length), Some(offset)) = (u32_at(m, b + 4), u64_at(m, b + 8)) else { return vec![self.answer(h, status::INVALID_PARAMETER, &[])] };
        let Some(at) = file_id(m, b + 16, related).and_then(|id| self.sessions[si].open(id)) else { return vec![self.answer(h, status::FILE_CLOSED, &[])] };
        if length > self.p.max_read_size {
            return vec![self.answer(h, status::INVALID_PARAMETER, &[])];
        }
        let session = &self.sessions[si];
        let open = &session.opens[at];
        let share = session.tree(open.tree).and_then(|t| t.share);
        let data = match (share, open.found) {
            (Some(s), Found::File(i)) => session.view.shares.get(s).and_then(|s| s.entries.get(i)).map(|e| Arc::clone(&e.data)),
            _ => None,
        };
        let Some(data) = data else { return vec![self.answer(h, status::INVALID_DEVICE_REQUEST, &[])] };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= data.len() {
            return vec![self.answer(h, status::END_OF_FILE, &[])];
        }
        let chunk = &data[start..data.len().min(start.saturating_add(length as usize))];
        let open = &mut self.sessions[si].opens[at];
        open.read_bytes += chunk.len() as u64;
        open.reads += 1;
        let mut body = Vec::with_capacity(16 + chunk.len());
        body.extend([17, 0, 0x50, 0]);
        body.extend((chunk.len() as u32).to_le_bytes());
        body.extend([0; 8]);
        body.extend_from_slice(chunk);
        vec![Step::Send(response(&self.granted(h, status::SUCCESS), &body))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_names_split_on_backslashes_and_odd_ones_are_refused_as_windows_refuses_them() {
        assert_eq!(components(""), Ok(vec![]));
        assert_eq!(components("Reports\\q3.csv"), Ok(vec!["Reports", "q3.csv"]));
        assert_eq!(components("\\Reports"), Err(status::INVALID_PARAMETER));
        assert_eq!(components("a\\..\\b"), Err(status::OBJECT_NAME_INVALID));
        assert_eq!(components("a\\\\b"), Err(status::OBJECT_NAME_INVALID));
        assert_eq!(components("q3.csv:secret"), Err(status::OBJECT_NAME_NOT_FOUND));
    }
}
