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
    /// Kubernetes manifests (JSON List for `kubectl apply -f`): Namespace with the
    /// restricted Pod Security Standard, ConfigMap, Deployment (DaemonSet for
    /// sensors), Service, NetworkPolicy.
    Kubernetes(KubernetesArgs),
}

#[derive(Debug, Args)]
pub struct KubernetesArgs {
    /// The configuration to deploy. Its decoys must listen on 0.0.0.0 or [::] in a pod:
    /// one on a loopback address is refused (nothing outside the pod could reach it).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, default_value = "honeyward")]
    pub namespace: String,
    /// The container image, by digest: REGISTRY/honeyward@sha256:... (scripts/container.sh
    /// writes it beside the image); a tag is accepted with a warning.
    #[arg(long, default_value = "registry.example.nhs.uk/honeyward:0.1.0")]
    pub image: String,
    /// Render even when a decoy or the controller listens on loopback (it will not be
    /// reachable from outside the pod).
    #[arg(long)]
    pub allow_loopback: bool,
    /// Container memory limit, MiB. Default: the configuration's
    /// `sensor.max_memory_mb` plus a quarter (headroom over the decoys' own budget), or
    /// 512 without one.
    #[arg(long)]
    pub memory_max_mb: Option<u64>,
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
    /// MemoryMax for the service, MiB. Default: the configuration's
    /// `sensor.max_memory_mb` plus a quarter (headroom over the decoys' own budget), or
    /// 512 without one.
    #[arg(long)]
    pub memory_max_mb: Option<u64>,
    /// Run as this existing system user (and its group) instead of a dynamic user made
    /// at each start. The .deb and .rpm create `honeyward` and use it.
    #[arg(long, value_name = "USER", value_parser = system_user_name)]
    pub service_user: Option<String>,
}

/// Runs `honeyward deploy ...`.
pub fn execute(cmd: DeployCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DeployCommand::Systemd(a) => {
            let (_, loaded) = config_source::load(a.config.as_deref());
            let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
            print!(
                "{}",
                render(
                    &config,
                    &UnitOptions {
                        binary: a.binary,
                        config_path: a.config_path,
                        memory_max_mb: hard_memory_limit_mb(a.memory_max_mb, &config),
                        service_user: a.service_user
                    }
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        DeployCommand::Kubernetes(a) => {
            let (source, loaded) = config_source::load(a.config.as_deref());
            let config = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
            let loopback = crate::deploy::kubernetes::loopback_listeners(&config);
            if !loopback.is_empty() {
                let named: Vec<String> = loopback.iter().map(|(name, addr)| format!("{name} ({addr})")).collect();
                let what = format!("{} listen on loopback, which nothing outside the pod can reach", named.join(", "));
                if !a.allow_loopback {
                    anyhow::bail!("{what}: listen on 0.0.0.0 or [::] in the configuration (or pass --allow-loopback)");
                }
                eprintln!("warning: {what}");
            }
            if !a.image.contains("@sha256:") {
                eprintln!(
                    "warning: the image {} is named by tag, which its registry can point elsewhere; name it by digest (REGISTRY/honeyward@sha256:..., the .oci.digest file of a release)",
                    a.image
                );
            }
            let config_text = match source {
                config_source::Source::File(p) => std::fs::read_to_string(&p)?,
                config_source::Source::Embedded => crate::config::EMBEDDED_DEFAULT.to_string(),
            };
            let options = crate::deploy::kubernetes::K8sOptions {
                namespace: a.namespace,
                image: a.image,
                config_text,
                memory_max_mb: hard_memory_limit_mb(a.memory_max_mb, &config),
            };
            println!("{}", serde_json::to_string_pretty(&crate::deploy::kubernetes::render(&config, &options))?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The service's or container's hard memory limit: the one given, else the decoys' own
/// budget plus a quarter (the kernel's limit must sit above the point where decoys
/// start refusing), else 512 MiB.
fn hard_memory_limit_mb(given: Option<u64>, config: &crate::config::Config) -> u64 {
    given.or_else(|| config.sensor.max_memory_mb.map(|m| m + m / 4)).unwrap_or(512)
}

/// A name systemd and useradd both accept: `[a-z_][a-z0-9_-]*`, at most 32 characters.
fn system_user_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if first_ok && name.len() <= 32 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        Ok(name.to_owned())
    } else {
        Err("a system user name is lower-case letters, digits, _ and -, starting with a letter or _".to_owned())
    }
}
