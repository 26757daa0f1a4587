//! `alerts:` section: how events are grouped into incidents, and the allow-list
//! (read by `incident`, which does the grouping).

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// `alerts:`: incidents and the allow-list.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// An incident stays open while its events are at most this far apart (default 900).
    pub incident_window_seconds: Option<At<u64>>,
    /// Events to suppress (kept, in suppressed incidents): e.g. the authorised
    /// vulnerability scanner.
    pub ignore: Option<RawIgnore>,
}

/// `alerts.ignore`.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIgnore {
    /// Source addresses or networks, e.g. [10.20.0.50, 10.99.0.0/24].
    pub sources: Option<Vec<At<String>>>,
    pub decoys: Option<Vec<At<String>>>,
    pub kinds: Option<Vec<At<String>>>,
}

impl Checker<'_> {
    pub(super) fn alerts(&mut self, raw: RawAlerts) -> IncidentConfig {
        let window = self.number(&raw.incident_window_seconds, "incident_window_seconds", 900, 1..=7 * 86_400);
        let ignore = raw.ignore.unwrap_or_default();
        let sources = ignore
            .sources
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| {
                let cidr = Cidr::parse(&s.value);
                if cidr.is_none() {
                    self.error(s.position, format!("{:?} is not an address or network", s.value), "e.g. 10.20.0.50 or 10.99.0.0/24");
                }
                cidr
            })
            .collect();
        let kinds = ignore
            .kinds
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| {
                if crate::event::EventKind::id_of(&k.value).is_none() {
                    self.error(k.position, format!("unknown event kind `{}`", k.value), "see `honeyward events list --help` for the kinds");
                    return None;
                }
                Some(k.value)
            })
            .collect();
        let decoys = ignore.decoys.unwrap_or_default().into_iter().map(|d| d.value).collect();
        IncidentConfig { window_us: window as i64 * 1_000_000, ignore: Ignore { sources, decoys, kinds } }
    }
}

/// An IPv4 or IPv6 network (`10.20.0.0/16`, `2001:db8::/32`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u8>().ok()?),
            None => {
                let a = text.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    /// The prefix length.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, width) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        if self.bits == 0 {
            return true;
        }
        let shift = width - u32::from(self.bits);
        (a >> shift) == (b >> shift)
    }
}

/// The allow-list: matching events are kept, in suppressed incidents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    pub sources: Vec<Cidr>,
    pub decoys: Vec<String>,
    pub kinds: Vec<String>,
}

/// How events are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentConfig {
    /// An incident stays open while its events are at most this far apart.
    pub window_us: i64,
    pub ignore: Ignore,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig { window_us: 15 * 60 * 1_000_000, ignore: Ignore::default() }
    }
}
