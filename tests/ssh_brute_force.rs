//! A real brute force against the SSH decoy: THC hydra with 500 passwords over 16
//! parallel tasks. Its own test binary, so no other test competes with it for the CPU.
//!
//! The decoy runs the Debian personality with MaxAuthTries raised. At MaxAuthTries a
//! real sshd (and the decoy) disconnects; hydra's libssh then waits out its whole
//! response timeout (32 s by default) before retrying the password on a new connection,
//! against sshd as much as against the decoy, and under load hydra itself may drop
//! pairs. The limit is tested with OpenSSH in `ssh_decoy.rs`; here every password must
//! be stored exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::*;

fn auths(db: &rusqlite::Connection, method: &str) -> Vec<serde_json::Value> {
    bodies(db, "ssh_auth").into_iter().filter(|b| b["details"]["method"] == method).collect()
}

fn banner_now(addr: SocketAddr) -> bool {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_millis(500))).unwrap();
    let mut b = [0u8; 8];
    s.read_exact(&mut b).is_ok() && &b == b"SSH-2.0-"
}

#[test]
fn hydra_with_500_passwords_at_16_tasks_has_every_attempt_stored_and_the_decoy_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml")).unwrap();
    assert!(personality.contains("max_auth_tries: 6\n") && personality.contains(MAX_STARTUPS));
    std::fs::write(
        dir.path().join("patient-sshd.yaml"),
        personality
            .replace("max_auth_tries: 6\n", "max_auth_tries: 1000\n")
            .replace(MAX_STARTUPS, "unauthenticated: {max_startups: {begin: 1000, rate_percent: 30, full: 2000}}"),
    )
    .unwrap();
    let decoy = format!(
        "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {}\n    failure_delay_ms: 0\n",
        dir.path().join("patient-sshd.yaml").display()
    );
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    let words: Vec<String> = (0..500).map(|i| format!("Winter{i:03}!")).collect();
    std::fs::write(dir.path().join("passwords.txt"), words.join("\n") + "\n").unwrap();
    let out = Command::new("hydra")
        .args(["-l", "radadmin", "-P"])
        .arg(dir.path().join("passwords.txt"))
        .args(["-t", "16", "-I", "-V", "-o"])
        .arg(dir.path().join("hydra.log"))
        .arg(format!("ssh://{addr}"))
        .output()
        .expect("hydra must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&out.stdout);
    // "0 of 1 target completed" would mean hydra gave up (too many connection errors).
    assert!(text.contains("1 of 1 target completed, 0 valid password"), "{text}\n{}", String::from_utf8_lossy(&out.stderr));

    let db = hw.store();
    let passwords = |db: &rusqlite::Connection| {
        auths(db, "password").iter().map(|a| a["details"]["password"]["text"].as_str().unwrap().to_string()).collect::<Vec<String>>()
    };
    // hydra may exit before the decoy has recorded the last attempts it answered.
    let complete = eventually(10, || passwords(&db).iter().collect::<std::collections::BTreeSet<_>>().len() >= words.len());
    let tried = passwords(&db);
    if !complete {
        let stored: std::collections::BTreeSet<&String> = tried.iter().collect();
        let missing: Vec<&String> = words.iter().filter(|w| !stored.contains(w)).collect();
        let err = String::from_utf8_lossy(&out.stderr);
        let notes: Vec<&str> =
            text.lines().chain(err.lines()).filter(|l| !l.starts_with("[ATTEMPT]") || missing.iter().any(|m| l.contains(m.as_str()))).collect();
        panic!("{} of {} passwords not stored: {missing:?}\nhydra said:\n{}", missing.len(), words.len(), notes.join("\n"));
    }
    let mut sorted = tried.clone();
    sorted.sort();
    let mut expected = words.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every password hydra tried is stored exactly once");
    assert!(banner_now(addr), "the decoy still answers a new client");
}
