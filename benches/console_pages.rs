//! The console's pages with 50,000 events in one incident: a store seeded with what
//! one intruder leaves (a 48,000-request web scan, 1,200 SSH guesses and a login with
//! a planted password, commands, 750 DICOM queries naming a honey patient) is grouped
//! by the release binary at start; then each page — the list, the incident (first and
//! last page of events, one kind), tokens, decoys and sinks — is fetched 20 times over
//! loopback with a signed-in session. Server time is the time to the whole answer; the
//! first fetch of an incident reads and digests its events, the next ones reuse that.
//! With `HW_BENCH_BROWSER=1`, headless Chromium (tests/browser/timing.mjs) first loads
//! each page five times and reports its load event (the worst is the first, cold, load).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench console_pages`
//! (`HW_BENCH_BIN` points at another binary; `HW_EVENTS` changes the size).
//! Loopback only; bounded in count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

#[path = "common/process.rs"]
#[allow(dead_code)] // this benchmark does not read CPU time
mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use honeyward::event::{AttackerBytes, Event, EventId, EventKind, Remote, SshAuthMethod, Timestamp};

fn http_request(target: String, status: u16) -> EventKind {
    EventKind::HttpRequest {
        method: AttackerBytes::new("GET"),
        target: AttackerBytes::new(target),
        version: "HTTP/1.1".into(),
        headers: vec![],
        headers_truncated: false,
        user_agent: Some(AttackerBytes::new("gobuster/3.6")),
        credential: None,
        body_bytes: 0,
        body_sha256: None,
        body: None,
        status,
        tags: vec!["scanning".into()],
    }
}

/// What the intruder's `n` events are, in order.
fn kind(i: u64, n: u64) -> (&'static str, EventKind) {
    let share = |f: f64| (n as f64 * f) as u64;
    match i {
        i if i < share(0.024) => (
            "pacs-ssh",
            EventKind::SshAuth {
                method: SshAuthMethod::Password,
                username: AttackerBytes::new("root"),
                password: Some(AttackerBytes::new(format!("guess{i}"))),
                key_fingerprint: None,
                key_algorithm: None,
                accepted: false,
                methods_tried: None,
            },
        ),
        i if i < share(0.025) => ("pacs-ssh", EventKind::SshCommand { line: AttackerBytes::new(format!("cat /etc/hosts # {i}")), exec: false }),
        i if i < share(0.985) => ("ehr-portal", http_request(format!("/wl/{i}.php"), 404)),
        _ => (
            "pacs-dicom",
            EventKind::DicomCommand {
                command: "C-FIND".into(),
                sop_class: Some(AttackerBytes::new("1.2.840.10008.5.1.4.1.2.2.1")),
                level: Some(AttackerBytes::new("STUDY")),
                keys: vec![],
                move_destination: None,
                matches: 3,
                status: 0,
            },
        ),
    }
}

fn seed(db: &std::path::Path, n: u64) {
    let mut conn = honeyward::store::open_connection(db, honeyward::config::StoreSync::Normal, true).unwrap();
    let start = Timestamp::now().as_micros() - n as i64 * 20_000;
    for from in (0..n).step_by(10_000) {
        let batch: Vec<Event> = (from..(from + 10_000).min(n))
            .map(|i| {
                let (decoy, kind) = kind(i, n);
                Event {
                    claimed_time: None,
                    id: EventId::new(),
                    time: Timestamp::from_micros(start + i as i64 * 20_000),
                    sensor: "bench-sensor".into(),
                    decoy: Some(decoy.into()),
                    source: Some(Remote(SocketAddr::from(([10, 20, 14, 7], 40_000)))),
                    destination: None,
                    session: None,
                    kind,
                    token: None,
                }
            })
            .collect();
        honeyward::store::commit(&mut conn, &batch, &mut Vec::new()).unwrap();
    }
}

/// One GET with the session cookie: status, body bytes, time to the whole answer.
fn get(console: SocketAddr, path: &str, cookie: &str) -> (u16, usize, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(console).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost:{}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n", console.port()).unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let took = started.elapsed();
    let status = std::str::from_utf8(&response[9..12]).ok().and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, response.len(), took)
}

/// Signs in with the password; the session cookie (`name=value`).
fn sign_in(console: SocketAddr) -> String {
    let body = "account=bench-analyst&password=a+long+enough+passphrase";
    let mut s = TcpStream::connect(console).unwrap();
    write!(
        s,
        "POST /login/password HTTP/1.1\r\nHost: localhost:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        console.port(),
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let line = response.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("a session cookie");
    line.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_string()
}

fn main() {
    let n: u64 = std::env::var("HW_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("temp dir");
    seed(&dir.path().join("bench.db"), n);
    let console_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = format!(
        "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\nconsole:\n  listen: 127.0.0.1:{console_port}\n  password_login: true\n"
    );
    std::fs::write(dir.path().join("honeyward.yaml"), &yaml).unwrap();
    process::set_console_password(dir.path(), "bench-analyst");
    let decoy = process::start(dir.path(), &yaml);
    let console = SocketAddr::from(([127, 0, 0, 1], console_port));
    // The backlog is grouped at start: wait for the one incident to hold every event.
    let db = rusqlite::Connection::open(dir.path().join("bench.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut id = String::new();
    for _ in 0..600 {
        if let Ok((i, events)) =
            db.query_row("SELECT id, events FROM incidents ORDER BY events DESC LIMIT 1", [], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        {
            if events as u64 >= n {
                id = i;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!id.is_empty(), "the incident was grouped");
    let cookie = sign_in(console);
    let last_page = n.div_ceil(100);
    let pages = [
        "/incidents".to_string(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}?page={last_page}"),
        format!("/incidents/{id}?kind=ssh_auth"),
        "/incidents?q=scanned&sort=events".into(),
        "/tokens".into(),
        "/health".into(),
        "/sinks".into(),
    ];
    if std::env::var("HW_BENCH_BROWSER").is_ok() {
        let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/timing.mjs");
        let base = format!("http://localhost:{console_port}");
        let out = std::process::Command::new("node").arg(driver).arg(&base).arg(&cookie).args(&pages).output().expect("node");
        println!(
            "headless Chromium first (the first load of the incident reads its events), load event after navigation start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("console pages, {n} events in one incident, release binary, 20 fetches each (server time to the whole answer):");
    for path in &pages {
        let mut times: Vec<Duration> = Vec::new();
        let mut size = 0;
        for _ in 0..20 {
            let (status, bytes, took) = get(console, path, &cookie);
            assert_eq!(status, 200, "{path}");
            size = bytes;
            times.push(took);
        }
        let first = times[0];
        times.sort();
        println!(
            "  {path:<60} first {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  {:>7.1} KiB",
            first.as_secs_f64() * 1000.0,
            times[times.len() / 2].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
            size as f64 / 1024.0
        );
    }
    decoy.stop();
}
