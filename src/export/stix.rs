//! STIX 2.1 bundle of what the decoys saw, for sharing with other organisations.
//!
//! Only attacker-side facts leave: source addresses, when, how often, the ATT&CK
//! techniques, and each sighting's description: the incident's title and summary in
//! their public wording (what kind of decoy, how many attempts, which probes; never a
//! name). Nothing from an event's body (credentials, commands, queries, honey
//! patients) and no sensor, decoy or token names, which describe the trust's own
//! network. Private addresses are left out unless asked for.
//!
//! Objects: the producing organisation (identity, sector healthcare), one TLP marking
//! definition, per source address an SCO and an indicator, per incident an
//! observed-data and a sighting of that indicator, per technique an attack-pattern
//! with an `indicates` relationship from each indicator that showed it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::event::{Audience, Severity, Technique, Timestamp};
use crate::incident::Incident;

/// Traffic Light Protocol marking, STIX 2.1's predefined definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tlp {
    White,
    Green,
    Amber,
    Red,
}

impl Tlp {
    /// Every marking, least restrictive first.
    pub const ALL: [Tlp; 4] = [Tlp::White, Tlp::Green, Tlp::Amber, Tlp::Red];

    /// The marking a name (`white`, `green`, `amber`, `red`) asks for.
    pub fn parse(name: &str) -> Option<Tlp> {
        Self::ALL.into_iter().find(|t| t.word() == name)
    }

    fn id(self) -> &'static str {
        match self {
            Tlp::White => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        }
    }

    /// Its name, lower case.
    pub fn word(self) -> &'static str {
        match self {
            Tlp::White => "white",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::Red => "red",
        }
    }

    /// The predefined marking-definition object, as the specification gives it.
    fn definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.id(),
            "created": "2017-01-20T00:00:00.000Z",
            "definition_type": "tlp",
            "name": format!("TLP:{}", self.word().to_ascii_uppercase()),
            "definition": {"tlp": self.word()},
        })
    }
}

/// What the bundle is made with.
#[derive(Debug, Clone)]
pub struct StixOptions {
    /// The producing organisation, e.g. "Example NHS Foundation Trust".
    pub organisation: String,
    pub tlp: Tlp,
    /// Include loopback, RFC 1918 and other non-public sources.
    pub include_private: bool,
    /// When the bundle is made (`created`/`modified` of its objects).
    pub now: Timestamp,
}

/// honeyward's namespace for deterministic object ids: the same incident exported
/// twice keeps its ids, so a receiving platform updates instead of duplicating.
const NAMESPACE: Uuid = Uuid::from_u128(0x5c0d_8b4e_2f7a_4e51_9a3c_6d1e_0b8f_7a42);
/// STIX 2.1's namespace for cyber-observable ids (section 2.9).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// A name-based (version 5, SHA-1) UUID.
fn uuid5(namespace: Uuid, name: &[u8]) -> Uuid {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(namespace.as_bytes());
    ctx.update(name);
    let digest = ctx.finish();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// SDO and SRO ids: STIX asks for version 4 (random-looking) UUIDs; these take their
/// bits from a name-based hash of (type, key), so they look random and stay stable.
fn sdo_id(kind: &str, key: &str) -> String {
    let hashed = uuid5(NAMESPACE, format!("{kind}|{key}").as_bytes());
    format!("{kind}--{}", uuid::Builder::from_random_bytes(*hashed.as_bytes()).into_uuid())
}

/// STIX timestamps: UTC, millisecond precision.
fn stix_time(t: Timestamp) -> String {
    match chrono::DateTime::from_timestamp_micros(t.as_micros()) {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => String::from("1970-01-01T00:00:00.000Z"),
    }
}

/// The address as a STIX cyber-observable, with the bundle's TLP marking like every
/// other object (the id depends on the value only, as the specification asks).
fn sco(ip: IpAddr, marking: &str) -> (String, Value) {
    let kind = if ip.is_ipv4() { "ipv4-addr" } else { "ipv6-addr" };
    let value = ip.to_string();
    let canonical = serde_json::to_string(&json!({ "value": value })).unwrap_or_default();
    let id = format!("{kind}--{}", uuid5(SCO_NAMESPACE, canonical.as_bytes()));
    let object = json!({"type": kind, "spec_version": "2.1", "id": id, "value": value, "object_marking_refs": [marking]});
    (id, object)
}

fn technique_url(id: &str) -> String {
    format!("https://attack.mitre.org/techniques/{}/", id.replace('.', "/"))
}

/// Incidents worth sharing: attributed to a source, not suppressed, above info.
fn shareable<'a>(incidents: &'a [Incident], o: &'a StixOptions) -> impl Iterator<Item = (&'a Incident, IpAddr)> + 'a {
    incidents.iter().filter(|i| !i.suppressed && i.severity > Severity::Info).filter_map(move |i| {
        let ip = i.source?;
        (o.include_private || !crate::config::is_private(ip)).then_some((i, ip))
    })
}

