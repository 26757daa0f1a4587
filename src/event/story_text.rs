//! An incident's title and one-sentence summary, written from its [`Story`]: the same
//! words in the CLI, the console, chat messages and findings. For readers outside the
//! team (STIX bundles shared with others) the public wording leaves out every
//! internal name: decoys, token ids and labels, where tokens were planted, user names.

use super::story::{Login, Part, Protocol, Story, TokenUse, MAX_PATHS};
use super::TokenKind;

/// Who reads the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The security team: decoy names, tokens and their plants.
    Team,
    /// Anyone else: no internal name.
    Public,
}

/// What a token of this kind is, in a sentence for `who`: outside the team a honey
/// patient is just a planted patient record.
fn kind_for(kind: TokenKind, who: Audience) -> &'static str {
    match (kind, who) {
        (TokenKind::Patient, Audience::Public) => "patient record",
        _ => kind_phrase(kind),
    }
}

/// What a token of this kind is, in a sentence.
fn kind_phrase(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::SshPassword => "SSH password",
        TokenKind::SshKey => "SSH key",
        TokenKind::AwsKey => "AWS key",
        TokenKind::Bearer => "API token",
        TokenKind::HttpBasic => "web password",
        TokenKind::Url => "canary URL",
        TokenKind::File => "canary file",
        TokenKind::Patient => "honey patient",
        TokenKind::WindowsPassword => "Windows password",
    }
}

/// A decoy of this protocol, unnamed.
fn decoy_phrase(p: Protocol) -> &'static str {
    match p {
        Protocol::Ssh => "an SSH decoy",
        Protocol::Web => "a web decoy",
        Protocol::Dicom => "a PACS decoy",
        Protocol::Windows => "a Windows decoy",
        Protocol::Rdp => "a remote desktop decoy",
        Protocol::Hl7 => "an HL7 interface decoy",
        Protocol::Files => "a canary file",
        Protocol::Network => "a decoy",
    }
}

