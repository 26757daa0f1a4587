//! `honeyward deploy`: renders what a deployment needs from a configuration.

pub mod kubernetes;
pub mod systemd;
