//! `honeyward console invite|password`: accounts of the web console.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use super::config_source;
use crate::console::Accounts;

/// `console` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConsoleCommand {
    /// Print a one-time sign-up link: who opens it creates a passkey for ACCOUNT (a new
    /// account, or another passkey for an existing one).
    Invite(InviteArgs),
    /// Set ACCOUNT's password from the first line of standard input, creating the
    /// account if needed (used only when `console.password_login` is true; stored as an
    /// argon2id hash).
    Password(PasswordArgs),
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// Account name (letters, digits, `-`, `_`, `.`, `@`).
    pub account: String,
    /// Configuration with the `console:` section (default: ./honeyward.yaml, else the quick-start's).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// How long the link works, hours.
    #[arg(long, default_value_t = 24)]
    pub valid_hours: u64,
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    pub account: String,
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// Runs `honeyward console ...`.
pub fn execute(cmd: ConsoleCommand) -> anyhow::Result<ExitCode> {
    let (account, path) = match &cmd {
        ConsoleCommand::Invite(a) => (&a.account, a.config.as_deref()),
        ConsoleCommand::Password(a) => (&a.account, a.config.as_deref()),
    };
    if !crate::console::valid_account_name(account) {
        bail!("account name {account:?}: use 1 to 64 letters, digits, `-`, `_`, `.` or `@`");
    }
    let (_, loaded) = config_source::load(path);
    let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    let console = config.console.as_ref().context("the configuration has no `console:` section")?;
    let accounts = Accounts::open(&config.store.path)?;
    match cmd {
        ConsoleCommand::Invite(a) => {
            let secret = accounts.invite(&a.account, Duration::from_secs(a.valid_hours.clamp(1, 24 * 30) * 3600))?;
            println!("{}/enrol?invite={secret}", console.origin(console.listen.port()));
        }
        ConsoleCommand::Password(a) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 12 {
                bail!("use a password of at least 12 characters");
            }
            accounts.ensure_account(&a.account)?;
            accounts.set_password_hash(&a.account, &crate::console::password_hash(password)?)?;
            println!(
                "password set for {}{}",
                a.account,
                if console.password_login { "" } else { " (password sign-in is off: set console.password_login: true)" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
