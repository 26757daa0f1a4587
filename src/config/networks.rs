//! `networks:` section: names for the trust's own address ranges
//! (`10.20.14.0/24: Radiology VLAN`), shown beside a source address so an analyst sees
//! the segment an intruder is in. The most specific range that holds an address names it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::alerts::Cidr;
use super::checker::Checker;
use super::spanned::At;

/// `networks:` as written: a range (address or CIDR) to its name.
pub type RawNetworks = BTreeMap<String, At<String>>;

/// Longest name kept, in characters.
const NAME_CHARS: usize = 80;

/// The named ranges, most specific first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkMap {
    ranges: Vec<(Cidr, String)>,
}

impl NetworkMap {
    /// The name of the most specific range holding `ip`.
    pub fn name_of(&self, ip: IpAddr) -> Option<&str> {
        self.ranges.iter().find(|(net, _)| net.contains(ip)).map(|(_, name)| name.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

impl Checker<'_> {
    pub(super) fn networks(&mut self, raw: RawNetworks) -> NetworkMap {
        let mut ranges = Vec::new();
        for (range, name) in raw {
            match Cidr::parse(range.trim()) {
                None => self.error(name.position, format!("networks: {range:?} is not an address or network"), "e.g. 10.20.14.0/24: Radiology VLAN"),
                Some(_) if name.value.trim().is_empty() || name.value.chars().count() > NAME_CHARS => {
                    self.error(name.position, format!("networks: the name of {range} must be 1 to {NAME_CHARS} characters"), "e.g. Radiology VLAN")
                }
                Some(net) => ranges.push((net, name.value.trim().to_string())),
            }
        }
        ranges.sort_by_key(|(net, _)| std::cmp::Reverse(net.bits()));
        NetworkMap { ranges }
    }
}
