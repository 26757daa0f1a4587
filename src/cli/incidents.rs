//! `honeyward incidents list|show|ack`: the incidents the store keeps (grouped with the
//! configuration's window and allow-list as events commit, see `incident`).

use std::collections::HashMap;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::config::Cidr;
use crate::event::Severity;
use crate::event::{visible, Audience};
use crate::incident::{members, sections, Follower, Incident, IncidentConfig, IncidentFilter, IncidentOrder, IncidentSearch, Sections};
use crate::store::{Ack, StoreReader, StoredEvent};

/// `incidents` subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, last seen first (as the console lists them): severity, source,
    /// events, title, decoys, ATT&CK techniques.
    List(IncidentsListArgs),
    /// One incident: its title and summary, then every event in it.
    Show(IncidentsShowArgs),
    /// Mark an incident as handled (it stays listed, marked ACKED).
    Ack(IncidentsAckArgs),
}

#[derive(Debug, Args)]
pub struct IncidentsAckArgs {
    /// The incident id, as `incidents list` prints it.
    pub id: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Who handled it (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// A note, e.g. the ticket number.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct IncidentsListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only incidents with events this recent (`15m`, `24h`, `7d`, or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only incidents that began before this (`2h` ago, or RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Include suppressed incidents (events matching `alerts.ignore`).
    #[arg(long)]
    pub all: bool,
    /// Only incidents nobody has acknowledged.
    #[arg(long)]
    pub unacked: bool,
    /// Only these severities (repeat, or comma-separate: `--severity high,critical`).
    #[arg(long, value_delimiter = ',', value_parser = parse_severity)]
    pub severity: Vec<Severity>,
    /// Only incidents that touched this decoy.
    #[arg(long, value_name = "NAME")]
    pub decoy: Option<String>,
    /// Only incidents that used this token (its id, or words of its label).
    #[arg(long, value_name = "ID_OR_LABEL")]
    pub token: Option<String>,
    /// Only sources in this network (`10.20.14.0/24`) or this address.
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub source: Option<Cidr>,
    /// Only incidents whose title, summary or source contain these words.
    #[arg(long, value_name = "WORDS")]
    pub search: Option<String>,
    /// Order: `last` seen first (as the console), most `severity`, most `events`.
    #[arg(long, default_value = "last", value_parser = parse_order)]
    pub sort: IncidentOrder,
    /// One JSON object per incident (with its title and summary).
    #[arg(long)]
    pub json: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("{s:?}: one of info, low, medium, high, critical"))
}

fn parse_cidr(s: &str) -> Result<Cidr, String> {
    Cidr::parse(s).ok_or_else(|| format!("{s:?}: an address or a network like 10.20.14.0/24"))
}

fn parse_order(s: &str) -> Result<IncidentOrder, String> {
    IncidentOrder::parse(s).ok_or_else(|| format!("{s:?}: one of last, severity, events"))
}

