//! SSH personalities: the wire identity and behaviour an SSH decoy wears (family,
//! banner, algorithm lists in the imitated server's order, EXT_INFO, auth limits,
//! failure timing, unauthenticated-connection limit). Shipped as YAML under
//! `decoys/`, each file saying where its values were measured. Every name must be one
//! the transport can complete: a decoy never offers what it cannot finish.

use std::sync::Arc;

use serde::Deserialize;

use crate::decoy::error::PersonalityError;

use super::delay::FailureDelay;
use super::startups::UnauthLimit;
use super::transport::algorithms::{Cipher, Compression, HostKeyAlg, KexEntry, Mac};
use super::transport::conn::Profile;
use super::transport::kexinit::Proposal;
use super::transport::version::Family;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("openssh-debian12", include_str!("../../../decoys/openssh-debian12.yaml")),
    ("openssh-debian13", include_str!("../../../decoys/openssh-debian13.yaml")),
    ("openssh-ubuntu2204", include_str!("../../../decoys/openssh-ubuntu2204.yaml")),
    ("openssh-ubuntu2404", include_str!("../../../decoys/openssh-ubuntu2404.yaml")),
    ("dropbear-debian12", include_str!("../../../decoys/dropbear-debian12.yaml")),
];

/// An authentication method a personality announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthMethod {
    #[serde(rename = "publickey")]
    Publickey,
    #[serde(rename = "password")]
    Password,
    #[serde(rename = "keyboard-interactive")]
    KeyboardInteractive,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Publickey => "publickey",
            AuthMethod::Password => "password",
            AuthMethod::KeyboardInteractive => "keyboard-interactive",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    family: Family,
    banner: String,
    kex: Vec<String>,
    host_keys: Vec<String>,
    ciphers: Vec<String>,
    macs: Vec<String>,
    compression: Vec<String>,
    #[serde(default)]
    ext_info: Vec<(String, String)>,
    #[serde(default)]
    banner_delay_ms: (u64, u64),
    #[serde(default)]
    ext_info_after_auth: bool,
    auth_methods: Vec<AuthMethod>,
    max_auth_tries: u32,
    login_grace_seconds: u64,
    unauthenticated: UnauthLimit,
    failure_delay: FailureDelay,
    #[serde(default = "default_rsa_bits")]
    rsa_bits: u32,
    #[serde(default)]
    ip_tos: u32,
    #[serde(default)]
    shell: ShellLook,
}

fn default_rsa_bits() -> u32 {
    3072
}

/// An SSH personality, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPersonality {
    pub name: String,
    /// What the transport sends: family, banner, KEXINIT lists, EXT_INFO.
    pub profile: Arc<Profile>,
    /// In the order USERAUTH_FAILURE lists them.
    pub auth_methods: Vec<AuthMethod>,
    pub max_auth_tries: u32,
    pub login_grace_seconds: u64,
    pub unauthenticated: UnauthLimit,
    pub failure_delay: FailureDelay,
    /// Size of a generated RSA host key (ssh-keygen's 3072, dropbearkey's 2048).
    pub rsa_bits: u32,
    /// IP type-of-service of every packet the decoy sends (0: the kernel's default).
    pub ip_tos: u32,
    /// What a logged-in intruder sees (only used when the decoy accepts logins).
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

/// Maps every name of a list, collecting the ones that do not map.
fn names<T>(list: &[String], f: impl Fn(&str) -> Option<T>, bad: &mut Vec<String>) -> Vec<T> {
    list.iter()
        .filter_map(|n| {
            let v = f(n);
            if v.is_none() {
                bad.push(n.clone());
            }
            v
        })
        .collect()
}

