//! `honeyward controller` (run the controller, enrol and revoke sensors, list them,
//! issue API tokens) and `honeyward sensor` (run a sensor).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use super::config_source;
use crate::config::{Config, SensorCredential};
use crate::fleet::Fleet;

/// `honeyward controller [-c FILE] [COMMAND]`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ControllerArgs {
    #[command(subcommand)]
    pub command: Option<ControllerCommand>,
    /// Controller configuration (needs a `controller:` section).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub privileges: super::PrivilegeArgs,
}

/// Controller administration.
#[derive(Debug, Subcommand)]
pub enum ControllerCommand {
    /// Enrol a sensor: writes its credential (signing key and the controller's CA).
    Enrol(EnrolArgs),
    /// Revoke a sensor: its next request is refused.
    Revoke(NameArgs),
    /// Enrolled sensors: last heard from, source address, decoys.
    Sensors(SensorsArgs),
    /// Issue a bearer token for the JSON API (printed once).
    ApiToken(NameArgs),
}

#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The sensor's name (letters, digits, `-`, `_`, `.`); it names its events.
    pub name: String,
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the credential here (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Issue a new key for an enrolled sensor (the old one stops working).
    #[arg(long)]
    pub rotate: bool,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    pub name: String,
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SensorsArgs {
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One JSON object per sensor.
    #[arg(long)]
    pub json: bool,
}

fn load(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let (_, loaded) = config_source::load(path);
    let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    if config.controller.is_none() {
        bail!("{} has no `controller:` section (see README, \"Many sensors, one controller\")", config.origin);
    }
    Ok(config)
}

/// The CA certificate sensors are to trust: the last certificate of the controller's
/// chain (generated now if the controller never ran).
fn controller_ca(config: &Config) -> anyhow::Result<String> {
    let Some(cc) = &config.controller else { bail!("no controller section") };
    let chain = match &cc.cert {
        Some((cert, _)) => crate::pem::certificates(cert).map_err(anyhow::Error::msg)?,
        None => {
            let source = crate::config::TlsSource::Generated { common_name: cc.server_name.clone(), organisation: "honeyward controller".into() };
            crate::tls::load(&source, &config.store.state_dir.join("controller")).map_err(anyhow::Error::msg)?.0
        }
    };
    let ca = chain.last().context("the controller's certificate file is empty")?;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(ca.as_ref());
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    Ok(format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n")))
}

/// Runs `honeyward controller ...`.
pub fn controller(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        None => {
            let (_, loaded) = config_source::load(args.config.as_deref());
            if let Ok(c) = &loaded {
                if c.controller.is_none() {
                    bail!("{} has no `controller:` section; `honeyward run` runs a single host", c.origin);
                }
            }
            super::run::run(super::RunArgs { config: args.config, privileges: args.privileges })
        }
        Some(ControllerCommand::Enrol(a)) => {
            let config = load(a.config.as_deref())?;
            let ca = controller_ca(&config)?;
            let key = Fleet::open(&config.store.path)?.enrol(&a.name, a.rotate)?;
            use base64::Engine;
            let credential = SensorCredential { sensor: a.name.clone(), key: base64::engine::general_purpose::STANDARD.encode(key), controller_ca: ca };
            let text = serde_json::to_string_pretty(&credential)? + "\n";
            match &a.out {
                Some(path) => {
                    let _ = std::fs::remove_file(path);
                    crate::state_file::write_new(path, text.as_bytes(), 0o600).map_err(anyhow::Error::msg)?;
                    println!(
                        "enrolled sensor {}; credential written to {} (mode 0600): copy it to the sensor and point upstream.credential_file at it",
                        a.name,
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(ControllerCommand::Revoke(a)) => {
            let config = load(a.config.as_deref())?;
            if Fleet::open(&config.store.path)?.revoke(&a.name)? {
                println!("sensor {} revoked: its requests are refused from now on", a.name);
                Ok(ExitCode::SUCCESS)
            } else {
                bail!("no enrolled, unrevoked sensor {}", a.name)
            }
        }
        Some(ControllerCommand::Sensors(a)) => {
            let config = load(a.config.as_deref())?;
            for s in Fleet::open(&config.store.path)?.list()? {
                if a.json {
                    println!("{}", crate::event::visible_json(&serde_json::to_string(&s)?));
                } else {
                    let seen = s.last_seen.map_or_else(|| "never".into(), |t| t.to_rfc3339());
                    let decoys = s.status.as_ref().and_then(|v| v["decoys"].as_array().map(|d| d.len())).unwrap_or(0);
                    let state = if s.revoked.is_some() { "REVOKED" } else { "enrolled" };
                    let line = format!("{}  {state}  last seen {seen} from {}  {decoys} decoys", s.name, s.last_source.as_deref().unwrap_or("-"));
                    println!("{}", crate::event::visible(&line));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(ControllerCommand::ApiToken(a)) => {
            let config = load(a.config.as_deref())?;
            let token = Fleet::open(&config.store.path)?.create_api_token(&a.name)?;
            println!("{token}");
            eprintln!("API token {} issued; it is shown only now (send it as `Authorization: Bearer TOKEN`)", a.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `honeyward sensor`.
pub fn sensor(args: super::RunArgs) -> anyhow::Result<ExitCode> {
    let (_, loaded) = config_source::load(args.config.as_deref());
    if let Ok(c) = &loaded {
        if c.upstream.is_none() {
            bail!("{} has no `upstream:` section naming the controller; `honeyward run` runs a single host", c.origin);
        }
    }
    super::run::run(args)
}
