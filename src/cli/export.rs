//! `honeyward export stix|attack-navigator|csv`: what the decoys saw, in formats other
//! tools read. Built from incidents only (see `export`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::config_source::StoreArgs;
use crate::event::Timestamp;
use crate::export::{csv, navigator, stix};

/// `export` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A STIX 2.1 bundle for threat-intelligence sharing: your organisation (sector
    /// healthcare), a TLP marking, an indicator per attacker address, observed-data
    /// and a sighting per incident, the ATT&CK techniques. No event contents, no
    /// sensor, decoy or token names, no private addresses unless asked for.
    Stix(StixArgs),
    /// A MITRE ATT&CK Navigator layer (JSON) of the techniques observed, scored by
    /// incidents.
    AttackNavigator(CommonArgs),
    /// Incidents as CSV; cells a spreadsheet would run as formulas are defused.
    Csv(CommonArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only incidents with events this recent (`15m`, `24h`, `7d`, or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Your organisation's name, as recipients will see it.
    #[arg(long, value_name = "NAME")]
    pub organisation: String,
    /// Traffic Light Protocol marking on every object.
    #[arg(long, value_enum, default_value = "amber")]
    pub tlp: stix::Tlp,
    /// Also share loopback, RFC 1918 and other non-public source addresses (they name
    /// hosts inside your own network; off by default).
    #[arg(long)]
    pub include_private: bool,
}

fn write(out: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text)?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// Runs `honeyward export ...`.
pub fn execute(cmd: ExportCommand) -> anyhow::Result<ExitCode> {
    let common = match &cmd {
        ExportCommand::Stix(a) => &a.common,
        ExportCommand::AttackNavigator(a) | ExportCommand::Csv(a) => a,
    };
    let (incidents, acks) = super::incidents::load(&common.store, common.since.as_deref())?;
    let text = match &cmd {
        ExportCommand::Stix(a) => {
            let options = stix::StixOptions { organisation: a.organisation.clone(), tlp: a.tlp, include_private: a.include_private, now: Timestamp::now() };
            serde_json::to_string_pretty(&stix::bundle(&incidents, &options))? + "\n"
        }
        ExportCommand::AttackNavigator(_) => serde_json::to_string_pretty(&navigator::layer(&incidents, "honeyward: techniques observed"))? + "\n",
        ExportCommand::Csv(_) => csv::incidents(&incidents, &acks),
    };
    write(common.out.as_ref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
