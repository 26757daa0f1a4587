//! What a Windows (or Samba) personality says of its host in NTLM, as YAML names it,
//! and the [`Host`] a decoy's CHALLENGE carries once the configuration's names are
//! put in.

use serde::Deserialize;

use super::message::{Host, Target, Version};
use crate::config::WindowsNames;

/// What the CHALLENGE names as its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NtlmTarget {
    /// A domain member names its NetBIOS domain.
    Domain,
    /// A standalone server names itself.
    Computer,
}

/// The NTLM side of a personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtlmLook {
    /// Product version in the CHALLENGE: `major.minor.build` (10.0.17763).
    pub version: String,
    pub ntlm_revision: u8,
    pub target: NtlmTarget,
    /// The DNS host name in lower case (Samba); Windows writes the computer name as
    /// it is (upper case, as NetBIOS).
    #[serde(default)]
    pub dns_host_lowercase: bool,
}

impl NtlmLook {
    /// (major, minor, build) of `version`.
    pub fn version(&self) -> Option<(u8, u8, u16)> {
        let mut parts = self.version.split('.');
        let v = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        parts.next().is_none().then_some(v)
    }

    /// The host a decoy wearing this look names: the configuration's names where it
    /// sets them, else the personality's (`defaults`). NetBIOS names upper-case, the
    /// DNS name the NetBIOS name (lower-cased for Samba) in the DNS domain.
    pub fn host(&self, names: &WindowsNames, defaults: &WindowsNames) -> Host {
        let pick = |ours: &Option<String>, theirs: &Option<String>| ours.clone().or_else(|| theirs.clone()).unwrap_or_default();
        let netbios_computer = pick(&names.netbios_name, &defaults.netbios_name).to_uppercase();
        let netbios_domain = pick(&names.netbios_domain, &defaults.netbios_domain).to_uppercase();
        let dns_domain = pick(&names.dns_domain, &defaults.dns_domain);
        let host = if self.dns_host_lowercase { netbios_computer.to_lowercase() } else { netbios_computer.clone() };
        let dns_computer = if dns_domain.is_empty() { host } else { format!("{host}.{dns_domain}") };
        let (major, minor, build) = self.version().unwrap_or((10, 0, 17763));
        Host {
            target: match self.target {
                NtlmTarget::Domain => Target::Domain,
                NtlmTarget::Computer => Target::Server,
            },
            netbios_computer,
            netbios_domain,
            dns_computer,
            dns_tree: dns_domain.clone(),
            dns_domain,
            version: Version { major, minor, build, ntlm_revision: self.ntlm_revision },
        }
    }
}
