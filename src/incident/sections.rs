//! An incident's events arranged as an analyst reads them, protocol by protocol: the
//! SSH attempts with the client that made them, the commands typed, the web requests
//! with repeats collapsed ("3,000 × GET /wl/*.php → 404"), the DICOM queries with SOP
//! class names and the honey patients answered. The console's incident page and
//! `incidents show` print the same sections. Text stays as sent (lossy UTF-8); each
//! printer escapes it for its own output. Every list is bounded.

use std::collections::HashMap;

use serde::Serialize;

use crate::event::{sop_class_name, AttackerBytes, EventKind, SessionId, SshAuthMethod};
use crate::store::StoredEvent;

/// Most rows a section keeps; the rest are counted (every event stays one page of
/// "every event" away).
pub const MAX_ROWS: usize = 100;
/// Distinct web paths of one shape (method, status, agent, directory, extension) shown
/// one by one before they are collapsed into a pattern.
const COLLAPSE_AT: usize = 5;
/// Most distinct web requests tracked (a scan past this is counted in one row).
const MAX_DISTINCT: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshAttempt {
    pub time: String,
    pub decoy: String,
    pub method: &'static str,
    pub username: String,
    /// Absent for a planted secret (the token names it) and for key offers.
    pub password: Option<String>,
    pub key: Option<String>,
    pub accepted: bool,
    pub token: Option<String>,
    /// The client's identification line and HASSH, from the same connection.
    pub client: Option<String>,
    pub hassh: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Typed {
    pub time: String,
    pub decoy: String,
    pub line: String,
    /// `ssh host CMD` rather than typed into the shell.
    pub exec: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebRow {
    pub count: u64,
    pub method: String,
    /// The target, or a pattern (`/wl/*.php`) standing for several.
    pub target: String,
    pub status: u16,
    pub user_agent: String,
    /// `basic svc_portal`, `aws-sigv4 AKIA…`: the scheme and who.
    pub credential: Option<String>,
    pub tags: Vec<String>,
    pub token: Option<String>,
    pub first: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DicomRow {
    pub time: String,
    pub decoy: String,
    pub command: String,
    /// The SOP class by name when known, else its UID.
    pub sop_class: String,
    pub level: String,
    pub keys: String,
    pub matches: u32,
    /// The honey patient the answer named (its token).
    pub patient: Option<String>,
}

/// What `incidents show` and the incident page list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sections {
    pub ssh: Vec<SshAttempt>,
    pub ssh_more: u64,
    pub typed: Vec<Typed>,
    pub typed_more: u64,
    /// Session recordings (asciicast paths in the state directory), for replay.
    pub recordings: Vec<String>,
    pub web: Vec<WebRow>,
    pub web_more: u64,
    pub dicom: Vec<DicomRow>,
    pub dicom_more: u64,
}

/// What makes two web requests the same row: method, target, status, agent,
/// credential, tags, token.
/// What makes two requests the same row, borrowed from the events (a flood's requests
/// are counted without a copy; text is made only for the rows kept).
#[derive(PartialEq, Eq, Hash)]
struct WebKey<'e> {
    method: &'e [u8],
    target: &'e [u8],
    status: u16,
    user_agent: Option<&'e [u8]>,
    credential: Option<(&'e str, Option<&'e [u8]>)>,
    tags: &'e [String],
    token: Option<&'e str>,
}
/// What makes web rows one pattern: method, status, agent, directory, extension.
type Shape = (String, u16, String, String, String);

fn text(b: &AttackerBytes) -> String {
    b.to_text_lossy()
}

fn push<T>(rows: &mut Vec<T>, more: &mut u64, row: impl FnOnce() -> T) {
    if rows.len() < MAX_ROWS {
        rows.push(row());
    } else {
        *more += 1;
    }
}

fn method_name(m: SshAuthMethod) -> &'static str {
    match m {
        SshAuthMethod::None => "none",
        SshAuthMethod::Password => "password",
        SshAuthMethod::Publickey => "publickey",
        SshAuthMethod::KeyboardInteractive => "keyboard-interactive",
    }
}

/// A path's directory (through its last `/`) and its last segment's extension.
fn shape(target: &str) -> (String, String) {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let (dir, last) = path.rsplit_once('/').map_or(("", path), |(d, l)| (d, l));
    let ext = last.rfind('.').filter(|&i| i > 0).map_or(String::new(), |i| last[i..].to_string());
    (format!("{dir}/"), ext)
}

