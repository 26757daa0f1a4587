//! SMB personalities: what a file server says of itself before anyone logs in: how it
//! treats SMB1, the SMB2 dialects, security mode, capabilities and sizes it answers
//! NEGOTIATE with, its SPNEGO mechanisms, 3.1.1 ciphers and signing algorithms, the
//! NTLM CHALLENGE it writes, and how it answers logins.

use serde::Deserialize;

use crate::config::WindowsNames;
use crate::decoy::error::PersonalityError;
pub use crate::decoy::ntlm::look::NtlmLook;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("windows-server-2019-file", include_str!("../../../decoys/smb-windows-server-2019-file.yaml")),
    ("windows-server-2022-file", include_str!("../../../decoys/smb-windows-server-2022-file.yaml")),
    ("samba-debian12", include_str!("../../../decoys/smb-samba-debian12.yaml")),
    ("windows-7-modality", include_str!("../../../decoys/smb-windows-7-modality.yaml")),
];

/// What the server does with an SMB1 NEGOTIATE that offers no SMB2 dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Smb1Only {
    /// Close the connection without an answer (Windows with SMB1 removed).
    Close,
    /// Answer with an SMB1 NEGOTIATE response naming no dialect (index 0xFFFF).
    NoDialect,
    /// Speak SMB1 (NT LM 0.12), as Windows 7 and older do: see the `smb1` section.
    Serve,
}

/// How an SMB1 server answers the MS17-010 check (a PeekNamedPipe on FID 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ms17010 {
    /// STATUS_INSUFF_SERVER_RESOURCES: what an unpatched Windows answers, so that the
    /// intruder goes on to the exploit (which the decoy records and never runs).
    Unpatched,
    /// STATUS_INVALID_HANDLE: a patched Windows.
    Patched,
}

/// The SMB1 side of a personality that speaks it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smb1Look {
    /// NativeOS and NativeLanMan of SESSION_SETUP_ANDX answers (what nmap's
    /// smb-os-discovery prints).
    pub native_os: String,
    pub native_lanman: String,
    pub ms17_010: Ms17010,
}

/// An SMB2 dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Dialect {
    #[serde(rename = "2.0.2")]
    Smb202,
    #[serde(rename = "2.1")]
    Smb21,
    #[serde(rename = "3.0")]
    Smb30,
    #[serde(rename = "3.0.2")]
    Smb302,
    #[serde(rename = "3.1.1")]
    Smb311,
}

impl Dialect {
    /// The revision on the wire.
    pub fn revision(self) -> u16 {
        match self {
            Dialect::Smb202 => 0x0202,
            Dialect::Smb21 => 0x0210,
            Dialect::Smb30 => 0x0300,
            Dialect::Smb302 => 0x0302,
            Dialect::Smb311 => 0x0311,
        }
    }
}

/// A capability a NEGOTIATE response announces (MS-SMB2 §2.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Dfs,
    Leasing,
    LargeMtu,
    MultiChannel,
    PersistentHandles,
    DirectoryLeasing,
    Encryption,
}

impl Capability {
    fn bit(self) -> u32 {
        match self {
            Capability::Dfs => 0x01,
            Capability::Leasing => 0x02,
            Capability::LargeMtu => 0x04,
            Capability::MultiChannel => 0x08,
            Capability::PersistentHandles => 0x10,
            Capability::DirectoryLeasing => 0x20,
            Capability::Encryption => 0x40,
        }
    }
}

/// The capabilities as their bits.
pub fn capability_bits(list: &[Capability]) -> u32 {
    list.iter().fold(0, |bits, c| bits | c.bit())
}

/// The server's signing stance (SecurityMode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    /// SIGNING_ENABLED.
    Enabled,
    /// SIGNING_ENABLED | SIGNING_REQUIRED.
    Required,
}

/// A 3.1.1 cipher (MS-SMB2 §2.2.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cipher {
    #[serde(rename = "aes-128-ccm")]
    Aes128Ccm,
    #[serde(rename = "aes-128-gcm")]
    Aes128Gcm,
    #[serde(rename = "aes-256-ccm")]
    Aes256Ccm,
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
}

impl Cipher {
    /// The id on the wire.
    pub fn id(self) -> u16 {
        match self {
            Cipher::Aes128Ccm => 1,
            Cipher::Aes128Gcm => 2,
            Cipher::Aes256Ccm => 3,
            Cipher::Aes256Gcm => 4,
        }
    }
}

/// A 3.1.1 signing algorithm (MS-SMB2 §2.2.3.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningAlgorithm {
    HmacSha256,
    AesCmac,
    AesGmac,
}

impl SigningAlgorithm {
    /// The id on the wire.
    pub fn id(self) -> u16 {
        match self {
            SigningAlgorithm::HmacSha256 => 0,
            SigningAlgorithm::AesCmac => 1,
            SigningAlgorithm::AesGmac => 2,
        }
    }
}

/// Which of two lists decides a negotiated algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preference {
    /// The first of the server's list the client offered.
    Server,
    /// The first of the client's list the server supports.
    Client,
}

/// A SPNEGO mechanism a server offers in its NEGOTIATE response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mech {
    Negoex,
    MsKrb5,
    Krb5,
    Krb5U2u,
    Ntlmssp,
}

