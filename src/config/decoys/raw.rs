//! The `decoys:` entries as written in YAML, one type per `type:`.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::spanned::At;

/// One decoy, tagged by `type`.
#[derive(JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RawDecoy {
    /// A TCP listener that sends a banner and records what the peer sends.
    Tcp(RawTcpDecoy),
    /// An SSH server that passes for OpenSSH and records every login attempt.
    Ssh(RawSshDecoy),
    /// A web server that answers like a real product and records every request.
    Http(RawHttpDecoy),
    /// A PACS that answers DICOM like a real product and serves honey patients.
    Dicom(RawDicomDecoy),
    /// A Windows or Samba file server that records every NTLM login and recognises
    /// planted Windows accounts.
    Smb(RawSmbDecoy),
    /// A Windows Remote Desktop host requiring NLA that records every NTLM login and
    /// recognises planted Windows accounts.
    Rdp(RawRdpDecoy),
    /// An HL7 v2 interface (MLLP) of an integration engine: every message recorded and
    /// acknowledged as the engine does.
    Hl7(RawHl7Decoy),
    /// Asks the LAN for honey names that do not exist (LLMNR, NBT-NS, mDNS): any answer
    /// is a Responder-style poisoner. The one component that sends packets.
    #[serde(rename = "llmnr-canary")]
    LlmnrCanary(RawPoisonCanary),
}

/// `type: tcp` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTcpDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (port 0 picks a free port).
    pub listen: At<String>,
    /// Text sent when a peer connects (YAML escapes such as `\r\n` work in double quotes).
    pub banner: Option<String>,
    /// Read the banner from this file instead (exact bytes).
    pub banner_file: Option<At<String>>,
    /// How many of the peer's first bytes to keep in the event (0..=1048576). Default 4096.
    pub capture_bytes: Option<At<u64>>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `type: ssh` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSshDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs (and to name its host keys).
    pub name: At<String>,
    /// Address to listen on, `IP:PORT`.
    pub listen: At<String>,
    /// Built-in personality (`openssh-debian12`, default; `openssh-debian13`,
    /// `openssh-ubuntu2204`, `openssh-ubuntu2404`, `dropbear-debian12`) or the path of
    /// your own personality YAML.
    pub personality: Option<At<String>>,
    /// Override the personality's failure-delay model (sshd's per-user PAM timing,
    /// Dropbear's 250-350 ms) with this fixed delay, in ms (0..=10000).
    pub failure_delay_ms: Option<At<u64>>,
    /// Who gets the fake shell: `nobody` (default), `tokens` (planted ssh-password and
    /// ssh-key tokens log in), or a list of `{username, password}`.
    pub accept: Option<RawAccept>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `accept:` of an SSH decoy.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(untagged)]
pub enum RawAccept {
    /// `nobody` or `tokens`.
    Mode(String),
    /// These username/password pairs log in.
    Credentials(Vec<RawCredential>),
}

/// One accepted username/password pair.
#[derive(Deserialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub username: String,
    pub password: String,
}

/// `type: http` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttpDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT`.
    pub listen: At<String>,
    /// Built-in personality (`nginx-default`, default; `ehr-login`, `pacs-viewer`,
    /// `nas-login`) or the path of your own YAML.
    pub personality: Option<At<String>>,
    /// Serve HTTPS (h2 too when the personality offers it).
    pub tls: Option<At<RawTls>>,
    /// Connection limits (`idle_timeout_seconds` is also the header-read timeout).
    pub limits: Option<RawLimits>,
}

/// `tls:` of an HTTPS or MLLP decoy: your certificate, or one generated for this decoy.
#[derive(Deserialize, JsonSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// PEM certificate chain (leaf first). With `key_file`.
    pub cert_file: Option<At<String>>,
    /// PEM private key. With `cert_file`.
    pub key_file: Option<At<String>>,
    /// Subject of a generated certificate (default: this host's name).
    pub common_name: Option<String>,
    /// Organisation of a generated certificate and its issuing CA (default `IT Services`).
    pub organisation: Option<String>,
}

/// `type: dicom` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDicomDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (104, 11112 or 4242 on a real sensor).
    pub listen: At<String>,
    /// Built-in personality (`orthanc`, default; `dcm4chee`, `dcmtk-storescp`) or the
    /// path of your own YAML.
    pub personality: Option<At<String>>,
    /// Our AE title (default: the personality's, e.g. ORTHANC).
    pub ae_title: Option<At<String>>,
    /// This archive's own number of synthetic patients, instead of `cohort.patients`
    /// (it then serves its own cohort, not the one the other decoys share).
    pub cohort_size: Option<At<u64>>,
    /// This archive's own UID root, instead of `cohort.uid_root`.
    pub uid_root: Option<At<String>>,
    /// Most C-STORE objects kept in quarantine (default 1000).
    pub quarantine_max_objects: Option<At<u64>>,
    /// Most bytes kept in quarantine (default 256 MiB).
    pub quarantine_max_bytes: Option<At<u64>>,
    /// C-MOVE destinations honeyward may send honey instances to: AE title →
    /// `IP:PORT`. A move to any other AE is refused (0xA801) without a connection.
    pub move_destinations: Option<std::collections::BTreeMap<String, At<String>>>,
    /// Calling AE titles this PACS knows as modalities (besides the move destinations):
    /// their queries are always answered.
    pub known_aes: Option<Vec<String>>,
    /// Queries and retrieves from any other AE: `answer` them, or `abort` the
    /// association as a stock Orthanc does. Default: the personality's (orthanc:
    /// abort; dcm4chee: answer).
    pub unknown_ae_queries: Option<At<super::UnknownAeQueries>>,
    /// Connection (association) limits; `idle_timeout_seconds` is the per-PDU deadline.
    pub limits: Option<RawLimits>,
}

