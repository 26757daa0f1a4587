//! A hardened systemd unit for a configuration: a dynamic user that owns only the
//! state directory, the one capability decoys need for ports below 1024, and a
//! sandbox that `systemd-analyze security` rates at about 1.4 ("OK").

use crate::config::Config;

/// What the unit is rendered with.
#[derive(Debug, Clone)]
pub struct UnitOptions {
    /// The installed binary.
    pub binary: String,
    /// Where the configuration file will be on the host.
    pub config_path: String,
    /// Memory cap (MemoryMax), MiB.
    pub memory_max_mb: u64,
    /// An existing system user to run as (the packages create `honeyward`); `None`: a
    /// dynamic user made for each start.
    pub service_user: Option<String>,
}

/// Which command the configuration runs.
fn command(config: &Config) -> &'static str {
    if config.controller.is_some() {
        "controller"
    } else if config.upstream.is_some() {
        "sensor"
    } else {
        "run"
    }
}

/// The unit file's text.
pub fn render(config: &Config, o: &UnitOptions) -> String {
    let mode = command(config);
    let ports: Vec<String> = config.decoys.iter().map(|d| d.listen().to_string()).collect();
    let low = config.decoys.iter().any(|d| d.listen().port() < 1024);
    format!(
        "# honeyward {mode} (rendered by `honeyward deploy systemd` from {origin})
# Decoys: {ports}
# Install: copy to /etc/systemd/system/honeyward.service, put the configuration at
# {config_path} (store and state paths relative to /var/lib/honeyward), then
#   systemctl daemon-reload && systemctl enable --now honeyward
[Unit]
Description=honeyward deception {mode}
Documentation=file:/usr/share/doc/honeyward/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={binary} {mode} -c {config_path}
Restart=on-failure
RestartSec=2s
{identity}
StateDirectory=honeyward
StateDirectoryMode=0700
ConfigurationDirectory=honeyward
WorkingDirectory=/var/lib/honeyward
UMask=0077
# {cap_note}
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @clock @module
# Decoy threads lower their own priority below the event pipeline's.
SystemCallFilter=setpriority
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
MemoryMax={memory}M
TasksMax=512
# Decoys hold many idle connections during scans.
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
",
        origin = config.origin,
        ports = if ports.is_empty() { "none".to_string() } else { ports.join(", ") },
        config_path = o.config_path,
        binary = o.binary,
        identity = match &o.service_user {
            None => "# A user created for the service, owning nothing but the state directory.\nDynamicUser=yes".to_string(),
            Some(user) => format!("# The package's system user, owning nothing but the state directory.\nUser={user}\nGroup={user}"),
        },
        memory = o.memory_max_mb,
        cap_note = if low {
            "Ports below 1024 are bound with this one capability; nothing else is kept."
        } else {
            "No decoy listens below 1024 here; the capability stays for when one does."
        },
    )
}
