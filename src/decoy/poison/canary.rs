//! The poisoner canary at run time: every interval it asks, on its one interface, for
//! each honey name over LLMNR (multicast), NBT-NS (broadcast) and mDNS (multicast,
//! asking for a unicast answer). No machine has those names, so nothing legitimate
//! answers; an answer naming one of them comes from a poisoner (Responder, Inveigh),
//! recorded with its address, the addresses it claimed and its MAC when known. With
//! `offer:`, the canary then logs in to the SMB server the poisoner runs at the
//! address it claimed (its own), with a planted Windows account, at most once per
//! poisoner in ten minutes.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::iface::{ipv4_of, mac_of, Ipv4Interface};
use super::wire::{self, Protocol};
use crate::config::{PoisonCanaryConfig, ResolutionProtocol};
use crate::decoy::error::SetupError;
use crate::decoy::DecoyContext;
use crate::event::{AttackerBytes, EventKind, Remote};

const LLMNR: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 252), 5355);
const MDNS: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353);
/// Answers read per round, at most (a flood of answers is recorded, not followed).
const MAX_ANSWERS_PER_ROUND: usize = 256;
/// One offer per poisoner in this long; poisoners remembered, at most.
const OFFER_EVERY: Duration = Duration::from_secs(600);
const MAX_OFFERED: usize = 256;
/// The whole login to a poisoner's SMB server, at most.
const OFFER_DEADLINE: Duration = Duration::from_secs(5);

/// What the canary needs at run time.
pub struct PoisonRuntime {
    config: PoisonCanaryConfig,
    interface: Ipv4Interface,
}

impl PoisonRuntime {
    /// Finds the interface's address and opens the socket the canary asks and listens
    /// on: bound to that address and to the interface itself, multicast and broadcast
    /// leaving by it only.
    pub fn open(config: &PoisonCanaryConfig) -> Result<(Self, std::net::UdpSocket), SetupError> {
        let interface =
            ipv4_of(&config.interface).ok_or_else(|| SetupError::Interface(format!("{} has no IPv4 address (or does not exist)", config.interface)))?;
        let io = |e: std::io::Error| SetupError::Interface(format!("{}: {e}", config.interface));
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, Some(socket2::Protocol::UDP)).map_err(io)?;
        socket.bind_device(Some(config.interface.as_bytes())).map_err(io)?;
        socket.set_broadcast(true).map_err(io)?;
        socket.set_multicast_if_v4(&interface.address).map_err(io)?;
        socket.set_multicast_loop_v4(false).map_err(io)?;
        socket.set_multicast_ttl_v4(1).map_err(io)?;
        socket.bind(&SocketAddr::from((interface.address, 0)).into()).map_err(io)?;
        socket.set_nonblocking(true).map_err(io)?;
        Ok((PoisonRuntime { config: config.clone(), interface }, socket.into()))
    }
}

/// One round of questions: (destination, packet) for every name and protocol.
fn questions(config: &PoisonCanaryConfig, interface: &Ipv4Interface) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut out = Vec::new();
    for name in &config.names {
        for p in &config.protocols {
            let id: u16 = rand::RngExt::random(&mut rand::rng());
            out.push(match p {
                ResolutionProtocol::Llmnr => (LLMNR.into(), wire::llmnr_query(id, &name.to_lowercase(), 1)),
                ResolutionProtocol::Nbns => ((interface.broadcast, 137).into(), wire::nbns_query(id, name, 0x20)),
                ResolutionProtocol::Mdns => {
                    let mut q = wire::mdns_query(&format!("{}.local", name.to_lowercase()), 1);
                    // The QU bit: answer by unicast, to this socket.
                    if let Some(class) = q.len().checked_sub(2).and_then(|at| q.get_mut(at)) {
                        *class |= 0x80;
                    }
                    (MDNS.into(), q)
                }
            });
        }
    }
    out
}

/// The protocol an answer came by, from its source port.
fn protocol_of(source: SocketAddr) -> Option<(Protocol, &'static str)> {
    match source.port() {
        5355 => Some((Protocol::Llmnr, "llmnr")),
        137 => Some((Protocol::Nbns, "nbns")),
        5353 => Some((Protocol::Mdns, "mdns")),
        _ => None,
    }
}

/// Whether an answer names one of our honey names (NetBIOS names are upper case; the
/// others may carry `.local`).
fn ours(config: &PoisonCanaryConfig, name: &str) -> bool {
    let bare = name.trim_end_matches('.').trim_end_matches(".local");
    config.names.iter().any(|n| n.eq_ignore_ascii_case(bare))
}