/// `type: smb` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSmbDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (445, or 139 with the NetBIOS session service,
    /// on a real sensor).
    pub listen: At<String>,
    /// Built-in personality (`windows-server-2019-file`, default;
    /// `windows-server-2022-file`, `samba-debian12`, `windows-7-modality` with SMB1)
    /// or the path of your own YAML.
    pub personality: Option<At<String>>,
    /// The server's NetBIOS name (1 to 15 characters; default: the personality's).
    pub netbios_name: Option<At<String>>,
    /// Its NetBIOS domain or workgroup (default: the personality's).
    pub netbios_domain: Option<At<String>>,
    /// Its DNS domain (default: the personality's).
    pub dns_domain: Option<At<String>>,
    /// Who gets in: `nobody` (default: every login fails as a wrong password does) or
    /// `tokens` (planted windows-password tokens open a session on the honey shares).
    pub accept: Option<At<String>>,
    /// The honey shares a planted credential sees (with `accept: tokens`). Default:
    /// one share `Shared` holding the honey patients' images.
    pub shares: Option<Vec<RawShare>>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// One honey share of an SMB decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShare {
    /// The share's name (`Radiology`, `Finance$`), as clients ask for it.
    pub name: At<String>,
    /// Files in the share, each from a file on this host or from text.
    pub files: Option<Vec<RawShareFile>>,
    /// `true`: a `Patients` folder with one DICOM file per honey patient (every read
    /// of one is a critical hit on its patient token).
    pub patients: Option<bool>,
}

/// One file of a honey share.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShareFile {
    /// Where it is in the share, folders separated by `/` (`Reports/2026/waiting-list.csv`).
    pub path: At<String>,
    /// Its content: a file on this host, read when the decoy starts (at most 16 MiB).
    pub source: Option<At<String>>,
    /// Or its content as text.
    pub text: Option<String>,
}

/// `type: hl7` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHl7Decoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (2575, HL7's port, on a real sensor).
    pub listen: At<String>,
    /// The engine imitated: `mirth-connect` (default; NextGen Connect's MLLP listener
    /// and auto-generated ACK), `rhapsody` (its own control ids, zoned times) or
    /// `generic-2.5.1` (a plain 2.5.1 listener: every reply in 2.5.1).
    pub personality: Option<At<String>>,
    /// The largest message taken, in bytes (1024..=67108864). Default 1048576; a
    /// longer frame is recorded (its first 4 KiB) and not acknowledged.
    pub max_message_bytes: Option<At<u64>>,
    /// MLLP over TLS (as engines offer it on 6661 and similar): your certificate, or
    /// `tls: {}` for one generated for this decoy. Without it, plain MLLP.
    pub tls: Option<At<RawTls>>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `type: rdp` decoy.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRdpDecoy {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs (and to name its certificate).
    pub name: At<String>,
    /// Address to listen on, `IP:PORT` (3389 on a real sensor).
    pub listen: At<String>,
    /// Built-in personality (`windows-10-workstation-rdp`, default;
    /// `windows-server-2019-rdp`) or the path of your own YAML.
    pub personality: Option<At<String>>,
    /// The host's NetBIOS name (1 to 15 characters; default: the personality's).
    pub netbios_name: Option<At<String>>,
    /// Its NetBIOS domain (default: the personality's).
    pub netbios_domain: Option<At<String>>,
    /// Its DNS domain (default: the personality's).
    pub dns_domain: Option<At<String>>,
    /// Connection limits.
    pub limits: Option<RawLimits>,
}

/// `type: llmnr-canary`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPoisonCanary {
    #[serde(rename = "type")]
    #[schemars(skip)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Unique name, used in events and logs.
    pub name: At<String>,
    /// The network interface to ask on (e.g. `eth0`); nothing is sent on any other.
    pub interface: At<String>,
    /// Honey host names that exist nowhere (1 to 15 letters, digits or '-'), e.g.
    /// `PACS-BACKUP02`.
    pub names: At<Vec<String>>,
    /// Seconds between rounds of questions (1..=86400). Default 60.
    pub interval_seconds: Option<At<u64>>,
    /// Protocols to ask over (`llmnr`, `nbns`, `mdns`). Default all three.
    pub protocols: Option<Vec<super::ResolutionProtocol>>,
    /// Offer a planted Windows account to a poisoner: log in to the SMB server it runs
    /// at the address it claimed, so the NTLMv2 hash it captures is a honeytoken's
    /// (its later use at any decoy is a hit). Default: nothing is offered.
    pub offer: Option<RawOffer>,
}

/// `offer:` of a poisoner canary.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOffer {
    /// The account of a planted `windows-password` token (`svc_backup`).
    pub account: At<String>,
    /// The domain to log in with (default: NHSTRUST, the token's default).
    pub domain: Option<At<String>>,
}

/// Connection limits of a decoy.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Most simultaneous connections (1..=1000000). Default 1024.
    pub max_connections: Option<At<u64>>,
    /// Most simultaneous connections from one IP address (1..=1000000). Default 64.
    pub max_connections_per_source: Option<At<u64>>,
    /// Close a connection that sends nothing for this long (1..=86400). Default 30.
    pub idle_timeout_seconds: Option<At<u64>>,
    /// Close any connection after this long (1..=86400). Default 300.
    pub session_timeout_seconds: Option<At<u64>>,
    /// Close a connection after it sent this many bytes (1..=1073741824). Default 1048576.
    pub max_session_bytes: Option<At<u64>>,
}
