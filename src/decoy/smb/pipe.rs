//! Named pipes on IPC$ inside a session: `srvsvc` opened (refused to a null session
//! on Windows, as RestrictNullSessAccess does), written, read and transceived
//! (FSCTL_PIPE_TRANSCEIVE) as Windows answers, so that share listings work; every
//! other pipe is not there. A listing is recorded as `smb_file` `list_shares`.

use super::conn::SmbConn;
use super::files::{file_id, response};
use super::logged_in::{Open, Related};
use super::personality::Implementation;
use super::share::Found;
use super::srvsvc::{Call, Pipe, ShareEntry, STYPE_DISKTREE, STYPE_IPC, STYPE_SPECIAL};
use super::step::Step;
use super::wire::{command, status, u16_at, u32_at, Header, SMB2_HEADER};

/// FSCTL_PIPE_TRANSCEIVE.
const PIPE_TRANSCEIVE: u32 = 0x0011_c017;
/// FILE_ATTRIBUTE_NORMAL, what a pipe's open says of it.
const NORMAL: u32 = 0x80;

impl SmbConn {
    /// The shares srvsvc lists: Windows' administrative shares and IPC$ first, then
    /// the honey shares; Samba's shares then its IPC$.
    fn share_list(&self, si: usize) -> Vec<ShareEntry> {
        let honey = self.sessions[si].view.shares.iter().map(|s| ShareEntry { name: s.name.clone(), kind: STYPE_DISKTREE, remark: String::new() });
        match self.p.implementation {
            Implementation::Windows => [
                ShareEntry { name: "ADMIN$".into(), kind: STYPE_SPECIAL | STYPE_DISKTREE, remark: "Remote Admin".into() },
                ShareEntry { name: "C$".into(), kind: STYPE_SPECIAL | STYPE_DISKTREE, remark: "Default share".into() },
                ShareEntry { name: "IPC$".into(), kind: STYPE_SPECIAL | STYPE_IPC, remark: "Remote IPC".into() },
            ]
            .into_iter()
            .chain(honey)
            .collect(),
            Implementation::Samba => honey
                .chain([ShareEntry { name: "IPC$".into(), kind: STYPE_SPECIAL | STYPE_IPC, remark: "IPC Service (Samba 4.17.12-Debian)".into() }])
                .collect(),
        }
    }

    /// CREATE on IPC$: the srvsvc pipe, or nothing.
    pub(super) fn open_pipe(&mut self, si: usize, h: &Header, m: &[u8], related: &mut Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let name = match (u16_at(m, b + 44), u16_at(m, b + 46)) {
            (Some(offset), Some(len)) => super::wire::buffer(m, offset, len).map(super::files::utf16),
            _ => None,
        };
        let Some(name) = name else { return vec![self.answer(h, status::INVALID_PARAMETER, &[])] };
        let session = &self.sessions[si];
        let code = if !name.trim_start_matches('\\').eq_ignore_ascii_case("srvsvc") {
            status::OBJECT_NAME_NOT_FOUND
        } else if session.anonymous && self.p.implementation == Implementation::Windows {
            status::ACCESS_DENIED
        } else if session.opens.len() >= 64 {
            status::INSUFFICIENT_RESOURCES
        } else {
            status::SUCCESS
        };
        let event = Self::file_event(session, "open", "IPC$", &name, code, None, None);
        if code != status::SUCCESS {
            return vec![Step::Emit(Box::new(event)), self.answer(h, code, &[])];
        }
        let session = &mut self.sessions[si];
        let id = (session.next_file, rand::RngExt::random::<u64>(&mut rand::rng()) | 1);
        session.next_file += 1;
        let pipe = Some(Box::new(Pipe::default()));
        session.opens.push(Open { id, tree: related.tree, path: Vec::new(), named: name, found: Found::Folder, listing: None, pipe, read_bytes: 0, reads: 0 });
        related.file = Some(id);
        let mut body = Vec::with_capacity(89);
        body.extend(89u16.to_le_bytes());
        body.extend([0, 0]);
        body.extend(1u32.to_le_bytes()); // FILE_OPENED
        body.extend([0; 32]); // no times
        body.extend(4096u64.to_le_bytes());
        body.extend(0u64.to_le_bytes());
        body.extend(NORMAL.to_le_bytes());
        body.extend(0u32.to_le_bytes());
        body.extend(id.0.to_le_bytes());
        body.extend(id.1.to_le_bytes());
        body.extend([0; 8]);
        body.push(0);
        vec![Step::Emit(Box::new(event)), Step::Send(response(&self.granted(h, status::SUCCESS), &body))]
    }

