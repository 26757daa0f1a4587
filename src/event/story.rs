//! What an incident's events tell an analyst, gathered event by event into a few
//! counts and names (which tokens were used and where they were planted, SSH guesses,
//! logins and commands, the web paths and probes, the DICOM queries), bounded in size
//! whatever the events say. The title and the one-sentence summary are written from
//! it (`story_text.rs`). Names are kept as shown text: hidden characters escaped, cut.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{visible_capped, Event, EventKind, SshAuthMethod, TokenKind};

/// Longest name kept (user, decoy, path, label), in characters.
const NAME_CHARS: usize = 80;
/// Most tokens, decoys per protocol, logins and probes named.
const MAX_TOKENS: usize = 16;
const MAX_NAMES: usize = 4;
/// Distinct web paths counted exactly; past this many the count says "more than".
pub const MAX_PATHS: u32 = 64;

fn shown(text: &str) -> String {
    visible_capped(text, NAME_CHARS).into_owned()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A few names in first-seen order; how many more were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    #[serde(default)]
    pub first: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: u64,
}

impl Names {
    /// Adds a shown name (copied only when it is new).
    fn add(&mut self, name: &str) {
        if self.first.iter().any(|n| n == name) {
            return;
        }
        if self.first.len() < MAX_NAMES {
            self.first.push(name.to_string());
        } else {
            self.more += 1;
        }
    }
}

/// Where a token was planted, as its first plant says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantedAt {
    pub host: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A token used in the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUse {
    pub id: String,
    pub kind: TokenKind,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planted: Option<PlantedAt>,
    /// The decoy it was first used on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoy: Option<String>,
    pub hits: u64,
}

/// A login the decoy let in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub decoy: String,
    pub user: String,
    /// The token whose secret opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// One protocol's share of the story.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    #[serde(default)]
    pub decoys: Names,
    /// Refused logins (SSH passwords and keys, Windows, web forms).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub guesses: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<Login>,
    /// Commands typed, requests sent, queries or messages: the protocol's unit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub actions: u64,
    /// Web: distinct paths (exact up to [`MAX_PATHS`]); DICOM: records answered.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub breadth: u64,
    /// Named exploit probes (web) or notable operations.
    #[serde(default)]
    pub probes: Names,
    /// Web: paths seen, kept only in memory to count distinct ones.
    #[serde(skip)]
    paths: HashSet<u64>,
}

/// The protocols a story tells of, in the order an analyst reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Ssh,
    Web,
    Dicom,
    Windows,
    Rdp,
    Hl7,
    Files,
    Network,
}

/// The story of one incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Story {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenUse>,
    /// Each protocol's part, in the order the intruder first touched it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(Protocol, Part)>,
}

