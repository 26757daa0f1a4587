//! The IPv4 address and broadcast address of one network interface, from the system's
//! interface list (getifaddrs), for the canary that asks on that interface only.

use std::net::Ipv4Addr;

/// An interface's IPv4 address and its broadcast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Interface {
    pub address: Ipv4Addr,
    pub broadcast: Ipv4Addr,
}

fn ipv4(sa: *const libc::sockaddr) -> Option<Ipv4Addr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is non-null and points into the list getifaddrs made; its family
    // says whether it is a sockaddr_in, which is then read whole.
    #[allow(unsafe_code)]
    unsafe {
        if i32::from((*sa).sa_family) != libc::AF_INET {
            return None;
        }
        let sin = &*(sa.cast::<libc::sockaddr_in>());
        Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
    }
}

/// The first IPv4 address of interface `name`, None when it has none (or no such
/// interface exists).
pub fn ipv4_of(name: &str) -> Option<Ipv4Interface> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list it allocated (or fails and leaves it
    // alone); the list is only read, then handed back to freeifaddrs once.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut found = None;
        let mut at = list;
        while !at.is_null() {
            let entry = &*at;
            let entry_name = std::ffi::CStr::from_ptr(entry.ifa_name).to_string_lossy();
            if entry_name == name {
                if let Some(address) = ipv4(entry.ifa_addr) {
                    let netmask = ipv4(entry.ifa_netmask).unwrap_or(Ipv4Addr::BROADCAST);
                    let broadcast = Ipv4Addr::from(u32::from(address) | !u32::from(netmask));
                    found = Some(Ipv4Interface { address, broadcast });
                    break;
                }
            }
            at = entry.ifa_next;
        }
        libc::freeifaddrs(list);
        found
    }
}

/// The MAC address the system's neighbour table (ARP) has for `ip`, if any.
pub fn mac_of(ip: Ipv4Addr) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/arp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.first() == Some(&ip.to_string().as_str()) && cols.get(3).is_some_and(|m| *m != "00:00:00:00:00:00")).then(|| cols[3].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_no_interface_has_none() {
        let lo = ipv4_of("lo").unwrap();
        assert_eq!(lo.address, Ipv4Addr::LOCALHOST);
        assert_eq!(lo.broadcast, Ipv4Addr::new(127, 255, 255, 255));
        assert_eq!(ipv4_of("no-such-if0"), None);
    }
}
