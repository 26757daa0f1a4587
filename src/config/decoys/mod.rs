//! `decoys:` section: what each decoy is once checked (here), as written ([`raw`]),
//! and the checks between the two ([`check`]).

mod check;
mod raw;
mod shares;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub(super) use raw::RawDecoy;

/// What a PACS does with a query or retrieve (C-FIND, C-GET, C-MOVE) from a calling AE
/// it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownAeQueries {
    /// Answer it from the archive (storescp-like and permissive PACS).
    Answer,
    /// A-ABORT the association, as a stock Orthanc does when the AE is not among its
    /// modalities.
    Abort,
}

/// Limits every decoy enforces on its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_connections_per_source: usize,
    pub idle_timeout: Duration,
    /// Whether `idle_timeout_seconds` was written in the configuration; if not, an
    /// HTTP personality may keep its product's own timeouts instead (nginx: 60 s for a
    /// request head, 75 s for an idle keep-alive connection).
    pub idle_timeout_set: bool,
    pub session_timeout: Duration,
    pub max_session_bytes: u64,
}

/// One decoy, by protocol.
#[derive(Debug, Clone)]
pub enum DecoyConfig {
    Tcp(TcpDecoyConfig),
    Ssh(SshDecoyConfig),
    Http(HttpDecoyConfig),
    Dicom(DicomDecoyConfig),
    Smb(SmbDecoyConfig),
    Rdp(RdpDecoyConfig),
    Hl7(Hl7DecoyConfig),
    Poison(PoisonCanaryConfig),
}

impl DecoyConfig {
    /// The decoy's unique name.
    pub fn name(&self) -> &str {
        match self {
            DecoyConfig::Tcp(c) => &c.name,
            DecoyConfig::Ssh(c) => &c.name,
            DecoyConfig::Http(c) => &c.name,
            DecoyConfig::Dicom(c) => &c.name,
            DecoyConfig::Smb(c) => &c.name,
            DecoyConfig::Rdp(c) => &c.name,
            DecoyConfig::Hl7(c) => &c.name,
            DecoyConfig::Poison(c) => &c.name,
        }
    }

    /// The personality it wears, when its type has personalities.
    pub fn personality(&self) -> Option<&str> {
        match self {
            DecoyConfig::Ssh(c) => Some(&c.personality.name),
            DecoyConfig::Http(c) => Some(&c.personality.name),
            DecoyConfig::Dicom(c) => Some(&c.personality.name),
            DecoyConfig::Smb(c) => Some(&c.personality.name),
            DecoyConfig::Rdp(c) => Some(&c.personality.name),
            DecoyConfig::Tcp(_) | DecoyConfig::Hl7(_) | DecoyConfig::Poison(_) => None,
        }
    }

    /// The protocol, as written in `type:`.
    pub fn type_name(&self) -> &'static str {
        match self {
            DecoyConfig::Tcp(_) => "tcp",
            DecoyConfig::Ssh(_) => "ssh",
            DecoyConfig::Http(_) => "http",
            DecoyConfig::Dicom(_) => "dicom",
            DecoyConfig::Smb(_) => "smb",
            DecoyConfig::Rdp(_) => "rdp",
            DecoyConfig::Hl7(_) => "hl7",
            DecoyConfig::Poison(_) => "llmnr-canary",
        }
    }

    /// Where it listens.
    pub fn listen(&self) -> SocketAddr {
        match self {
            DecoyConfig::Tcp(c) => c.listen,
            DecoyConfig::Ssh(c) => c.listen,
            DecoyConfig::Http(c) => c.listen,
            DecoyConfig::Dicom(c) => c.listen,
            DecoyConfig::Smb(c) => c.listen,
            DecoyConfig::Rdp(c) => c.listen,
            DecoyConfig::Hl7(c) => c.listen,
            // It listens for answers to its own queries only, on a port of the system's.
            DecoyConfig::Poison(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }

    /// Its connection limits.
    pub fn limits(&self) -> ConnectionLimits {
        match self {
            DecoyConfig::Tcp(c) => c.limits,
            DecoyConfig::Ssh(c) => c.limits,
            DecoyConfig::Http(c) => c.limits,
            DecoyConfig::Dicom(c) => c.limits,
            DecoyConfig::Smb(c) => c.limits,
            DecoyConfig::Rdp(c) => c.limits,
            DecoyConfig::Hl7(c) => c.limits,
            DecoyConfig::Poison(c) => c.limits,
        }
    }
}

/// A TCP banner decoy.
#[derive(Debug, Clone)]
pub struct TcpDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    /// Sent as soon as a peer connects (may be empty).
    pub banner: Vec<u8>,
    /// How many of the peer's first bytes are kept in the `data_received` event.
    pub capture_bytes: usize,
    pub limits: ConnectionLimits,
}

/// Who an SSH decoy lets into its fake shell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AcceptPolicy {
    /// Nobody: every attempt is refused.
    #[default]
    Nobody,
    /// Active planted `ssh-password` and `ssh-key` tokens log in (ATT&CK T1078).
    Tokens,
    /// These username/password pairs log in.
    Credentials(Vec<(String, String)>),
}

/// Which personality a decoy wears, as the configuration names it: a built-in by name
/// or the path of a YAML file. The decoy that wears it reads and checks it (the
/// personality's types are the decoy's); `at` points back into the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalityChoice {
    pub name: String,
    pub at: super::ConfigError,
}

impl PersonalityChoice {
    /// A mistake in the chosen personality, reported at the configuration's line.
    pub fn error(&self, message: impl Into<String>, hint: impl Into<String>) -> super::ConfigError {
        let hint = hint.into();
        super::ConfigError { message: message.into(), hint: (!hint.is_empty()).then_some(hint), ..self.at.clone() }
    }

