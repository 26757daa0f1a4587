//! `honeyward incidents list|show|ack`: the incidents the store keeps (grouped with the
//! configuration's window and allow-list as events commit, see `incident`).

use std::collections::HashMap;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::incident::{members, Follower, Incident, IncidentConfig, IncidentFilter};
use crate::store::{Ack, StoreReader, StoredEvent};

/// `incidents` subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, newest last: severity, source, sensor, decoys, ATT&CK techniques.
    List(IncidentsListArgs),
    /// One incident and every event in it.
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
    /// Include suppressed incidents (events matching `alerts.ignore`).
    #[arg(long)]
    pub all: bool,
    /// Only incidents nobody has acknowledged.
    #[arg(long)]
    pub unacked: bool,
    /// One JSON object per incident.
    #[arg(long)]
    pub json: bool,
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
    if let (Some(ack), Some(map)) = (ack, v.as_object_mut()) {
        map.insert("ack".into(), serde_json::to_value(ack)?);
    }
    Ok(serde_json::to_string(&v)?)
}

fn ack_note(ack: Option<&Ack>) -> String {
    ack.map(|a| format!("  ACKED by {} {}{}", a.by, a.time.to_rfc3339(), a.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())).unwrap_or_default()
}

fn line(i: &Incident) -> String {
    let source = i.source.map_or_else(|| "-".to_string(), |s| s.to_string());
    let decoys: Vec<&str> = i.decoys.iter().map(String::as_str).collect();
    let techniques: Vec<&str> = i.techniques.iter().map(String::as_str).collect();
    let mut id = [0u8; 36];
    format!(
        "{}  {}  {:<8}  {:<15}  {:>6} events  decoys {}  {}{}{}",
        i.id.encode(&mut id),
        i.last.to_rfc3339(),
        format!("{:?}", i.severity).to_lowercase(),
        source,
        i.events,
        if decoys.is_empty() { "-".into() } else { decoys.join(",") },
        techniques.join(","),
        i.token.as_ref().map(|t| format!("  TOKEN {t}")).unwrap_or_default(),
        if i.suppressed { "  (suppressed)" } else { "" }
    )
}

/// Runs an `incidents` subcommand.
pub fn execute(cmd: IncidentsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IncidentsCommand::List(a) => {
            let (incidents, acks) = load(&a.store, a.since.as_deref())?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for i in incidents.iter().filter(|i| a.all || !i.suppressed) {
                let ack = acks.get(&i.id.to_string());
                if a.unacked && ack.is_some() {
                    continue;
                }
                if a.json {
                    writeln!(out, "{}", crate::event::visible_json(&json(i, ack)?))?;
                } else {
                    writeln!(out, "{}{}", crate::sink::format::visible(&line(i)), crate::sink::format::visible(&ack_note(ack)))?;
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
                println!("{}{}", crate::sink::format::visible(&line(&found)), crate::sink::format::visible(&ack_note(ack.as_ref())));
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
