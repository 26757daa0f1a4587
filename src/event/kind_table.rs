//! Each event kind's stable facts — numeric id, name, severity, ATT&CK technique —
//! and the lookups over them.

use super::{EventKind, KindId, Severity};
use crate::event::attack::Technique;

/// Static facts about each kind.
pub(super) struct KindInfo {
    pub(super) id: KindId,
    pub(super) name: &'static str,
    severity: Severity,
    technique: Option<Technique>,
}

pub(super) const KINDS: &[KindInfo] = &[
    KindInfo { id: 100, name: "connection_opened", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 101, name: "connection_closed", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 102, name: "data_received", severity: Severity::Medium, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 200, name: "ssh_auth", severity: Severity::Medium, technique: Some(Technique::PasswordGuessing) },
    KindInfo { id: 201, name: "ssh_client", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 202, name: "ssh_command", severity: Severity::High, technique: Some(Technique::UnixShell) },
    KindInfo { id: 203, name: "ssh_session_closed", severity: Severity::High, technique: Some(Technique::RemoteServicesSsh) },
    KindInfo { id: 204, name: "ssh_request_refused", severity: Severity::High, technique: Some(Technique::RemoteServicesSsh) },
    KindInfo { id: 300, name: "http_request", severity: Severity::Medium, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 400, name: "dicom_association", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 401, name: "dicom_command", severity: Severity::Medium, technique: Some(Technique::DataFromInformationRepositories) },
    KindInfo { id: 402, name: "dicom_store", severity: Severity::High, technique: Some(Technique::IngressToolTransfer) },
    KindInfo { id: 403, name: "dicom_release", severity: Severity::Low, technique: None },
    KindInfo { id: 600, name: "smb_negotiate", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 610, name: "ntlm_auth", severity: Severity::Medium, technique: Some(Technique::PasswordGuessing) },
    KindInfo { id: 630, name: "smb_exploit", severity: Severity::High, technique: Some(Technique::ExploitationOfRemoteServices) },
    KindInfo { id: 650, name: "smb_file", severity: Severity::High, technique: Some(Technique::DataFromNetworkSharedDrive) },
    KindInfo { id: 700, name: "hl7_message", severity: Severity::Medium, technique: Some(Technique::DataFromInformationRepositories) },
    KindInfo { id: 640, name: "name_poisoning", severity: Severity::High, technique: Some(Technique::LlmnrNbtNsPoisoning) },
    KindInfo { id: 620, name: "rdp_negotiate", severity: Severity::Low, technique: Some(Technique::NetworkServiceDiscovery) },
    KindInfo { id: 500, name: "file_opened", severity: Severity::High, technique: Some(Technique::CredentialsInFiles) },
    KindInfo { id: 501, name: "canary_missing", severity: Severity::High, technique: None },
    KindInfo { id: 900, name: "connections_refused", severity: Severity::Info, technique: None },
    KindInfo { id: 910, name: "sensor_refused", severity: Severity::High, technique: None },
    KindInfo { id: 911, name: "sensor_silent", severity: Severity::High, technique: None },
    KindInfo { id: 912, name: "spool_shed", severity: Severity::Medium, technique: None },
    KindInfo { id: 913, name: "store_full", severity: Severity::Critical, technique: None },
];

impl EventKind {
    fn info(&self) -> &'static KindInfo {
        let index = match self {
            EventKind::ConnectionOpened => 0,
            EventKind::ConnectionClosed { .. } => 1,
            EventKind::DataReceived { .. } => 2,
            EventKind::SshAuth { .. } => 3,
            EventKind::SshClient { .. } => 4,
            EventKind::SshCommand { .. } => 5,
            EventKind::SshSessionClosed { .. } => 6,
            EventKind::SshRequestRefused { .. } => 7,
            EventKind::HttpRequest { .. } => 8,
            EventKind::DicomAssociation { .. } => 9,
            EventKind::DicomCommand { .. } => 10,
            EventKind::DicomStore { .. } => 11,
            EventKind::DicomRelease { .. } => 12,
            EventKind::SmbNegotiate { .. } => 13,
            EventKind::NtlmAuth { .. } => 14,
            EventKind::SmbExploit { .. } => 15,
            EventKind::SmbFile { .. } => 16,
            EventKind::Hl7Message { .. } => 17,
            EventKind::NamePoisoning { .. } => 18,
            EventKind::RdpNegotiate { .. } => 19,
            EventKind::FileOpened { .. } => 20,
            EventKind::CanaryMissing { .. } => 21,
            EventKind::ConnectionsRefused { .. } => 22,
            EventKind::SensorRefused { .. } => 23,
            EventKind::SensorSilent { .. } => 24,
            EventKind::SpoolShed { .. } => 25,
            EventKind::StoreFull { .. } => 26,
        };
        &KINDS[index]
    }

    /// Kinds whose own severity is info or low (what a full spool may drop).
    pub fn low_severity_ids() -> Vec<KindId> {
        KINDS.iter().filter(|k| k.severity <= Severity::Low).map(|k| k.id).collect()
    }

    /// Stable numeric id.
    pub fn id(&self) -> KindId {
        self.info().id
    }

    /// Stable snake_case name, as used in `--kind` and in JSON.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// Severity of this observation on its own.
    pub fn severity(&self) -> Severity {
        match self {
            EventKind::HttpRequest { tags, .. } if tags.iter().any(|t| t == "exploit") => Severity::High,
            EventKind::NtlmAuth { accepted: true, .. } => Severity::High,
            _ => self.info().severity,
        }
    }

    /// The ATT&CK technique this observation is evidence of, if any.
    pub fn technique(&self) -> Option<Technique> {
        match self {
            EventKind::HttpRequest { tags, .. } if tags.iter().any(|t| t == "exploit") => Some(Technique::ExploitPublicFacingApplication),
            // A login (form, basic, bearer, an access key) is a credential tried, not discovery.
            EventKind::HttpRequest { credential: Some(_), .. } => Some(Technique::PasswordGuessing),
            EventKind::HttpRequest { tags, .. } if tags.iter().any(|t| t == "scanning") => Some(Technique::WordlistScanning),
            EventKind::DicomCommand { command, .. } if command == "C-ECHO" => Some(Technique::NetworkServiceDiscovery),
            EventKind::NtlmAuth { accepted: true, protocol, .. } if protocol == "smb" => Some(Technique::SmbWindowsAdminShares),
            EventKind::NtlmAuth { accepted: true, protocol, .. } if protocol == "rdp" => Some(Technique::RemoteDesktopProtocol),
            _ => self.info().technique,
        }
    }

    /// Looks up a kind's name by its numeric id.
    pub fn name_of(id: KindId) -> Option<&'static str> {
        KINDS.iter().find(|k| k.id == id).map(|k| k.name)
    }

    /// Looks up a kind's numeric id by its name.
    pub fn id_of(name: &str) -> Option<KindId> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.id)
    }

    /// All kind names, for help texts and errors.
    pub fn names() -> impl Iterator<Item = &'static str> {
        KINDS.iter().map(|k| k.name)
    }
}
