//! Shared helpers of the pipeline benchmark.
#![allow(unused_imports)]

use super::*;

// ---------------------------------------------------------------------------------
// Helpers

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn kib_to_mib(k: u64) -> f64 {
    k as f64 / 1024.0
}

pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

pub(crate) fn print_table(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.measure.len()).max().unwrap_or(0).max("measure".len());
    let w1 = rows.iter().map(|r| r.result.len()).max().unwrap_or(0).max("result".len());
    let w2 = rows.iter().map(|r| r.target.len()).max().unwrap_or(0).max("target".len());
    println!("| {:w0$} | {:w1$} | {:w2$} | met |", "measure", "result", "target");
    println!("|{}|{}|{}|-----|", "-".repeat(w0 + 2), "-".repeat(w1 + 2), "-".repeat(w2 + 2));
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("| {:w0$} | {:w1$} | {:w2$} | {met:3} |", r.measure, r.result, r.target);
    }
}

pub(crate) fn parse_config(yaml: &str) -> Res<Config> {
    honeyward::config::parse_str("bench", yaml).map_err(|e| format!("bench config rejected: {e}").into())
}

pub(crate) fn store_config(dir: &Path, sync: &str) -> Res<StoreConfig> {
    let yaml = format!("store:\n  path: {}\n  sync: {sync}\n", dir.join("bench.db").display());
    Ok(parse_config(&yaml)?.store)
}

/// A realistic event as a TCP decoy would record it: alternating `data_received`
/// (~50 bytes of attacker input) and `connection_closed`.
pub(crate) fn make_event(i: u64) -> Event {
    let source: SocketAddr = SocketAddr::from(([198, 51, 100, (i % 250) as u8 + 1], 40000 + (i % 20000) as u16));
    let destination: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 2323));
    let kind = if i % 2 == 0 {
        EventKind::DataReceived { data: AttackerBytes::new(&b"GET /cgi-bin/luci;stok=/locale?form=country HTTP/1.1"[..]), truncated: false }
    } else {
        EventKind::ConnectionClosed { duration_ms: 1200 + i % 1000, bytes_in: 52, bytes_out: 40, reason: CloseReason::PeerClosed }
    };
    Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::now(),
        sensor: "ward-3-sensor".into(),
        decoy: Some("tcp-banner".into()),
        source: Some(source.into()),
        destination: Some(destination.into()),
        session: Some(EventId::new()),
        kind,
        token: None,
    }
}

/// Waits until the committed sequence number reaches `n`, or the deadline passes.
pub(crate) async fn wait_committed(rx: &mut watch::Receiver<u64>, n: u64, deadline: Instant) -> Res<u64> {
    loop {
        let now = *rx.borrow_and_update();
        if now >= n {
            return Ok(now);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out: only {now} of {n} events committed").into());
        }
        match tokio::time::timeout(left, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(format!("writer stopped at {now} of {n} events").into()),
            Err(_) => {}
        }
    }
}
