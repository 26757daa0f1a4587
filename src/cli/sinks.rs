//! `honeyward sinks status|dead-letters|replay`: how far each sink has delivered, what
//! went wrong last, what its destination refused, and sending events again.

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::config::{Config, SinkConfig};
use crate::sink::format::visible;
use crate::sink::{deliver, AnySink, Selection};
use crate::store::{StoreReader, StoredEvent};

/// `sinks` subcommands.
#[derive(Debug, Subcommand)]
pub enum SinksCommand {
    /// Each sink: delivered position, lag, last success, last error, dead letters.
    Status(StatusArgs),
    /// Events a sink's destination refused for good, with its reason.
    DeadLetters(NamedArgs),
    /// Send a sink's events again: those since a time, or its dead letters. Runs
    /// beside (or without) `honeyward run`; the sink's cursor is not moved.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// One JSON object per sink.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NamedArgs {
    /// The sink's name in the configuration.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The sink's name in the configuration.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Events this recent (`15m`, `24h`, `7d`, or RFC 3339).
    #[arg(long, conflicts_with = "dead_letters", required_unless_present = "dead_letters")]
    pub since: Option<String>,
    /// Re-send the dead letters instead (delivered ones are removed from the list,
    /// those refused again stay).
    #[arg(long)]
    pub dead_letters: bool,
}

fn open(store: &StoreArgs) -> anyhow::Result<(Config, StoreReader)> {
    let (_, loaded) = config_source::load(store.config.as_deref());
    let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = config_source::store_config(store)?.path;
    Ok((config, StoreReader::open(&path, false)?))
}

fn find<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a SinkConfig> {
    match config.sinks.iter().find(|s| s.name() == name) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<&str> = config.sinks.iter().map(SinkConfig::name).collect();
            bail!("no sink `{name}` in {} (sinks: {})", config.origin, names.join(", "))
        }
    }
}

fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let (config, reader) = open(&a.store)?;
    let head = reader.max_seq()?;
    for s in &config.sinks {
        let crate::store::SinkOverview { cursor, lag_events: lag, status: st } = reader.sink_overview(s.name(), head)?;
        if a.json {
            let v = serde_json::json!({"name": s.name(), "type": s.type_name(), "cursor": cursor, "lag_events": lag, "last_success": st.last_success, "last_error": st.last_error, "last_error_time": st.last_error_time, "dead_letters": st.dead_letters});
            println!("{}", crate::event::visible_json(&v.to_string()));
        } else {
            let when = |t: Option<crate::event::Timestamp>| t.map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
            println!(
                "{} ({}): delivered up to {cursor}, {lag} behind, last success {}, {} dead letters",
                visible(s.name()),
                s.type_name(),
                when(st.last_success),
                st.dead_letters
            );
            if let Some(e) = &st.last_error {
                let recovered = st.last_success.is_some_and(|ok| st.last_error_time.is_some_and(|err| ok > err));
                println!("  last error {}{}: {}", when(st.last_error_time), if recovered { " (since recovered)" } else { "" }, visible(e));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dead_letters(a: NamedArgs) -> anyhow::Result<ExitCode> {
    let (config, reader) = open(&a.store)?;
    find(&config, &a.name)?;
    for d in reader.dead_letters(&a.name)? {
        println!("{}  seq {}  event {}  {}", d.time.to_rfc3339(), d.seq, d.event_id, visible(&d.reason));
    }
    Ok(ExitCode::SUCCESS)
}

/// Events per replayed batch.
const REPLAY_BATCH: usize = 1024;

fn replay(a: ReplayArgs) -> anyhow::Result<ExitCode> {
    let (config, reader) = open(&a.store)?;
    let sink_config = find(&config, &a.name)?.clone();
    let events: Vec<StoredEvent> = if a.dead_letters {
        let mut out = Vec::new();
        for d in reader.dead_letters(&a.name)? {
            let seq = d.seq;
            out.extend(reader.events_after(seq - 1, 1)?.into_iter().filter(|e| e.seq == seq));
        }
        out
    } else {
        let since = super::events::parse_since(a.since.as_deref().unwrap_or("0s"))?;
        let mut out = Vec::new();
        let mut after = reader.seq_before(since)?;
        loop {
            let batch = reader.events_after(after, REPLAY_BATCH)?;
            let Some(last) = batch.last().map(|e| e.seq) else { break };
            out.extend(batch);
            after = last;
        }
        out
    };
    let mut selection = Selection::new(&sink_config, &config.alerts);
    let events: Vec<StoredEvent> = events.into_iter().filter(|e| a.dead_letters || selection.pass(e)).collect();
    let (mut sink, _) = AnySink::open(&sink_config, &reader).map_err(|e| anyhow::anyhow!("sink {}: {e}", a.name))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut refused = Vec::new();
    for chunk in events.chunks(REPLAY_BATCH) {
        let r = runtime.block_on(deliver(&mut sink, chunk)).with_context(|| format!("sink {} (nothing after this batch was sent)", a.name))?;
        refused.extend(r.into_iter().map(|(i, reason)| (chunk[i].seq, chunk[i].event.id, reason)));
    }
    if !refused.is_empty() {
        reader.add_dead_letters(&a.name, &refused)?;
    }
    if a.dead_letters {
        let delivered: Vec<u64> = events.iter().map(|e| e.seq).filter(|s| !refused.iter().any(|(r, _, _)| r == s)).collect();
        reader.remove_dead_letters(&a.name, &delivered)?;
    }
    println!("sink {}: sent {} events, {} refused", a.name, events.len() - refused.len(), refused.len());
    Ok(ExitCode::SUCCESS)
}

/// Runs a `sinks` subcommand.
pub fn execute(cmd: SinksCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SinksCommand::Status(a) => status(a),
        SinksCommand::DeadLetters(a) => dead_letters(a),
        SinksCommand::Replay(a) => replay(a),
    }
}
