//! A controller on loopback for the fleet tests: its configuration, enrolment of
//! sensors, their credentials, and requests signed as a sensor would sign them (sent
//! with curl, TLS verified against the controller's CA).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{cli, free_port, Honeyward};

pub fn controller_yaml(port: u16, sinks: &str) -> String {
    format!("sensor:\n  name: controller-1\nstore:\n  path: honeyward.db\n  sync: normal\ncontroller:\n  listen: 127.0.0.1:{port}\n  silent_after_seconds: 5\nsinks:\n{sinks}")
}

pub const NO_SINKS: &str = "  - name: archive\n    type: file\n    path: events.jsonl\n    fsync: false\n";

/// A controller directory with its configuration (no sinks but a file) and a port.
pub fn controller_dir() -> (tempfile::TempDir, PathBuf, u16) {
    let root = tempfile::tempdir().unwrap();
    let cdir = root.path().join("controller");
    std::fs::create_dir_all(&cdir).unwrap();
    let port = free_port();
    std::fs::write(cdir.join("honeyward.yaml"), controller_yaml(port, NO_SINKS)).unwrap();
    (root, cdir, port)
}

/// A sensor's signing key, and its controller's CA written to `sdir/ca.pem`.
pub fn credential(sdir: &Path) -> (Vec<u8>, PathBuf) {
    use base64::Engine;
    let credential: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(sdir.join("credential.json")).unwrap()).unwrap();
    let key = base64::engine::general_purpose::STANDARD.decode(credential["key"].as_str().unwrap()).unwrap();
    let ca = sdir.join("ca.pem");
    std::fs::write(&ca, credential["controller_ca"].as_str().unwrap()).unwrap();
    (key, ca)
}

pub fn start_controller(dir: &Path, yaml: &str) -> Honeyward {
    std::fs::write(dir.join("honeyward.yaml"), yaml).unwrap();
    Honeyward::spawn(dir, &["controller", "-c", "honeyward.yaml"])
}

/// A sensor directory with its credential, enrolled at the controller in `cdir`.
pub fn enrol(cdir: &Path, root: &Path, name: &str) -> PathBuf {
    let sdir = root.join(name);
    std::fs::create_dir_all(&sdir).unwrap();
    cli(cdir, &["controller", "enrol", name, "--out", sdir.join("credential.json").to_str().unwrap()]);
    sdir
}

pub fn start_sensor(sdir: &Path, port: u16, decoys: &str) -> Honeyward {
    let yaml = format!("store:\n  path: honeyward.db\n  sync: normal\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: credential.json\n  heartbeat_seconds: 1\n  token_sync_seconds: 1\ndecoys:\n{decoys}");
    std::fs::write(sdir.join("honeyward.yaml"), yaml).unwrap();
    Honeyward::spawn(sdir, &["sensor", "-c", "honeyward.yaml"])
}

/// Sends a signed heartbeat with curl; returns the HTTP status.
#[allow(clippy::too_many_arguments)]
pub fn signed_curl(port: u16, ca: &Path, sensor: &str, key: &[u8], timestamp_ms: i64, nonce: &str, body: &str, tamper: bool) -> u16 {
    signed_post(port, ca, sensor, key, "/v1/sensor/heartbeat", timestamp_ms, nonce, body, tamper)
}

/// Sends a signed sensor request to `path` with curl; returns the HTTP status.
#[allow(clippy::too_many_arguments)]
pub fn signed_post(port: u16, ca: &Path, sensor: &str, key: &[u8], path: &str, timestamp_ms: i64, nonce: &str, body: &str, tamper: bool) -> u16 {
    signed_answer(port, ca, sensor, key, path, timestamp_ms, nonce, body, tamper).0
}

/// Sends a signed sensor request to `path` with curl; returns the HTTP status and body.
#[allow(clippy::too_many_arguments)]
pub fn signed_answer(port: u16, ca: &Path, sensor: &str, key: &[u8], path: &str, timestamp_ms: i64, nonce: &str, body: &str, tamper: bool) -> (u16, String) {
    let request = SignedRequest { port, ca, sensor, key, path, timestamp_ms, nonce };
    request.send(body.as_bytes(), tamper, &["-H", "content-type: application/json", "--data-binary", body])
}

/// A POST signed as a sensor signs it.
pub struct SignedRequest<'a> {
    pub port: u16,
    pub ca: &'a Path,
    pub sensor: &'a str,
    pub key: &'a [u8],
    pub path: &'a str,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
}

impl SignedRequest<'_> {
    /// Signs `signed_body` (the body as the controller will read it, decoded) and sends
    /// the request with curl, which also gets `curl_args` (the body as sent, other
    /// headers, options); with `tamper` the signature is spoiled. The HTTP status and body.
    pub fn send(&self, signed_body: &[u8], tamper: bool, curl_args: &[&str]) -> (u16, String) {
        self.send_as("POST", signed_body, tamper, curl_args)
    }

    /// A signed GET (no body), as a sensor pulls its token index.
    pub fn get(&self) -> (u16, String) {
        self.send_as("GET", b"", false, &[])
    }

    fn send_as(&self, method: &str, signed_body: &[u8], tamper: bool, curl_args: &[&str]) -> (u16, String) {
        use honeyward::sink::controller::signing::{sign, Signed};
        let r = self;
        let mut signature = sign(r.key, &Signed { method, path: r.path, timestamp_ms: r.timestamp_ms, nonce: r.nonce, body: signed_body });
        if tamper {
            signature.replace_range(0..2, if signature.starts_with("00") { "11" } else { "00" });
        }
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}", "--cacert"])
            .arg(r.ca)
            .args(["-H", &format!("x-honeyward-sensor: {}", r.sensor), "-H", &format!("x-honeyward-timestamp: {}", r.timestamp_ms)])
            .args(["-H", &format!("x-honeyward-nonce: {}", r.nonce), "-H", &format!("x-honeyward-signature: {signature}")])
            .args(curl_args)
            .arg(format!("https://127.0.0.1:{}{}", r.port, r.path))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (answer, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        (status.trim().parse().unwrap_or(0), answer.to_string())
    }
}

/// A field (`name: value`) of the CLI's output, such as a created token's secret.
pub fn secret(out: &str, field: &str) -> String {
    out.lines().find_map(|l| l.trim().strip_prefix(&format!("{field}: "))).unwrap_or_else(|| panic!("{field} in {out}")).to_string()
}

/// One SSH password attempt with the real OpenSSH client (through sshpass).
pub fn try_password(addr: SocketAddr, user: &str, password: &str) {
    let _ = Command::new("sshpass")
        .args([
            "-p",
            password,
            "ssh",
            "-p",
            &addr.port().to_string(),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=5",
        ])
        .arg(format!("{user}@127.0.0.1"))
        .arg("true")
        .stdin(Stdio::null())
        .output();
}
