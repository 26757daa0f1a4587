//! MITRE ATT&CK techniques that honeyward observations map to.

use serde::{Serialize, Serializer};

/// A MITRE ATT&CK (Enterprise) technique or sub-technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    /// T1046: a connection to or a banner grab of a decoy.
    NetworkServiceDiscovery,
    /// T1110.001: a password tried against a decoy.
    PasswordGuessing,
    /// T1190: exploit patterns (traversal, Log4Shell, injection) sent to a decoy.
    ExploitPublicFacingApplication,
    /// T1595.003: a wordlist walked against a web decoy (many 404s).
    WordlistScanning,
    /// T1059.004: commands typed into a decoy shell.
    UnixShell,
    /// T1021.004: an SSH session on a decoy.
    RemoteServicesSsh,
    /// T1078: a login with a planted (honeytoken) credential.
    ValidAccounts,
    /// T1552.001: a canary credential file opened, or its secret used.
    CredentialsInFiles,
    /// T1552.003: a password planted in a shell history used.
    ShellHistory,
    /// T1552.004: a planted private key used.
    PrivateKeys,
    /// T1213: honey patient data queried or retrieved.
    DataFromInformationRepositories,
    /// T1105: files pushed to a decoy (DICOM C-STORE).
    IngressToolTransfer,
    /// T1552.006: a password planted in a Group Policy Preferences file used.
    GroupPolicyPreferences,
    /// T1021.002: a Windows login over SMB (admin shares, lateral movement).
    SmbWindowsAdminShares,
    /// T1021.001: a login over Remote Desktop.
    RemoteDesktopProtocol,
    /// T1210: an exploit of a remote service (MS17-010, EternalBlue).
    ExploitationOfRemoteServices,
    /// T1557.001: LLMNR/NBT-NS poisoning (Responder, Inveigh).
    LlmnrNbtNsPoisoning,
    /// T1039: files listed or read on a honey share.
    DataFromNetworkSharedDrive,
}

impl Technique {
    /// The ATT&CK identifier, e.g. `T1046`.
    pub fn id(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "T1046",
            Technique::PasswordGuessing => "T1110.001",
            Technique::ExploitPublicFacingApplication => "T1190",
            Technique::WordlistScanning => "T1595.003",
            Technique::UnixShell => "T1059.004",
            Technique::RemoteServicesSsh => "T1021.004",
            Technique::ValidAccounts => "T1078",
            Technique::CredentialsInFiles => "T1552.001",
            Technique::ShellHistory => "T1552.003",
            Technique::PrivateKeys => "T1552.004",
            Technique::DataFromInformationRepositories => "T1213",
            Technique::IngressToolTransfer => "T1105",
            Technique::GroupPolicyPreferences => "T1552.006",
            Technique::SmbWindowsAdminShares => "T1021.002",
            Technique::RemoteDesktopProtocol => "T1021.001",
            Technique::ExploitationOfRemoteServices => "T1210",
            Technique::LlmnrNbtNsPoisoning => "T1557.001",
            Technique::DataFromNetworkSharedDrive => "T1039",
        }
    }

    /// Every technique honeyward reports.
    pub const ALL: [Technique; 18] = [
        Technique::NetworkServiceDiscovery,
        Technique::PasswordGuessing,
        Technique::ExploitPublicFacingApplication,
        Technique::WordlistScanning,
        Technique::UnixShell,
        Technique::RemoteServicesSsh,
        Technique::ValidAccounts,
        Technique::CredentialsInFiles,
        Technique::ShellHistory,
        Technique::PrivateKeys,
        Technique::DataFromInformationRepositories,
        Technique::IngressToolTransfer,
        Technique::GroupPolicyPreferences,
        Technique::SmbWindowsAdminShares,
        Technique::RemoteDesktopProtocol,
        Technique::ExploitationOfRemoteServices,
        Technique::LlmnrNbtNsPoisoning,
        Technique::DataFromNetworkSharedDrive,
    ];

    /// The technique with this ATT&CK identifier.
    pub fn from_id(id: &str) -> Option<Technique> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The ATT&CK name.
    pub fn name(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "Network Service Discovery",
            Technique::PasswordGuessing => "Brute Force: Password Guessing",
            Technique::ExploitPublicFacingApplication => "Exploit Public-Facing Application",
            Technique::WordlistScanning => "Active Scanning: Wordlist Scanning",
            Technique::UnixShell => "Command and Scripting Interpreter: Unix Shell",
            Technique::RemoteServicesSsh => "Remote Services: SSH",
            Technique::ValidAccounts => "Valid Accounts",
            Technique::CredentialsInFiles => "Unsecured Credentials: Credentials In Files",
            Technique::ShellHistory => "Unsecured Credentials: Shell History",
            Technique::PrivateKeys => "Unsecured Credentials: Private Keys",
            Technique::DataFromInformationRepositories => "Data from Information Repositories",
            Technique::IngressToolTransfer => "Ingress Tool Transfer",
            Technique::GroupPolicyPreferences => "Unsecured Credentials: Group Policy Preferences",
            Technique::SmbWindowsAdminShares => "Remote Services: SMB/Windows Admin Shares",
            Technique::RemoteDesktopProtocol => "Remote Services: Remote Desktop Protocol",
            Technique::ExploitationOfRemoteServices => "Exploitation of Remote Services",
            Technique::LlmnrNbtNsPoisoning => "Adversary-in-the-Middle: LLMNR/NBT-NS Poisoning and SMB Relay",
            Technique::DataFromNetworkSharedDrive => "Data from Network Shared Drive",
        }
    }
}

impl Serialize for Technique {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Technique", 2)?;
        st.serialize_field("id", self.id())?;
        st.serialize_field("name", self.name())?;
        st.end()
    }
}
