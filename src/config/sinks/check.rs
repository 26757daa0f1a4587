//! Checking the `sinks:` section: stdout, file, syslog and the HTTP sinks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::Node;

use super::raw::{RawFileSink, RawHttpSink, RawSinkFilter, RawStdoutSink, RawSyslogSink};
use super::*;
use crate::config::checker::Checker;
use crate::config::secret::Secret;
use crate::config::spanned::At;
use crate::config::url::SinkUrl;

impl Checker<'_> {
    pub(in crate::config) fn sinks(&mut self, node: &Node) -> Vec<SinkConfig> {
        let mut out = Vec::new();
        for (item, kind) in self.items(node, "sinks") {
            let sink = match kind.value.as_str() {
                "stdout" => self.parse::<RawStdoutSink>(item).map(|raw| {
                    SinkConfig::Stdout(StdoutSinkConfig {
                        name: raw.name.value,
                        format: raw.format.unwrap_or_default(),
                        filter: self.sink_filter(raw.filter),
                        incidents_only: raw.incidents_only.unwrap_or(false),
                    })
                }),
                "file" => self.parse::<RawFileSink>(item).map(|raw| {
                    let path = self.path_in_existing_dir(&raw.path, "path");
                    SinkConfig::File(FileSinkConfig {
                        name: raw.name.value,
                        path,
                        format: raw.format.unwrap_or_default(),
                        fsync: raw.fsync.unwrap_or(true),
                        filter: self.sink_filter(raw.filter),
                        incidents_only: raw.incidents_only.unwrap_or(false),
                    })
                }),
                "syslog" => self.parse::<RawSyslogSink>(item).map(|raw| self.syslog_sink(raw)),
                "http" => self.parse::<RawHttpSink>(item).and_then(|raw| self.http_sink(raw, HttpSinkKind::Http)),
                "splunk_hec" => self.parse::<RawHttpSink>(item).and_then(|raw| self.http_sink(raw, HttpSinkKind::SplunkHec)),
                "elastic" => self.parse::<RawHttpSink>(item).and_then(|raw| self.http_sink(raw, HttpSinkKind::Elastic)),
                "webhook" => self.parse::<RawHttpSink>(item).and_then(|raw| self.http_sink(raw, HttpSinkKind::Webhook)),
                _ => self.unknown_type(&kind, "sink", "stdout, file, syslog, http, splunk_hec, elastic, webhook"),
            };
            out.extend(sink);
        }
        out
    }
    fn syslog_sink(&mut self, raw: RawSyslogSink) -> SinkConfig {
        let address = raw.address.value.parse::<SocketAddr>().unwrap_or_else(|_| {
            self.error(
                raw.address.position,
                format!("invalid syslog address {:?}", raw.address.value),
                "write IP:PORT, e.g. 10.20.0.9:514 (UDP/TCP) or 10.20.0.9:6514 (TLS)",
            );
            SocketAddr::from(([127, 0, 0, 1], 514))
        });
        let transport = match raw.transport.as_ref().map(|t| t.value.as_str()) {
            None | Some("tcp") => SyslogTransport::Tcp,
            Some("udp") => SyslogTransport::Udp,
            Some("tls") => SyslogTransport::Tls,
            Some(other) => {
                let position = raw.transport.as_ref().and_then(|t| t.position);
                self.error(position, format!("unknown syslog transport `{other}`"), "transport: tcp (octet counting), tls (RFC 5425) or udp");
                SyslogTransport::Tcp
            }
        };
        let tls = match (transport, raw.tls) {
            (SyslogTransport::Tls, None) => {
                self.error(
                    raw.name.position,
                    format!("sink `{}` uses transport tls but has no `tls:` section", raw.name.value),
                    "tls: {ca_file: /etc/honeyward/siem-ca.pem}",
                );
                None
            }
            (SyslogTransport::Tls, Some(t)) => {
                let t = t.value;
                if let Err(e) = crate::pem::certificates(std::path::Path::new(&t.ca_file.value)) {
                    self.error(t.ca_file.position, format!("TLS CA file: {e}"), "a PEM file with the CA certificate(s) of the collector");
                }
                let client = match (&t.cert_file, &t.key_file) {
                    (Some(c), Some(k)) => Some((c.value.clone().into(), k.value.clone().into())),
                    (None, None) => None,
                    (Some(c), None) | (None, Some(c)) => {
                        self.error(c.position, "set both `cert_file` and `key_file` for a client certificate, or neither", "");
                        None
                    }
                };
                Some(SyslogTls { ca_file: t.ca_file.value.into(), server_name: t.server_name.unwrap_or_else(|| address.ip().to_string()), client })
            }
            (_, Some(t)) => {
                self.error(t.position, "`tls:` is only used with transport: tls", "set transport: tls, or remove tls:");
                None
            }
            (_, None) => None,
        };
        let defaults = SyslogOptions::default();
        let options = SyslogOptions {
            facility: self.number(&raw.facility, "facility", u64::from(defaults.facility), 0..=23) as u8,
            enterprise_number: self.number(&raw.enterprise_number, "enterprise_number", u64::from(defaults.enterprise_number), 1..=4_294_967_295) as u32,
        };
        let filter = self.sink_filter(raw.filter);
        SinkConfig::Syslog(SyslogSinkConfig {
            name: raw.name.value,
            address,
            transport,
            options,
            format: raw.format.unwrap_or(EventFormat::Rfc5424),
            tls,
            filter,
            incidents_only: raw.incidents_only.unwrap_or(false),
        })
    }

    fn sink_filter(&mut self, raw: Option<RawSinkFilter>) -> SinkFilter {
        use crate::event::{EventKind, Severity};
        let raw = raw.unwrap_or_default();
        let min_severity = raw.min_severity.and_then(|s| {
            let parsed = match s.value.as_str() {
                "info" => Some(Severity::Info),
                "low" => Some(Severity::Low),
                "medium" => Some(Severity::Medium),
                "high" => Some(Severity::High),
                "critical" => Some(Severity::Critical),
                _ => None,
            };
            if parsed.is_none() {
                self.error(s.position, format!("unknown severity `{}`", s.value), "info, low, medium, high or critical");
            }
            parsed
        });
        let kinds = raw
            .kinds
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| {
                if EventKind::id_of(&k.value).is_none() {
                    let names: Vec<&str> = EventKind::names().collect();
                    self.error(k.position, format!("unknown event kind `{}`", k.value), format!("kinds are: {}", names.join(", ")));
                    return None;
                }
                Some(k.value)
            })
            .collect();
        let decoys = raw.decoys.unwrap_or_default().into_iter().map(|d| d.value).collect();
        SinkFilter { min_severity, kinds, decoys }
    }

    /// A secret from `*_env` or `*_file` (at most one of them).
    fn secret(&mut self, env: &Option<At<String>>, file: &Option<At<String>>, what: &str) -> Option<Secret> {
        let (read, position) = match (env, file) {
            (Some(e), None) => (Secret::from_env(&e.value), e.position),
            (None, Some(f)) => (Secret::from_file(std::path::Path::new(&f.value)), f.position),
            (None, None) => return None,
            (Some(e), Some(_)) => {
                self.error(e.position, format!("set either {what}_env or {what}_file, not both"), "");
                return None;
            }
        };
        read.map_err(|e| {
            self.error(
                position,
                e.to_string(),
                format!("secrets are read from an environment variable ({what}_env) or a file ({what}_file), never written in the configuration"),
            )
        })
        .ok()
    }

    fn sink_url(&mut self, raw: &RawHttpSink, kind: HttpSinkKind) -> Option<(SinkUrl, Option<(usize, usize)>)> {
        let (text, position, secret) = match (&raw.url, &raw.url_env, &raw.url_file) {
            (Some(u), None, None) => (u.value.clone(), u.position, false),
            (None, None, None) => {
                self.error(
                    raw.name.position,
                    format!("sink `{}` needs `url` (or url_env / url_file)", raw.name.value),
                    "url: https://siem.example.nhs.uk:8088",
                );
                return None;
            }
            (None, env, file) => {
                let position = env.as_ref().or(file.as_ref()).and_then(|a| a.position);
                (self.secret(env, file, "url")?.expose().to_string(), position, true)
            }
            _ => {
                self.error(raw.name.position, "set only one of url, url_env and url_file", "");
                return None;
            }
        };
        let uri = match text.parse::<hyper::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => u,
            _ => {
                let shown = if secret { "(from a secret)".to_string() } else { format!("{text:?}") };
                self.error(position, format!("invalid URL {shown}"), "write http(s)://HOST[:PORT]/PATH");
                return None;
            }
        };
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let mut path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        match kind {
            HttpSinkKind::SplunkHec if path == "/" => path = "/services/collector/event".into(),
            HttpSinkKind::Elastic if !path.split('?').next().unwrap_or("").ends_with("/_bulk") => {
                let (p, q) = path.split_once('?').map(|(p, q)| (p.to_string(), format!("?{q}"))).unwrap_or((path.clone(), String::new()));
                path = format!("{}/_bulk{q}", p.trim_end_matches('/'));
            }
            _ => {}
        }
        let url = SinkUrl { https, port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }), host, path, secret };
        if let Ok(ip) = url.host.parse::<std::net::IpAddr>() {
            if is_private(ip) && raw.allow_private_addresses != Some(true) {
                self.error(
                    position,
                    format!("sink `{}` would send to the private address {ip}", raw.name.value),
                    "for a SIEM inside the hospital network, set allow_private_addresses: true",
                );
            }
        }
        Some((url, position))
    }

    fn http_sink(&mut self, raw: RawHttpSink, kind: HttpSinkKind) -> Option<SinkConfig> {
        let (url, url_at) = self.sink_url(&raw, kind)?;
        let format_at = raw.format.as_ref().and_then(|f| f.position);
        let format = raw.format.as_ref().map(|f| f.value.as_str());
        let event_format = |f: &str| -> Option<EventFormat> { serde_json::from_value(serde_json::Value::String(f.to_string())).ok() };
        let body = match (kind, format) {
            (HttpSinkKind::Http, f) => event_format(f.unwrap_or("json")).map(HttpBody::Lines),
            (HttpSinkKind::SplunkHec, f) => event_format(f.unwrap_or("json")).map(|format| {
                HttpBody::Hec(HecOptions {
                    format,
                    index: raw.index.as_ref().map(|i| i.value.clone()),
                    sourcetype: raw.sourcetype.as_ref().map_or("honeyward:event".into(), |s| s.value.clone()),
                })
            }),
            (HttpSinkKind::Elastic, None | Some("ecs")) => {
                Some(HttpBody::Bulk { index: raw.index.as_ref().map_or("honeyward-events".into(), |i| i.value.clone()) })
            }
            (HttpSinkKind::Elastic, Some(_)) => None,
            (HttpSinkKind::Webhook, None | Some("json")) => Some(HttpBody::JsonEvents),
            (HttpSinkKind::Webhook, Some("slack")) => Some(HttpBody::Chat(ChatFormat::Slack)),
            (HttpSinkKind::Webhook, Some("teams")) => Some(HttpBody::Chat(ChatFormat::Teams)),
            (HttpSinkKind::Webhook, Some(_)) => None,
        };
        let Some(body) = body else {
            let allowed = match kind {
                HttpSinkKind::Http | HttpSinkKind::SplunkHec => "json, ecs, ocsf, cef, leef or rfc5424",
                HttpSinkKind::Elastic => "ecs",
                HttpSinkKind::Webhook => "json, slack or teams",
            };
            self.error(format_at, format!("format `{}` is not available for {} sinks", format.unwrap_or(""), kind.as_str()), format!("format: {allowed}"));
            return None;
        };
        if raw.index.is_some() && !matches!(kind, HttpSinkKind::SplunkHec | HttpSinkKind::Elastic)
            || raw.sourcetype.is_some() && kind != HttpSinkKind::SplunkHec
        {
            self.error(raw.name.position, "`index` is for splunk_hec and elastic sinks, `sourcetype` for splunk_hec", "");
        }
        let token = self.secret(&raw.token_env, &raw.token_file, "token");
        let password = self.secret(&raw.password_env, &raw.password_file, "password");
        let auth = match (token, raw.username.as_ref(), password) {
            (Some(t), None, None) => match kind {
                HttpSinkKind::SplunkHec => HttpAuth::Splunk(t),
                HttpSinkKind::Elastic => HttpAuth::ApiKey(t),
                HttpSinkKind::Http | HttpSinkKind::Webhook => HttpAuth::Bearer(t),
            },
            (None, Some(u), Some(p)) => HttpAuth::Basic { username: u.value.clone(), password: p },
            (None, None, None) => {
                if kind == HttpSinkKind::SplunkHec {
                    self.error(
                        raw.name.position,
                        format!("splunk_hec sink `{}` needs its HEC token", raw.name.value),
                        "token_env: HONEYWARD_HEC_TOKEN (or token_file: /run/secrets/hec-token)",
                    );
                }
                HttpAuth::None
            }
            _ => {
                self.error(
                    raw.name.position,
                    "authenticate with a token (token_env/token_file) or with username and password_env/password_file, not both or half",
                    "",
                );
                HttpAuth::None
            }
        };
        if !url.https && (url.secret || !matches!(auth, HttpAuth::None)) {
            let loopback = url.host == "localhost" || url.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !(loopback && raw.allow_plain_http == Some(true)) {
                self.error(
                    url_at.or(raw.name.position),
                    format!("sink `{}` would send its credentials in clear over http://", raw.name.value),
                    if loopback {
                        "use https://, or set allow_plain_http: true for a receiver on this host"
                    } else {
                        "use https:// (plain http with credentials is allowed only to a loopback receiver, with allow_plain_http: true)"
                    },
                );
            }
        }
        let tls = raw.tls.as_ref().map(|t| t.value.clone()).unwrap_or_default();
        let ca_file: PathBuf = tls.ca_file.as_ref().map_or(SYSTEM_CA_BUNDLE.into(), |c| c.value.clone().into());
        if url.https {
            if let Err(e) = crate::pem::certificates(&ca_file) {
                let position = tls.ca_file.as_ref().and_then(|c| c.position).or(raw.name.position);
                self.error(position, format!("TLS CA file: {e}"), "tls: {ca_file: /etc/honeyward/siem-ca.pem}");
            }
        }
        let client = match (&tls.cert_file, &tls.key_file) {
            (Some(c), Some(k)) => Some((c.value.clone().into(), k.value.clone().into())),
            (None, None) => None,
            (Some(c), None) | (None, Some(c)) => {
                self.error(c.position, "set both `cert_file` and `key_file` for a client certificate, or neither", "");
                None
            }
        };
        let chat = matches!(body, HttpBody::Chat(_));
        let gzip = raw.gzip.unwrap_or(matches!(kind, HttpSinkKind::SplunkHec | HttpSinkKind::Elastic));
        let timeout = Duration::from_secs(self.number(&raw.timeout_seconds, "timeout_seconds", 10, 1..=300));
        let filter = self.sink_filter(raw.filter);
        Some(SinkConfig::Http(HttpSinkConfig {
            name: raw.name.value,
            kind,
            url,
            body,
            auth,
            ca_file,
            client,
            gzip,
            timeout,
            allow_private_addresses: raw.allow_private_addresses.unwrap_or(false),
            incidents_only: chat || raw.incidents_only.unwrap_or(false),
            filter,
        }))
    }
}
