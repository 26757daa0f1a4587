//! Token benchmarks: matcher lookup latency with 1,000,000 registered tokens, and
//! token creation (generate + register) throughput.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench tokens`
//! (`HW_TOKENS=N` changes the registry size). Results go in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::time::{Duration, Instant};

use honeyward::config::StoreSync;
use honeyward::token::{create_token, CreateOptions, Matcher, MaterialKind, NewToken, Registry, TokenKind};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::var("HW_TOKENS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("tokens.db");
    let state = dir.path().join("state");

    // 1. Creation: generate and register, one transaction per token (as the CLI does),
    //    for a bounded 3 s, with each store sync setting.
    for sync in [StoreSync::Full, StoreSync::Normal] {
        let mut reg = Registry::open(&store, &state, sync).expect("registry");
        for kind in [TokenKind::SshPassword, TokenKind::AwsKey, TokenKind::SshKey] {
            let start = Instant::now();
            let mut made = 0u64;
            while start.elapsed() < Duration::from_secs(3) && made < 100_000 {
                let t = create_token(&CreateOptions::new(kind, "bench")).expect("create");
                reg.insert(&[&t]).expect("insert");
                made += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            println!("create {:<13} one per transaction, sync {sync:?}: {:>8.0} tokens/s ({made} in {secs:.2} s)", kind.as_str(), made as f64 / secs);
        }
    }
    let mut reg = Registry::open(&store, &state, StoreSync::Normal).expect("registry");

    // 2. Fill the registry to n tokens (aws keys: one digest each), in batches.
    let start = Instant::now();
    let mut probe_ids = Vec::new();
    let mut filled = 0;
    while filled < n {
        let batch: Vec<NewToken> =
            (0..10_000.min(n - filled)).map(|_| create_token(&CreateOptions::new(TokenKind::AwsKey, "bench")).expect("create")).collect();
        if probe_ids.len() < 10_000 {
            probe_ids.extend(batch.iter().filter_map(|t| t.secrets.access_key_id.as_ref().map(|s| s.expose().to_string())).take(1000));
        }
        reg.insert(&batch.iter().collect::<Vec<_>>()).expect("insert batch");
        filled += batch.len();
    }
    let fill_secs = start.elapsed().as_secs_f64();
    println!("registered {filled} aws-key tokens in {fill_secs:.1} s ({:.0} tokens/s in batches of 10,000)", filled as f64 / fill_secs);

    let start = Instant::now();
    let matcher = Matcher::load(&reg).expect("load matcher");
    println!("matcher loaded {} digests in {:.2} s", matcher.len(), start.elapsed().as_secs_f64());

    // 3. Lookups: hits (registered ids) and misses (fresh ids), timed per lookup.
    let misses: Vec<String> = (0..10_000).map(|_| honeyward::token::aws_access_key_id(&mut rand::rng())).collect();
    for (name, probes) in [("hit", &probe_ids), ("miss", &misses)] {
        let mut times = Vec::with_capacity(probes.len() * 5);
        let mut found = 0usize;
        for _ in 0..5 {
            for p in probes.iter() {
                let t = Instant::now();
                let hit = matcher.find(MaterialKind::AccessKeyId, p.as_bytes());
                times.push(t.elapsed().as_nanos() as f64);
                found += usize::from(hit.is_some());
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "lookup {name:<4} with {} digests: median {:.0} ns, p99 {:.0} ns ({found} of {} found)",
            matcher.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.len()
        );
    }
}