impl Story {
    /// True before any event was told (and for incidents saved before stories).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.parts.is_empty()
    }

    /// A protocol's part, if the story has one.
    pub fn part(&self, p: Protocol) -> Option<&Part> {
        self.parts.iter().find(|(q, _)| *q == p).map(|(_, part)| part)
    }

    fn part_mut(&mut self, p: Protocol, decoy: Option<&str>) -> &mut Part {
        let at = match self.parts.iter().position(|(q, _)| *q == p) {
            Some(at) => at,
            None => {
                self.parts.push((p, Part::default()));
                self.parts.len() - 1
            }
        };
        let part = &mut self.parts[at].1;
        if let Some(d) = decoy {
            part.decoys.add(&visible_capped(d, NAME_CHARS));
        }
        part
    }

    /// Tells one more event.
    pub fn absorb(&mut self, ev: &Event) {
        let decoy = ev.decoy.as_deref();
        let token = ev.token.as_ref().map(|t| t.id.clone());
        if let Some(hit) = &ev.token {
            let full = self.tokens.len() >= MAX_TOKENS;
            match self.tokens.iter_mut().find(|t| t.id == hit.id) {
                Some(t) => t.hits += 1,
                None if !full => self.tokens.push(TokenUse {
                    id: shown(&hit.id),
                    kind: hit.kind,
                    label: shown(&hit.label),
                    planted: hit.plants.first().map(|p| PlantedAt { host: shown(&p.host), path: shown(&p.path), note: p.note.as_deref().map(shown) }),
                    decoy: decoy.map(shown),
                    hits: 1,
                }),
                None => {}
            }
        }
        match &ev.kind {
            EventKind::SshAuth { method, username, accepted, .. } => {
                let part = self.part_mut(Protocol::Ssh, decoy);
                if *accepted {
                    login(part, decoy, &username.to_text_lossy(), token);
                } else if matches!(method, SshAuthMethod::Password | SshAuthMethod::KeyboardInteractive) {
                    // A client's `none` probe and its key offers are not guesses.
                    part.guesses += 1;
                }
            }
            EventKind::SshCommand { .. } => self.part_mut(Protocol::Ssh, decoy).actions += 1,
            EventKind::SshClient { .. } | EventKind::SshSessionClosed { .. } | EventKind::SshRequestRefused { .. } => {
                self.part_mut(Protocol::Ssh, decoy);
            }
            EventKind::HttpRequest { target, credential, tags, headers, body, .. } => {
                let part = self.part_mut(Protocol::Web, decoy);
                part.actions += 1;
                if credential.is_some() && token.is_none() {
                    part.guesses += 1;
                }
                let path = target.as_bytes().split(|&b| b == b'?').next().unwrap_or_default();
                if part.paths.len() < MAX_PATHS as usize && part.paths.insert(fnv(path)) {
                    part.breadth += 1;
                }
                if tags.iter().any(|t| t == "exploit") {
                    let mut seen = target.as_bytes().to_vec();
                    for h in headers {
                        seen.extend_from_slice(h.value.as_bytes());
                    }
                    if let Some(b) = body {
                        seen.extend_from_slice(b.as_bytes());
                    }
                    part.probes.add(probe_name(&seen, tags));
                }
            }
            EventKind::DicomAssociation { .. } | EventKind::DicomRelease { .. } => {
                self.part_mut(Protocol::Dicom, decoy);
            }
            EventKind::DicomCommand { command, matches, .. } => {
                let part = self.part_mut(Protocol::Dicom, decoy);
                if command != "C-ECHO" {
                    part.actions += 1;
                    part.breadth += u64::from(*matches);
                }
                if matches!(command.as_str(), "C-GET" | "C-MOVE" | "C-STORE") {
                    part.probes.add(command);
                }
            }
            EventKind::DicomStore { .. } => self.part_mut(Protocol::Dicom, decoy).probes.add("C-STORE"),
            EventKind::NtlmAuth { username, domain, accepted, .. } => {
                let part = self.part_mut(Protocol::Windows, decoy);
                if *accepted {
                    let user = format!("{}\\{}", domain.to_text_lossy(), username.to_text_lossy());
                    login(part, decoy, &user, token);
                } else {
                    part.guesses += 1;
                }
            }
            EventKind::SmbNegotiate { .. } => {
                self.part_mut(Protocol::Windows, decoy);
            }
            EventKind::SmbFile { .. } => self.part_mut(Protocol::Windows, decoy).actions += 1,
            EventKind::SmbExploit { stage, .. } => self.part_mut(Protocol::Windows, decoy).probes.add(stage),
            EventKind::RdpNegotiate { .. } => self.part_mut(Protocol::Rdp, decoy).actions += 1,
            EventKind::Hl7Message { .. } => self.part_mut(Protocol::Hl7, decoy).actions += 1,
            EventKind::FileOpened { path } | EventKind::CanaryMissing { path } => {
                self.part_mut(Protocol::Files, None).decoys.add(&visible_capped(path, NAME_CHARS))
            }
            EventKind::NamePoisoning { protocol, .. } => self.part_mut(Protocol::Network, None).probes.add(protocol),
            // Connections alone are told from the incident's own counts: a port scan
            // from many sources costs no story.
            _ => {}
        }
    }
}

fn login(part: &mut Part, decoy: Option<&str>, user: &str, token: Option<String>) {
    let (decoy, user) = (shown(decoy.unwrap_or_default()), shown(user));
    if part.logins.len() < MAX_NAMES && !part.logins.iter().any(|l| l.decoy == decoy && l.user == user && l.token == token) {
        part.logins.push(Login { decoy, user, token });
    }
}

/// FNV-1a: a path's fingerprint for counting distinct paths.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What an exploit-tagged request was probing for, by the pattern it carried.
pub fn probe_name(seen: &[u8], tags: &[String]) -> &'static str {
    if tags.iter().any(|t| t == "cve-2023-43208") {
        return "CVE-2023-43208 exploit";
    }
    let n = super::bytes::decoded_lower(seen);
    let has = |p: &[u8]| n.windows(p.len()).any(|w| w == p);
    const NAMED: &[(&[&[u8]], &str)] = &[
        (&[b"${jndi:", b"${${"], "Log4Shell probe"),
        (&[b"../", b"..\\", b"/etc/passwd"], "path traversal"),
        (&[b"union select", b"' or '1'='1", b"' or 1=1"], "SQL injection"),
        (&[b"<script"], "script injection"),
        (&[b"$(", b"`", b";wget ", b";curl ", b"|wget ", b"|curl ", b"/bin/sh", b"cmd.exe"], "command injection"),
        (&[b"<dynamic-proxy", b"invokertransformer", b"chainedtransformer", b"java.lang.processbuilder", b"java.beans.eventhandler"], "Java deserialisation"),
        (&[b"wp-login.php"], "WordPress probe"),
        (&[b"phpunit"], "PHPUnit probe"),
        (&[b".env"], ".env probe"),
        (&[b"/cgi-bin/"], "CGI probe"),
    ];
    NAMED.iter().find(|(patterns, _)| patterns.iter().any(|p| has(p))).map_or("exploit pattern", |(_, name)| name)
}

#[cfg(test)]
#[path = "story_tests.rs"]
mod tests;
