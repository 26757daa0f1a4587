//! `honeyward deploy systemd`: deployment files rendered from a configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::config_source;
use crate::deploy::systemd::{render, UnitOptions};

/// What to render.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// A hardened systemd unit (dynamic user, CAP_NET_BIND_SERVICE only, sandboxed).
    Systemd(SystemdArgs),
}

#[derive(Debug, Args)]
pub struct SystemdArgs {
    /// The configuration the unit will run.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The installed binary.
    #[arg(long, default_value = "/usr/local/bin/honeyward")]
    pub binary: String,
    /// Where the configuration will be on the host.
    #[arg(long, default_value = "/etc/honeyward/honeyward.yaml")]
    pub config_path: String,
    /// MemoryMax for the service, MiB.
    #[arg(long, default_value_t = 512)]
    pub memory_max_mb: u64,
}

/// Runs `honeyward deploy ...`.
pub fn execute(cmd: DeployCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DeployCommand::Systemd(a) => {
            let (_, loaded) = config_source::load(a.config.as_deref());
            let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", render(&config, &UnitOptions { binary: a.binary, config_path: a.config_path, memory_max_mb: a.memory_max_mb }));
            Ok(ExitCode::SUCCESS)
        }
    }
}
