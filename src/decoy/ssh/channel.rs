//! The connection layer (RFC 4254) for a login the decoy accepted: session channels
//! with pty, env, shell, exec and window-change; window and packet-size accounting;
//! global requests answered as OpenSSH answers them; port forwarding and subsystems
//! (SFTP) refused and recorded. Input goes to the fake shell, never to a process.

use std::time::Duration;

use super::recording::Recording;
use super::shell::{self, ShellState};
use super::transport::conn::{Ending, Transport};
use super::transport::msg;
use super::transport::version::Family;
use super::transport::wire::{Put, Reader};
use super::SshRuntime;
use crate::decoy::connection::Recorder;
use crate::event::{AttackerBytes, CloseReason, EventKind};

/// Largest recording kept per session.
const RECORDING_CAP_BYTES: u64 = 1 << 20;
/// The receive window and packet size a session channel offers: OpenSSH's 2 MiB and
/// 32 KiB, Dropbear's 24 KiB and 32759 bytes.
fn window_and_packet(family: Family) -> (u32, u32) {
    match family {
        Family::Openssh => (2 * 1024 * 1024, 32 * 1024),
        Family::Dropbear => (24 * 1024, 32759),
    }
}
/// Largest packet we send on a channel.
const MAX_PACKET: u32 = 32 * 1024;
/// Channels one connection may hold open.
const MAX_CHANNELS: usize = 10;
/// Output held back waiting for the client's window.
const MAX_PENDING: usize = 256 * 1024;

struct Channel {
    ours: u32,
    theirs: u32,
    /// How much the client still lets us send.
    window: u32,
    max_packet: u32,
    /// Output waiting for window.
    pending: Vec<u8>,
    /// Bytes received since we last enlarged the client's window.
    consumed: u32,
    pty: bool,
    line: Vec<u8>,
    shell: ShellState,
    sent_close: bool,
}

/// What the connection layer needs of a logged-in session: the decoy, where its events
/// go, and the terminal recording (started with the first channel).
pub struct Logged<'a> {
    pub rt: &'a SshRuntime,
    pub recorder: &'a Recorder,
    pub recording: &'a mut Option<Box<Recording>>,
}

/// Finishes the session's recording, if any, into its `ssh_session_closed` event.
pub fn finish_recording(recording: &mut Option<Box<Recording>>) -> Option<EventKind> {
    let done = recording.take()?.finish();
    Some(EventKind::SshSessionClosed { recording: done.path, sha256: done.sha256, bytes: done.bytes })
}

fn malformed<T>(_: T) -> Ending {
    Ending::Protocol { notice: None }
}