impl SshPersonality {
    /// A built-in personality by name.
    pub fn built_in(name: &str) -> Option<Result<Self, PersonalityError>> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, yaml)| Self::parse(yaml))
    }

    /// Parses and checks a personality file's text.
    pub fn parse(yaml: &str) -> Result<Self, PersonalityError> {
        let raw: Raw = marked_yaml::from_yaml(0, yaml)?;
        if !raw.banner.starts_with("SSH-2.0-") || raw.banner.len() > 253 || !raw.banner.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(PersonalityError::Invalid(format!("banner {:?} must start with SSH-2.0- and be printable ASCII", raw.banner)));
        }
        let mut bad = Vec::new();
        let proposal = Proposal {
            kex: names(&raw.kex, KexEntry::from_name, &mut bad),
            host_keys: names(&raw.host_keys, |n| HostKeyAlg::from_name(n.as_bytes()), &mut bad),
            ciphers: names(&raw.ciphers, |n| Cipher::from_name(n.as_bytes()), &mut bad),
            macs: names(&raw.macs, |n| Mac::from_name(n.as_bytes()), &mut bad),
            compression: names(&raw.compression, |n| Compression::from_name(n.as_bytes()), &mut bad),
        };
        if !bad.is_empty() {
            return Err(PersonalityError::Invalid(format!("names this decoy cannot complete (a decoy never advertises those): {}", bad.join(", "))));
        }
        if proposal.kex.iter().all(|k| !matches!(k, KexEntry::Method(_)))
            || proposal.host_keys.is_empty()
            || proposal.ciphers.is_empty()
            || proposal.compression.is_empty()
        {
            return Err(PersonalityError::Invalid("kex, host_keys, ciphers and compression each need at least one algorithm".into()));
        }
        if proposal.macs.is_empty() && proposal.ciphers.iter().any(|c| !c.is_aead()) {
            return Err(PersonalityError::Invalid("macs must not be empty when a cipher without its own integrity is offered".into()));
        }
        if raw.max_auth_tries == 0 || raw.auth_methods.is_empty() {
            return Err(PersonalityError::Invalid("max_auth_tries and auth_methods must not be empty".into()));
        }
        if let UnauthLimit::MaxStartups { begin, rate_percent, full } = raw.unauthenticated {
            if begin > full || rate_percent > 100 || full == 0 {
                return Err(PersonalityError::Invalid(format!(
                    "unauthenticated max_startups {begin}:{rate_percent}:{full} needs begin <= full, rate_percent <= 100"
                )));
            }
        }
        if !matches!(raw.rsa_bits, 2048 | 3072 | 4096) || raw.ip_tos > 0xff {
            return Err(PersonalityError::Invalid("rsa_bits must be 2048, 3072 or 4096 and ip_tos a byte".into()));
        }
        if let FailureDelay::Uniform { min_ms, max_ms } = raw.failure_delay {
            if min_ms > max_ms {
                return Err(PersonalityError::Invalid("failure_delay uniform needs min_ms <= max_ms".into()));
            }
        }
        if raw.banner_delay_ms.0 > raw.banner_delay_ms.1 || raw.banner_delay_ms.1 > 1000 {
            return Err(PersonalityError::Invalid("banner_delay_ms is [min, max] with min <= max <= 1000".into()));
        }
        let profile = Profile {
            family: raw.family,
            banner: raw.banner,
            proposal,
            ext_info: raw.ext_info,
            banner_delay_ms: raw.banner_delay_ms,
            ext_info_after_auth: raw.ext_info_after_auth,
        };
        Ok(SshPersonality {
            name: raw.name,
            profile: Arc::new(profile),
            auth_methods: raw.auth_methods,
            max_auth_tries: raw.max_auth_tries,
            login_grace_seconds: raw.login_grace_seconds,
            unauthenticated: raw.unauthenticated,
            failure_delay: raw.failure_delay,
            rsa_bits: raw.rsa_bits,
            ip_tos: raw.ip_tos,
            shell: raw.shell,
        })
    }

    /// The identification line.
    pub fn banner(&self) -> &str {
        &self.profile.banner
    }

    /// The host key algorithms, in order (which key files the decoy needs).
    pub fn host_key_names(&self) -> Vec<String> {
        self.profile.proposal.host_keys.iter().map(|h| h.name().to_string()).collect()
    }

    /// The method list of USERAUTH_FAILURE (it never shrinks).
    pub fn method_list(&self) -> Vec<&'static str> {
        self.auth_methods.iter().map(|m| m.name()).collect()
    }

    /// HASSHServer of this personality's KEXINIT.
    pub fn hassh_server(&self) -> String {
        self.profile.proposal.hassh_server()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses() {
        for (name, _) in BUILT_IN {
            let p = SshPersonality::built_in(name).unwrap().unwrap();
            assert_eq!(&p.name, name);
            assert_ne!(p.shell.hostname, "server", "{name} has its own shell look");
            assert!(p.shell.files.contains_key("/etc/passwd"));
        }
    }

    #[test]
    fn the_debian_12_personality_has_the_real_servers_hassh() {
        let p = SshPersonality::built_in("openssh-debian12").unwrap().unwrap();
        assert_eq!(p.hassh_server(), "425d29fe50d8e4f5e37efb6e24bcf660");
    }

    #[test]
    fn names_the_transport_cannot_complete_are_refused() {
        let yaml = BUILT_IN[0].1.replace("  - curve25519-sha256\n", "  - curve448-sha512\n");
        let err = SshPersonality::parse(&yaml).unwrap_err().to_string();
        assert!(err.contains("curve448-sha512"), "{err}");
    }
}
