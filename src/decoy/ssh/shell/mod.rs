//! The fake shell a logged-in intruder gets (only with `accept:`): its accounts and its
//! commands. Nothing is executed, read or written on the host.

mod accounts;
mod commands;

pub use accounts::{Account, Accounts};
pub use commands::{run_line, Outcome, ShellState, MAX_LINE};
