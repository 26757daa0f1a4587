//! `honeyward validate`: check a file, print a summary or every mistake.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Config, ConfigError, ConfigErrors, DecoyConfig, SinkConfig};
use crate::decoy::personality;

/// Prints `ok` and a summary line per decoy and sink, or every error (exit 1). The
/// decoys' personalities are read and checked too, as `run` would.
pub fn validate(path: &Path) -> ExitCode {
    match config::load_file(path).and_then(|cfg| summary(&cfg)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} error(s) in {}", errors.0.len(), path.display());
            ExitCode::from(1)
        }
    }
}

/// `ok` plus one line per decoy (with its personality, read as `run` reads it) and per
/// sink; every personality that cannot be read instead.
pub fn summary(cfg: &Config) -> Result<String, ConfigErrors> {
    let mut out = format!("ok: {} (sensor {}, store {})\n", cfg.origin, cfg.sensor.name, cfg.store.path.display());
    let mut errors = Vec::new();
    for d in &cfg.decoys {
        let detail = match decoy_detail(d, &cfg.cohort) {
            Ok(detail) => detail,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let l = d.limits();
        out.push_str(&format!(
            "decoy {} ({}) on {}: {detail}; max {} connections, {} per source, idle {} s, session {} s\n",
            d.name(),
            d.type_name(),
            d.listen(),
            l.max_connections,
            l.max_connections_per_source,
            l.idle_timeout.as_secs(),
            l.session_timeout.as_secs(),
        ));
    }
    for s in &cfg.sinks {
        let detail = match s {
            SinkConfig::Stdout(c) => format!("{} lines on standard output", c.format.as_str()),
            SinkConfig::File(c) => format!("{} lines appended to {}{}", c.format.as_str(), c.path.display(), if c.fsync { ", fsync per batch" } else { "" }),
            SinkConfig::Syslog(c) => format!(
                "{} to {} over {}, facility {}, SD-ID honeyward@{}",
                c.format.as_str(),
                c.address,
                match c.transport {
                    crate::config::SyslogTransport::Tcp => "TCP (octet counting)",
                    crate::config::SyslogTransport::Udp => "UDP",
                    crate::config::SyslogTransport::Tls => "TLS (octet counting, only the configured CA trusted)",
                },
                c.options.facility,
                c.options.enterprise_number
            ),
            SinkConfig::Controller(u) => {
                format!("every event to the controller {} as sensor {} (spool quota {} MiB)", u.url, u.credential.sensor, u.spool_max_bytes >> 20)
            }
            SinkConfig::Http(c) => {
                let body = match &c.body {
                    crate::config::HttpBody::Lines(f) => format!("{} lines", f.as_str()),
                    crate::config::HttpBody::Hec(o) => format!("HEC envelopes ({})", o.format.as_str()),
                    crate::config::HttpBody::Bulk { index } => format!("_bulk ECS into index {index}"),
                    crate::config::HttpBody::JsonEvents => "JSON events".to_string(),
                    crate::config::HttpBody::Chat(f) => format!("{f:?} messages"),
                };
                let auth = match &c.auth {
                    crate::config::HttpAuth::None => "no authentication".to_string(),
                    crate::config::HttpAuth::Bearer(s) | crate::config::HttpAuth::Splunk(s) | crate::config::HttpAuth::ApiKey(s) => {
                        format!("token from {}", s.origin())
                    }
                    crate::config::HttpAuth::Basic { username, password } => format!("user {username}, password from {}", password.origin()),
                };
                format!(
                    "{body} to {}, {auth}{}{}, timeout {} s",
                    c.url,
                    if c.gzip { ", gzip" } else { "" },
                    if c.incidents_only { ", one per incident" } else { "" },
                    c.timeout.as_secs()
                )
            }
        };
        out.push_str(&format!("sink {} ({}): {}\n", s.name(), s.type_name(), detail));
    }
    if let Some(c) = &cfg.console {
        out.push_str(&format!(
            "console on {} as {} (passkeys{}, sessions {} h) and /metrics\n",
            c.listen,
            c.origin(c.listen.port()),
            if c.password_login { " or passwords" } else { " only" },
            c.session.as_secs() / 3600
        ));
    }
    if let Some(m) = cfg.sensor.max_memory_mb {
        out.push_str(&format!("memory budget {m} MiB: decoys refuse new connections at it\n"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// What the summary says about one decoy: its banner, or its personality read as `run`
/// reads it.
fn decoy_detail(d: &DecoyConfig, cohort: &config::CohortConfig) -> Result<String, ConfigError> {
    Ok(match d {
        DecoyConfig::Tcp(t) => format!("banner {} bytes, capture {} bytes", t.banner.len(), t.capture_bytes),
        DecoyConfig::Http(h) => {
            let p = personality::http(h)?;
            let tls = match &h.tls {
                None => String::new(),
                Some(crate::config::TlsSource::Files { cert_file, .. }) => format!(", HTTPS with {}", cert_file.display()),
                Some(crate::config::TlsSource::Generated { common_name, .. }) => format!(", HTTPS with a generated certificate for {common_name}"),
            };
            let h2 = if h.tls.is_some() && p.http2 { " and h2" } else { "" };
            format!("personality {} (Server: {}){tls}{h2}", p.name, p.server.as_deref().unwrap_or("-"))
        }
        DecoyConfig::Dicom(d) => {
            let p = personality::dicom(d)?;
            format!(
                "personality {} (AE {}, implementation {} {}), {} synthetic patients{}, queries from unknown AEs {}{}, quarantine {} objects / {} MiB",
                p.name,
                d.ae_title.as_deref().unwrap_or(&p.ae_title),
                p.implementation_class_uid,
                p.implementation_version_name.as_deref().unwrap_or("-"),
                d.cohort_size.unwrap_or(cohort.patients),
                if d.cohort_size.is_some() || d.uid_root.is_some() { " (its own cohort)" } else { " (the shared cohort)" },
                match d.unknown_ae_queries.unwrap_or(p.unknown_ae_queries) {
                    config::UnknownAeQueries::Answer => "answered",
                    config::UnknownAeQueries::Abort => "aborted",
                },
                match p.idle_timeout_seconds.filter(|_| !d.limits.idle_timeout_set) {
                    Some(s) => format!(", ARTIM {} s and association idle {s} s (the product's, not the idle limit below)", p.artim_timeout_seconds),
                    None => String::new(),
                },
                d.quarantine_max_objects,
                d.quarantine_max_bytes >> 20
            )
        }
        DecoyConfig::Ssh(s) => {
            let p = personality::ssh(s)?;
            format!("personality {} ({}), failure delay {}", p.name, p.banner(), describe_delay(&p.failure_delay))
        }
        DecoyConfig::Poison(c) => {
            let protocols: Vec<&str> = c
                .protocols
                .iter()
                .map(|p| match p {
                    config::ResolutionProtocol::Llmnr => "LLMNR",
                    config::ResolutionProtocol::Nbns => "NBT-NS",
                    config::ResolutionProtocol::Mdns => "mDNS",
                })
                .collect();
            format!(
                "asks for {} over {} on {} every {} s (sends packets on that interface only)",
                c.names.join(", "),
                protocols.join(", "),
                c.interface,
                c.interval.as_secs()
            )
        }
        DecoyConfig::Rdp(r) => {
            let p = personality::rdp(r)?;
            format!(
                "personality {} (NLA required, NTLM as Windows {}), host {}\\{}, logins recorded and refused",
                p.name,
                p.ntlm.version,
                r.names.netbios_domain.as_deref().unwrap_or(&p.netbios_domain),
                r.names.netbios_name.as_deref().unwrap_or(&p.netbios_name)
            )
        }
        DecoyConfig::Hl7(h) => {
            let tls = if h.tls.is_some() { " over TLS" } else { "" };
            format!("personality {} (MLLP{tls}; patient queries answered from the cohort), messages of at most {} bytes", h.engine.name(), h.max_message_bytes)
        }
        DecoyConfig::Smb(s) => {
            let p = personality::smb(s)?;
            let dialects: Vec<String> = p.dialects.iter().map(|&d| crate::decoy::smb::negotiate::dialect_name(d)).collect();
            let who = if s.accept == config::AcceptPolicy::Tokens {
                let shares: Vec<String> = s
                    .shares
                    .iter()
                    .map(|sh| {
                        format!(
                            "{} ({} file{}{})",
                            sh.name,
                            sh.files.len(),
                            if sh.files.len() == 1 { "" } else { "s" },
                            if sh.patients { " and the honey patients" } else { "" }
                        )
                    })
                    .collect();
                format!("logins recorded, planted windows-password tokens let into read-only shares {}", shares.join(", "))
            } else {
                "logins recorded and refused".to_string()
            };
            format!(
                "personality {} (SMB {}), server {}\\{}, {who}",
                p.name,
                dialects.join(", "),
                s.names.netbios_domain.as_deref().unwrap_or(&p.netbios_domain),
                s.names.netbios_name.as_deref().unwrap_or(&p.netbios_name)
            )
        }
    })
}

/// A failure-delay model in words.
fn describe_delay(d: &crate::decoy::ssh::delay::FailureDelay) -> String {
    use crate::decoy::ssh::delay::FailureDelay;
    match d {
        FailureDelay::OpensshPam { pam_ms } => format!("as sshd with PAM ({pam_ms} ms requested, randomised, rounded per user)"),
        FailureDelay::Uniform { min_ms, max_ms } => format!("{min_ms}-{max_ms} ms"),
        FailureDelay::Fixed { ms } => format!("{ms} ms"),
    }
}
