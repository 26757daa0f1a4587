//! The closed set of things honeyward observes, each with a stable numeric id,
//! a severity and an ATT&CK technique.

use serde::{Deserialize, Serialize};

use super::bytes::AttackerBytes;

/// Stable numeric id of an event kind (used as CEF signature id and in the store).
/// Never renumber a kind; add new ones.
pub type KindId = u16;

/// The count of an event that stands for one occurrence (older stores lack it).
fn one() -> u64 {
    1
}

/// How much an observation matters on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Housekeeping about the sensor itself.
    Info,
    /// Somebody touched a decoy: a connection, a banner grab.
    Low,
    /// Somebody interacted: sent data, tried to authenticate.
    Medium,
    /// Somebody did something deliberate inside a decoy.
    High,
    /// A honeytoken was used.
    Critical,
}

impl Severity {
    /// The name as serialized (`info` ... `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Every severity, least first.
    pub const ALL: [Severity; 5] = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// A stable number, ordered like the severities (what the store keeps).
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The severity with that [`rank`](Self::rank).
    pub fn from_rank(rank: i64) -> Option<Severity> {
        usize::try_from(rank).ok().and_then(|i| Severity::ALL.get(i).copied())
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The peer closed its side.
    PeerClosed,
    /// Nothing arrived within the idle timeout.
    IdleTimeout,
    /// The connection reached its overall deadline.
    SessionTimeout,
    /// The peer sent more than the byte cap.
    MaxBytes,
    /// honeyward is shutting down.
    Shutdown,
    /// The peer broke the protocol (e.g. no valid SSH identification line).
    ProtocolError,
    /// A network error (reset, broken pipe).
    Error,
    /// The imitated server's limit on unauthenticated connections turned it away
    /// (OpenSSH's MaxStartups, Dropbear's per-address cap), as the real one would.
    MaxStartups,
    /// Too many failed authentication attempts (the imitated server's MaxAuthTries).
    MaxAuthTries,
}

/// Which limit turned connections away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// The decoy's `max_connections`.
    MaxConnections,
    /// The decoy's `max_connections_per_source`.
    MaxConnectionsPerSource,
    /// The process's `sensor.max_memory_mb`.
    MaxMemory,
}

/// An SSH authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SshAuthMethod {
    None,
    Password,
    /// A public key offered (recorded before any signature is asked for).
    Publickey,
    KeyboardInteractive,
}

impl CloseReason {
    /// The serde name (`peer_closed`, ...), without serializing.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::PeerClosed => "peer_closed",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::SessionTimeout => "session_timeout",
            CloseReason::MaxBytes => "max_bytes",
            CloseReason::Shutdown => "shutdown",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::Error => "error",
            CloseReason::MaxStartups => "max_startups",
            CloseReason::MaxAuthTries => "max_auth_tries",
        }
    }
}

impl LimitKind {
    /// The serde name (`max_connections`, ...), without serializing.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::MaxConnections => "max_connections",
            LimitKind::MaxConnectionsPerSource => "max_connections_per_source",
            LimitKind::MaxMemory => "max_memory",
        }
    }
}

impl SshAuthMethod {
    /// The serde name (`password`, ...), without serializing.
    pub fn as_str(self) -> &'static str {
        match self {
            SshAuthMethod::None => "none",
            SshAuthMethod::Password => "password",
            SshAuthMethod::Publickey => "publickey",
            SshAuthMethod::KeyboardInteractive => "keyboard_interactive",
        }
    }
}

/// One request header, kept as a name/value pair (never turned into a JSON key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpHeader {
    pub name: AttackerBytes,
    pub value: AttackerBytes,
}

/// Credentials a request carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpCredential {
    /// `basic`, `bearer` or `aws-sigv4`.
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<AttackerBytes>,
    /// The password, token or access key id; removed when it is a planted token's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<AttackerBytes>,
}

