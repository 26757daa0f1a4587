//! `honeyward man` and `honeyward completions`: manual pages and shell completions,
//! generated from the command-line definition itself so they never drift from `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

use super::Cli;

/// Options of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (honeyward.1, honeyward-token.1, honeyward-token-create.1, ...)
    /// into this directory instead of printing one.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// The command whose page to print, e.g. `token create` (default: honeyward itself).
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Vec<String>,
}

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The command tree as the manual and completions see it: `help` is not a command.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Prints one manual page, or writes them all.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = command();
    if let Some(dir) = args.out_dir {
        write_all(cmd, &dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut page = cmd;
    for name in &args.command {
        let Some(sub) = page.find_subcommand(name).cloned() else {
            bail!("no command {:?} under {:?} (see `honeyward --help`)", name, page.get_display_name().unwrap_or(page.get_name()));
        };
        page = sub;
    }
    let mut out = std::io::stdout().lock();
    page_of(page).render(&mut out).context("writing the manual page")?;
    Ok(ExitCode::SUCCESS)
}

/// One command's page, every page footed with the package's name and version.
fn page_of(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(concat!("honeyward ", env!("CARGO_PKG_VERSION"))).date(env!("HONEYWARD_COMMIT_DATE")).manual("honeyward manual")
}

/// Writes every page of the tree into `dir`, one file per command.
fn write_all(cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for sub in cmd.get_subcommands() {
        write_all(sub.clone(), dir)?;
    }
    page_of(cmd).generate_to(dir).with_context(|| format!("writing manual pages into {}", dir.display()))?;
    Ok(())
}

/// Prints the completion script for one shell.
pub fn completions(args: CompletionsArgs) -> ExitCode {
    let mut cmd = command();
    clap_complete::generate(args.shell, &mut cmd, "honeyward", &mut std::io::stdout().lock());
    ExitCode::SUCCESS
}