/// Serves channels until the client leaves (or stays silent past `idle`).
pub async fn serve(t: &mut Transport, s: &mut Logged<'_>, user: &[u8], idle: Duration) -> Result<CloseReason, Ending> {
    let mut channels: Vec<Channel> = Vec::new();
    let mut next_id = 0u32;
    loop {
        let payload = match tokio::time::timeout(idle, t.next()).await {
            Ok(Err(Ending::PeerClosed)) => return Ok(CloseReason::PeerClosed),
            Ok(r) => r?,
            Err(_) => return Ok(CloseReason::IdleTimeout),
        };
        let mut r = Reader::new(&payload);
        let kind = r.u8().map_err(malformed)?;
        match kind {
            msg::GLOBAL_REQUEST => {
                let name = r.string().map_err(malformed)?;
                let want_reply = r.bool().map_err(malformed)?;
                let ok = match name {
                    b"no-more-sessions@openssh.com" => t.family() == Family::Openssh,
                    b"tcpip-forward" => {
                        let addr = r.string().map_err(malformed)?;
                        let port = r.u32().map_err(malformed)?;
                        let target = AttackerBytes::new([addr, format!(":{port}").as_bytes()].concat());
                        s.recorder.emit(EventKind::SshRequestRefused { request: "tcpip-forward".into(), target }).await;
                        false
                    }
                    _ => false,
                };
                if want_reply {
                    t.queue(&[if ok { msg::REQUEST_SUCCESS } else { msg::REQUEST_FAILURE }]);
                }
            }
            msg::CHANNEL_OPEN => {
                let kind = r.string().map_err(malformed)?;
                let theirs = r.u32().map_err(malformed)?;
                let window = r.u32().map_err(malformed)?;
                let max_packet = r.u32().map_err(malformed)?;
                if kind == b"session" && channels.len() < MAX_CHANNELS {
                    if s.recording.is_none() {
                        let name = s.recorder.session().to_string();
                        *s.recording = Recording::create(&s.rt.recordings, &name, 80, 24, RECORDING_CAP_BYTES).ok().map(Box::new);
                    }
                    let ours = next_id;
                    next_id += 1;
                    channels.push(Channel {
                        ours,
                        theirs,
                        window,
                        max_packet: max_packet.clamp(1, MAX_PACKET),
                        pending: Vec::new(),
                        consumed: 0,
                        pty: false,
                        line: Vec::new(),
                        shell: ShellState::login(&String::from_utf8_lossy(user), &s.rt.personality.shell),
                        sent_close: false,
                    });
                    let mut p = vec![msg::CHANNEL_OPEN_CONFIRMATION];
                    p.put_u32(theirs);
                    p.put_u32(ours);
                    let (window, packet) = window_and_packet(t.family());
                    p.put_u32(window);
                    p.put_u32(packet);
                    t.queue(&p);
                } else {
                    if kind == b"direct-tcpip" {
                        let host = r.string().map_err(malformed)?;
                        let port = r.u32().map_err(malformed)?;
                        let target = AttackerBytes::new([host, format!(":{port}").as_bytes()].concat());
                        s.recorder.emit(EventKind::SshRequestRefused { request: "direct-tcpip".into(), target }).await;
                    }
                    let mut p = vec![msg::CHANNEL_OPEN_FAILURE];
                    p.put_u32(theirs);
                    p.put_u32(1); // administratively prohibited
                    p.put_string(b"open failed");
                    p.put_string(b"");
                    t.queue(&p);
                }
            }
            msg::CHANNEL_WINDOW_ADJUST => {
                let id = r.u32().map_err(malformed)?;
                let add = r.u32().map_err(malformed)?;
                let Some(c) = channels.iter_mut().find(|c| c.ours == id) else { return Err(nonexistent(id)) };
                c.window = c.window.saturating_add(add);
                flush(t, c).await?;
            }
            msg::CHANNEL_DATA => {
                let id = r.u32().map_err(malformed)?;
                let data = r.string().map_err(malformed)?;
                let Some(c) = channels.iter_mut().find(|c| c.ours == id) else { return Err(nonexistent(id)) };
                if let Some(rec) = s.recording.as_mut() {
                    rec.input(data);
                }
                c.consumed = c.consumed.saturating_add(data.len() as u32);
                if c.consumed > window_and_packet(t.family()).0 / 2 {
                    let mut p = vec![msg::CHANNEL_WINDOW_ADJUST];
                    p.put_u32(c.theirs);
                    p.put_u32(c.consumed);
                    c.consumed = 0;
                    t.queue(&p);
                }
                typed(t, s, c, data).await?;
            }
            msg::CHANNEL_EXTENDED_DATA => {}
            msg::CHANNEL_EOF => {
                let id = r.u32().map_err(malformed)?;
                if let Some(c) = channels.iter_mut().find(|c| c.ours == id) {
                    // The shell reads end of input and exits, as bash does.
                    if c.pty {
                        output(t, s, c, "logout\n").await?;
                    }
                    end(t, c).await?;
                }
            }
            msg::CHANNEL_CLOSE => {
                let id = r.u32().map_err(malformed)?;
                if let Some(i) = channels.iter().position(|c| c.ours == id) {
                    let mut c = channels.swap_remove(i);
                    if !c.sent_close {
                        c.sent_close = true;
                        let mut p = vec![msg::CHANNEL_CLOSE];
                        p.put_u32(c.theirs);
                        t.queue(&p);
                    }
                }
            }
            msg::CHANNEL_REQUEST => {
                let id = r.u32().map_err(malformed)?;
                let request = r.string().map_err(malformed)?.to_vec();
                let want_reply = r.bool().map_err(malformed)?;
                let Some(c) = channels.iter_mut().find(|c| c.ours == id) else { return Err(nonexistent(id)) };
                channel_request(t, s, c, &request, want_reply, &mut r).await?;
            }
            other => t.reject_unexpected(other).await?,
        }
        t.flush().await?;
    }
}

/// OpenSSH's answer to data or a request for a channel that does not exist.
fn nonexistent(id: u32) -> Ending {
    Ending::Protocol { notice: Some(format!("data packet referred to nonexistent channel {id}")) }
}

async fn reply(t: &mut Transport, c: &Channel, ok: bool, want_reply: bool) -> Result<(), Ending> {
    if want_reply {
        let mut p = vec![if ok { msg::CHANNEL_SUCCESS } else { msg::CHANNEL_FAILURE }];
        p.put_u32(c.theirs);
        t.queue(&p);
    }
    Ok(())
}

