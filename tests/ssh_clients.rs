//! Real SSH clients against the SSH decoy: the OpenSSH client completes a password
//! attempt with every algorithm combination each personality offers; paramiko, asyncssh,
//! hydra, PuTTY's plink and Dropbear's dbclient get the same answers from the decoy as
//! from the real server it imitates; and every attempt of every client is stored
//! exactly once with its user name and password.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::real_ssh::{self, RealServer};
use common::*;

fn personality_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/decoys/{name}.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The names listed under `key:` in a personality file.
fn list(yaml: &str, key: &str) -> Vec<String> {
    let start = yaml.find(&format!("\n{key}:\n")).unwrap_or_else(|| panic!("{key} in personality")) + key.len() + 3;
    yaml[start..].lines().take_while(|l| l.starts_with("  - ")).map(|l| l[4..].trim().to_string()).collect()
}

/// (kex, host key, cipher, MAC) for every combination a personality offers (a MAC only
/// with ciphers that need one).
fn combinations(yaml: &str) -> Vec<[String; 4]> {
    let markers = ["kex-strict-s-v00@openssh.com", "kexguess2@matt.ucc.asn.au", "ext-info-s"];
    let kex: Vec<String> = list(yaml, "kex").into_iter().filter(|k| !markers.contains(&k.as_str())).collect();
    let mut out = Vec::new();
    for k in &kex {
        for h in list(yaml, "host_keys") {
            for c in list(yaml, "ciphers") {
                let aead = c.starts_with("chacha20") || c.contains("gcm");
                let macs = if aead { vec![list(yaml, "macs")[0].clone()] } else { list(yaml, "macs") };
                for m in macs {
                    out.push([k.clone(), h.clone(), c.clone(), m]);
                }
            }
        }
    }
    out
}

/// One password attempt by the OpenSSH client with exactly these algorithms (kex, host
/// key, cipher, MAC), plus `extra` options.
fn sshpass(addr: SocketAddr, user: &str, password: &str, algorithms: [&str; 4], extra: &[&str]) -> String {
    let [kex, host_key, cipher, mac] = algorithms;
    real_ssh::run(
        Command::new("sshpass")
            .args(["-p", password, "ssh", "-p", &addr.port().to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "NumberOfPasswordPrompts=1",
                "-o",
                "ConnectTimeout=20",
                "-o",
                &format!("KexAlgorithms={kex}"),
                "-o",
                &format!("HostKeyAlgorithms={host_key}"),
                "-o",
                &format!("Ciphers={cipher}"),
                "-o",
                &format!("MACs={mac}"),
            ])
            .args(extra)
            .args([&format!("{user}@127.0.0.1"), "true"]),
    )
}

