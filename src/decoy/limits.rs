//! Connection limits: overall and per source address, with counters of what was
//! refused so that a flood is accounted for in the store without one event each.
//! The process-wide memory budget ([`MemoryBudget`]) is checked first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::memory::MemoryBudget;
use crate::event::LimitKind;

#[derive(Default)]
struct Counts {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

struct Inner {
    max_total: usize,
    max_per_source: usize,
    memory: Option<Arc<MemoryBudget>>,
    counts: Mutex<Counts>,
    refused_total: AtomicU64,
    refused_per_source: AtomicU64,
    refused_memory: AtomicU64,
}

/// Admits or refuses connections for one decoy.
#[derive(Clone)]
pub struct ConnectionGate(Arc<Inner>);

/// Holds one admitted connection's slot; released on drop.
pub struct ConnectionPermit {
    gate: Arc<Inner>,
    source: IpAddr,
}

impl ConnectionGate {
    /// A gate with these caps.
    pub fn new(max_total: usize, max_per_source: usize) -> Self {
        Self::with_memory(max_total, max_per_source, None)
    }

    /// A gate with these caps that also refuses while the process is over `memory`.
    pub fn with_memory(max_total: usize, max_per_source: usize, memory: Option<Arc<MemoryBudget>>) -> Self {
        ConnectionGate(Arc::new(Inner {
            max_total,
            max_per_source,
            memory,
            counts: Mutex::new(Counts::default()),
            refused_total: AtomicU64::new(0),
            refused_per_source: AtomicU64::new(0),
            refused_memory: AtomicU64::new(0),
        }))
    }

    /// Admits a connection from `source`, or counts it as refused and says why.
    pub fn admit(&self, source: IpAddr) -> Result<ConnectionPermit, LimitKind> {
        if self.0.memory.as_ref().is_some_and(|m| m.is_over()) {
            self.0.refused_memory.fetch_add(1, Ordering::Relaxed);
            return Err(LimitKind::MaxMemory);
        }
        let mut counts = self.0.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= self.0.max_total {
            self.0.refused_total.fetch_add(1, Ordering::Relaxed);
            return Err(LimitKind::MaxConnections);
        }
        let from_source = counts.per_source.entry(source).or_insert(0);
        if *from_source >= self.0.max_per_source {
            self.0.refused_per_source.fetch_add(1, Ordering::Relaxed);
            return Err(LimitKind::MaxConnectionsPerSource);
        }
        *from_source += 1;
        counts.total += 1;
        Ok(ConnectionPermit { gate: Arc::clone(&self.0), source })
    }

    /// Connections currently admitted.
    pub fn open_connections(&self) -> usize {
        self.0.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Takes (and resets) the refused counters.
    pub fn take_refused(&self) -> [(LimitKind, u64); 3] {
        [
            (LimitKind::MaxConnections, self.0.refused_total.swap(0, Ordering::Relaxed)),
            (LimitKind::MaxConnectionsPerSource, self.0.refused_per_source.swap(0, Ordering::Relaxed)),
            (LimitKind::MaxMemory, self.0.refused_memory.swap(0, Ordering::Relaxed)),
        ]
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.gate.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                counts.per_source.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_source_cap_refuses_and_counts_then_frees_on_drop() {
        let gate = ConnectionGate::new(10, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let p1 = gate.admit(a).unwrap();
        let _p2 = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).err(), Some(LimitKind::MaxConnectionsPerSource));
        assert!(gate.admit(b).is_ok());
        drop(p1);
        assert!(gate.admit(a).is_ok());
        assert_eq!(gate.take_refused()[1], (LimitKind::MaxConnectionsPerSource, 1));
        assert_eq!(gate.take_refused()[1].1, 0);
    }

    #[test]
    fn total_cap_applies_across_sources() {
        let gate = ConnectionGate::new(1, 5);
        let _p = gate.admit("10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(gate.admit("10.0.0.2".parse().unwrap()).err(), Some(LimitKind::MaxConnections));
        assert_eq!(gate.open_connections(), 1);
    }

    #[test]
    fn over_the_memory_budget_refuses_everyone_until_back_under() {
        let budget = MemoryBudget::new(1);
        let gate = ConnectionGate::with_memory(10, 10, Some(Arc::clone(&budget)));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let held = gate.admit(a).unwrap();
        budget.record(2 * 1024 * 1024);
        assert_eq!(gate.admit(a).err(), Some(LimitKind::MaxMemory));
        assert_eq!(gate.open_connections(), 1, "held connections go on");
        budget.record(0);
        assert!(gate.admit(a).is_ok());
        assert_eq!(gate.take_refused()[2], (LimitKind::MaxMemory, 1));
        drop(held);
    }
}