/// The sections of `events` (an incident's members, in commit order).
pub fn sections(events: &[StoredEvent]) -> Sections {
    let mut s = Sections::default();
    let mut clients: HashMap<SessionId, (String, String)> = HashMap::new();
    let mut web: Vec<WebRow> = Vec::new();
    let mut exact: HashMap<WebKey, usize> = HashMap::new();
    for stored in events {
        let e = &stored.event;
        // Worked out only for a row that is kept: most events of a flood add none.
        let time = || e.time.to_rfc3339();
        let decoy = || e.decoy.clone().unwrap_or_default();
        let token = || e.token.as_ref().map(|t| format!("{} ({})", t.id, t.label));
        match &e.kind {
            EventKind::SshClient { version, hassh, .. } => {
                if let Some(session) = e.session {
                    if clients.len() < MAX_DISTINCT {
                        clients.insert(session, (text(version), hassh.clone()));
                    }
                }
            }
            EventKind::SshAuth { method, username, password, key_fingerprint, accepted, .. } if *method != SshAuthMethod::None => {
                let client = e.session.and_then(|id| clients.get(&id));
                push(&mut s.ssh, &mut s.ssh_more, || SshAttempt {
                    time: time(),
                    decoy: decoy(),
                    method: method_name(*method),
                    username: text(username),
                    password: password.as_ref().map(text),
                    key: key_fingerprint.clone(),
                    accepted: *accepted,
                    token: token(),
                    client: client.map(|c| c.0.clone()),
                    hassh: client.map(|c| c.1.clone()),
                });
            }
            EventKind::SshCommand { line, exec } => {
                push(&mut s.typed, &mut s.typed_more, || Typed { time: time(), decoy: decoy(), line: text(line), exec: *exec })
            }
            EventKind::SshSessionClosed { recording, .. } if s.recordings.len() < 20 => s.recordings.push(recording.clone()),
            EventKind::HttpRequest { method, target, status, user_agent, credential, tags, .. } => {
                let key = WebKey {
                    method: method.as_bytes(),
                    target: target.as_bytes(),
                    status: *status,
                    user_agent: user_agent.as_ref().map(AttackerBytes::as_bytes),
                    credential: credential.as_ref().map(|c| (c.scheme.as_str(), c.username.as_ref().map(AttackerBytes::as_bytes))),
                    tags,
                    token: e.token.as_ref().map(|t| t.id.as_str()),
                };
                match exact.get(&key) {
                    Some(&at) => web[at].count += 1,
                    None if exact.len() < MAX_DISTINCT => {
                        exact.insert(key, web.len());
                        web.push(WebRow {
                            count: 1,
                            method: text(method),
                            target: text(target),
                            status: *status,
                            user_agent: user_agent.as_ref().map(text).unwrap_or_default(),
                            credential: credential
                                .as_ref()
                                .map(|c| format!("{} {}", c.scheme, c.username.as_ref().map(text).unwrap_or_default()).trim().to_string()),
                            tags: tags.clone(),
                            token: token(),
                            first: time(),
                        });
                    }
                    None => s.web_more += 1,
                }
            }
            EventKind::DicomCommand { command, sop_class, level, keys, matches, .. } => {
                push(&mut s.dicom, &mut s.dicom_more, || {
                    let uid = sop_class.as_ref().map(text).unwrap_or_default();
                    DicomRow {
                        time: time(),
                        decoy: decoy(),
                        command: command.clone(),
                        sop_class: sop_class_name(&uid).map_or(uid.clone(), str::to_string),
                        level: level.as_ref().map(text).unwrap_or_default(),
                        keys: keys.iter().map(|k| format!("{}={}", k.keyword.as_deref().unwrap_or(&k.tag), text(&k.value))).collect::<Vec<_>>().join(" "),
                        matches: *matches,
                        patient: token(),
                    }
                });
            }
            _ => {}
        }
    }
    let (rows, more) = collapse(web);
    s.web = rows;
    s.web_more += more;
    s
}

/// Requests of one shape with many distinct targets become one row with a pattern;
/// rows with a credential, a token or tags other than scanning stay as they are.
fn collapse(rows: Vec<WebRow>) -> (Vec<WebRow>, u64) {
    let plain = |r: &WebRow| r.credential.is_none() && r.token.is_none() && r.tags.iter().all(|t| t == "scanning");
    let key = |r: &WebRow| -> Shape {
        let (dir, ext) = shape(&r.target);
        (r.method.clone(), r.status, r.user_agent.clone(), dir, ext)
    };
    // Each plain row's shape, worked out once for both passes.
    let shapes: Vec<Option<Shape>> = rows.iter().map(|r| plain(r).then(|| key(r))).collect();
    let mut distinct: HashMap<&Shape, usize> = HashMap::new();
    for k in shapes.iter().flatten() {
        *distinct.entry(k).or_default() += 1;
    }
    let collapsing: Vec<Option<&Shape>> = shapes.iter().map(|k| k.as_ref().filter(|k| distinct.get(k).is_some_and(|&n| n >= COLLAPSE_AT))).collect();
    let mut out: Vec<WebRow> = Vec::new();
    let mut merged: HashMap<&Shape, usize> = HashMap::new();
    let mut more = 0;
    for (r, k) in rows.into_iter().zip(collapsing) {
        if let Some(k) = k {
            if let Some(&at) = merged.get(&k) {
                out[at].count += r.count;
                continue;
            }
            if out.len() < MAX_ROWS {
                let target = format!("{}*{}", k.3, k.4);
                merged.insert(k, out.len());
                out.push(WebRow { target, ..r });
            } else {
                more += r.count;
            }
        } else if out.len() < MAX_ROWS {
            out.push(r);
        } else {
            more += r.count;
        }
    }
    (out, more)
}

#[cfg(test)]
#[path = "sections_tests.rs"]
mod tests;