/// What was observed. Serialized as `"kind": "<name>"` plus a `details` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "details", rename_all = "snake_case")]
pub enum EventKind {
    /// A peer connected to a decoy.
    ConnectionOpened,
    /// A connection ended.
    ConnectionClosed {
        /// How long it lasted.
        duration_ms: u64,
        /// Bytes received from the peer.
        bytes_in: u64,
        /// Bytes sent to the peer.
        bytes_out: u64,
        /// Why it ended.
        reason: CloseReason,
    },
    /// Data a peer sent to a banner decoy (the first `capture_bytes` of the connection).
    DataReceived {
        /// The bytes, exactly as received.
        data: AttackerBytes,
        /// True when the peer sent more than was captured.
        truncated: bool,
    },
    /// An SSH authentication attempt (always rejected unless the decoy accepts it).
    SshAuth {
        method: SshAuthMethod,
        username: AttackerBytes,
        /// The password tried; removed when it is a planted token's (the token names it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<AttackerBytes>,
        /// `SHA256:...` of an offered public key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_fingerprint: Option<String>,
        /// Algorithm named with an offered key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_algorithm: Option<String>,
        /// True when the attempt was let in.
        accepted: bool,
        /// The methods tried on this connection so far, this one last, e.g.
        /// `none,publickey,password`: the order tells client software apart.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        methods_tried: Option<String>,
    },
    /// What an SSH client announced before key exchange: its software and HASSH.
    SshClient {
        /// The identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10`.
        version: AttackerBytes,
        /// MD5 of `algorithms`: fingerprints the client software.
        hassh: String,
        /// `kex;ciphers;macs;compression` from the client's KEXINIT.
        algorithms: AttackerBytes,
        /// What the client's preferences settled on: `kex host-key cipher mac compression`
        /// (client to server; `-` for an AEAD cipher's MAC), absent when nothing matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negotiated: Option<String>,
    },
    /// A command line typed into (or `exec`ed in) the fake shell. Never executed.
    SshCommand {
        line: AttackerBytes,
        /// True for an `exec` request (`ssh host CMD`), false for a typed line.
        exec: bool,
    },
    /// A logged-in SSH session ended; its asciicast v2 recording.
    SshSessionClosed { recording: String, sha256: String, bytes: u64 },
    /// A request the decoy refused: port forwarding, SFTP/SCP subsystems.
    SshRequestRefused {
        /// `direct-tcpip`, `tcpip-forward`, `subsystem`.
        request: String,
        /// What was asked for (host:port, subsystem name).
        target: AttackerBytes,
    },
    /// An HTTP request to a decoy, with the status it was answered with.
    HttpRequest {
        method: AttackerBytes,
        target: AttackerBytes,
        version: String,
        /// At most 64 headers, each value capped (see `headers_truncated`).
        headers: Vec<HttpHeader>,
        headers_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_agent: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credential: Option<HttpCredential>,
        /// Body bytes received (read up to the body cap).
        body_bytes: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_sha256: Option<String>,
        /// The first bytes of the body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<AttackerBytes>,
        status: u16,
        /// `exploit` (T1190) and/or `scanning` (T1595.003).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
    },
    /// An A-ASSOCIATE-RQ and the decoy's answer.
    DicomAssociation {
        calling_ae: AttackerBytes,
        called_ae: AttackerBytes,
        /// The peer's Implementation Class UID and Version Name (they name its software).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        implementation_class_uid: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        implementation_version: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_pdu_length: Option<u32>,
        contexts: Vec<super::dicom::DicomContext>,
        accepted: bool,
        /// Why it was rejected (`called AE title not recognized`, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rejected: Option<String>,
    },
    /// A DIMSE command on an association, and how it was answered.
    DicomCommand {
        /// `C-ECHO`, `C-FIND`, `C-GET`, `C-MOVE`, `C-STORE`, or `0x....` for others.
        command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sop_class: Option<AttackerBytes>,
        /// Query/retrieve level (`PATIENT`, `STUDY`, `SERIES`, `IMAGE`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<AttackerBytes>,
        /// The identifier's keys (at most 64), as sent.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keys: Vec<super::dicom::DicomKey>,
        /// C-MOVE destination AE.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        move_destination: Option<AttackerBytes>,
        /// Archive records matched (C-FIND responses, C-GET sub-operations).
        matches: u32,
        /// Final DIMSE status answered.
        status: u16,
    },
    /// An object received by C-STORE: quarantined by hash, never parsed beyond its header.
    DicomStore {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sop_class: Option<AttackerBytes>,
        sop_instance_uid: AttackerBytes,
        bytes: u64,
        /// sha256 of the data set as received (the quarantine file's name).
        sha256: String,
        /// False when a quota refused it (then answered 0xA700, out of resources).
        quarantined: bool,
    },
    /// The end of an association: release, or abort by either side.
    DicomRelease {
        /// `release`, `abort-received`, `abort-sent`.
        how: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// What an SMB client offered in its NEGOTIATE, and the dialect the decoy chose.
    SmbNegotiate {
        /// `smb1` (an SMB1 NEGOTIATE, with dialect strings) or `smb2`.
        protocol: String,
        /// The dialects offered, comma-separated: SMB1 dialect strings, or SMB2
        /// revisions (`2.0.2,2.1,3.0,3.0.2,3.1.1`; others as `0x....`).
        dialects: AttackerBytes,
        /// The dialect answered (`3.1.1`, `2.???` for SMB2's wildcard), absent when the
        /// connection was dropped as the imitated server drops it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chosen: Option<String>,
        /// The client's GUID (SMB 2.1 and later), which stays the same across its
        /// connections.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_guid: Option<String>,
        /// True when the client requires signing.
        signing_required: bool,
    },
    /// An NTLM login (in SMB, RDP's CredSSP or HTTP), checked against planted Windows
    /// credentials and answered as the imitated server answers.
    NtlmAuth {
        /// `smb`, `rdp` or `http`.
        protocol: String,
        username: AttackerBytes,
        domain: AttackerBytes,
        workstation: AttackerBytes,
        /// `v2`, `v1` or `anonymous`.
        ntlm: String,
        /// The AUTHENTICATE message's NegotiateFlags, in hex.
        flags: String,
        /// The client's Windows version from its message (`10.0.19041`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_version: Option<String>,
        /// The service the client meant (MsvAvTargetName, e.g. `cifs/fs01`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<AttackerBytes>,
        /// The NTLMv2 response as hashcat mode 5600 takes it; removed when it is a
        /// planted token's (the token names it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hashcat: Option<AttackerBytes>,
        /// True when the login was let in.
        accepted: bool,
        /// The NT status answered (`STATUS_LOGON_FAILURE`, `STATUS_SUCCESS`).
        status: String,
    },
    /// A step of an SMB exploit (MS17-010: the check, EternalBlue's oversized
    /// transaction, DoublePulsar's ping): what was sent is quarantined by hash, never
    /// run.
    SmbExploit {
        /// `ms17-010-check`, `eternalblue`, `doublepulsar-ping`, `doublepulsar-exec`.
        stage: String,
        /// The SMB1 command it came in (`SMB_COM_TRANSACTION`, `SMB_COM_NT_TRANSACT`, ...).
        command: String,
        /// Bytes of payload received for this step.
        bytes: u64,
        /// sha256 of the payload (the quarantine file's name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        /// False when a quota kept it out of the quarantine.
        quarantined: bool,
    },
    /// A step inside an SMB session a planted Windows credential opened on a honey
    /// share: a tree connect, an open, a listing, a read (summed per open file), a
    /// refused write; each as the server answered it.
    SmbFile {
        /// `tree_connect`, `open`, `list`, `list_shares` (srvsvc), `query_info`, `read`,
        /// `write`, `set_info`, `flush` or `ioctl`.
        operation: String,
        /// The account the session logged in as (`DOMAIN\user`).
        user: AttackerBytes,
        /// The share, as the client named it (`\\server\share` without the server).
        share: AttackerBytes,
        /// The path inside the share, as the client named it (empty: the share's root).
        path: AttackerBytes,
        /// The NT status answered (`STATUS_SUCCESS`, `STATUS_ACCESS_DENIED`).
        status: String,
        /// Bytes read (for `read`: the file's bytes sent over every read of one open).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        /// What else the request said: a listing's pattern and count, an open's access
        /// and disposition, an information class.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<AttackerBytes>,
    },
    /// An HL7 v2 message (or what came instead of one) on an MLLP interface, and the
    /// acknowledgement the decoy sent, as the imitated engine sends it.
    Hl7Message {
        /// `message`, `no start block` (bytes outside any frame), `oversized` (over
        /// `max_message_bytes`), `unterminated` (the connection ended inside a frame),
        /// `not hl7` (a frame without an MSH).
        framing: String,
        /// MSH-9 as sent (`ADT^A01^ADT_A01`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_type: Option<AttackerBytes>,
        /// MSH-10, MSH-11 and MSH-12.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        control_id: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        processing_id: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<AttackerBytes>,
        /// MSH-3/MSH-4 and MSH-5/MSH-6 as `application/facility`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sending: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receiving: Option<AttackerBytes>,
        /// Patient identifiers (PID-2/3/4, QPD query values) and names (PID-5), comma-separated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patient_ids: Option<AttackerBytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patient_names: Option<AttackerBytes>,
        /// Segment ids in order, comma-separated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segments: Option<String>,
        /// MSA-1 of the acknowledgement sent (`AA`, `AE`, `AR`), when one was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ack: Option<String>,
        /// For a patient query, how many patients the answer named.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matches: Option<u32>,
        /// The frame's length, and its first 4 KiB as sent.
        bytes: u64,
        raw: AttackerBytes,
    },
    /// An answer to the poisoner canary's question for a name that exists nowhere: a
    /// Responder-style poisoner on the LAN (the event's source is its address).
    NamePoisoning {
        /// `llmnr`, `nbns` or `mdns`.
        protocol: String,
        /// The honey name it claimed, as its answer wrote it.
        name: AttackerBytes,
        /// The addresses it claimed the name has, comma-separated.
        addresses: String,
        /// The poisoner's MAC address, when the system's neighbour table knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<String>,
        /// What the canary's offer of a planted account to the poisoner's SMB server
        /// came to (`svc_backup to 10.0.0.66:445: STATUS_ACCESS_DENIED`), when it made one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offered: Option<String>,
    },
    /// An RDP client's X.224 Connection Request and the decoy's answer.
    RdpNegotiate {
        /// The cookie line as sent (`Cookie: mstshash=alice`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cookie: Option<AttackerBytes>,
        /// Its mstshash value: the user name the client was started with, or the tool.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mstshash: Option<AttackerBytes>,
        /// The security protocols asked for (`ssl`, `hybrid`, `rdstls`, `hybrid_ex`,
        /// `rdsaad`), comma-separated; `rdp` when none (standard RDP security).
        requested: String,
        /// The protocol chosen; absent when refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selected: Option<String>,
        /// Why it was refused (`hybrid_required_by_server`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused: Option<String>,
    },
    /// A watched canary file was opened on this host.
    FileOpened {
        /// The canary's path.
        path: String,
    },
    /// A watched canary file was deleted or moved away.
    CanaryMissing {
        /// The canary's path.
        path: String,
    },
    /// Connections turned away by a limit since the last such event (a counter, so
    /// that a flood is accounted for without one event per refused connection).
    ConnectionsRefused {
        /// How many were refused.
        count: u64,
        /// Which limit refused them.
        limit: LimitKind,
    },
    /// The controller refused a request claiming to come from a sensor (bad
    /// signature, stale or replayed request, unknown or revoked sensor).
    SensorRefused {
        /// The sensor name the request claimed (the last one, in a count of several).
        sensor: AttackerBytes,
        /// Why it was refused (the last reason, in a count of several).
        reason: String,
        /// Requests this event stands for: 1 for a source's first refusal in a minute,
        /// then the rest of that minute's in one event.
        #[serde(default = "one")]
        count: u64,
    },
    /// An enrolled sensor has not been heard from for longer than its window.
    SensorSilent {
        /// The silent sensor.
        sensor: String,
        /// Seconds since it was last heard from.
        silent_seconds: u64,
    },
    /// The sensor's spool reached its disk quota while the controller was away: the
    /// oldest low-severity events not yet forwarded were dropped.
    SpoolShed {
        /// How many events were dropped.
        events: u64,
        /// The first and last sequence numbers dropped.
        first_seq: u64,
        last_seq: u64,
    },
    /// The store (its size cap, or the disk) was full: events were counted and not
    /// stored. Recorded as soon as there is room again.
    StoreFull {
        /// How many events could not be stored.
        events: u64,
        /// How long the store was full, in seconds.
        full_seconds: u64,
    },
}

#[path = "kind_table.rs"]
mod table;
#[cfg(test)]
use table::KINDS;

/// `POST /login` answered 200, with this credential and these tags: a fixture for tests.
#[cfg(test)]
pub(crate) fn login_request(credential: Option<HttpCredential>, tags: &[&str]) -> EventKind {
    EventKind::HttpRequest {
        method: AttackerBytes::new("POST"),
        target: AttackerBytes::new("/login"),
        version: "HTTP/1.1".into(),
        headers: vec![],
        headers_truncated: false,
        user_agent: None,
        credential,
        body_bytes: 0,
        body_sha256: None,
        body: None,
        status: 200,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

#[cfg(test)]
#[path = "kind_tests.rs"]
pub(crate) mod tests;
