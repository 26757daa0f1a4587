//! What the benchmarks read about the decoy process they start: CPU time and RSS
//! from /proc, and its listening address from its log.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Child;
use std::time::Duration;

/// CPU seconds (user + system) used so far by process `pid`.
#[allow(dead_code)]
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the stat line (12 and 13 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size of process `pid`, in KiB.
#[allow(dead_code)]
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// The decoy process under test: the release binary (or `HW_BENCH_BIN`) running
/// `yaml` from `dir`, as its own process so that its CPU time is its own.
pub struct Decoy {
    pub child: Child,
    pub pid: u32,
    /// The first decoy's listening address.
    pub addr: SocketAddr,
}

/// Starts the binary with `yaml` written to `dir/honeyward.yaml`.
pub fn start(dir: &std::path::Path, yaml: &str) -> Decoy {
    let bin = std::env::var("HW_BENCH_BIN").unwrap_or_else(|_| "/tmp/hw-bench-target/release/honeyward".into());
    std::fs::write(dir.join("honeyward.yaml"), yaml).expect("config");
    let mut child = std::process::Command::new(&bin)
        .args(["run", "-c", "honeyward.yaml"])
        .current_dir(dir)
        .env("RUST_LOG", "warn,honeyward=info")
        .env("HONEYWARD_ALLOW_ROOT", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e} (build it with cargo build --release)"));
    let pid = child.id();
    let addr = listening_address(&mut child);
    Decoy { child, pid, addr }
}

impl Decoy {
    /// SIGTERM, then wait for the process to exit.
    #[allow(unsafe_code)] // a libc call; see the SAFETY comment
    pub fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Keeps draining the child's stderr (so it never blocks on a full pipe) and returns
/// the first address it announces as `listening on ADDR`.
fn listening_address(child: &mut Child) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|a| a.parse().ok()) {
                let _ = tx.send(a);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("decoy address")
}

#[allow(dead_code)]
/// Sets the console password of `account` to "a long enough passphrase" with the
/// binary under test, in `dir` (whose honeyward.yaml is the configuration).
pub fn set_console_password(dir: &std::path::Path, account: &str) {
    use std::io::Write;
    let bin = std::env::var("HW_BENCH_BIN").unwrap_or_else(|_| "/tmp/hw-bench-target/release/honeyward".into());
    let mut set = std::process::Command::new(&bin)
        .args(["console", "password", account, "-c", "honeyward.yaml"])
        .current_dir(dir)
        .env("HONEYWARD_ALLOW_ROOT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    set.stdin.take().expect("stdin").write_all(b"a long enough passphrase\n").expect("password");
    assert!(set.wait().expect("console password").success(), "console password");
}

#[allow(dead_code)]
/// Events of kind `kind` in the store at `db`, once there are `at_least` of them or
/// 30 s have passed (the writer catching up after a load).
pub fn stored(db: &std::path::Path, kind: i64, at_least: u64) -> i64 {
    let db = rusqlite::Connection::open(db).expect("store");
    db.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let mut stored: i64 = -1;
    for _ in 0..60 {
        stored = db.query_row("SELECT count(*) FROM events WHERE kind = ?1", [kind], |r| r.get(0)).unwrap_or(-1);
        if stored >= at_least as i64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    stored
}
