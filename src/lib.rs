//! honeyward: deception for hospital networks.
//!
//! Decoys (network services nobody legitimate uses) turn an intruder's touches into
//! events; every event is committed to a local SQLite store before sinks forward it
//! from their own cursors, so nothing is lost when a destination is down or the
//! process is killed.
//!
//! # Layout, in the order an event travels
//!
//! - [`config`]: YAML → raw serde types → validated types, errors with file:line:col;
//!   one file or folder per section. A leaf every part reads: it imports only the
//!   event vocabulary (kind and severity names) and [`pem`].
//! - [`event`]: the ground floor: the `Event` envelope, the closed set of `EventKind`s,
//!   and the token vocabulary an alert carries. Imports nothing else of the crate.
//! - [`decoy`]: the shared accept loop and limits, and one module per protocol; each
//!   connection becomes events.
//! - [`watch`]: the canary file watcher, the other source of events on a host.
//! - [`token`]: the honeytoken registry: creating and planting tokens, and recognising
//!   them in what the decoys observed.
//! - [`pipeline`]: the bounded event bus (backpressure, token matching) and shutdown.
//! - [`store`]: SQLite schema and migrations, the group-commit writer, readers, sink
//!   cursors, and the spool quota of a sensor.
//! - [`incident`]: stored events grouped into incidents, as sinks, the console and
//!   exports read them.
//! - [`sink`]: the `Sink` trait, delivery with retry, the transports (file, syslog,
//!   HTTP, and `controller`: a sensor forwarding to its controller), and pure
//!   `format`s (the SIEM's side).
//! - [`fleet`]: the controller's side of many sensors (ingest, API, registry, NATS
//!   consumer) and a sensor's heartbeat and token sync.
//! - [`console`]: the web console and `/metrics`; [`http_server`]: the accept loop it
//!   shares with the controller's API.
//! - [`export`]: STIX, ATT&CK Navigator and CSV made from incidents.
//! - Shared plumbing: [`pem`] (reading operator-given PEM files), [`tls`] (generated
//!   certificates, rustls configurations), [`state_file`] (files kept in the state directory),
//!   [`shutdown`] (the signal that stops decoys and drains the rest),
//!   [`privilege`] (dropping root after binding), [`secret_eq`] (comparing secrets in
//!   constant time), [`resident`] (memory given back when quiet), [`priority`] (decoy
//!   threads yield the CPU to the event pipeline).
//! - The edge: [`app`] wires one process together and stops it in order; [`cli`] is the
//!   command line; [`deploy`] renders systemd and Kubernetes files. Nothing below the
//!   edge imports it.

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
pub mod priority;
pub mod privilege;
pub mod resident;
pub mod secret_eq;
pub mod shutdown;
pub mod sink;
pub mod state_file;
pub mod store;
pub mod tls;
pub mod token;
pub mod watch;
