//! `honeyward incidents list|show`: the store's events grouped into incidents with
//! the configuration's window and allow-list (see `incident`).

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::incident::{group, Incident, IncidentConfig};
use crate::store::{EventFilter, StoreReader, StoredEvent};

/// `incidents` subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, newest last: severity, source, sensor, decoys, ATT&CK techniques.
    List(IncidentsListArgs),
    /// One incident and every event in it.
    Show(IncidentsShowArgs),
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

fn load(store: &StoreArgs, since: Option<&str>) -> anyhow::Result<(IncidentConfig, Vec<StoredEvent>)> {
    let (_, loaded) = config_source::load(store.config.as_deref());
    let alerts = loaded.map(|c| c.alerts).unwrap_or_default();
    let path = config_source::store_config(store)?.path;
    let reader = StoreReader::open(&path, false)?;
    let since = since.map(super::events::parse_since).transpose()?;
    let events = reader.list(&EventFilter { since, limit: MAX_EVENTS, ..Default::default() })?;
    Ok((alerts, events))
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
            let (cfg, events) = load(&a.store, a.since.as_deref())?;
            for i in group(&events, &cfg).iter().filter(|i| a.all || !i.suppressed) {
                if a.json {
                    println!("{}", serde_json::to_string(i)?);
                } else {
                    println!("{}", crate::sink::format::visible(&line(i)));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentsCommand::Show(a) => {
            let (cfg, events) = load(&a.store, None)?;
            let incidents = group(&events, &cfg);
            let Some(found) = incidents.iter().find(|i| i.id.encode(&mut [0u8; 36]) == a.id) else {
                bail!("no incident {} (see `honeyward incidents list`)", a.id);
            };
            println!("{}", crate::sink::format::visible(&line(found)));
            let members: Vec<StoredEvent> = events.into_iter().filter(|e| found.seqs.binary_search(&e.seq).is_ok()).collect();
            super::events::print_events(&members, a.json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
