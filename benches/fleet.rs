//! Fleet performance on this machine, loopback only:
//!
//! 1. Controller ingest over HTTPS from 4 sensors at once: each sends signed batches
//!    of 1,000 events as fast as the controller acknowledges them (acknowledged =
//!    committed). Events/s over the whole run.
//! 2. Sensor → controller latency at 1,000 events/s: a real sensor process with a TCP
//!    decoy, 333 connections/s for 10 s (3 events each); the controller's store is
//!    polled every 2 ms and each event's arrival is compared with its creation time.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release &&
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench fleet`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
mod process;

use std::io::Write;
use std::time::{Duration, Instant};

use honeyward::config::{SensorCredential, SinkUrl, UpstreamConfig};
use honeyward::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp};
use honeyward::sink::controller::Upstream;

const SENSORS: usize = 4;
const BATCHES_PER_SENSOR: usize = 50;
const BATCH_EVENTS: usize = 1000;

fn bin() -> String {
    std::env::var("HW_BENCH_BIN").unwrap_or_else(|_| "/tmp/hw-bench-target/release/honeyward".into())
}

fn enrol(dir: &std::path::Path, name: &str) -> SensorCredential {
    let out = dir.join(format!("{name}.json"));
    let status = std::process::Command::new(bin()).args(["controller", "enrol", name, "--out"]).arg(&out).current_dir(dir).output().expect("enrol");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn upstream(port: u16, credential: SensorCredential) -> UpstreamConfig {
    UpstreamConfig {
        url: SinkUrl { https: true, host: "127.0.0.1".into(), port, path: "/".into(), secret: false },
        credential,
        spool_max_bytes: 1 << 30,
        heartbeat: Duration::from_secs(10),
        token_sync: Duration::from_secs(2),
        nats: None,
    }
}

fn batch(sensor: &str) -> Vec<u8> {
    let mut body = b"{\"events\":[".to_vec();
    for i in 0..BATCH_EVENTS {
        if i > 0 {
            body.push(b',');
        }
        let e = Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::now(),
            sensor: sensor.into(),
            decoy: Some("ssh".into()),
            source: Some("203.0.113.9:40022".parse().unwrap()),
            destination: Some("10.20.0.5:22".parse().unwrap()),
            session: Some(EventId::new()),
            kind: EventKind::SshAuth {
                method: SshAuthMethod::Password,
                username: AttackerBytes::new("root"),
                password: Some(AttackerBytes::new("Winter2026!")),
                key_fingerprint: None,
                key_algorithm: None,
                accepted: false,
                methods_tried: None,
            },
            token: None,
        };
        serde_json::to_writer(&mut body, &e).unwrap();
    }
    body.extend_from_slice(b"]}");
    body
}

fn controller_yaml(port: u16) -> String {
    format!("sensor:\n  name: controller-1\nstore:\n  path: honeyward.db\n  sync: normal\ncontroller:\n  listen: 127.0.0.1:{port}\nsinks: []\n")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn ingest_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("honeyward.yaml"), controller_yaml(port)).unwrap();
    let credentials: Vec<SensorCredential> = (0..SENSORS).map(|i| enrol(dir.path(), &format!("ward-{i}"))).collect();
    let controller = process::start(dir.path(), &controller_yaml(port));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Bodies are built before the clock starts: the figure is the controller's.
    let bodies: Vec<Vec<Vec<u8>>> = credentials.iter().map(|c| (0..BATCHES_PER_SENSOR).map(|_| batch(&c.sensor)).collect()).collect();
    let cpu_before = process::cpu_seconds(controller.pid);
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for (c, bodies) in credentials.into_iter().zip(bodies) {
            tasks.push(tokio::spawn(async move {
                let mut up = Upstream::new(&upstream(port, c)).expect("upstream");
                for body in bodies {
                    let answer = up.request("POST", "/v1/sensor/ingest", body).await.expect("ingest");
                    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let events = SENSORS * BATCHES_PER_SENSOR * BATCH_EVENTS;
    let db = rusqlite::Connection::open(dir.path().join("honeyward.db")).unwrap();
    let stored: i64 = db.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert!(stored as usize >= events, "{stored} stored of {events}");
    println!(
        "controller ingest, {SENSORS} sensors over HTTPS: {:.0} events/s acknowledged-after-commit ({events} events in {secs:.2} s, controller CPU {:.2} s, RSS {} MiB)",
        events as f64 / secs,
        process::cpu_seconds(controller.pid) - cpu_before,
        process::rss_kib(controller.pid) / 1024
    );
    controller.stop();
}

fn latency() {
    let dir = tempfile::tempdir().unwrap();
    let (cdir, sdir) = (dir.path().join("c"), dir.path().join("s"));
    std::fs::create_dir_all(&cdir).unwrap();
    std::fs::create_dir_all(&sdir).unwrap();
    let port = free_port();
    std::fs::write(cdir.join("honeyward.yaml"), controller_yaml(port)).unwrap();
    let credential = enrol(&cdir, "ward-lat");
    std::fs::write(sdir.join("credential.json"), serde_json::to_string(&credential).unwrap()).unwrap();
    let controller = process::start(&cdir, &controller_yaml(port));
    let sensor_yaml = format!(
        "store:\n  path: honeyward.db\n  sync: normal\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: credential.json\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n    limits: {{max_connections: 20000, max_connections_per_source: 20000}}\nsinks: []\n"
    );
    let sensor = process::start(&sdir, &sensor_yaml);
    let addr = sensor.addr;
    let db = rusqlite::Connection::open(cdir.join("honeyward.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    let run_for = Duration::from_secs(10);
    let load = std::thread::spawn(move || {
        let started = Instant::now();
        let mut sent = 0u64;
        while started.elapsed() < run_for {
            let due = started + Duration::from_micros(sent * 3000);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if let Ok(mut c) = std::net::TcpStream::connect(addr) {
                let _ = c.write_all(b"USER root\r\n");
            }
            sent += 1;
        }
        sent
    });
    let mut after = 0i64;
    let mut delays_ms = Vec::new();
    let deadline = Instant::now() + run_for + Duration::from_secs(5);
    while Instant::now() < deadline {
        let now = Timestamp::now().as_micros();
        let rows: Vec<(i64, i64)> = db
            .prepare_cached("SELECT seq, time_us FROM events WHERE seq > ?1 AND kind != 911")
            .unwrap()
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (seq, time_us) in rows {
            after = after.max(seq);
            delays_ms.push((now - time_us) as f64 / 1000.0);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let connections = load.join().unwrap();
    delays_ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| delays_ms[((delays_ms.len() as f64 * p) as usize).min(delays_ms.len() - 1)];
    println!(
        "sensor -> controller at ~{:.0} events/s: {} events, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (creation on the sensor to commit at the controller, 2 ms polling)",
        connections as f64 * 3.0 / run_for.as_secs_f64(),
        delays_ms.len(),
        pct(0.50),
        pct(0.99),
        delays_ms[delays_ms.len() - 1]
    );
    sensor.stop();
    controller.stop();
}

fn main() {
    ingest_throughput();
    latency();
}
