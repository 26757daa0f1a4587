//! Helpers for integration tests: run the real `honeyward` binary in a temporary
//! directory, find its listeners, signal it, and read its SQLite store.
#![allow(dead_code)]

pub mod certs;
pub mod console;
pub mod controller;
pub mod real_nginx;
pub mod real_pacs;
pub mod real_smb;
pub mod real_ssh;
pub mod receiver;
pub mod rsyslog;
pub mod tls_probes;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_honeyward");

/// A running honeyward process.
pub struct Honeyward {
    pub child: Child,
    pub dir: PathBuf,
    pub addrs: HashMap<String, SocketAddr>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

/// A test configuration: the given decoys, a store and a JSON file sink in `dir`.
pub fn config(decoys: &str) -> String {
    format!(
        "sensor:\n  name: test-sensor\nstore:\n  path: honeyward.db\n  sync: normal\ndecoys:\n{decoys}\nsinks:\n  - name: archive\n    type: file\n    path: events.jsonl\n    fsync: false\n"
    )
}

/// A TCP decoy entry with generous limits and the given extra limit lines.
pub fn tcp_decoy(name: &str, extra_limits: &str) -> String {
    format!(
        "  - name: {name}\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"hello\\r\\n\"\n    limits:\n      max_connections: 20000\n      max_connections_per_source: 20000\n{extra_limits}"
    )
}

impl Honeyward {
    /// Writes `honeyward.yaml` into `dir` and starts `honeyward run` there; waits until
    /// every decoy in the config is listening.
    pub fn start(dir: &Path, yaml: &str) -> Self {
        std::fs::write(dir.join("honeyward.yaml"), yaml).unwrap();
        Self::spawn(dir, &["run", "-c", "honeyward.yaml"])
    }

    /// Starts `honeyward ARGS` in `dir` (stdout to dir/stdout.log).
    pub fn spawn(dir: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command.args(args);
        Self::spawn_with(dir, &mut command)
    }

    /// Starts `command` (which runs honeyward, e.g. inside `ip netns exec`) in `dir`.
    pub fn spawn_with(dir: &Path, command: &mut Command) -> Self {
        let stdout = std::fs::File::create(dir.join("stdout.log")).unwrap();
        let mut child = command
            .current_dir(dir)
            .env("RUST_LOG", "info")
            // Tests run as root in CI; the root refusal has its own test.
            .env("HONEYWARD_ALLOW_ROOT", "1")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start honeyward");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let lines = Arc::clone(&stderr);
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut addrs = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some((name, addr)) = parse_listening(&line) {
                        addrs.insert(name, addr);
                    }
                    if line.contains("honeyward running") {
                        break;
                    }
                }
                Err(_) => break, // exited or timed out: callers check
            }
        }
        Honeyward { child, dir: dir.to_path_buf(), addrs, stderr }
    }

    /// The address a decoy is listening on.
    pub fn addr(&self, decoy: &str) -> SocketAddr {
        *self.addrs.get(decoy).unwrap_or_else(|| panic!("decoy {decoy} not listening; stderr: {:?}", self.stderr.lock().unwrap()))
    }

    #[allow(unsafe_code)] // a libc call; see the SAFETY comment
    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the process to exit (panics after `secs`).
    pub fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("honeyward did not exit within {secs}s; stderr: {:?}", self.stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait; returns the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(60)
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// A connection to the store (real SQLite, read side).
    pub fn store(&self) -> rusqlite::Connection {
        store(&self.dir)
    }
}

impl Drop for Honeyward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn store(dir: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(dir.join("honeyward.db")).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

/// `decoy NAME (TYPE) listening on ADDR` → (NAME, ADDR).
fn parse_listening(line: &str) -> Option<(String, SocketAddr)> {
    if let Some(at) = line.find("controller api listening on ") {
        let addr = line[at + 28..].split_whitespace().next()?.parse().ok()?;
        return Some(("controller".into(), addr));
    }
    if let Some(at) = line.find("console listening on ") {
        let addr = line[at + 21..].split_whitespace().next()?.parse().ok()?;
        return Some(("console".into(), addr));
    }
    let rest = &line[line.find("decoy ")? + 6..];
    let name = rest.split_whitespace().next()?.to_string();
    let after = &rest[rest.find("listening on ")? + 13..];
    let addr = after.split_whitespace().next()?.parse().ok()?;
    Some((name, addr))
}

/// Counts events of a kind (by name) in the store.
pub fn count_kind(db: &rusqlite::Connection, kind: &str) -> i64 {
    let id = honeyward::event::EventKind::id_of(kind).expect("known kind");
    db.query_row("SELECT count(*) FROM events WHERE kind = ?1", [id], |r| r.get(0)).unwrap()
}

/// All stored event bodies of a kind, as JSON.
pub fn bodies(db: &rusqlite::Connection, kind: &str) -> Vec<serde_json::Value> {
    let id = honeyward::event::EventKind::id_of(kind).expect("known kind");
    let mut st = db.prepare("SELECT body FROM events WHERE kind = ?1 ORDER BY seq").unwrap();
    let rows = st.query_map([id], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|b| serde_json::from_str(&b.unwrap()).unwrap()).collect()
}

/// Polls `f` until it returns true or `secs` pass.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// Sends raw bytes to an HTTP server; returns the response (until close, until the
/// head and Content-Length bytes of body have arrived, or until a chunked body's last
/// chunk; 5 s read timeout).
pub fn http_raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_lowercase();
            // Without Content-Length the body runs to the close (as civetweb's errors do).
            let len: Option<usize> = head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|v| v.parse().ok());
            if len.is_some_and(|len| out.len() >= end + 4 + len) {
                break;
            }
            if head.contains("transfer-encoding: chunked") && out.ends_with(b"\r\n0\r\n\r\n") {
                break;
            }
        }
    }
    out
}

