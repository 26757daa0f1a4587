//! The failure delay side by side: Debian's sshd (stock configuration, PAM) and the
//! decoy with the `openssh-debian12` personality, each answering wrong passwords for
//! the same users. Prints every reply time in seconds, per user and server, and the
//! values each user's times fall on (the real server rounds to d(user)·2^k).
//!
//! Run: `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release && \
//!       CARGO_TARGET_DIR=/tmp/hw-bench-target cargo bench --bench ssh_failure_delay`
//! Needs root (sshd with PAM) and python3 with paramiko. Loopback only; 5 attempts
//! per user per server (below MaxAuthTries), about two minutes in all.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: a panic is a failed benchmark, not a crashed decoy

use std::process::{Command, Stdio};

#[path = "common/process.rs"]
mod process;

const USERS: &[&str] = &["root", "admin", "nosuchuser1"];
const ATTEMPTS: &str = "5";

fn times(port: u16) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ssh_clients/failure_times.py");
    let out = Command::new("python3").arg(script).args(["127.0.0.1", &port.to_string(), ATTEMPTS]).args(USERS).output().expect("python3 with paramiko");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The real sshd, stock configuration (UsePAM yes), throwaway keys.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut sshd = Command::new("/usr/sbin/sshd");
    sshd.args(["-D", "-e", "-p", &port.to_string(), "-o", "ListenAddress=127.0.0.1", "-o"]).arg(format!("PidFile={}", dir.path().join("pid").display()));
    for t in ["rsa", "ecdsa", "ed25519"] {
        let k = dir.path().join(format!("host_{t}"));
        assert!(Command::new("ssh-keygen").args(["-q", "-N", "", "-t", t, "-f"]).arg(&k).status().unwrap().success());
        sshd.arg("-h").arg(&k);
    }
    std::fs::create_dir_all("/run/sshd").ok();
    let mut real = sshd.stderr(Stdio::null()).spawn().expect("openssh-server");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let yaml = "store:\n  path: bench.db\n  sync: normal\ndecoys:\n  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n";
    let decoy = process::start(dir.path(), yaml);

    let real_times = times(port);
    let decoy_times = times(decoy.addr.port());
    let _ = real.kill();
    let _ = real.wait();
    decoy.stop();

    println!("failure delay, seconds from USERAUTH_REQUEST to FAILURE ({ATTEMPTS} wrong passwords per user)");
    println!("{:<12} {:<8} times", "user", "server");
    for user in USERS {
        for (server, t) in [("sshd", &real_times), ("decoy", &decoy_times)] {
            let samples: Vec<f64> = t[user].as_array().unwrap().iter().filter_map(|v| v.as_f64()).collect();
            let mut distinct: Vec<String> = samples.iter().map(|s| format!("{s:.2}")).collect();
            distinct.sort();
            distinct.dedup();
            println!("{user:<12} {server:<8} {}   (values: {})", samples.iter().map(|s| format!("{s:.4}")).collect::<Vec<_>>().join(" "), distinct.join(", "));
        }
    }
}