    /// WRITE, READ or IOCTL on an open pipe.
    pub(super) fn on_pipe(&mut self, si: usize, h: &Header, m: &[u8], related: &Related) -> Vec<Step> {
        let b = SMB2_HEADER;
        let at = match h.command {
            command::WRITE => b + 16,
            command::READ => b + 16,
            _ => b + 8,
        };
        let Some(open) = file_id(m, at, related).and_then(|id| self.sessions[si].open(id)) else { return vec![self.answer(h, status::FILE_CLOSED, &[])] };
        if self.sessions[si].opens[open].pipe.is_none() {
            return vec![self.answer(h, status::INVALID_DEVICE_REQUEST, &[])];
        }
        let shares = self.share_list(si);
        let input = match h.command {
            command::WRITE => u16_at(m, b + 2).zip(u32_at(m, b + 4)).and_then(|(o, n)| m.get(usize::from(o)..usize::from(o).checked_add(n as usize)?)),
            command::IOCTL if u32_at(m, b + 4) == Some(PIPE_TRANSCEIVE) => {
                u32_at(m, b + 24).zip(u32_at(m, b + 28)).and_then(|(o, n)| m.get(o as usize..(o as usize).checked_add(n as usize)?))
            }
            command::IOCTL => return vec![self.answer(h, status::NOT_SUPPORTED, &[])],
            _ => Some(&[][..]),
        };
        let Some(input) = input else { return vec![self.answer(h, status::INVALID_PARAMETER, &[])] };
        let session = &mut self.sessions[si];
        let Some(pipe) = session.opens[open].pipe.as_mut() else { return Vec::new() };
        let calls = match pipe.write(input, &shares) {
            Ok(calls) => calls,
            // What Windows' RPC runtime does with bytes that are not RPC: drop the pipe.
            Err(_) => return vec![self.answer(h, status::PIPE_DISCONNECTED, &[])],
        };
        let mut steps: Vec<Step> = calls
            .into_iter()
            .filter_map(|c| match c {
                Call::ShareEnum { level, listed } => {
                    let detail = Some(format!("NetrShareEnum level {level}, {listed} shares"));
                    Some(Step::Emit(Box::new(Self::file_event(&self.sessions[si], "list_shares", "IPC$", "srvsvc", status::SUCCESS, None, detail))))
                }
                _ => None,
            })
            .collect();
        let Some(pipe) = self.sessions[si].opens[open].pipe.as_mut() else { return steps };
        let answer = match h.command {
            command::WRITE => {
                let mut body = vec![17, 0, 0, 0];
                body.extend((input.len() as u32).to_le_bytes());
                body.extend([0; 8]);
                body.push(0);
                (status::SUCCESS, body)
            }
            command::READ => {
                let max = u32_at(m, b + 4).unwrap_or(0) as usize;
                let data = pipe.read(max);
                if data.is_empty() {
                    steps.push(self.answer(h, status::PIPE_EMPTY, &[]));
                    return steps;
                }
                let code = if pipe.has_output() { status::BUFFER_OVERFLOW } else { status::SUCCESS };
                let mut body = vec![17, 0, 0x50, 0];
                body.extend((data.len() as u32).to_le_bytes());
                body.extend([0; 8]);
                body.extend(data);
                (code, body)
            }
            _ => {
                let max = u32_at(m, b + 44).unwrap_or(0) as usize;
                let data = pipe.read(max);
                let code = if pipe.has_output() { status::BUFFER_OVERFLOW } else { status::SUCCESS };
                let offset = (SMB2_HEADER + 48) as u32;
                let mut body = vec![49, 0, 0, 0];
                body.extend(PIPE_TRANSCEIVE.to_le_bytes());
                body.extend(m.get(b + 8..b + 24).unwrap_or(&[0; 16]));
                body.extend(offset.to_le_bytes());
                body.extend(0u32.to_le_bytes());
                body.extend(offset.to_le_bytes());
                body.extend((data.len() as u32).to_le_bytes());
                body.extend([0; 8]);
                body.extend(data);
                (code, body)
            }
        };
        steps.push(Step::Send(response(&self.granted(h, answer.0), &answer.1)));
        steps
    }
}