/// Every stored password attempt: (connection, password).
fn password_attempts(db: &rusqlite::Connection) -> Vec<(String, String)> {
    bodies(db, "ssh_auth")
        .iter()
        .filter(|b| b["details"]["method"] == "password")
        .map(|b| (b["session"].to_string(), b["details"]["password"]["text"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// How often each value was seen.
fn counted<T: Ord>(values: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut seen = BTreeMap::new();
    for v in values {
        *seen.entry(v).or_insert(0) += 1;
    }
    seen
}

fn passwords(db: &rusqlite::Connection) -> BTreeMap<String, usize> {
    counted(password_attempts(db).into_iter().map(|(_, password)| password))
}

fn matrix(personality: &str) {
    let dir = tempfile::tempdir().unwrap();
    let decoy = format!("  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {personality}\n    failure_delay_ms: 0\n");
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    let combos = Arc::new(combinations(&personality_file(personality)));
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (combos, next, failures) = (Arc::clone(&combos), Arc::clone(&next), Arc::clone(&failures));
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = combos.get(i) else { break };
                let out = sshpass(addr, "matrix", &format!("combo-{i}"), c.each_ref().map(String::as_str), &[]);
                if !out.contains("Permission denied") {
                    failures.lock().unwrap().push(format!("{c:?}: {}", out.lines().last().unwrap_or("")));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{} of {} combinations failed:\n{}", failures.len(), combos.len(), failures.join("\n"));
    let db = hw.store();
    assert!(eventually(20, || passwords(&db).len() == combos.len()), "{} of {} attempts stored", passwords(&db).len(), combos.len());
    let stored = passwords(&db);
    for i in 0..combos.len() {
        assert_eq!(stored.get(&format!("combo-{i}")), Some(&1), "combination {i} ({:?}) stored exactly once", combos[i]);
    }
    eprintln!("{personality}: {} combinations, each one password attempt, all stored once", combos.len());
}

#[test]
fn the_openssh_client_completes_a_password_attempt_with_every_combination_the_debian_12_personality_offers() {
    matrix("openssh-debian12");
}

#[test]
fn the_openssh_client_completes_a_password_attempt_with_every_combination_the_dropbear_personality_offers() {
    matrix("dropbear-debian12");
}

/// The legacy algorithms no shipped personality offers but an older one may (SHA-1
/// groups, group exchange with SHA-1, CBC ciphers, 3DES, RSA with SHA-1, plain zlib),
/// each completed with the OpenSSH client, which still speaks them when asked.
#[test]
fn legacy_algorithms_complete_a_password_attempt_with_the_openssh_client() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = personality_file("openssh-debian12");
    let start = yaml.find("\nkex:\n").unwrap() + 1;
    let end = yaml.find("\next_info:\n").unwrap() + 1;
    let legacy = "kex:\n  - diffie-hellman-group1-sha1\n  - diffie-hellman-group-exchange-sha1\n  - diffie-hellman-group14-sha1\n  - curve25519-sha256\nhost_keys:\n  - ssh-rsa\n  - ssh-ed25519\nciphers:\n  - aes128-cbc\n  - aes192-cbc\n  - aes256-cbc\n  - 3des-cbc\n  - aes128-ctr\nmacs:\n  - hmac-sha1\n  - hmac-sha2-256\ncompression:\n  - zlib\n  - none\n";
    std::fs::write(
        dir.path().join("legacy.yaml"),
        format!("{}{legacy}{}", &yaml[..start], &yaml[end..]).replace("name: openssh-debian12", "name: legacy-test"),
    )
    .unwrap();
    let decoy = format!(
        "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {}\n    failure_delay_ms: 0\n",
        dir.path().join("legacy.yaml").display()
    );
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ssh");
    let combos: Vec<[&str; 4]> = vec![
        ["diffie-hellman-group1-sha1", "ssh-ed25519", "aes128-ctr", "hmac-sha1"],
        ["diffie-hellman-group-exchange-sha1", "ssh-ed25519", "aes128-ctr", "hmac-sha1"],
        ["diffie-hellman-group14-sha1", "ssh-ed25519", "aes128-ctr", "hmac-sha1"],
        ["curve25519-sha256", "ssh-rsa", "aes128-ctr", "hmac-sha2-256"],
        ["curve25519-sha256", "ssh-ed25519", "aes128-cbc", "hmac-sha1"],
        ["curve25519-sha256", "ssh-ed25519", "aes192-cbc", "hmac-sha1"],
        ["curve25519-sha256", "ssh-ed25519", "aes256-cbc", "hmac-sha2-256"],
        ["curve25519-sha256", "ssh-ed25519", "3des-cbc", "hmac-sha1"],
    ];
    for (i, [kex, hk, cipher, mac]) in combos.iter().enumerate() {
        let out = sshpass(addr, "legacy", &format!("legacy-{i}"), [kex, hk, cipher, mac], &["-o", "Compression=yes"]);
        assert!(out.contains("Permission denied"), "{kex} {hk} {cipher} {mac}: {out}");
    }
    let db = hw.store();
    assert!(eventually(10, || passwords(&db).len() == combos.len()), "{:?}", passwords(&db));
    let negotiated: Vec<String> = bodies(&db, "ssh_client").iter().map(|b| b["details"]["negotiated"].as_str().unwrap_or("").to_string()).collect();
    assert!(negotiated.iter().all(|n| n.ends_with(" zlib")), "plain zlib from NEWKEYS: {negotiated:?}");
}

/// The real server and the decoy imitating it, with failure delays short enough to
/// run many attempts (sshd without PAM answers after its per-user minimum only).
struct Twins {
    _dir: tempfile::TempDir,
    hw: Honeyward,
    real: RealServer,
}

fn twins(personality: &str) -> Twins {
    let dir = tempfile::tempdir().unwrap();
    let real = if personality.starts_with("openssh") { real_ssh::sshd(dir.path(), &["UsePAM=no"]) } else { real_ssh::dropbear(dir.path(), &[]) };
    let decoy = format!("  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {personality}\n    failure_delay_ms: 0\n");
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    Twins { _dir: dir, hw, real }
}

/// Runs `client` against the real server and against the decoy, for both families;
/// the two reports must be equal. `check(personality, report, store)` then looks at
/// what the real server said and what the decoy stored.
fn same_answers(client: impl Fn(SocketAddr) -> String, check: impl Fn(&str, &str, &rusqlite::Connection)) {
    for personality in ["openssh-debian12", "dropbear-debian12"] {
        let t = twins(personality);
        let (real, decoy) = (client(t.real.addr), client(t.hw.addr("ssh")));
        assert_eq!(decoy, real, "{personality}: the decoy's answers against the real server's");
        check(personality, &real, &t.hw.store());
    }
}

fn python(script: &str, args: &[String]) -> String {
    let path = format!("{}/tests/ssh_clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3").arg(path).args(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn paramiko_sending_a_service_request_per_password_gets_the_real_answers_and_every_password_is_stored() {
    for (personality, stored_attempts) in [("openssh-debian12", 6), ("dropbear-debian12", 10)] {
        let t = twins(personality);
        let run = |addr: SocketAddr| python("paramiko_passwords.py", &["127.0.0.1".into(), addr.port().to_string(), "root".into(), "10".into()]);
        let (real, decoy) = (run(t.real.addr), run(t.hw.addr("ssh")));
        assert_eq!(decoy, real, "{personality}: paramiko's outcomes");
        assert!(real.contains("denied"), "{real}");
        // The attempts that reached the server (sshd disconnects at the 6th, Dropbear
        // closes at the 10th), each stored once.
        let db = t.hw.store();
        assert!(eventually(10, || passwords(&db).len() == stored_attempts), "{personality}: {:?}", passwords(&db));
        for i in 0..stored_attempts {
            assert_eq!(passwords(&db).get(&format!("paramiko-{i}")), Some(&1), "{personality}: attempt {i}");
        }
    }
}

#[test]
fn asyncssh_gets_the_real_answer_and_its_password_is_stored() {
    same_answers(
        |addr| python("asyncssh_password.py", &["127.0.0.1".into(), addr.port().to_string(), "admin".into(), "asyncssh-pw".into()]),
        |personality, real, db| {
            assert!(real.contains("PermissionDenied"), "{real}");
            assert!(eventually(10, || passwords(db).get("asyncssh-pw").copied() == Some(1)), "{personality}: {:?}", passwords(db));
        },
    );
}

#[test]
fn hydra_gets_the_real_verdict_and_tries_every_password_on_the_decoy() {
    for personality in ["openssh-debian12", "dropbear-debian12"] {
        let t = twins(personality);
        let dir = tempfile::tempdir().unwrap();
        let words: Vec<String> = (0..12).map(|i| format!("hydra-{i:02}")).collect();
        std::fs::write(dir.path().join("words.txt"), words.join("\n") + "\n").unwrap();
        let run = |addr: SocketAddr| {
            let text = real_ssh::run(
                Command::new("hydra")
                    .args(["-l", "svc_ris", "-P"])
                    .arg(dir.path().join("words.txt"))
                    .args(["-t", "4", "-w", "30"])
                    .arg(format!("ssh://{addr}")),
            );
            text.lines().filter(|l| l.contains("target completed") || l.contains("valid password")).map(str::to_string).collect::<Vec<_>>()
        };
        let (real, decoy) = (run(t.real.addr), run(t.hw.addr("ssh")));
        assert_eq!(decoy, real, "{personality}: hydra's verdict");
        assert!(real.iter().any(|l| l.contains("1 of 1 target completed, 0 valid password")), "{real:?}");
        // Hydra itself may send a password again on a fresh connection when a task
        // is slow (it did under CI load); the decoy must store every attempt it
        // received, and never one attempt twice.
        let db = t.hw.store();
        assert!(eventually(10, || words.iter().all(|w| passwords(&db).contains_key(w))), "{personality}: every password stored: {:?}", passwords(&db));
        let per_connection = counted(password_attempts(&db));
        assert!(per_connection.keys().all(|(session, _)| session != "null"), "{personality}: every attempt names its connection");
        assert!(per_connection.values().all(|&n| n == 1), "{personality}: a password stored twice for one connection: {per_connection:?}");
    }
}

/// Masks host key fingerprints, key blobs and ports in a client's report.
fn mask(text: &str, port: u16) -> String {
    text.replace(&port.to_string(), "<port>")
        .split('\n')
        .map(|l| {
            l.split(' ')
                .map(|w| {
                    if w.starts_with("SHA256:") || w.len() >= 40 && w.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=:".contains(&b)) {
                        "<key>"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn plink_gets_the_real_answers_and_its_password_is_stored() {
    let plink = |addr: SocketAddr| {
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new("plink")
            .args(["-ssh", "-pw", "plink-pw", "-P", &addr.port().to_string(), "nurse@127.0.0.1", "true"])
            .env("HOME", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("plink (putty-tools) must be installed: scripts/test.sh installs it");
        // Accept the unknown host key; then nothing more to say.
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"y\n");
        let out = child.wait_with_output().unwrap();
        mask(&format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)), addr.port())
    };
    same_answers(plink, |personality, real, db| {
        assert!(real.contains("Access denied"), "{real}");
        assert!(eventually(10, || passwords(db).get("plink-pw").copied() == Some(1)), "{personality}: {:?}", passwords(db));
    });
}

#[test]
fn dbclient_gets_the_real_answers_and_its_password_is_stored() {
    let dbclient = |addr: SocketAddr| {
        let home = tempfile::tempdir().unwrap();
        let text = real_ssh::run(
            Command::new("dbclient")
                .args(["-y", "-p", &addr.port().to_string(), "pharmacy@127.0.0.1", "true"])
                .env("HOME", home.path())
                .env("DROPBEAR_PASSWORD", "dbclient-pw"),
        );
        mask(&text, addr.port())
    };
    same_answers(dbclient, |personality, _, db| {
        // dbclient sends the password once, then empty ones when it cannot prompt.
        assert!(eventually(10, || passwords(db).get("dbclient-pw").copied() == Some(1)), "{personality}: {:?}", passwords(db));
    });
}
