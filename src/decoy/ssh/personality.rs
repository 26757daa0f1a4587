//! SSH personalities: the wire identity an SSH decoy wears (banner, algorithm lists
//! in the imitated product's order, host key types, auth behaviour). Shipped as YAML
//! under `decoys/`; every name must be one russh can complete.

use std::str::FromStr;
use std::time::Duration;

use russh::keys::Algorithm;
use russh::{cipher, compression, kex, mac, MethodKind};
use serde::Deserialize;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("openssh-debian12", include_str!("../../../decoys/openssh-debian12.yaml")),
    ("openssh-ubuntu2204", include_str!("../../../decoys/openssh-ubuntu2204.yaml")),
];

/// An SSH personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshPersonality {
    pub name: String,
    /// The identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`.
    pub banner: String,
    pub kex: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub compression: Vec<String>,
    pub host_keys: Vec<String>,
    /// `publickey`, `password`, `keyboard-interactive`, in the order announced.
    pub auth_methods: Vec<String>,
    pub max_auth_tries: usize,
    pub login_grace_seconds: u64,
    pub failure_delay_ms: u64,
    /// A random 0..=N ms added to each failure delay.
    #[serde(default)]
    pub failure_jitter_ms: u64,
    /// What a logged-in intruder sees (only used when the decoy accepts logins).
    #[serde(default)]
    pub shell: ShellLook,
}

/// The fake shell's look: nothing in it is ever executed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShellLook {
    pub hostname: String,
    /// Printed when an interactive shell starts.
    pub motd: String,
    /// `uname -a` output.
    pub uname: String,
    /// Absolute path → contents; directories are implied by the paths.
    pub files: std::collections::BTreeMap<String, String>,
    /// Command line (program and arguments) → canned output.
    pub commands: std::collections::BTreeMap<String, String>,
}

impl Default for ShellLook {
    fn default() -> Self {
        ShellLook {
            hostname: "server".into(),
            motd: String::new(),
            uname: "Linux server 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux".into(),
            files: Default::default(),
            commands: Default::default(),
        }
    }
}

impl SshPersonality {
    /// A built-in personality by name.
    pub fn built_in(name: &str) -> Option<Result<Self, String>> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, yaml)| Self::parse(yaml))
    }

    /// Parses and checks a personality file's text.
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let p: SshPersonality = marked_yaml::from_yaml(0, yaml).map_err(|e| e.to_string())?;
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), String> {
        if !self.banner.starts_with("SSH-2.0-") || self.banner.len() > 253 || !self.banner.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!("banner {:?} must start with SSH-2.0- and be printable ASCII", self.banner));
        }
        let mut bad = Vec::new();
        bad.extend(self.kex.iter().filter(|n| kex_name(n).is_none()).cloned());
        bad.extend(self.ciphers.iter().filter(|n| cipher::Name::try_from(n.as_str()).is_err()).cloned());
        bad.extend(self.macs.iter().filter(|n| mac::Name::try_from(n.as_str()).is_err()).cloned());
        bad.extend(self.compression.iter().filter(|n| compression::Name::try_from(n.as_str()).is_err()).cloned());
        bad.extend(self.host_keys.iter().filter(|n| Algorithm::from_str(n).is_err()).cloned());
        bad.extend(self.auth_methods.iter().filter(|n| method(n).is_none()).cloned());
        if !bad.is_empty() {
            return Err(format!("names this decoy cannot complete (a decoy never advertises those): {}", bad.join(", ")));
        }
        if self.max_auth_tries == 0 || self.auth_methods.is_empty() {
            return Err("max_auth_tries and auth_methods must not be empty".into());
        }
        Ok(())
    }

    /// The methods announced after every failure (the list never shrinks).
    pub fn methods(&self) -> russh::MethodSet {
        let kinds: Vec<MethodKind> = self.auth_methods.iter().filter_map(|m| method(m)).collect();
        russh::MethodSet::from(&kinds[..])
    }

    /// russh's negotiation lists, in this personality's order.
    pub fn preferred(&self) -> russh::Preferred {
        // Names were checked in `parse`; anything unknown is skipped, never advertised.
        russh::Preferred {
            host_key_certificates: Vec::new().into(),
            kex: self.kex.iter().filter_map(|n| kex_name(n)).collect::<Vec<_>>().into(),
            key: self.host_keys.iter().filter_map(|n| Algorithm::from_str(n).ok()).collect::<Vec<_>>().into(),
            cipher: self.ciphers.iter().filter_map(|n| cipher::Name::try_from(n.as_str()).ok()).collect::<Vec<_>>().into(),
            mac: self.macs.iter().filter_map(|n| mac::Name::try_from(n.as_str()).ok()).collect::<Vec<_>>().into(),
            compression: self.compression.iter().filter_map(|n| compression::Name::try_from(n.as_str()).ok()).collect::<Vec<_>>().into(),
        }
    }

    /// How long a failed attempt takes to be answered.
    pub fn failure_delay(&self) -> Duration {
        Duration::from_millis(self.failure_delay_ms)
    }
}

/// A key exchange name, including the server-side extension markers russh implements
/// (`ext-info-s`, `kex-strict-s-v00@openssh.com`), which are not algorithms.
fn kex_name(name: &str) -> Option<kex::Name> {
    [kex::EXTENSION_SUPPORT_AS_SERVER, kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER]
        .into_iter()
        .find(|k| k.as_ref() == name)
        .or_else(|| kex::Name::try_from(name).ok())
}

fn method(name: &str) -> Option<MethodKind> {
    match name {
        "publickey" => Some(MethodKind::PublicKey),
        "password" => Some(MethodKind::Password),
        "keyboard-interactive" => Some(MethodKind::KeyboardInteractive),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses_and_keeps_its_order() {
        for (name, _) in BUILT_IN {
            let p = SshPersonality::built_in(name).unwrap().unwrap();
            assert_eq!(&p.name, name);
            assert_eq!(p.preferred().kex.len(), p.kex.len(), "{name}: every kex name is completable");
            assert_eq!(p.preferred().key.len(), p.host_keys.len());
            assert_eq!(p.preferred().mac.len(), p.macs.len());
            assert_ne!(p.shell.hostname, "server", "{name} has its own shell look");
            assert!(p.shell.files.contains_key("/etc/passwd"));
        }
    }

    #[test]
    fn algorithms_russh_cannot_complete_are_refused() {
        let yaml = BUILT_IN[0].1.replace("  - curve25519-sha256\n", "  - sntrup761x25519-sha512@openssh.com\n");
        let err = SshPersonality::parse(&yaml).unwrap_err();
        assert!(err.contains("sntrup761x25519-sha512@openssh.com"), "{err}");
    }
}