/// The bundle.
pub fn bundle(incidents: &[Incident], o: &StixOptions) -> Value {
    let now = stix_time(o.now);
    let identity = sdo_id("identity", &o.organisation);
    let marking = o.tlp.id();
    let common = |kind: &str, id: &str| json!({"type": kind, "spec_version": "2.1", "id": id, "created": now, "modified": now, "created_by_ref": identity, "object_marking_refs": [marking]});
    let with = |mut base: Value, extra: Value| {
        if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        base
    };
    let mut objects = vec![
        o.tlp.definition(),
        json!({
            "type": "identity", "spec_version": "2.1", "id": identity, "created": now, "modified": now,
            "name": o.organisation, "identity_class": "organization", "sectors": ["healthcare"],
            "object_marking_refs": [marking],
        }),
    ];

    // Per source: its incidents, first and last seen, techniques.
    let mut by_source: BTreeMap<IpAddr, Vec<&Incident>> = BTreeMap::new();
    for (i, ip) in shareable(incidents, o) {
        by_source.entry(ip).or_default().push(i);
    }
    let mut patterns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (ip, list) in &by_source {
        let (sco_id, sco_object) = sco(*ip, marking);
        objects.push(sco_object);
        let first = list.iter().map(|i| i.first).min().unwrap_or(o.now);
        let events: u64 = list.iter().map(|i| i.events).sum();
        let techniques: BTreeSet<&str> = list.iter().flat_map(|i| i.techniques.iter().map(String::as_str)).collect();
        let indicator = sdo_id("indicator", &ip.to_string());
        let kind = if ip.is_ipv4() { "ipv4-addr" } else { "ipv6-addr" };
        let description = format!(
            "Interacted with deception decoys: {} incident(s), {events} event(s); ATT&CK {}.",
            list.len(),
            if techniques.is_empty() { String::from("none") } else { techniques.iter().copied().collect::<Vec<_>>().join(", ") }
        );
        objects.push(with(
            common("indicator", &indicator),
            json!({
                "name": format!("Decoy interaction from {ip}"),
                "description": description,
                "indicator_types": ["malicious-activity"],
                "pattern": format!("[{kind}:value = '{ip}']"),
                "pattern_type": "stix",
                "valid_from": stix_time(first),
            }),
        ));
        for t in &techniques {
            patterns.entry((*t).to_string()).or_default().insert(indicator.clone());
        }
        for i in list {
            let key = i.id.to_string();
            let observed = sdo_id("observed-data", &key);
            let count = i.events.clamp(1, 999_999_999);
            objects.push(with(
                common("observed-data", &observed),
                json!({
                    "first_observed": stix_time(i.first),
                    "last_observed": stix_time(i.last),
                    "number_observed": count,
                    "object_refs": [sco_id],
                }),
            ));
            objects.push(with(
                common("sighting", &sdo_id("sighting", &key)),
                json!({
                    "sighting_of_ref": indicator,
                    "description": format!("{}. {}", i.title(Audience::Public), i.summary(Audience::Public)),
                    "first_seen": stix_time(i.first),
                    "last_seen": stix_time(i.last),
                    "count": count,
                    "observed_data_refs": [observed],
                    "where_sighted_refs": [identity],
                }),
            ));
        }
    }
    for (technique, indicators) in &patterns {
        let pattern = sdo_id("attack-pattern", technique);
        let name = Technique::from_id(technique).map(Technique::name).unwrap_or(technique.as_str());
        objects.push(with(
            common("attack-pattern", &pattern),
            json!({
                "name": name,
                "external_references": [{"source_name": "mitre-attack", "external_id": technique, "url": technique_url(technique)}],
            }),
        ));
        for indicator in indicators {
            objects.push(with(
                common("relationship", &sdo_id("relationship", &format!("{indicator}|{pattern}"))),
                json!({"relationship_type": "indicates", "source_ref": indicator, "target_ref": pattern}),
            ));
        }
    }
    json!({"type": "bundle", "id": format!("bundle--{}", uuid::Builder::from_random_bytes(rand::random()).into_uuid()), "objects": objects})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sco_ids_are_the_specifications_uuid5_of_the_value() {
        // STIX 2.1's own worked example for ipv4-addr is not given; check the
        // construction instead: version 5, RFC 4122 variant, stable, value-dependent.
        let (a, _) = sco("198.51.100.3".parse().unwrap(), Tlp::Amber.id());
        let (b, _) = sco("198.51.100.3".parse().unwrap(), Tlp::Amber.id());
        let (c, _) = sco("198.51.100.4".parse().unwrap(), Tlp::Amber.id());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let u = Uuid::parse_str(a.strip_prefix("ipv4-addr--").unwrap()).unwrap();
        assert_eq!(u.get_version_num(), 5);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn uuid5_matches_rfc_4122s_dns_example() {
        // RFC 4122 namespace DNS, name "www.example.com" (as in Python's uuid.uuid5).
        let dns = Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
        assert_eq!(uuid5(dns, b"www.example.com").to_string(), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    }

    #[test]
    fn sdo_ids_are_version_4_and_stable() {
        let a = sdo_id("indicator", "198.51.100.3");
        assert_eq!(a, sdo_id("indicator", "198.51.100.3"));
        assert_ne!(a, sdo_id("indicator", "198.51.100.4"));
        assert_ne!(a, sdo_id("sighting", "198.51.100.3"));
        let u = Uuid::parse_str(a.strip_prefix("indicator--").unwrap()).unwrap();
        assert_eq!(u.get_version_num(), 4);
    }

    #[test]
    fn timestamps_have_millisecond_precision_in_utc() {
        assert_eq!(stix_time(Timestamp::from_micros(1_764_341_700_123_456)), "2025-11-28T14:55:00.123Z");
    }

    #[test]
    fn technique_urls_nest_sub_techniques() {
        assert_eq!(technique_url("T1110.001"), "https://attack.mitre.org/techniques/T1110/001/");
        assert_eq!(technique_url("T1046"), "https://attack.mitre.org/techniques/T1046/");
    }
}
