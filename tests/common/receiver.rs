//! The HTTP receiver of tests/fixtures/receiver.py (Python's http.server on loopback):
//! what HTTP sinks and chat webhooks send, logged one request a line.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::Reaped;

/// A running receiver.
pub struct Receiver {
    _child: Reaped,
    pub port: u16,
    log: std::path::PathBuf,
}

pub fn receiver(dir: &Path, name: &str, args: &[&str]) -> Receiver {
    let log = dir.join(format!("{name}.jsonl"));
    let mut child = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/receiver.py"))
        .arg("--log")
        .arg(&log)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed: scripts/test.sh installs it");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    Receiver { port: line.trim().parse().expect("receiver port"), _child: Reaped(child), log }
}

/// Every request the receiver answered: (path, status, headers, body).
pub fn requests(r: &Receiver) -> Vec<(String, u16, serde_json::Value, Vec<u8>)> {
    use base64::Engine;
    let text = std::fs::read_to_string(&r.log).unwrap_or_default();
    // Only complete lines: the receiver may be writing the last one right now.
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let body = base64::engine::general_purpose::STANDARD.decode(v["body"].as_str().unwrap()).unwrap();
            (v["path"].as_str().unwrap().to_string(), v["status"].as_u64().unwrap() as u16, v["headers"].clone(), body)
        })
        .collect()
}
