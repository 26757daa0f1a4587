//! The command line: `run`, `validate`, `events`, `token`, ... and the shell's own (`version`, `man`, `completions`).

mod config_source;
mod console;
mod deploy;
mod events;
mod export;
mod fleet;
mod incidents;
pub mod log;
mod manual;
mod run;
mod sinks;
mod token;
mod validate;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use events::{EventsCommand, ListArgs, TailArgs};

const ABOUT: &str = "Deception for hospital networks: decoy services and honeytokens that turn an intruder's \
first moves into high-fidelity alerts.";

const LONG_ABOUT: &str = "Deception for hospital networks: decoy services and honeytokens that turn an intruder's \
first moves into high-fidelity alerts.

No legitimate user ever touches a decoy, so every connection is worth looking at. honeyward \
stores every observation durably in SQLite before forwarding it, so nothing is lost when the \
SIEM is down or the process is killed.

Start:     honeyward run                 (embedded quick-start on 127.0.0.1: telnet-style banner
                                          2323, SSH 2222, clinical portal 8080, PACS 4242;
                                          web console and /metrics on 9080, sign-up link in the log)
Configure: honeyward example-config > honeyward.yaml && honeyward validate -c honeyward.yaml
Look:      honeyward events list  |  honeyward incidents list  |  honeyward sinks status
Deploy:    honeyward run -c FILE --user honeyward  |  honeyward deploy systemd -c FILE
Fleet:     honeyward controller enrol NAME --out FILE  |  honeyward sensor -c FILE
Share:     honeyward export stix --organisation NAME  |  export attack-navigator  |  export csv
Shell:     honeyward completions bash  |  honeyward man token  |  honeyward version --json

Exit codes: 0 success, 1 error (invalid configuration, port in use, store unreadable), 2 usage.";

/// honeyward command line.
#[derive(Debug, Parser)]
#[command(name = "honeyward", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Log format on standard error (level via RUST_LOG, e.g. RUST_LOG=debug). Control,
    /// bidi and invisible characters in log lines are written as escapes.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// A top-level command.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Run the decoys and forward events until SIGINT/SIGTERM.
    ///
    /// Configuration: the file given with -c; otherwise ./honeyward.yaml if it exists;
    /// otherwise the embedded quick-start (a TCP banner decoy on 127.0.0.1:2323, store
    /// ./honeyward.db, events as JSON lines on standard output). On SIGINT/SIGTERM
    /// decoys stop accepting, open connections are closed and recorded, every queued
    /// event is committed, sinks catch up, and the process exits 0.
    Run(RunArgs),
    /// Check a configuration file and print what it would run, or every mistake in it
    /// with file:line:col (exit 1).
    Validate(ValidateArgs),
    /// Print the JSON Schema of the configuration file (for editor completion and checks).
    Schema,
    /// Print a complete, annotated example configuration.
    ExampleConfig,
    /// Look at stored events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Events grouped into incidents (per source and sensor, token hits apart).
    #[command(subcommand)]
    Incidents(incidents::IncidentsCommand),
    /// Create, plant, list and revoke honeytokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Delivery to SIEMs and webhooks: status, dead letters, replay.
    #[command(subcommand)]
    Sinks(sinks::SinksCommand),
    /// Run a controller (many sensors, one store of record), or administer it:
    /// enrol/revoke sensors, list them, issue API tokens.
    Controller(fleet::ControllerArgs),
    /// Run a sensor: decoys, a local spool, and forwarding to its controller
    /// (`upstream:` section).
    Sensor(RunArgs),
    /// Render deployment files from a configuration: a hardened systemd unit, or
    /// Kubernetes manifests.
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// Share what the decoys saw: a STIX 2.1 bundle (TLP-marked, no patient data, no
    /// internal names), an ATT&CK Navigator layer, incidents as CSV.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Accounts of the web console (`console:` section): sign-up links, passwords.
    #[command(subcommand)]
    Console(console::ConsoleCommand),
    /// Print the version; with --json also the commit, target, features and rustc it was
    /// built from.
    Version(version::VersionArgs),
    /// Print a manual page (`honeyward man token create`), or write them all with
    /// --out-dir (the packages ship them).
    Man(manual::ManArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell, e.g.
    /// `honeyward completions bash > /etc/bash_completion.d/honeyward`.
    Completions(manual::CompletionsArgs),
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (YAML).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub privileges: PrivilegeArgs,
}

/// Who the process is once the decoys' ports are bound (`run`, `sensor`, `controller`).
#[derive(Debug, Args, Clone)]
pub struct PrivilegeArgs {
    /// After binding the decoys' ports, become this unprivileged user (started as
    /// root). The state directory and the store are handed to it.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// ...and this group (default: the user's primary group).
    #[arg(long, value_name = "GROUP", requires = "user")]
    pub group: Option<String>,
    /// Keep running as root after binding (not recommended: a decoy invites attackers).
    #[arg(long, conflicts_with = "user", env = "HONEYWARD_ALLOW_ROOT", value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_root: bool,
}

/// Options of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Configuration file (YAML) to check.
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => Ok(validate::validate(&args.config)),
        Command::Schema => {
            println!("{}", crate::config::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::ExampleConfig => {
            print!("{}", crate::config::EXAMPLE_COMPLETE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Events(cmd) => events::execute(cmd),
        Command::Incidents(cmd) => incidents::execute(cmd),
        Command::Token(cmd) => token::execute(cmd),
        Command::Sinks(cmd) => sinks::execute(cmd),
        Command::Controller(a) => fleet::controller(a),
        Command::Sensor(a) => fleet::sensor(a),
        Command::Deploy(cmd) => deploy::execute(cmd),
        Command::Export(cmd) => export::execute(cmd),
        Command::Console(cmd) => console::execute(cmd),
        Command::Version(args) => version::version(args),
        Command::Man(args) => manual::man(args),
        Command::Completions(args) => Ok(manual::completions(args)),
    }
}