/// A number with its thousands separated: `3,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// `1 thing`, `2 things`, with thousands separated.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl Story {
    /// The decoys of a part, named for the audience.
    fn decoys(&self, p: Protocol, part: &Part, who: Audience) -> String {
        match who {
            Audience::Public => decoy_phrase(p).to_string(),
            Audience::Team if part.decoys.first.is_empty() => decoy_phrase(p).to_string(),
            Audience::Team => {
                let mut names = part.decoys.first.clone();
                if part.decoys.more > 0 {
                    names.push(count(part.decoys.more, "other", "others"));
                }
                list(&names)
            }
        }
    }

    /// A token as the summary names it: `token tok-… (planted in PATH on HOST: NOTE)`.
    fn token_phrase(t: &TokenUse, who: Audience) -> String {
        if who == Audience::Public {
            return format!("a planted {}", kind_for(t.kind, who));
        }
        let planted = match &t.planted {
            Some(p) => format!("planted in {} on {}: {}", p.path, p.host, p.note.as_deref().unwrap_or(&t.label)),
            None => t.label.clone(),
        };
        format!("{} {} ({planted})", kind_phrase(t.kind), t.id)
    }

    fn login_phrase(&self, l: &Login, p: Protocol, who: Audience) -> String {
        let token = l.token.as_ref().and_then(|id| self.tokens.iter().find(|t| &t.id == id));
        match (who, token) {
            (Audience::Team, Some(t)) => format!("logged in to {} as {} with {}", l.decoy, l.user, Self::token_phrase(t, who)),
            (Audience::Team, None) => format!("logged in to {} as {}", l.decoy, l.user),
            (Audience::Public, Some(t)) => format!("logged in to {} with {}", decoy_phrase(p), Self::token_phrase(t, who)),
            (Audience::Public, None) => format!("logged in to {}", decoy_phrase(p)),
        }
    }

    /// The clauses of one protocol's part.
    fn clauses(&self, p: Protocol, part: &Part, who: Audience) -> Vec<String> {
        let at = self.decoys(p, part, who);
        let mut out = Vec::new();
        let logins = part.logins.iter().map(|l| self.login_phrase(l, p, who));
        match p {
            Protocol::Ssh => {
                if part.guesses > 0 {
                    let on = if part.logins.is_empty() { format!(" on {at}") } else { String::new() };
                    out.push(format!("guessed {}{on}", count(part.guesses, "SSH password", "SSH passwords")));
                }
                out.extend(logins);
                if part.actions > 0 {
                    out.push(format!("ran {}", count(part.actions, "command", "commands")));
                }
                if out.is_empty() {
                    out.push(format!("connected to {at}"));
                }
            }
            Protocol::Web => {
                let paths = if part.breadth >= u64::from(MAX_PATHS) { format!("more than {MAX_PATHS} paths") } else { count(part.breadth, "path", "paths") };
                let mut what = vec![count(part.actions, "request", "requests"), paths];
                what.extend(part.probes.first.iter().cloned());
                let verb = if part.breadth > 3 || !part.probes.first.is_empty() { "scanned" } else { "browsed" };
                out.push(format!("{verb} {at} ({})", what.join(", ")));
                if part.guesses > 0 {
                    out.push(format!("tried {}", count(part.guesses, "web login", "web logins")));
                }
            }
            Protocol::Dicom => {
                if part.actions > 0 {
                    out.push(format!(
                        "queried {at} ({}, {})",
                        count(part.actions, "query", "queries"),
                        count(part.breadth, "record answered", "records answered")
                    ));
                } else {
                    out.push(format!("associated with {at}"));
                }
                if !part.probes.first.is_empty() {
                    out.push(format!("asked for {}", list(&part.probes.first)));
                }
            }
            Protocol::Windows => {
                if part.guesses > 0 {
                    out.push(format!("tried {} on {at}", count(part.guesses, "Windows login", "Windows logins")));
                }
                out.extend(logins);
                if part.actions > 0 {
                    out.push(format!("made {}", count(part.actions, "file request", "file requests")));
                }
                if !part.probes.first.is_empty() {
                    out.push(format!("sent {}", list(&part.probes.first)));
                }
                if out.is_empty() {
                    out.push(format!("negotiated SMB with {at}"));
                }
            }
            Protocol::Rdp => out.push(format!("opened {} to {at}", count(part.actions, "remote desktop connection", "remote desktop connections"))),
            Protocol::Hl7 => out.push(format!("sent {} to {at}", count(part.actions, "HL7 message", "HL7 messages"))),
            Protocol::Files => out.push(format!("opened {}", if who == Audience::Team { format!("canary file {at}") } else { at })),
            Protocol::Network => out.push(format!("answered as a name poisoner ({})", list(&part.probes.first))),
        }
        out
    }

    /// The one-sentence summary: what `source` did, protocol by protocol in the order
    /// it first touched each, with the tokens it used.
    pub fn summary(&self, source: &str, who: Audience) -> String {
        let mut sections: Vec<String> = Vec::new();
        let mut told: Vec<&str> = Vec::new();
        for (p, part) in &self.parts {
            let mut clauses = self.clauses(*p, part, who);
            told.extend(part.logins.iter().filter_map(|l| l.token.as_deref()));
            if *p == Protocol::Dicom {
                let patients: Vec<String> = self.tokens.iter().filter(|t| t.kind == TokenKind::Patient).map(|t| format!("{} ({})", t.id, t.label)).collect();
                if !patients.is_empty() {
                    let including = match who {
                        Audience::Team => format!("including honey patient {}", list(&patients)),
                        Audience::Public => "including a planted patient record".to_string(),
                    };
                    let first = clauses.remove(0);
                    clauses.insert(0, format!("{first} {including}"));
                    told.extend(self.tokens.iter().filter(|t| t.kind == TokenKind::Patient).map(|t| t.id.as_str()));
                }
            }
            sections.push(clauses.join(", "));
        }
        for t in self.tokens.iter().filter(|t| !told.contains(&t.id.as_str())) {
            sections.push(format!("used {}", Self::token_phrase(t, who)));
        }
        if sections.is_empty() {
            return format!("{source} connected.");
        }
        format!("{source} {}.", sections.join("; "))
    }

    /// The title: the most serious thing the incident shows, stable as long as nothing
    /// more serious happens.
    pub fn title(&self, who: Audience) -> String {
        if let Some(t) = self.tokens.first() {
            let more = match self.tokens.len() {
                1 => String::new(),
                n => format!(" and {}", count(n as u64 - 1, "more token", "more tokens")),
            };
            return match who {
                Audience::Team => format!("Planted {} used: {}{more}", kind_phrase(t.kind), t.label),
                Audience::Public => format!("Planted {} used{more}", kind_for(t.kind, who)),
            };
        }
        let name = |p: Protocol, part: &Part| self.decoys(p, part, who);
        for (p, part) in &self.parts {
            if !part.logins.is_empty() {
                return format!("{} login to {}", if *p == Protocol::Ssh { "SSH" } else { "Windows" }, name(*p, part));
            }
        }
        if let Some(part) = self.part(Protocol::Web).filter(|w| !w.probes.first.is_empty()) {
            return format!("{} against {}", capitalised(&part.probes.first[0]), name(Protocol::Web, part));
        }
        if let Some(part) = self.part(Protocol::Windows).filter(|w| !w.probes.first.is_empty()) {
            return format!("SMB exploit against {}", name(Protocol::Windows, part));
        }
        let Some((p, part)) = self.parts.first() else { return "Connections".into() };
        let at = name(*p, part);
        match p {
            Protocol::Ssh if part.guesses > 0 => format!("SSH password guessing on {at}"),
            Protocol::Ssh => format!("SSH connections to {at}"),
            Protocol::Web if part.breadth > 3 => format!("Web scan of {at}"),
            Protocol::Web => format!("Web requests to {at}"),
            Protocol::Dicom => format!("DICOM queries on {at}"),
            Protocol::Windows => format!("Windows logins on {at}"),
            Protocol::Rdp => format!("Remote desktop connections to {at}"),
            Protocol::Hl7 => format!("HL7 messages to {at}"),
            Protocol::Files => format!("Canary file opened: {at}"),
            Protocol::Network => "Name poisoning on the network".into(),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}
