//! End-to-end performance benchmarks for honeyward (no external harness).
//!
//! Run with:
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench pipeline
//! ```
//!
//! (`cargo bench` also builds `$CARGO_TARGET_DIR/release/honeyward`, which the idle-RSS
//! section runs. A full run takes about 6 minutes, most of it spent waiting for
//! TIME_WAIT sockets to drain between TCP runs. Results and method: BENCHMARKS.md.)
//!
//! Sections (all traffic goes to 127.0.0.1 only; every loop is bounded in count and time):
//!
//! 1. `store`   — store writer throughput: N events through `EventSender::emit` into
//!    `store::spawn_writer`, timed until the committed watch reaches N (sync full/normal).
//! 2. `latency` — commit latency at a paced 10,000 events/s for ~5 s (sync full/normal).
//! 3. `tcp`     — TCP decoy connections/s through `app::start` (client tasks loop
//!    connect → read banner → close), with the client in the same process and in a
//!    separate process (this binary re-executed), closing with FIN or RST, from one or
//!    eight loopback source addresses; then every connection is checked in the store
//!    (one `connection_opened` and one `connection_closed` per session). The same client
//!    against a minimal tokio banner server that records nothing gives the ceiling of
//!    this machine and client. Each run starts once TIME_WAIT sockets have drained.
//! 4. `rss`     — idle RSS of the release `honeyward run` binary.
//!
//! Environment knobs (all optional):
//!
//! | variable               | default                                    |
//! |------------------------|--------------------------------------------|
//! | `HW_BENCH_ONLY`        | all sections; e.g. `store,latency`         |
//! | `HW_BENCH_EVENTS`      | 500000 (section 1)                         |
//! | `HW_BENCH_RATE`        | 10000 events/s (section 2)                 |
//! | `HW_BENCH_LAT_SECS`    | 5 (section 2)                              |
//! | `HW_BENCH_CONNS`       | 100000 connections per run (section 3)     |
//! | `HW_BENCH_CONN_SECS`   | 15 s per run (section 3)                   |
//! | `HW_BENCH_CLIENTS`     | 32 concurrent client tasks (section 3)     |
//! | `HW_BENCH_TW_SETTLE`   | 1: before each TCP run wait (<= 75 s) for  |
//! |                        | TIME_WAIT sockets to drain; 0: don't wait  |
//! | `HW_BENCH_BIN`         | /tmp/hw-bench-target/release/honeyward     |
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use honeyward::config::{Config, StoreConfig};
use honeyward::event::{AttackerBytes, CloseReason, Event, EventId, EventKind, Timestamp};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

mod helpers;
mod rss;
mod store;
mod tcp;

use helpers::*;
use rss::*;
use store::*;
use tcp::*;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Res<T> = Result<T, BoxError>;

/// Set in the child process that acts as the TCP client (section 3, separate process).
pub(crate) const CLIENT_ROLE_VAR: &str = "HW_BENCH_CLIENT_ROLE";
pub(crate) const BANNER: &str = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n";

pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().replace('_', "").parse().ok()).unwrap_or(default)
}

pub(crate) fn wants(section: &str) -> bool {
    match std::env::var("HW_BENCH_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|s| s.trim() == section),
        _ => true,
    }
}

/// One row of the final table.
pub(crate) struct Row {
    pub(crate) measure: String,
    pub(crate) result: String,
    pub(crate) target: String,
    pub(crate) met: Option<bool>,
}