async fn channel_request(t: &mut Transport, s: &mut Logged<'_>, c: &mut Channel, request: &[u8], want_reply: bool, r: &mut Reader<'_>) -> Result<(), Ending> {
    let look = &s.rt.personality.shell;
    match request {
        b"pty-req" => {
            c.pty = true;
            reply(t, c, true, want_reply).await
        }
        b"env" | b"window-change" => reply(t, c, request == b"window-change", want_reply).await,
        b"shell" => {
            reply(t, c, true, want_reply).await?;
            let greeting = format!("{}{}", look.motd, c.shell.prompt(look));
            output(t, s, c, &greeting).await
        }
        b"exec" => {
            let command = r.string().map_err(malformed)?;
            reply(t, c, true, want_reply).await?;
            let line = command[..command.len().min(shell::MAX_LINE)].to_vec();
            run(t, s, c, &line, true).await?;
            end(t, c).await
        }
        b"subsystem" => {
            let name = r.string().map_err(malformed)?;
            s.recorder.emit(EventKind::SshRequestRefused { request: "subsystem".into(), target: AttackerBytes::new(name) }).await;
            reply(t, c, false, want_reply).await
        }
        _ => reply(t, c, false, want_reply).await,
    }
}

/// Runs one line in the fake shell and records it; true when the shell exits.
async fn run(t: &mut Transport, s: &mut Logged<'_>, c: &mut Channel, line: &[u8], exec: bool) -> Result<bool, Ending> {
    s.recorder.emit(EventKind::SshCommand { line: AttackerBytes::new(line), exec }).await;
    let text = String::from_utf8_lossy(line).into_owned();
    let look = &s.rt.personality.shell;
    let outcome = shell::run_line(&text, &mut c.shell, look);
    let prompt = c.shell.prompt(look);
    output(t, s, c, &outcome.output).await?;
    if outcome.exit {
        if !exec {
            output(t, s, c, "logout\n").await?;
        }
        return Ok(true);
    }
    if !exec {
        output(t, s, c, &prompt).await?;
    }
    Ok(false)
}

/// Handles typed input with a terminal's line discipline (echo, backspace, ^C, ^D).
async fn typed(t: &mut Transport, s: &mut Logged<'_>, c: &mut Channel, data: &[u8]) -> Result<(), Ending> {
    for &b in data {
        match b {
            b'\r' | b'\n' => {
                output(t, s, c, "\n").await?;
                let line = std::mem::take(&mut c.line);
                if run(t, s, c, &line, false).await? {
                    return end(t, c).await;
                }
            }
            0x7f | 0x08 if c.line.pop().is_some() => raw(t, s, c, b"\x08 \x08").await?,
            0x7f | 0x08 => {}
            0x03 => {
                c.line.clear();
                let prompt = c.shell.prompt(&s.rt.personality.shell);
                output(t, s, c, &format!("^C\n{prompt}")).await?;
            }
            0x04 if c.line.is_empty() => {
                output(t, s, c, "logout\n").await?;
                return end(t, c).await;
            }
            b if b >= 0x20 && c.line.len() < shell::MAX_LINE => {
                c.line.push(b);
                raw(t, s, c, &[b]).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sends text (LF becomes CR LF on a pty, as a terminal's ONLCR does).
async fn output(t: &mut Transport, s: &mut Logged<'_>, c: &mut Channel, text: &str) -> Result<(), Ending> {
    let data = if c.pty { text.replace("\r\n", "\n").replace('\n', "\r\n") } else { text.to_string() };
    raw(t, s, c, data.as_bytes()).await
}

async fn raw(t: &mut Transport, s: &mut Logged<'_>, c: &mut Channel, data: &[u8]) -> Result<(), Ending> {
    if data.is_empty() {
        return Ok(());
    }
    if let Some(rec) = s.recording.as_mut() {
        rec.output(data);
    }
    let room = MAX_PENDING.saturating_sub(c.pending.len());
    c.pending.extend_from_slice(&data[..data.len().min(room)]);
    flush(t, c).await
}

/// Sends as much pending output as the client's window and packet size allow.
async fn flush(t: &mut Transport, c: &mut Channel) -> Result<(), Ending> {
    while !c.pending.is_empty() && c.window > 0 {
        let n = c.pending.len().min(c.window as usize).min(c.max_packet as usize);
        let chunk: Vec<u8> = c.pending.drain(..n).collect();
        let mut p = Vec::with_capacity(n + 9);
        p.put_u8(msg::CHANNEL_DATA);
        p.put_u32(c.theirs);
        p.put_string(&chunk);
        t.queue(&p);
        c.window -= n as u32;
    }
    Ok(())
}

/// Ends a channel as a shell that exited 0 does: exit-status, EOF, CLOSE.
async fn end(t: &mut Transport, c: &mut Channel) -> Result<(), Ending> {
    if c.sent_close {
        return Ok(());
    }
    flush(t, c).await?;
    let mut p = vec![msg::CHANNEL_REQUEST];
    p.put_u32(c.theirs);
    p.put_string(b"exit-status");
    p.put_bool(false);
    p.put_u32(0);
    t.queue(&p);
    let mut eof = vec![msg::CHANNEL_EOF];
    eof.put_u32(c.theirs);
    t.queue(&eof);
    let mut close = vec![msg::CHANNEL_CLOSE];
    close.put_u32(c.theirs);
    t.queue(&close);
    c.sent_close = true;
    t.flush().await
}
