//! Validation of the `decoys:` entries, one function per decoy type.

use std::net::SocketAddr;
use std::time::Duration;

use marked_yaml::Node;

use super::raw::{RawAccept, RawDicomDecoy, RawHl7Decoy, RawHttpDecoy, RawLimits, RawPoisonCanary, RawRdpDecoy, RawSmbDecoy, RawSshDecoy, RawTcpDecoy, RawTls};
use super::*;
use crate::config::checker::Checker;
use crate::config::spanned::At;
use crate::config::ConfigError;

impl Checker<'_> {
    pub(in crate::config) fn decoys(&mut self, node: &Node) -> Vec<DecoyConfig> {
        let mut listens: Vec<(SocketAddr, String)> = Vec::new();
        let mut out = Vec::new();
        for (item, kind) in self.items(node, "decoys") {
            let decoy = match kind.value.as_str() {
                "tcp" => self.parse::<RawTcpDecoy>(item).map(|raw| self.tcp_decoy(raw, &mut listens)),
                "ssh" => self.parse::<RawSshDecoy>(item).and_then(|raw| self.ssh_decoy(raw, &mut listens)),
                "http" => self.parse::<RawHttpDecoy>(item).and_then(|raw| self.http_decoy(raw, &mut listens)),
                "dicom" => self.parse::<RawDicomDecoy>(item).and_then(|raw| self.dicom_decoy(raw, &mut listens)),
                "smb" => self.parse::<RawSmbDecoy>(item).map(|raw| self.smb_decoy(raw, &mut listens)),
                "rdp" => self.parse::<RawRdpDecoy>(item).map(|raw| self.rdp_decoy(raw, &mut listens)),
                "hl7" => self.parse::<RawHl7Decoy>(item).map(|raw| self.hl7_decoy(raw, &mut listens)),
                "llmnr-canary" => self.parse::<RawPoisonCanary>(item).map(|raw| self.poison_canary(raw)),
                _ => self.unknown_type(&kind, "decoy", "tcp, ssh, http, dicom, smb, rdp, hl7, llmnr-canary"),
            };
            out.extend(decoy);
        }
        out
    }

    /// The personality a decoy names (`default` when it names none). The decoy reads
    /// and checks it; this only keeps where in the file it was named.
    fn personality(&self, wanted: Option<&At<String>>, default: &str, position: Option<(usize, usize)>) -> PersonalityChoice {
        let (name, position) = wanted.map_or((default.to_string(), position), |w| (w.value.clone(), w.position));
        PersonalityChoice { name, at: ConfigError { file: self.file.to_string(), position, message: String::new(), hint: None } }
    }

    fn listen(&mut self, listen: &At<String>, name: &str, taken: &mut Vec<(SocketAddr, String)>) -> SocketAddr {
        let Ok(addr) = listen.value.parse::<SocketAddr>() else {
            self.error(listen.position, format!("invalid listen address {:?}", listen.value), "write IP:PORT, e.g. 127.0.0.1:2323, 0.0.0.0:22 or [::1]:2323");
            return SocketAddr::from(([127, 0, 0, 1], 0));
        };
        if addr.port() != 0 {
            let clash = taken.iter().find(|(a, _)| a.port() == addr.port() && (a.ip() == addr.ip() || a.ip().is_unspecified() || addr.ip().is_unspecified()));
            if let Some((a, other)) = clash {
                self.error(
                    listen.position,
                    format!("decoy `{name}` listens on {addr}, which decoy `{other}` already uses ({a})"),
                    "give each decoy its own port",
                );
            }
            taken.push((addr, name.to_string()));
        }
        addr
    }

    fn limits(&mut self, raw: Option<RawLimits>) -> ConnectionLimits {
        self.limits_with(raw, 1 << 20)
    }

    /// Limits whose byte cap defaults to `default_bytes`.
    fn limits_with(&mut self, raw: Option<RawLimits>, default_bytes: u64) -> ConnectionLimits {
        let raw = raw.unwrap_or_default();
        ConnectionLimits {
            max_connections: self.number(&raw.max_connections, "max_connections", 1024, 1..=1_000_000) as usize,
            max_connections_per_source: self.number(&raw.max_connections_per_source, "max_connections_per_source", 64, 1..=1_000_000) as usize,
            idle_timeout: Duration::from_secs(self.number(&raw.idle_timeout_seconds, "idle_timeout_seconds", 30, 1..=86_400)),
            idle_timeout_set: raw.idle_timeout_seconds.is_some(),
            session_timeout: Duration::from_secs(self.number(&raw.session_timeout_seconds, "session_timeout_seconds", 300, 1..=86_400)),
            max_session_bytes: self.number(&raw.max_session_bytes, "max_session_bytes", default_bytes, 1..=1 << 30),
        }
    }

    fn tcp_decoy(&mut self, raw: RawTcpDecoy, listens: &mut Vec<(SocketAddr, String)>) -> DecoyConfig {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let banner = match (&raw.banner, &raw.banner_file) {
            (Some(_), Some(f)) => {
                self.error(f.position, "set either `banner` or `banner_file`, not both", "");
                Vec::new()
            }
            (_, Some(f)) => match std::fs::read(&f.value) {
                Ok(bytes) if bytes.len() <= 65536 => bytes,
                Ok(_) => {
                    self.error(f.position, format!("banner file {} is larger than 64 KiB", f.value), "a banner is the first few lines a service sends");
                    Vec::new()
                }
                Err(e) => {
                    self.error(
                        f.position,
                        format!("cannot read banner file {}: {e}", f.value),
                        "check the path (relative paths start from the working directory)",
                    );
                    Vec::new()
                }
            },
            (Some(b), None) => b.clone().into_bytes(),
            (None, None) => Vec::new(),
        };
        DecoyConfig::Tcp(TcpDecoyConfig {
            name: raw.name.value,
            listen,
            banner,
            capture_bytes: self.number(&raw.capture_bytes, "capture_bytes", 4096, 0..=1 << 20) as usize,
            limits: self.limits(raw.limits),
        })
    }

    fn ssh_decoy(&mut self, raw: RawSshDecoy, listens: &mut Vec<(SocketAddr, String)>) -> Option<DecoyConfig> {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let personality = self.personality(raw.personality.as_ref(), "openssh-debian12", raw.name.position);
        let failure_delay_ms = raw.failure_delay_ms.is_some().then(|| self.number(&raw.failure_delay_ms, "failure_delay_ms", 0, 0..=10_000));
        let limits = self.limits(raw.limits);
        let accept = match raw.accept {
            None => AcceptPolicy::Nobody,
            Some(RawAccept::Mode(m)) if m == "nobody" => AcceptPolicy::Nobody,
            Some(RawAccept::Mode(m)) if m == "tokens" => AcceptPolicy::Tokens,
            Some(RawAccept::Mode(m)) => {
                self.error(
                    raw.name.position,
                    format!("decoy `{}`: unknown accept mode `{m}`", raw.name.value),
                    "accept: nobody, tokens, or a list of {username, password}",
                );
                AcceptPolicy::Nobody
            }
            Some(RawAccept::Credentials(list)) => AcceptPolicy::Credentials(list.into_iter().map(|c| (c.username, c.password)).collect()),
        };
        Some(DecoyConfig::Ssh(SshDecoyConfig { name: raw.name.value, listen, personality, failure_delay_ms, accept, limits }))
    }

    fn http_decoy(&mut self, raw: RawHttpDecoy, listens: &mut Vec<(SocketAddr, String)>) -> Option<DecoyConfig> {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let personality = self.personality(raw.personality.as_ref(), "nginx-default", raw.name.position);
        let limits = self.limits(raw.limits);
        let tls = raw.tls.map(|t| self.tls(t));
        Some(DecoyConfig::Http(HttpDecoyConfig { name: raw.name.value, listen, personality, tls, limits }))
    }

    fn dicom_decoy(&mut self, raw: RawDicomDecoy, listens: &mut Vec<(SocketAddr, String)>) -> Option<DecoyConfig> {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let personality = self.personality(raw.personality.as_ref(), "orthanc", raw.name.position);
        let ae_title = raw.ae_title.map(|ae| {
            let ok = !ae.value.trim().is_empty() && ae.value.len() <= 16 && ae.value.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\');
            if !ok {
                self.error(ae.position, format!("AE title {:?} is not valid", ae.value), "1 to 16 printable ASCII characters, no backslash, e.g. PACS01");
            }
            ae.value
        });
        let uid_root = self.uid_root(raw.uid_root);
        Some(DecoyConfig::Dicom(DicomDecoyConfig {
            name: raw.name.value,
            listen,
            personality,
            ae_title,
            cohort_size: raw.cohort_size.as_ref().map(|_| self.number(&raw.cohort_size, "cohort_size", 40, 0..=10_000) as usize),
            uid_root,
            quarantine_max_objects: self.number(&raw.quarantine_max_objects, "quarantine_max_objects", 1000, 0..=10_000_000),
            quarantine_max_bytes: self.number(&raw.quarantine_max_bytes, "quarantine_max_bytes", 256 << 20, 0..=1 << 40),
            move_destinations: raw
                .move_destinations
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(ae, addr)| match addr.value.parse::<SocketAddr>() {
                    Ok(a) if !ae.is_empty() && ae.len() <= 16 => Some((ae, a)),
                    _ => {
                        self.error(
                            addr.position,
                            format!("move destination {ae}: {:?} is not IP:PORT (or the AE title is not 1 to 16 characters)", addr.value),
                            "e.g. ARCHIVE2: 10.20.0.7:104",
                        );
                        None
                    }
                })
                .collect(),
            known_aes: raw.known_aes.unwrap_or_default().into_iter().map(|ae| ae.trim().to_string()).collect(),
            unknown_ae_queries: raw.unknown_ae_queries.map(|q| q.value),
            limits: self.limits_with(raw.limits, 64 << 20),
        }))
    }

    fn smb_decoy(&mut self, raw: RawSmbDecoy, listens: &mut Vec<(SocketAddr, String)>) -> DecoyConfig {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let personality = self.personality(raw.personality.as_ref(), "windows-server-2019-file", raw.name.position);
        let names = self.windows_names(raw.netbios_name, raw.netbios_domain, raw.dns_domain);
        let accept = match raw.accept {
            None => AcceptPolicy::Nobody,
            Some(a) if a.value == "nobody" => AcceptPolicy::Nobody,
            Some(a) if a.value == "tokens" => AcceptPolicy::Tokens,
            Some(a) => {
                self.error(a.position, format!("decoy `{}`: unknown accept mode `{}`", raw.name.value, a.value), "accept: nobody or tokens");
                AcceptPolicy::Nobody
            }
        };
        let shares = self.shares(raw.shares);
        DecoyConfig::Smb(SmbDecoyConfig { name: raw.name.value, listen, personality, names, accept, shares, limits: self.limits(raw.limits) })
    }

    fn rdp_decoy(&mut self, raw: RawRdpDecoy, listens: &mut Vec<(SocketAddr, String)>) -> DecoyConfig {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let personality = self.personality(raw.personality.as_ref(), "windows-10-workstation-rdp", raw.name.position);
        let names = self.windows_names(raw.netbios_name, raw.netbios_domain, raw.dns_domain);
        DecoyConfig::Rdp(RdpDecoyConfig { name: raw.name.value, listen, personality, names, limits: self.limits(raw.limits) })
    }

    fn hl7_decoy(&mut self, raw: RawHl7Decoy, listens: &mut Vec<(SocketAddr, String)>) -> DecoyConfig {
        let listen = self.listen(&raw.listen, &raw.name.value, listens);
        let engine = match raw.personality.as_ref() {
            None => Hl7Engine::MirthConnect,
            Some(p) => Hl7Engine::ALL.into_iter().find(|e| e.name() == p.value).unwrap_or_else(|| {
                let names: Vec<&str> = Hl7Engine::ALL.iter().map(|e| e.name()).collect();
                self.error(p.position, format!("unknown HL7 personality `{}`", p.value), names.join(", "));
                Hl7Engine::MirthConnect
            }),
        };
        let max_message_bytes = self.number(&raw.max_message_bytes, "max_message_bytes", 1 << 20, 1024..=64 << 20) as usize;
        // A session may carry many messages, and the 10 MB frames an attacker tries.
        let tls = raw.tls.map(|t| self.tls(t));
        DecoyConfig::Hl7(Hl7DecoyConfig { name: raw.name.value, listen, engine, max_message_bytes, tls, limits: self.limits_with(raw.limits, 64 << 20) })
    }

    fn poison_canary(&mut self, raw: RawPoisonCanary) -> DecoyConfig {
        let interface = raw.interface.value.clone();
        if interface.is_empty() || interface.len() > 15 || interface.contains(['/', ' ', '\0']) {
            self.error(raw.interface.position, format!("{interface:?} is not a network interface name"), "e.g. eth0 (see `ip link`)");
        }
        let names = raw.names.value.clone();
        let bad = names.iter().find(|n| n.is_empty() || n.len() > 15 || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if names.is_empty() || bad.is_some() {
            self.error(
                raw.names.position,
                format!("honey names must be 1 to 15 letters, digits or '-'{}", bad.map(|b| format!(" ({b:?} is not)")).unwrap_or_default()),
                "names that no machine has, e.g. [PACS-BACKUP02, FILESRV-OLD]",
            );
        }
        let interval = Duration::from_secs(self.number(&raw.interval_seconds, "interval_seconds", 60, 1..=86_400));
        let protocols = raw.protocols.unwrap_or_else(|| vec![ResolutionProtocol::Llmnr, ResolutionProtocol::Nbns, ResolutionProtocol::Mdns]);
        let offer = raw.offer.map(|o| {
            let name_ok = |s: &str, max: usize| (1..=max).contains(&s.len()) && !s.contains(['\\', '/', '@', ':', '\0', ' ']);
            if !name_ok(&o.account.value, 104) {
                self.error(
                    o.account.position,
                    format!("{:?} is not a Windows account name", o.account.value),
                    "the --username of a windows-password token, e.g. svc_backup",
                );
            }
            let domain = o.domain.map_or_else(
                || "NHSTRUST".to_string(),
                |d| {
                    if !name_ok(&d.value, 255) {
                        self.error(d.position, format!("{:?} is not a domain name", d.value), "a NetBIOS or DNS domain, e.g. NHSTRUST");
                    }
                    d.value
                },
            );
            OfferAccount { account: o.account.value, domain }
        });
        DecoyConfig::Poison(PoisonCanaryConfig { name: raw.name.value, interface, names, interval, protocols, offer, limits: self.limits(None) })
    }

    /// A Windows host's names, each checked where it is written.
    fn windows_names(&mut self, netbios_name: Option<At<String>>, netbios_domain: Option<At<String>>, dns_domain: Option<At<String>>) -> WindowsNames {
        let mut netbios = |name: Option<At<String>>, what: &str| {
            name.map(|n| {
                let ok = (1..=15).contains(&n.value.len()) && n.value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    self.error(n.position, format!("{what} {:?} is not a NetBIOS name", n.value), "1 to 15 letters, digits, '-' or '_', e.g. FILESRV01");
                }
                n.value
            })
        };
        let netbios_name = netbios(netbios_name, "netbios_name");
        let netbios_domain = netbios(netbios_domain, "netbios_domain");
        let dns_domain = dns_domain.map(|d| {
            let ok =
                d.value.len() <= 253 && d.value.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            if !ok {
                self.error(d.position, format!("dns_domain {:?} is not a DNS name", d.value), "e.g. trust.nhs.local");
            }
            d.value
        });
        WindowsNames { netbios_name, netbios_domain, dns_domain }
    }

    fn tls(&mut self, raw: At<RawTls>) -> TlsSource {
        let generated = |raw: RawTls| TlsSource::Generated {
            common_name: raw.common_name.unwrap_or_else(crate::config::host_name),
            organisation: raw.organisation.unwrap_or_else(|| "IT Services".into()),
        };
        let position = raw.position;
        match (&raw.value.cert_file, &raw.value.key_file) {
            (None, None) => generated(raw.value),
            (Some(cert), Some(key)) => {
                if let Err(e) = crate::pem::chain_and_key(cert.value.as_ref(), key.value.as_ref()) {
                    self.error(cert.position, format!("TLS certificate: {e}"), "cert_file is a PEM chain (leaf first), key_file its PEM private key");
                }
                TlsSource::Files { cert_file: cert.value.clone().into(), key_file: key.value.clone().into() }
            }
            _ => {
                self.error(position, "set both `cert_file` and `key_file`, or neither (a certificate is then generated)", "");
                generated(raw.value)
            }
        }
    }
}