fn main() {
    // Child-process TCP client (section 3b).
    if let Ok(spec) = std::env::var(CLIENT_ROLE_VAR) {
        std::process::exit(client_process_main(&spec));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut rows: Vec<Row> = Vec::new();
    println!("honeyward pipeline benchmark — {} CPU(s), {}", cpus(), cpu_model());
    println!();

    if wants("store") {
        let n = env_u64("HW_BENCH_EVENTS", 500_000);
        for sync in ["full", "normal"] {
            match runtime.block_on(store_throughput(sync, n)) {
                Ok(r) => {
                    println!(
                        "[store sync={sync}] {} events in {:.3} s = {:.0} events/s ({} commits seen, {} events/commit avg); emit-side only {:.0} events/s",
                        r.events,
                        r.secs,
                        r.rate,
                        r.commits,
                        r.events / r.commits.max(1),
                        r.emit_rate
                    );
                    println!(
                        "    store-writer thread: {:.2} CPU-s ({:.2} µs/event), {} sleeps/wakeups",
                        r.writer_cpu,
                        r.writer_cpu * 1e6 / r.events as f64,
                        r.writer_wakeups
                    );
                    rows.push(Row {
                        measure: format!("store writer throughput, sync {sync}"),
                        result: format!("{:.0} events/s", r.rate),
                        target: ">= 100,000 events/s".into(),
                        met: Some(r.rate >= 100_000.0),
                    });
                }
                Err(e) => {
                    println!("[store sync={sync}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("store writer throughput, sync {sync}"),
                        result: format!("error: {e}"),
                        target: ">= 100,000 events/s".into(),
                        met: Some(false),
                    });
                }
            }
        }
        // Where the time goes: the per-event CPU costs outside SQLite.
        let (make, ser) = per_event_costs(200_000);
        println!("[store] per event: build {make:.2} µs, serde_json::to_string {ser:.2} µs (single thread)");
        println!();
    }

    if wants("latency") {
        // Section 1 leaves hundreds of MB of freshly written (and deleted) store files
        // behind; flush them so their write-back does not land in the first fsyncs here.
        settle_disk();
        let rate = env_u64("HW_BENCH_RATE", 10_000);
        let secs = env_u64("HW_BENCH_LAT_SECS", 5);
        for sync in ["full", "normal"] {
            match runtime.block_on(commit_latency(sync, rate, Duration::from_secs(secs))) {
                Ok(r) => {
                    println!(
                        "[latency sync={sync}] {} events at {:.0}/s offered ({:.0}/s achieved): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; {} commits",
                        r.events, rate as f64, r.achieved_rate, ms(r.p50), ms(r.p99), ms(r.p999), ms(r.max), r.commits
                    );
                    println!("    store-writer thread: {:.2} CPU-s, {} sleeps/wakeups for {} events", r.writer_cpu, r.writer_wakeups, r.events);
                    rows.push(Row {
                        measure: format!("commit latency @ {rate}/s, sync {sync}"),
                        result: format!("p50 {:.2} / p99 {:.2} / max {:.2} ms", ms(r.p50), ms(r.p99), ms(r.max)),
                        target: "p99 <= 20 ms".into(),
                        met: Some(r.p99 <= Duration::from_millis(20)),
                    });
                }
                Err(e) => {
                    println!("[latency sync={sync}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("commit latency, sync {sync}"),
                        result: format!("error: {e}"),
                        target: "p99 <= 20 ms".into(),
                        met: Some(false),
                    });
                }
            }
        }
        println!();
    }

    if wants("tcp") {
        let total = env_u64("HW_BENCH_CONNS", 100_000);
        let secs = env_u64("HW_BENCH_CONN_SECS", 15);
        let clients = env_u64("HW_BENCH_CLIENTS", 32).max(1) as usize;
        let settle = env_u64("HW_BENCH_TW_SETTLE", 1) != 0;
        let runs = [
            TcpRun { server: Server::Honeyward, sync: "full", separate: false, rst: false, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: false, sources: 1 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: false, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: false, sources: 8 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: false, sources: 8 },
            TcpRun { server: Server::Honeyward, sync: "full", separate: true, rst: true, sources: 1 },
            TcpRun { server: Server::Honeyward, sync: "normal", separate: true, rst: true, sources: 1 },
            TcpRun { server: Server::Baseline, sync: "-", separate: true, rst: true, sources: 1 },
        ];
        for run in runs {
            let label = run.label();
            // Client-side TIME_WAIT sockets from the previous run make connect() slower
            // (port search) or, past net.ipv4.tcp_max_tw_buckets, faster (no TIME_WAIT
            // kept at all): start each run from a drained table so runs are comparable.
            if settle {
                let waited = settle_time_wait(500, Duration::from_secs(75));
                if waited > Duration::from_secs(1) {
                    println!("    (waited {:.0} s for TIME_WAIT sockets to expire)", waited.as_secs_f64());
                }
            }
            let tw = time_wait_sockets();
            match runtime.block_on(tcp_conn_rate(&run, total, Duration::from_secs(secs), clients)) {
                Ok(r) => {
                    println!(
                        "[tcp {label}] {} completed ({} connect errors, {} read errors) in {:.2} s = {:.0} conn/s (TIME_WAIT sockets at start: {tw})",
                        r.client.completed, r.client.connect_errors, r.client.read_errors, r.client.secs, r.rate
                    );
                    println!("    completions per second: {:?}", r.client.timeline);
                    println!("    CPU: {}", r.cpu);
                    if let Some(s) = &r.store {
                        println!(
                            "    store: {} connection_opened, {} connection_closed, {} sessions without exactly one of each, {} connections_refused events; stop took {:.2} s",
                            s.opened, s.closed, s.unpaired_sessions, s.refused_events, r.stop_secs
                        );
                    } else {
                        println!("    (no store: plain tokio banner server, served {})", r.served);
                    }
                    let (result, met) = match &r.store {
                        Some(s) => {
                            let recorded = s.opened >= r.client.completed && s.opened == s.closed && s.unpaired_sessions == 0;
                            (
                                format!("{:.0} conn/s; {} done, {}/{} opened/closed stored", r.rate, r.client.completed, s.opened, s.closed),
                                Some(r.rate >= 20_000.0 && recorded),
                            )
                        }
                        None => (format!("{:.0} conn/s (reference, records nothing)", r.rate), None),
                    };
                    rows.push(Row { measure: format!("TCP conn/s: {label}"), result, target: ">= 20,000 conn/s, all recorded".into(), met });
                }
                Err(e) => {
                    println!("[tcp {label}] FAILED: {e}");
                    rows.push(Row {
                        measure: format!("TCP conn/s: {label}"),
                        result: format!("error: {e}"),
                        target: ">= 20,000 conn/s, all recorded".into(),
                        met: Some(false),
                    });
                }
            }
        }
        println!();
    }

    if wants("rss") {
        match idle_rss() {
            Ok(r) => {
                println!("[rss] `{}` ({}): VmRSS {:.1} MiB, VmHWM {:.1} MiB after 2 s idle", r.command, r.config, kib_to_mib(r.rss_kib), kib_to_mib(r.hwm_kib));
                rows.push(Row {
                    measure: "idle RSS of `honeyward run`".into(),
                    result: format!("{:.1} MiB (VmRSS)", kib_to_mib(r.rss_kib)),
                    target: "<= 20 MiB".into(),
                    met: Some(r.rss_kib <= 20 * 1024),
                });
            }
            Err(e) => {
                println!("[rss] FAILED: {e}");
                rows.push(Row { measure: "idle RSS of `honeyward run`".into(), result: format!("error: {e}"), target: "<= 20 MiB".into(), met: None });
            }
        }
        println!();
    }

    print_table(&rows);
}
