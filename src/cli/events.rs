//! `honeyward events list|tail`: read stored events.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::config_source::{self, StoreArgs};
use crate::config::EventFormat;
use crate::event::{EventKind, Timestamp};
use crate::sink::format::encode_line;
use crate::store::{EventFilter, StoreReader, StoredEvent};

/// `events` subcommands.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print stored events, oldest first (the most recent --limit of those matching).
    List(ListArgs),
    /// Print the last few events, then follow new ones as they are committed (Ctrl-C ends).
    Tail(TailArgs),
}

/// Event filters shared by list and tail.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only events of this decoy.
    #[arg(long, value_name = "NAME")]
    pub decoy: Option<String>,
    /// Only events of this kind (e.g. connection_opened, data_received).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only events from this source IP address.
    #[arg(long, value_name = "IP")]
    pub source: Option<std::net::IpAddr>,
    /// One JSON object per line (same format as the json sinks) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `events list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only events at or after this time: RFC 3339 (2026-11-28T09:00:00Z) or an age (30s, 15m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// Options of `events tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many existing events to print before following.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub lines: usize,
}

/// Runs an `events` subcommand.
pub fn execute(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EventsCommand::List(a) => {
            let reader = open(&a.store)?;
            let mut filter = filter(&a.filter)?;
            filter.since = a.since.as_deref().map(parse_since).transpose()?;
            filter.limit = a.limit;
            let events = reader.list(&filter)?;
            print_events(&events, a.filter.json)?;
            // On stderr, so that --json output stays one event a line.
            if events.len() == filter.limit {
                let total = reader.count(&filter)?;
                if total > events.len() as u64 {
                    eprintln!("{} of {total} events (the most recent); --limit N to see more", events.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EventsCommand::Tail(a) => {
            let reader = open(&a.store)?;
            let mut filter = filter(&a.filter)?;
            filter.limit = a.lines;
            let mut last = reader.max_seq()?;
            print_events(&reader.list(&filter)?, a.filter.json)?;
            filter.limit = 1000;
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let head = reader.max_seq()?;
                while last < head {
                    filter.after_seq = Some(last);
                    let batch = reader.list(&filter)?;
                    print_events(&batch, a.filter.json)?;
                    // A short batch means everything up to `head` was seen (filtered-out
                    // events included); a full one means more may follow it.
                    let seen = batch.last().map(|e| e.seq).unwrap_or(0);
                    last = if batch.len() == filter.limit { seen } else { seen.max(head) };
                }
            }
        }
    }
}

fn open(args: &StoreArgs) -> anyhow::Result<StoreReader> {
    Ok(StoreReader::open(&config_source::store_config(args)?.path, false)?)
}

fn filter(f: &FilterArgs) -> anyhow::Result<EventFilter> {
    let kind = match &f.kind {
        None => None,
        Some(k) => match EventKind::id_of(k) {
            Some(id) => Some(id),
            None => bail!("unknown event kind `{k}`; kinds are: {}", EventKind::names().collect::<Vec<_>>().join(", ")),
        },
    };
    Ok(EventFilter { decoy: f.decoy.clone(), kind, source_ip: f.source.map(|ip| ip.to_string()), ..Default::default() })
}

/// Parses RFC 3339 or an age such as `15m`.
pub(super) fn parse_since(s: &str) -> anyhow::Result<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("--since {s:?}: expected RFC 3339 or an age like 15m"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--since {s:?}: the age unit must be s, m, h or d"),
    };
    Ok(Timestamp::from_micros(Timestamp::now().as_micros() - secs.saturating_mul(1_000_000)))
}

pub(super) fn print_events(events: &[StoredEvent], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::new();
    for e in events {
        buf.clear();
        if json {
            encode_line(EventFormat::Json, e, &mut buf);
        } else {
            text_line(e, &mut buf);
        }
        if out.write_all(&buf).is_err() {
            return Ok(()); // reader went away (e.g. `| head`)
        }
    }
    let _ = out.flush();
    Ok(())
}

/// One line for a terminal. Every hidden character (C0, C1, bidi and invisible marks;
/// [`crate::event::is_hidden`]) is shown as an escape, so attacker bytes can never emit
/// control sequences to the analyst's terminal or make a line read other than it is.
fn text_line(e: &StoredEvent, out: &mut Vec<u8>) {
    let ev = &e.event;
    let details = serde_json::to_value(&ev.kind).ok().and_then(|v| v.get("details").map(|d| d.to_string())).unwrap_or_default();
    let source = ev.source.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
    let line = format!("{}  {:<16} {:<24} {:<20} {}", ev.time.to_rfc3339(), ev.decoy.as_deref().unwrap_or("-"), source, ev.kind.name(), details);
    out.extend_from_slice(crate::event::visible(&line).as_bytes());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_rfc3339_and_ages() {
        assert_eq!(parse_since("2026-11-28T09:00:00Z").unwrap().as_micros(), 1_795_856_400_000_000);
        let an_hour_ago = parse_since("1h").unwrap().as_micros();
        assert!((Timestamp::now().as_micros() - an_hour_ago - 3_600_000_000).abs() < 5_000_000);
        assert!(parse_since("5 weeks").is_err());
        assert!(parse_since("3y").is_err());
    }
}
