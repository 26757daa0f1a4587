//! honeyward: deception for hospital networks.
//!
//! Decoys (network services nobody legitimate uses) turn an intruder's touches into
//! events; every event is committed to a local SQLite store before sinks forward it
//! from their own cursors, so nothing is lost when a destination is down or the
//! process is killed.
//!
//! # Layout
//!
//! - [`config`]: YAML → raw serde types → validated types, errors with file:line:col.
//! - [`event`]: the `Event` envelope and the closed set of `EventKind`s.
//! - [`pipeline`]: the bounded event bus (backpressure) and shutdown.
//! - [`store`]: SQLite schema and migrations, the group-commit writer, readers, cursors.
//! - [`sink`]: the `Sink` trait, delivery with retry, transports, and pure `format`s.
//! - [`decoy`]: the shared accept loop and limits, and one module per protocol.
//! - [`app`]: wires one process together and stops it in order.
//! - [`cli`]: the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod decoy;
pub mod deploy;
pub mod event;
pub mod export;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod http_server;
pub mod incident;
pub mod pem;
pub mod pipeline;
pub mod privilege;
pub mod sink;
pub mod store;
pub mod token;
pub mod watch;