#[derive(Debug, Args)]
pub struct IncidentsShowArgs {
    /// The incident id (the id of its first event, as `incidents list` prints it).
    pub id: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Events as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// The incidents of the store named by `store`, grouped up to its last event: a
/// running honeyward keeps them current; on a store nobody runs, this catches up.
pub(super) fn open(store: &StoreArgs) -> anyhow::Result<(IncidentConfig, StoreReader)> {
    let (_, loaded) = config_source::load(store.config.as_deref());
    let alerts = loaded.map(|c| c.alerts).unwrap_or_default();
    let path = config_source::store_config(store)?.path;
    let reader = StoreReader::open(&path, false)?;
    // Resuming reads the open incidents back: only worth it when events wait.
    if reader.incident_cursor()? < reader.max_seq()? {
        Follower::resume(&reader, &alerts)?.catch_up(&reader, &|| false)?;
    }
    Ok((alerts, reader))
}

/// Incidents with events since `since` (all of them without), in the order they opened.
pub(super) fn load(store: &StoreArgs, since: Option<&str>) -> anyhow::Result<(Vec<Incident>, HashMap<String, Ack>)> {
    let (_, reader) = open(store)?;
    let since = since.map(super::events::parse_since).transpose()?;
    let incidents = reader.incidents(&IncidentFilter { since, suppressed: true, limit: usize::MAX })?;
    Ok((incidents, reader.acks()?))
}

/// One incident and every event in it (up to the cap).
fn find(store: &StoreArgs, id: &str) -> anyhow::Result<(Incident, Vec<StoredEvent>, Option<Ack>, StoreReader)> {
    let (cfg, reader) = open(store)?;
    let found = crate::event::EventId::parse(id).map(|id| reader.incident(&id)).transpose()?.flatten();
    let Some(found) = found else { bail!("no incident {id} (see `honeyward incidents list`)") };
    let members = members(reader.incident_candidates(&found, MEMBERS_MAX)?, &found, &cfg);
    let ack = reader.acks()?.remove(id);
    Ok((found, members, ack, reader))
}

/// Most events `incidents show` prints for one incident (its first ones).
const MEMBERS_MAX: usize = 100_000;

fn json(i: &Incident, ack: Option<&Ack>) -> anyhow::Result<String> {
    let mut v = serde_json::to_value(i)?;
    if let Some(map) = v.as_object_mut() {
        map.insert("title".into(), i.title(Audience::Team).into());
        map.insert("summary".into(), i.summary(Audience::Team).into());
        if let Some(ack) = ack {
            map.insert("ack".into(), serde_json::to_value(ack)?);
        }
    }
    Ok(serde_json::to_string(&v)?)
}

fn ack_note(ack: Option<&Ack>) -> String {
    ack.map(|a| format!("  ACKED by {} {}{}", a.by, a.time.to_rfc3339(), a.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())).unwrap_or_default()
}

/// The names the configuration gives the trust's address ranges (none without one).
fn networks(store: &StoreArgs) -> crate::config::NetworkMap {
    config_source::load(store.config.as_deref()).1.map(|c| c.networks).unwrap_or_default()
}

fn line(i: &Incident, networks: &crate::config::NetworkMap) -> String {
    let source = match (i.source, i.source.and_then(|ip| networks.name_of(ip))) {
        (Some(ip), Some(net)) => format!("{ip} ({net})"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => "-".to_string(),
    };
    let decoys: Vec<&str> = i.decoys.iter().map(String::as_str).collect();
    let techniques: Vec<&str> = i.techniques.iter().map(String::as_str).collect();
    let mut id = [0u8; 36];
    format!(
        "{}  {}  {:<8}  {:<15}  {:>6} events  {}  decoys {}  {}{}{}",
        i.id.encode(&mut id),
        i.last.to_rfc3339(),
        format!("{:?}", i.severity).to_lowercase(),
        source,
        i.events,
        i.title(Audience::Team),
        if decoys.is_empty() { "-".into() } else { decoys.join(",") },
        techniques.join(","),
        i.token.as_ref().map(|t| format!("  TOKEN {t}")).unwrap_or_default(),
        if i.suppressed { "  (suppressed)" } else { "" }
    )
}

/// `(N more)` when a section left rows out.
fn more(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("  ({} more not listed)\n", crate::event::count(n, "row", "rows"))
    }
}

/// The incident page's sections as text (the same rows, the same counts).
fn sections_text(s: &Sections) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if !s.ssh.is_empty() {
        let accepted = s.ssh.iter().filter(|a| a.accepted).count();
        let _ = writeln!(out, "SSH attempts: {} ({accepted} accepted)", s.ssh.len() as u64 + s.ssh_more);
        for a in &s.ssh {
            let secret = a.password.as_deref().or(a.key.as_deref()).unwrap_or(if a.token.is_some() { "(planted secret)" } else { "-" });
            let _ = writeln!(
                out,
                "  {}  {}  {} {} / {}  {}{}  {}{}",
                a.time,
                a.decoy,
                a.method,
                a.username,
                secret,
                if a.accepted { "accepted" } else { "refused" },
                a.token.as_ref().map(|t| format!(" with token {t}")).unwrap_or_default(),
                a.client.as_deref().unwrap_or("-"),
                a.hassh.as_ref().map(|h| format!(" hassh {h}")).unwrap_or_default(),
            );
        }
        out.push_str(&more(s.ssh_more));
    }
    if !s.typed.is_empty() {
        let _ = writeln!(out, "Typed in the fake shell: {}", s.typed.len() as u64 + s.typed_more);
        for t in &s.typed {
            let _ = writeln!(out, "  {}  {}  $ {}{}", t.time, t.decoy, t.line, if t.exec { "   (exec)" } else { "" });
        }
        out.push_str(&more(s.typed_more));
    }
    if !s.web.is_empty() {
        let total: u64 = s.web.iter().map(|r| r.count).sum::<u64>() + s.web_more;
        let _ = writeln!(out, "Web requests: {total}");
        for r in &s.web {
            let extra: Vec<String> = r.credential.iter().cloned().chain(r.tags.iter().cloned()).chain(r.token.iter().map(|t| format!("token {t}"))).collect();
            let extra = if extra.is_empty() { String::new() } else { format!("  [{}]", extra.join(", ")) };
            let _ = writeln!(out, "  {} × {} {} → {}  {}{extra}", crate::event::thousands(r.count), r.method, r.target, r.status, r.user_agent);
        }
        if s.web_more > 0 {
            let _ = writeln!(out, "  (and {} more requests)", s.web_more);
        }
    }
    if !s.dicom.is_empty() {
        let _ = writeln!(out, "DICOM commands: {}", s.dicom.len() as u64 + s.dicom_more);
        for d in &s.dicom {
            let patient = d.patient.as_ref().map(|p| format!("  honey patient {p}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}  {}  {} {} {} {} → {}{patient}",
                d.time,
                d.decoy,
                d.command,
                d.sop_class,
                d.level,
                d.keys,
                crate::event::count(u64::from(d.matches), "record", "records")
            );
        }
        out.push_str(&more(s.dicom_more));
    }
    out
}

/// Runs an `incidents` subcommand.
pub fn execute(cmd: IncidentsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IncidentsCommand::List(a) => {
            let (_, reader) = open(&a.store)?;
            let search = IncidentSearch {
                severities: a.severity,
                unacknowledged: a.unacked,
                decoy: a.decoy,
                token: a.token,
                source: a.source,
                since: a.since.as_deref().map(super::events::parse_since).transpose()?,
                until: a.until.as_deref().map(super::events::parse_since).transpose()?,
                text: a.search,
                suppressed: a.all,
                order: a.sort,
                limit: 0,
            };
            let (incidents, acks, networks) = (reader.search_incidents(&search)?, reader.acks()?, networks(&a.store));
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for i in &incidents {
                let ack = acks.get(&i.id.to_string());
                if a.json {
                    writeln!(out, "{}", crate::event::visible_json(&json(i, ack)?))?;
                } else {
                    writeln!(out, "{}{}", crate::sink::format::visible(&line(i, &networks)), crate::sink::format::visible(&ack_note(ack)))?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentsCommand::Show(a) => {
            let (found, members, ack, _) = find(&a.store, &a.id)?;
            if a.json {
                println!("{}", crate::event::visible_json(&json(&found, ack.as_ref())?));
            } else {
                println!("{}{}", crate::sink::format::visible(&line(&found, &networks(&a.store))), crate::sink::format::visible(&ack_note(ack.as_ref())));
                println!("\n{}\n{}\n", visible(&found.title(Audience::Team)), visible(&found.summary(Audience::Team)));
                for line in sections_text(&sections(&members)).lines() {
                    println!("{}", visible(line));
                }
            }
            super::events::print_events(&members, a.json)?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentsCommand::Ack(a) => {
            let (found, _, _, reader) = find(&a.store, &a.id)?;
            let by = a.by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
            reader.ack_incident(&found.id, &by, a.note.as_deref())?;
            println!("incident {} acknowledged by {by}", a.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}