/// Runs `cmd` (standard input empty); panics with everything it printed unless it succeeds.
#[allow(dead_code)]
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs the honeyward CLI in `dir`; panics with its stderr unless it succeeds.
#[allow(dead_code)]
pub fn cli(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN).args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Creates a windows-password token for `user`/`password` planted as `template` at
/// `path` (relative to `dir`, whose honeyward.yaml names the store); its id.
pub fn plant_windows_password(dir: &Path, label: &str, user: &str, password: &str, template: &str, path: &str) -> String {
    if let Some(parent) = dir.join(path).parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let args = ["token", "create", "windows-password", "--label", label, "--username", user, "--password", password, "--template", template, "--plant", path];
    let out = cli(dir, &[&args[..], &["-c", "honeyward.yaml"]].concat());
    out.split_whitespace().nth(1).unwrap().to_string()
}

/// An HTTP response as (status line, header names in order as sent, body).
#[allow(dead_code)]
pub fn response_shape(response: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_string();
    let names = lines.filter_map(|l| l.split_once(':')).map(|(n, _)| n.to_string()).collect();
    (status, names, response[end + 4..].to_vec())
}

/// A real server a test starts (nginx, Orthanc, storescp, rsyslog): killed when the
/// guard drops, even when the test fails halfway.
#[allow(dead_code)]
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        // Its children too (PHP-FPM's workers), which would outlive a killed master:
        // stopped first, so that it cannot start new ones while they are killed.
        let pid = self.0.id().to_string();
        let _ = std::process::Command::new("kill").args(["-STOP", &pid]).status();
        let _ = std::process::Command::new("pkill").args(["-KILL", "-P", &pid]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free at the moment (for real servers a test starts).
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An A-ASSOCIATE-RQ (PS3.8 §9.3.2) with the given AE titles, protocol version,
/// application context and presentation contexts (id, abstract syntax, transfer
/// syntaxes), and echoscu's user information (max PDU 16384, DCMTK 3.6.7's
/// implementation class UID and version name).
#[allow(dead_code)]
pub fn dicom_associate_rq(called: &str, calling: &str, version: u16, application_context: &str, contexts: &[(u8, &str, &[&str])]) -> Vec<u8> {
    fn item(t: u8, v: &[u8]) -> Vec<u8> {
        [&[t, 0][..], &(v.len() as u16).to_be_bytes(), v].concat()
    }
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(format!("{called:<16}").as_bytes());
    body.extend_from_slice(format!("{calling:<16}").as_bytes());
    body.extend_from_slice(&[0; 32]);
    body.extend(item(0x10, application_context.as_bytes()));
    for (id, abstract_syntax, syntaxes) in contexts {
        let mut ctx = vec![*id, 0, 0, 0];
        ctx.extend(item(0x30, abstract_syntax.as_bytes()));
        for ts in *syntaxes {
            ctx.extend(item(0x40, ts.as_bytes()));
        }
        body.extend(item(0x20, &ctx));
    }
    let user = [item(0x51, &16384u32.to_be_bytes()), item(0x52, b"1.2.276.0.7230010.3.0.3.6.7"), item(0x55, b"OFFIS_DCMTK_367")].concat();
    body.extend(item(0x50, &user));
    [&[1u8, 0][..], &(body.len() as u32).to_be_bytes(), &body].concat()
}

/// The Debian 12 SSH personality's MaxStartups line, for tests that raise it (a
/// brute-force run opens more unauthenticated connections than sshd's 10:30:100 lets in).
pub const MAX_STARTUPS: &str = "unauthenticated: {max_startups: {begin: 10, rate_percent: 30, full: 100}}";

/// Reads what a peer sends until it closes, resets, or stays silent past the stream's
/// read timeout: the bytes, and "closed", "reset", "open" or "error".
pub fn read_until_quiet(r: &mut impl std::io::Read) -> (Vec<u8>, &'static str) {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    let end = loop {
        match r.read(&mut buf) {
            Ok(0) => break "closed",
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break "open",
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break "reset",
            Err(_) => break "error",
        }
    };
    (got, end)
}
