//! Sections 1 and 2: store writer throughput and commit latency.
#![allow(unused_imports)]

use super::*;

// ---------------------------------------------------------------------------------
// 1. Store writer throughput

pub(crate) struct Throughput {
    pub(crate) events: u64,
    pub(crate) secs: f64,
    pub(crate) rate: f64,
    pub(crate) commits: u64,
    pub(crate) emit_rate: f64,
    pub(crate) writer_cpu: f64,
    pub(crate) writer_wakeups: u64,
}

pub(crate) async fn store_throughput(sync: &str, n: u64) -> Res<Throughput> {
    let dir = tempfile::tempdir()?;
    let store = store_config(dir.path(), sync)?;
    let (events, bus_rx) = honeyward::pipeline::bus(store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, mut committed_rx) = watch::channel(0u64);
    let writer = spawn_writer(&store, bus_rx, committed_tx)?;

    // Count how many distinct commits the watcher sees (a lower bound on commits).
    let mut counter_rx = committed_rx.clone();
    let commit_counter = tokio::spawn(async move {
        let mut seen = 0u64;
        while counter_rx.changed().await.is_ok() {
            seen += 1;
            if *counter_rx.borrow_and_update() >= n {
                break;
            }
        }
        seen
    });

    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            events.emit(make_event(i)).await;
        }
        start.elapsed()
    });
    wait_committed(&mut committed_rx, n, start + Duration::from_secs(300)).await?;
    let secs = start.elapsed().as_secs_f64();
    let (writer_cpu, writer_wakeups) = writer_thread_stats(); // before the thread exits
    let emit_elapsed = producer.await?;
    writer.join().await;
    let commits = tokio::time::timeout(Duration::from_secs(5), commit_counter).await.ok().and_then(|r| r.ok()).unwrap_or(0);
    Ok(Throughput { events: n, secs, rate: n as f64 / secs, commits, emit_rate: n as f64 / emit_elapsed.as_secs_f64(), writer_cpu, writer_wakeups })
}

/// Single-thread CPU cost per event of building it and of its JSON encoding (µs).
pub(crate) fn per_event_costs(n: u64) -> (f64, f64) {
    let t = Instant::now();
    let events: Vec<Event> = (0..n).map(make_event).collect();
    let make = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    let mut bytes = 0usize;
    for e in &events {
        bytes += serde_json::to_string(e).map(|s| s.len()).unwrap_or(0);
    }
    let ser = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    std::hint::black_box(bytes);
    (make, ser)
}

// ---------------------------------------------------------------------------------
// 2. Commit latency at a paced rate

pub(crate) struct Latency {
    pub(crate) events: usize,
    pub(crate) achieved_rate: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) p999: Duration,
    pub(crate) max: Duration,
    pub(crate) commits: u64,
    pub(crate) writer_cpu: f64,
    pub(crate) writer_wakeups: u64,
}

pub(crate) async fn commit_latency(sync: &str, rate: u64, duration: Duration) -> Res<Latency> {
    let dir = tempfile::tempdir()?;
    let store = store_config(dir.path(), sync)?;
    let (events, bus_rx) = honeyward::pipeline::bus(store.queue_capacity_events.get(), honeyward::token::Matcher::empty());
    let (committed_tx, mut committed_rx) = watch::channel(0u64);
    let writer = spawn_writer(&store, bus_rx, committed_tx)?;
    let n = (rate as f64 * duration.as_secs_f64()).round().max(1.0) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);

    // Watcher: each time the committed seq advances, events 1..=seq are committed now.
    let mut watch_rx = committed_rx.clone();
    let watcher = tokio::spawn(async move {
        let mut commits: Vec<(u64, Instant)> = Vec::with_capacity(n);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let seq = *watch_rx.borrow_and_update();
            if seq > commits.last().map_or(0, |c| c.0) {
                commits.push((seq, Instant::now()));
            }
            if seq >= n as u64 {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, watch_rx.changed()).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        commits
    });

    let producer = tokio::spawn(async move {
        let mut emitted: Vec<Instant> = Vec::with_capacity(n);
        let start = tokio::time::Instant::now();
        for i in 0..n {
            let due = start + interval * i as u32;
            if tokio::time::Instant::now() < due {
                tokio::time::sleep_until(due).await;
            }
            let e = make_event(i as u64);
            emitted.push(Instant::now());
            events.emit(e).await;
        }
        let secs = start.elapsed().as_secs_f64();
        (emitted, secs)
    });
    let (emitted, secs) = producer.await?;
    wait_committed(&mut committed_rx, n as u64, Instant::now() + Duration::from_secs(60)).await?;
    let commits = watcher.await?;
    let (writer_cpu, writer_wakeups) = writer_thread_stats(); // before the thread exits
    writer.join().await;

    let mut latencies: Vec<Duration> = Vec::with_capacity(n);
    let mut c = 0usize;
    for (i, at) in emitted.iter().enumerate() {
        let seq = i as u64 + 1; // fresh store: the i-th emitted event gets seq i+1
        while c < commits.len() && commits[c].0 < seq {
            c += 1;
        }
        let Some(&(_, committed_at)) = commits.get(c) else { return Err(format!("event {seq} never seen committed").into()) };
        latencies.push(committed_at.saturating_duration_since(*at));
    }
    latencies.sort();
    let q = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    Ok(Latency {
        events: n,
        achieved_rate: n as f64 / secs,
        p50: q(0.50),
        p99: q(0.99),
        p999: q(0.999),
        max: *latencies.last().unwrap_or(&Duration::ZERO),
        commits: commits.len() as u64,
        writer_cpu,
        writer_wakeups,
    })
}

/// The store writer with no sinks to wait for (retention as configured: none).
fn spawn_writer(
    store: &honeyward::config::StoreConfig,
    bus_rx: tokio::sync::mpsc::Receiver<honeyward::event::Event>,
    committed_tx: watch::Sender<u64>,
) -> Result<honeyward::store::WriterHandle, honeyward::store::StoreError> {
    honeyward::store::spawn_writer(
        store,
        honeyward::store::Retention::new(store.retention, vec![]),
        "bench".into(),
        bus_rx,
        honeyward::store::Handoff { committed: std::sync::Arc::new(committed_tx), recent: Default::default(), progress: Default::default() },
    )
}