/// Offers the planted account to the poisoner at `from`, when configured, when it
/// claimed its own address (never a third party's), and when it was not offered one
/// lately; what came of it.
async fn offer(rt: &PoisonRuntime, cx: &DecoyContext, from: SocketAddr, claimed: &[IpAddr], offered: &mut HashMap<IpAddr, Instant>) -> Option<String> {
    let account = rt.config.offer.as_ref()?;
    if !claimed.contains(&from.ip()) || offered.get(&from.ip()).is_some_and(|at| at.elapsed() < OFFER_EVERY) {
        return None;
    }
    offered.retain(|_, at| at.elapsed() < OFFER_EVERY);
    if offered.len() >= MAX_OFFERED {
        return None;
    }
    offered.insert(from.ip(), Instant::now());
    let to = SocketAddr::new(from.ip(), 445);
    let Some((_, nt_hash)) = cx.events.tokens().windows_account(&account.account) else {
        return Some(format!("{} is no planted windows-password account: nothing offered", account.account));
    };
    let workstation = rt.config.names.first().cloned().unwrap_or_default();
    let bait = super::bait::Bait { user: account.account.clone(), domain: account.domain.clone(), nt_hash, workstation };
    let outcome = tokio::select! {
        _ = cx.shutdown.cancelled() => return None,
        o = super::bait::offer(to, &bait, OFFER_DEADLINE) => o,
    };
    Some(match outcome {
        Ok(status) => format!("{}\\{} to {to}: {status}", account.domain, account.account),
        Err(e) => format!("{}\\{} to {to}: {e}", account.domain, account.account),
    })
}

/// Asks and listens until shutdown.
pub async fn serve(rt: Arc<PoisonRuntime>, socket: UdpSocket, cx: DecoyContext) {
    let mut tick = tokio::time::interval(rt.config.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = vec![0u8; 2048];
    let mut answers = 0usize;
    let mut offered: HashMap<IpAddr, Instant> = HashMap::new();
    loop {
        tokio::select! {
            _ = cx.shutdown.cancelled() => return,
            _ = tick.tick() => {
                answers = 0;
                for (to, packet) in questions(&rt.config, &rt.interface) {
                    if let Err(e) = socket.send_to(&packet, to).await {
                        tracing::warn!(decoy = %cx.decoy, %to, error = %e, "the poisoner canary could not ask");
                    }
                }
            }
            got = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                answers += 1;
                if answers > MAX_ANSWERS_PER_ROUND {
                    continue;
                }
                let Some((protocol, label)) = protocol_of(from) else { continue };
                let Some(answer) = buf.get(..n).and_then(|p| wire::parse_response(protocol, p)) else { continue };
                if !ours(&rt.config, &answer.name) {
                    continue;
                }
                let mac = match from {
                    SocketAddr::V4(v4) => mac_of(*v4.ip()),
                    SocketAddr::V6(_) => None,
                };
                let addresses: Vec<String> = answer.addresses.iter().map(|a| a.to_string()).collect();
                let offered = offer(&rt, &cx, from, &answer.addresses, &mut offered).await;
                let mut event = cx.event(EventKind::NamePoisoning {
                    protocol: label.into(),
                    name: AttackerBytes::new(answer.name.as_str()),
                    addresses: addresses.join(","),
                    mac,
                    offered,
                });
                event.source = Some(Remote(from));
                cx.events.emit(event).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PoisonCanaryConfig {
        let yaml = "decoys:\n  - name: c\n    type: llmnr-canary\n    interface: lo\n    names: [PACS-BACKUP02]\n";
        match crate::config::parse_str("t.yaml", yaml).expect("valid").decoys.into_iter().next() {
            Some(crate::config::DecoyConfig::Poison(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_round_asks_every_protocol_for_every_name_and_answers_are_matched_to_our_names() {
        let c = config();
        let iface = Ipv4Interface { address: Ipv4Addr::new(10, 0, 0, 1), broadcast: Ipv4Addr::new(10, 0, 0, 255) };
        let q = questions(&c, &iface);
        assert_eq!(q.len(), 3);
        assert_eq!(q[1].0, SocketAddr::from(([10, 0, 0, 255], 137)));
        assert_eq!(q[2].1[q[2].1.len() - 2] & 0x80, 0x80, "mDNS asks for a unicast answer");
        assert!(ours(&c, "pacs-backup02") && ours(&c, "PACS-BACKUP02") && ours(&c, "pacs-backup02.local"));
        assert!(!ours(&c, "fileserv01"));
    }
}
