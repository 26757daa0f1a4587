//! The SSH personalities whose real server cannot run on this machine's Debian 12,
//! checked against what the real server sent when it ran: decoys/captures/openssh-*.txt,
//! recorded from each release's own sshd in a debootstrapped root on loopback by
//! scripts/capture-ssh-personalities.sh. The same `ssh -vvv` lines (version, the
//! server's KEXINIT lists, EXT_INFO, the method list) must come out of the decoy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;

use common::*;

/// The lines of `ssh -vvv` the capture script keeps.
fn server_lines(vvv: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_proposal = false;
    for raw in vvv.lines() {
        let line = raw.split_once(": ").filter(|(p, _)| p.starts_with("debug")).map_or(raw, |(_, l)| l);
        if line.contains("remote software version") {
            out.push(line.to_string());
        } else if line.contains("peer server KEXINIT proposal") {
            in_proposal = true;
            out.push(line.to_string());
        } else if in_proposal {
            if line.contains("first_kex_follows") {
                in_proposal = false;
            } else if !["ciphers ctos", "MACs ctos", "compression ctos", "languages", "reserved"].iter().any(|s| line.contains(s)) {
                out.push(line.to_string());
            }
        } else if line.contains("kex_input_ext_info") || line.contains("Authentications that can continue") {
            out.push(line.to_string());
        }
    }
    out
}

fn check(personality: &str) {
    let capture = std::fs::read_to_string(format!("{}/decoys/captures/{personality}.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let real: Vec<String> = capture.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect();
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&format!("  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {personality}\n")));
    let addr = hw.addr("ssh");
    let out = Command::new("ssh")
        .args([
            "-vvv",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-p",
            &addr.port().to_string(),
            "probe@127.0.0.1",
            "true",
        ])
        .output()
        .unwrap();
    let decoy = server_lines(&String::from_utf8_lossy(&out.stderr));
    assert!(real.len() >= 8, "{personality}: capture has the server's lists");
    assert_eq!(decoy, real, "{personality}: the decoy's ssh -vvv lines against the recorded real server's");
}

#[test]
fn the_debian_13_personality_sends_what_the_real_trixie_sshd_sent() {
    check("openssh-debian13");
}

#[test]
fn the_ubuntu_22_04_personality_sends_what_the_real_jammy_sshd_sent() {
    check("openssh-ubuntu2204");
}

#[test]
fn the_ubuntu_24_04_personality_sends_what_the_real_noble_sshd_sent() {
    check("openssh-ubuntu2404");
}

/// mlkem768x25519-sha256 (OpenSSH 10.0's first choice) with a client that speaks it:
/// paramiko prefers it.
#[test]
fn paramiko_agrees_on_mlkem768x25519_with_the_debian_13_personality_and_its_password_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(
        dir.path(),
        &config("  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: openssh-debian13\n    failure_delay_ms: 0\n"),
    );
    let addr = hw.addr("ssh");
    let script = "import paramiko,sys\nt=paramiko.Transport(('127.0.0.1',int(sys.argv[1])))\nt.start_client(timeout=30)\ntry:\n    t.auth_password('ris','mlkem-pw')\nexcept paramiko.AuthenticationException as e:\n    print('denied')\n";
    let out = Command::new("python3").args(["-c", script, &addr.port().to_string()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), "denied", "{}", String::from_utf8_lossy(&out.stderr));
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "ssh_auth").iter().any(|b| b["details"]["password"]["text"] == "mlkem-pw")));
    let client = &bodies(&db, "ssh_client")[0];
    assert!(client["details"]["negotiated"].as_str().unwrap().starts_with("mlkem768x25519-sha256 "), "{client}");
}
