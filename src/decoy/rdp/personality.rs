//! RDP personalities: what a Windows host with Remote Desktop says before anyone logs
//! in: its RDP_NEG_RSP flags, whether it takes HYBRID_EX, its CredSSP version, its
//! certificate's lifetime, and the NTLM CHALLENGE naming it.

use serde::Deserialize;

use crate::config::WindowsNames;
use crate::decoy::error::PersonalityError;
use crate::decoy::ntlm::look::NtlmLook;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("windows-10-workstation-rdp", include_str!("../../../decoys/rdp-windows-10-workstation.yaml")),
    ("windows-server-2019-rdp", include_str!("../../../decoys/rdp-windows-server-2019.yaml")),
];

/// A flag of RDP_NEG_RSP (MS-RDPBCGR §2.2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NegotiationFlag {
    ExtendedClientData,
    DynvcGfx,
    Reserved,
    RestrictedAdmin,
    RedirectedAuth,
}

impl NegotiationFlag {
    fn bit(self) -> u8 {
        match self {
            NegotiationFlag::ExtendedClientData => 0x01,
            NegotiationFlag::DynvcGfx => 0x02,
            NegotiationFlag::Reserved => 0x04,
            NegotiationFlag::RestrictedAdmin => 0x08,
            NegotiationFlag::RedirectedAuth => 0x10,
        }
    }
}

fn flag_bits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    Ok(Vec::<NegotiationFlag>::deserialize(d)?.into_iter().fold(0, |bits, f| bits | f.bit()))
}

/// An RDP personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RdpPersonality {
    pub name: String,
    /// RDP_NEG_RSP flags.
    #[serde(deserialize_with = "flag_bits")]
    pub negotiation_flags: u8,
    /// Selects HYBRID_EX (CredSSP with early user authorization) when offered.
    pub hybrid_ex: bool,
    /// The TSRequest version the server writes.
    pub credssp_version: u32,
    /// Days the self-signed certificate is valid for (Windows: 183).
    pub certificate_days: u32,
    pub ntlm: NtlmLook,
    pub netbios_name: String,
    pub netbios_domain: String,
    pub dns_domain: String,
}

impl RdpPersonality {
    /// Reads and checks a personality.
    pub fn parse(yaml: &str) -> Result<Self, PersonalityError> {
        let p: RdpPersonality = marked_yaml::from_yaml(0, yaml)?;
        let bad = |what: &str| Err(PersonalityError::Invalid(format!("personality {}: {what}", p.name)));
        if p.ntlm.version().is_none() {
            return bad("ntlm.version must be major.minor.build, e.g. 10.0.19045");
        }
        if !(1..=3650).contains(&p.certificate_days) {
            return bad("certificate_days is 1 to 3650");
        }
        if !(2..=6).contains(&p.credssp_version) {
            return bad("credssp_version is 2 to 6");
        }
        Ok(p)
    }

    /// The personality's own names of its host.
    pub fn names(&self) -> WindowsNames {
        WindowsNames {
            netbios_name: Some(self.netbios_name.clone()),
            netbios_domain: Some(self.netbios_domain.clone()),
            dns_domain: Some(self.dns_domain.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses() {
        for (name, yaml) in BUILT_IN {
            let p = RdpPersonality::parse(yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
            assert_eq!(p.negotiation_flags, 0x1f);
        }
    }
}
