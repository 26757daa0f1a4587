//! `honeyward incidents list|show`: the store's events grouped into incidents with
//! the configuration's window and allow-list (see `incident`).

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::incident::{group, Incident, IncidentConfig};
use crate::store::{Ack, EventFilter, StoreReader, StoredEvent};

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

/// Most events read to derive incidents.
const MAX_EVENTS: usize = 5_000_000;

pub(super) fn load(store: &StoreArgs, since: Option<&str>) -> anyhow::Result<(IncidentConfig, Vec<StoredEvent>, HashMap<String, Ack>)> {
    let (_, loaded) = config_source::load(store.config.as_deref());
    let alerts = loaded.map(|c| c.alerts).unwrap_or_default();
    let path = config_source::store_config(store)?.path;
    let reader = StoreReader::open(&path, false)?;
    let since = since.map(super::events::parse_since).transpose()?;
    let events = reader.list(&EventFilter { since, limit: MAX_EVENTS, ..Default::default() })?;
    Ok((alerts, events, reader.acks()?))
}

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
            let (cfg, events, acks) = load(&a.store, a.since.as_deref())?;
            for i in group(&events, &cfg).iter().filter(|i| a.all || !i.suppressed) {
                let ack = acks.get(&i.id.to_string());
                if a.unacked && ack.is_some() {
                    continue;
                }
                if a.json {
                    println!("{}", crate::event::visible_json(&json(i, ack)?));
                } else {
                    println!("{}{}", crate::sink::format::visible(&line(i)), crate::sink::format::visible(&ack_note(ack)));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentsCommand::Show(a) => {
            let (cfg, events, acks) = load(&a.store, None)?;
            let incidents = group(&events, &cfg);
            let Some(found) = incidents.iter().find(|i| i.id.encode(&mut [0u8; 36]) == a.id) else {
                bail!("no incident {} (see `honeyward incidents list`)", a.id);
            };
            let ack = acks.get(&a.id);
            if a.json {
                println!("{}", crate::event::visible_json(&json(found, ack)?));
            } else {
                println!("{}{}", crate::sink::format::visible(&line(found)), crate::sink::format::visible(&ack_note(ack)));
            }
            let members: Vec<StoredEvent> = events.into_iter().filter(|e| found.seqs.binary_search(&e.seq).is_ok()).collect();
            super::events::print_events(&members, a.json)?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentsCommand::Ack(a) => {
            let (cfg, events, _) = load(&a.store, None)?;
            let Some(found) = group(&events, &cfg).into_iter().find(|i| i.id.encode(&mut [0u8; 36]) == a.id) else {
                bail!("no incident {} (see `honeyward incidents list`)", a.id);
            };
            let by = a.by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
            let path = config_source::store_config(&a.store)?.path;
            StoreReader::open(&path, false)?.ack_incident(&found.id, &by, a.note.as_deref())?;
            println!("incident {} acknowledged by {by}", a.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}