/// Whose conventions the server follows where the protocol leaves a choice: how it
/// fills in response headers and grants credits, makes session ids and its GUID,
/// picks NTLM flags, answers SPNEGO without a token and SMB1-only clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// Windows: response flags only SERVER_TO_REDIR, credits as asked (one on
    /// NEGOTIATE), session ids like `0x0000_a000_0000_0015`, a random GUID, the
    /// encryption context whenever the client sent one, null sessions flagged.
    Windows,
    /// Samba: the request's flags and signature echoed, one credit until a login
    /// succeeds, random 32-bit session ids, the NetBIOS name as GUID, the encryption
    /// context only for clients announcing encryption, null sessions unflagged.
    Samba,
}

/// What an anonymous (null session) login gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anonymous {
    /// STATUS_SUCCESS with the null-session flag.
    Allow,
    /// STATUS_ACCESS_DENIED.
    Deny,
    /// STATUS_LOGON_FAILURE.
    LogonFailure,
}

/// An SMB personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmbPersonality {
    pub name: String,
    /// What an SMB1-only NEGOTIATE gets.
    pub smb1_only: Smb1Only,
    /// How SMB1 is spoken (with `smb1_only: serve`).
    #[serde(default)]
    pub smb1: Option<Smb1Look>,
    /// SMB2 dialects supported (`2.0.2` ... `3.1.1`).
    #[serde(deserialize_with = "revisions")]
    pub dialects: Vec<u16>,
    pub signing: Signing,
    /// Capabilities always answered (2.0.2 answers only DFS of them: the others came
    /// with 2.1).
    #[serde(deserialize_with = "capabilities")]
    pub capabilities: u32,
    /// Capabilities answered on 3.x dialects only when the client announced them too
    /// (Windows); encryption only on 3.0 and 3.0.2, which negotiate it this way.
    #[serde(deserialize_with = "capabilities")]
    pub capabilities_if_asked: u32,
    pub max_transact_size: u32,
    pub max_read_size: u32,
    pub max_write_size: u32,
    /// ServerStartTime is written as zero (Windows) rather than the start time.
    pub start_time_zero: bool,
    pub spnego_mechs: Vec<Mech>,
    /// The negHints hintName (Windows' `not_defined_in_RFC4178@please_ignore`).
    #[serde(default)]
    pub spnego_hint: Option<String>,
    /// 3.1.1 ciphers, in the server's order, and whose order decides.
    pub ciphers: Vec<Cipher>,
    pub cipher_preference: Preference,
    /// 3.1.1 signing algorithms (empty: no SIGNING_CAPABILITIES context answered).
    #[serde(default)]
    pub signing_algorithms: Vec<SigningAlgorithm>,
    pub implementation: Implementation,
    /// Credits granted on each response (the client's request, at least 1, at most this).
    pub max_credits_granted: u16,
    pub anonymous: Anonymous,
    pub ntlm: NtlmLook,
    /// NetBIOS name and domain, DNS names: the decoy's configuration may override them.
    pub netbios_name: String,
    pub netbios_domain: String,
    pub dns_domain: String,
}

fn revisions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    Ok(Vec::<Dialect>::deserialize(d)?.into_iter().map(Dialect::revision).collect())
}

fn capabilities<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(capability_bits(&Vec::<Capability>::deserialize(d)?))
}

impl SmbPersonality {
    /// The personality's own names of its host.
    pub fn names(&self) -> WindowsNames {
        WindowsNames {
            netbios_name: Some(self.netbios_name.clone()),
            netbios_domain: Some(self.netbios_domain.clone()),
            dns_domain: Some(self.dns_domain.clone()),
        }
    }

    /// SecurityMode as answered.
    pub fn security_mode(&self) -> u16 {
        match self.signing {
            Signing::Enabled => 1,
            Signing::Required => 3,
        }
    }

    /// Reads and checks a personality.
    pub fn parse(yaml: &str) -> Result<Self, PersonalityError> {
        let p: SmbPersonality = marked_yaml::from_yaml(0, yaml)?;
        let bad = |what: &str| Err(PersonalityError::Invalid(format!("personality {}: {what}", p.name)));
        if p.dialects.is_empty() {
            return bad("list at least one dialect");
        }
        if (p.smb1_only == Smb1Only::Serve) != p.smb1.is_some() {
            return bad("smb1_only: serve goes with an smb1 section, and only it");
        }
        if p.dialects.contains(&0x0311) && p.ciphers.is_empty() {
            return bad("a 3.1.1 server lists at least one cipher");
        }
        if p.ntlm.version().is_none() {
            return bad("ntlm.version must be major.minor.build, e.g. 10.0.17763");
        }
        if p.netbios_name.is_empty() || p.netbios_name.len() > 15 || p.netbios_domain.is_empty() || p.netbios_domain.len() > 15 {
            return bad("netbios_name and netbios_domain are 1 to 15 characters");
        }
        if p.max_credits_granted == 0 {
            return bad("max_credits_granted is at least 1");
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses() {
        for (name, yaml) in BUILT_IN {
            let p = SmbPersonality::parse(yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
        }
    }
}
