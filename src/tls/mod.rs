//! TLS plumbing shared by the HTTPS decoy, the controller, the console and the sinks:
//! reading the operator's PEM files, generating a believable certificate when none is
//! given, and building rustls server and client configurations.

mod client;
pub mod pem;
mod server;

pub use client::{client_config, client_config_pem};
pub use server::{load, server_config, TlsSource};
