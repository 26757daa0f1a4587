//! The `honeyward` binary: parse the command line, set up logging, run, map errors
//! to exit codes.

use std::process::ExitCode;

use clap::Parser;
use honeyward::cli::{execute, Cli, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", honeyward::event::visible(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // No colours: every line passes through one writer that escapes control and bidi
    // characters (attackers choose some of the names logged), colour codes included.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(honeyward::cli::log::stderr(format)).with_ansi(false);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