    /// The path of the personality's file, when it names one (not a built-in).
    pub fn is_path(&self) -> bool {
        self.name.contains('/') || self.name.ends_with(".yaml")
    }
}

/// An SSH decoy.
#[derive(Debug, Clone)]
pub struct SshDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// `failure_delay_ms`: one fixed delay for every counted failure, instead of the
    /// personality's model.
    pub failure_delay_ms: Option<u64>,
    pub accept: AcceptPolicy,
    pub limits: ConnectionLimits,
}

/// An HTTP decoy.
#[derive(Debug, Clone)]
pub struct HttpDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// HTTPS, when set.
    pub tls: Option<TlsSource>,
    pub limits: ConnectionLimits,
}

/// A DICOM decoy.
#[derive(Debug, Clone)]
pub struct DicomDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    pub ae_title: Option<String>,
    /// This decoy's own cohort size and UID root, when it overrides `cohort:`.
    pub cohort_size: Option<usize>,
    pub uid_root: Option<String>,
    pub quarantine_max_objects: u64,
    pub quarantine_max_bytes: u64,
    /// C-MOVE destinations: (AE title, address). Others are refused.
    pub move_destinations: Vec<(String, SocketAddr)>,
    /// Calling AE titles treated as known modalities (besides move destinations).
    pub known_aes: Vec<String>,
    /// Queries from other AEs: the decoy's choice, else the personality's.
    pub unknown_ae_queries: Option<UnknownAeQueries>,
    pub limits: ConnectionLimits,
}

/// A Windows host's names, where a decoy (or its personality) sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsNames {
    /// NetBIOS computer name (1 to 15 characters).
    pub netbios_name: Option<String>,
    /// NetBIOS domain or workgroup.
    pub netbios_domain: Option<String>,
    /// DNS domain (empty: none).
    pub dns_domain: Option<String>,
}

/// An SMB decoy.
#[derive(Debug, Clone)]
pub struct SmbDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// The server's names, where the decoy sets them (else the personality's).
    pub names: WindowsNames,
    /// `Nobody` or `Tokens` (an SMB decoy takes no password list).
    pub accept: AcceptPolicy,
    /// The honey shares a planted credential sees.
    pub shares: Vec<HoneyShare>,
    pub limits: ConnectionLimits,
}

/// A honey share of an SMB decoy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoneyShare {
    /// Its name, as configured (clients' names are compared without case).
    pub name: String,
    pub files: Vec<ShareFile>,
    /// A `Patients` folder with one DICOM file per honey patient.
    pub patients: bool,
}

/// One file of a honey share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareFile {
    /// The folders and the file's name, from the share's root.
    pub path: Vec<String>,
    pub content: ShareContent,
}

/// Where a honey file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareContent {
    /// A file on this host, read when the decoy starts.
    Source(std::path::PathBuf),
    /// Text from the configuration.
    Text(String),
}

/// The integration engine an HL7 decoy imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hl7Engine {
    /// NextGen Connect (Mirth Connect)'s MLLP listener with its auto-generated ACK.
    MirthConnect,
    /// Rovi/Lyniate Rhapsody's HL7 TCP communication point.
    Rhapsody,
    /// A plain HL7 2.5.1 listener.
    Generic251,
}

impl Hl7Engine {
    pub const ALL: [Hl7Engine; 3] = [Hl7Engine::MirthConnect, Hl7Engine::Rhapsody, Hl7Engine::Generic251];

    /// The name configurations use.
    pub fn name(self) -> &'static str {
        match self {
            Hl7Engine::MirthConnect => "mirth-connect",
            Hl7Engine::Rhapsody => "rhapsody",
            Hl7Engine::Generic251 => "generic-2.5.1",
        }
    }
}

/// An HL7 v2 (MLLP) decoy.
#[derive(Debug, Clone)]
pub struct Hl7DecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    /// The engine imitated.
    pub engine: Hl7Engine,
    /// The largest message taken.
    pub max_message_bytes: usize,
    /// MLLP over TLS with this certificate.
    pub tls: Option<TlsSource>,
    pub limits: ConnectionLimits,
}

/// An RDP decoy.
#[derive(Debug, Clone)]
pub struct RdpDecoyConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub personality: PersonalityChoice,
    /// The host's names, where the decoy sets them (else the personality's).
    pub names: WindowsNames,
    pub limits: ConnectionLimits,
}

/// A name-resolution protocol the poisoner canary asks over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResolutionProtocol {
    /// LLMNR (UDP 5355, multicast 224.0.0.252).
    Llmnr,
    /// NetBIOS name service (UDP 137, broadcast).
    Nbns,
    /// Multicast DNS (UDP 5353, 224.0.0.251), asking for unicast answers.
    Mdns,
}

/// The poisoner canary: the one component that sends packets. It asks the LAN, on one
/// interface, for honey names that do not exist; any answer is a poisoner.
#[derive(Debug, Clone)]
pub struct PoisonCanaryConfig {
    pub name: String,
    /// The interface it asks on (and only that one).
    pub interface: String,
    /// Host names no machine has (NetBIOS names: at most 15 characters).
    pub names: Vec<String>,
    pub interval: Duration,
    pub protocols: Vec<ResolutionProtocol>,
    /// A planted Windows account offered to a poisoner's SMB server, if any.
    pub offer: Option<OfferAccount>,
    pub limits: ConnectionLimits,
}

/// The planted Windows account a poisoner canary offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferAccount {
    pub account: String,
    pub domain: String,
}

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given by the operator (chain first, then the key).
    Files { cert_file: PathBuf, key_file: PathBuf },
    /// Generated once per decoy instance.
    Generated { common_name: String, organisation: String },
}
