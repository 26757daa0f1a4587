//! The SSH decoy measured side by side with the real servers its personalities claim
//! to be, both running on loopback: Debian 12's OpenSSH sshd (`openssh-debian12`) and
//! Debian 12's Dropbear (`dropbear-debian12`). Same KEXINIT bytes, same `ssh -vvv`
//! transcript, same ssh-audit and nmap reports, same reaction to odd first lines, to
//! silence and to floods of unauthenticated connections.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::real_ssh::{self, Close, RealServer};
use common::*;

/// A decoy with `personality` (a built-in name or a file) and extra lines.
fn decoy(name: &str, personality: &str, extra: &str) -> String {
    format!("  - name: {name}\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {personality}\n    limits:\n      max_connections: 5000\n      max_connections_per_source: 5000\n{extra}")
}

/// Both real servers and a honeyward with both personalities.
struct Pair {
    _dir: tempfile::TempDir,
    hw: Honeyward,
    sshd: RealServer,
    dropbear: RealServer,
}

fn pair(extra_sshd: &[&str], extra_dropbear: &[&str], decoys: &str) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let sshd = real_ssh::sshd(dir.path(), extra_sshd);
    let dropbear = real_ssh::dropbear(dir.path(), extra_dropbear);
    let hw = Honeyward::start(dir.path(), &config(decoys));
    Pair { _dir: dir, hw, sshd, dropbear }
}

fn both() -> Pair {
    pair(&[], &[], &(decoy("ossh", "openssh-debian12", "") + &decoy("dbear", "dropbear-debian12", "")))
}

/// Replaces every token starting with `SHA256:` and the given ports.
fn normalise(text: &str, ports: &[u16]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l: String = line
            .split(' ')
            .map(|w| if let Some(i) = w.find("SHA256:") { format!("{}SHA256:<fp>", &w[..i]) } else { w.to_string() })
            .collect::<Vec<_>>()
            .join(" ");
        for p in ports {
            l = l.replace(&p.to_string(), "<port>");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn md5_hex(b: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// HASSHServer from a KEXINIT payload: MD5 of kex;ciphers(s2c);macs(s2c);compression(s2c).
fn hassh_server(payload: &[u8]) -> String {
    let mut at = 17;
    let mut lists = Vec::new();
    for _ in 0..8 {
        let len = u32::from_be_bytes(payload[at..at + 4].try_into().unwrap()) as usize;
        lists.push(payload[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    md5_hex(&[lists[0].clone(), lists[3].clone(), lists[5].clone(), lists[7].clone()].join(&b';'))
}

#[test]
fn the_kexinit_is_byte_identical_to_the_real_servers_apart_from_the_cookie() {
    let p = both();
    for (real, fake, name) in [(p.sshd.addr, p.hw.addr("ossh"), "sshd"), (p.dropbear.addr, p.hw.addr("dbear"), "dropbear")] {
        let (rb, rlen, rpad, mut rpayload, rpadding) = real_ssh::kexinit(real);
        let (fb, flen, fpad, mut fpayload, fpadding) = real_ssh::kexinit(fake);
        assert_eq!(String::from_utf8_lossy(&fb), String::from_utf8_lossy(&rb), "{name}: banner");
        assert_eq!((flen, fpad), (rlen, rpad), "{name}: packet and padding length");
        assert_eq!(hassh_server(&fpayload), hassh_server(&rpayload), "{name}: HASSHServer");
        rpayload[1..17].fill(0);
        fpayload[1..17].fill(0);
        assert_eq!(fpayload, rpayload, "{name}: KEXINIT payload apart from the cookie");
        if name == "sshd" {
            assert!(rpadding.iter().all(|&b| b == 0) && fpadding.iter().all(|&b| b == 0), "sshd pads plaintext packets with zeros");
        }
    }
    assert_eq!(hassh_server(&real_ssh::kexinit(p.sshd.addr).3), "425d29fe50d8e4f5e37efb6e24bcf660", "the Debian 12 sshd this was measured on");
}

fn ssh_vvv(addr: SocketAddr) -> String {
    real_ssh::run(Command::new("ssh").args([
        "-vvv",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        "-p",
        &addr.port().to_string(),
        "probe@127.0.0.1",
        "true",
    ]))
}

#[test]
fn ssh_vvv_transcripts_are_identical_apart_from_keys_and_ports() {
    let p = both();
    for (real, fake) in [(p.sshd.addr, p.hw.addr("ossh")), (p.dropbear.addr, p.hw.addr("dbear"))] {
        let ports = [real.port(), fake.port()];
        let (r, f) = (normalise(&ssh_vvv(real), &ports), normalise(&ssh_vvv(fake), &ports));
        assert!(r.contains("Permission denied"), "{r}");
        if r != f {
            let diff: Vec<String> = r.lines().zip(f.lines()).filter(|(a, b)| a != b).map(|(a, b)| format!("real:  {a}\ndecoy: {b}")).collect();
            panic!("ssh -vvv differs ({} vs {} lines):\n{}", r.lines().count(), f.lines().count(), diff.join("\n"));
        }
    }
}

/// ssh-audit's report. Its DHEat connection-rate test measures how fast this machine
/// accepts connections at that moment (real sshd: 180-200 per second here, the decoy
/// with its imitated fork delay: 250-600), so it is skipped, and a DHEat line masked.
fn ssh_audit(addr: SocketAddr) -> String {
    let text = real_ssh::run(Command::new("ssh-audit").args(["-n", "--skip-rate-test", "-p", &addr.port().to_string(), "127.0.0.1"]));
    text.lines().map(|l| if l.contains("DHEat") { "(nfo) DHEat: <rate>" } else { l }).collect::<Vec<_>>().join("\n")
}

#[test]
fn ssh_audit_reports_are_identical_apart_from_fingerprints_and_the_connection_rate() {
    let p = both();
    for (real, fake) in [(p.sshd.addr, p.hw.addr("ossh")), (p.dropbear.addr, p.hw.addr("dbear"))] {
        let ports = [real.port(), fake.port()];
        let (r, f) = (normalise(&ssh_audit(real), &ports), normalise(&ssh_audit(fake), &ports));
        assert!(r.contains("(gen) banner: SSH-2.0-"), "ssh-audit ran: {r}");
        assert_eq!(f, r);
    }
}

/// nmap's service detection and one SSH script, key fingerprints masked. (One script
/// at a time: run together they race for Dropbear's five unauthenticated connections
/// per address, real or not.)
fn nmap(addr: SocketAddr, script: &str) -> String {
    let port = addr.port().to_string();
    let text = real_ssh::run(Command::new("nmap").args(["-Pn", "-sV", "-p", &port, "--script", script, "127.0.0.1"]));
    let mut blocks: Vec<String> = Vec::new();
    let mut other = Vec::new();
    for line in text.lines() {
        if line.starts_with("Starting") || line.starts_with("Nmap done") || line.contains("latency") || line.contains("scanned in") {
            continue;
        }
        let masked: String = line
            .split(' ')
            .map(|w| if w.len() == 32 && w.bytes().all(|b| b.is_ascii_hexdigit()) { "<fp>" } else { w })
            .collect::<Vec<_>>()
            .join(" ")
            .replace(&port, "<port>");
        if masked.starts_with("| ") && !masked.starts_with("|  ") {
            blocks.push(masked);
        } else if masked.starts_with('|') {
            if let Some(b) = blocks.last_mut() {
                b.push('\n');
                b.push_str(&masked);
            }
        } else {
            other.push(masked);
        }
    }
    blocks.sort();
    format!("{}\n{}", other.join("\n"), blocks.join("\n"))
}

#[test]
fn nmap_service_and_ssh_scripts_report_the_same_as_for_the_real_servers() {
    let p = both();
    // nmap's ssh-hostkey reads Dropbear's banner and KEXINIT (one segment) as the
    // banner, then waits 90 s for a KEXINIT it already swallowed, and reports nothing:
    // the real Dropbear and its decoy alike (measured), so it is run against sshd only.
    let scripts: [(SocketAddr, SocketAddr, &[&str]); 2] = [
        (p.sshd.addr, p.hw.addr("ossh"), &["ssh2-enum-algos", "ssh-auth-methods", "ssh-hostkey"]),
        (p.dropbear.addr, p.hw.addr("dbear"), &["ssh2-enum-algos", "ssh-auth-methods"]),
    ];
    for (real, fake, scripts) in scripts {
        for &script in scripts {
            // nmap's scripts time out on their own: on a loaded machine one of
            // ssh-hostkey's connections (one per key type) can miss, against either
            // server. Scanned again, up to three times, until both answers agree.
            let mut scans = Vec::new();
            for _ in 0..3 {
                let (r, f) = (nmap(real, script), nmap(fake, script));
                let agree = f == r;
                scans.push((r, f));
                if agree {
                    break;
                }
            }
            let (r, f) = scans.pop().unwrap();
            assert!(r.contains(&format!("| {script}:")), "{r}");
            assert_eq!(f, r, "{script} (after {} scans)", scans.len() + 1);
        }
    }
}

#[test]
fn odd_first_lines_get_the_real_servers_bytes_and_the_same_kind_of_close() {
    let p = both();
    let mut one_mib = vec![b'A'; 1 << 20];
    one_mib.extend_from_slice(b"\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("http", b"GET / HTTP/1.0\r\n".to_vec()),
        ("http with a blank line", b"GET / HTTP/1.0\r\n\r\n".to_vec()),
        ("ssh 1.5", b"SSH-1.5-x\r\n".to_vec()),
        ("a line before the version", b"hello\r\nSSH-2.0-x\r\n".to_vec()),
        ("bare SSH-", b"SSH-\r\n".to_vec()),
        ("NUL", b"SSH-2.0-a\0b\r\n".to_vec()),
        ("scanner", b"SSH-2.0-Probe-x\r\n".to_vec()),
        ("one megabyte", one_mib),
    ];
    for (real, fake, server) in [(p.sshd.addr, p.hw.addr("ossh"), "sshd"), (p.dropbear.addr, p.hw.addr("dbear"), "dropbear")] {
        for (what, bytes) in &cases {
            // Dropbear sends its KEXINIT with the banner: compare up to the banner line.
            let (mut r, rc) = real_ssh::probe(real, bytes, true, Duration::from_secs(3));
            let (mut f, fc) = real_ssh::probe(fake, bytes, true, Duration::from_secs(3));
            if server == "dropbear" {
                r.truncate(r.iter().position(|&b| b == b'\n').map_or(r.len(), |i| i + 1));
                f.truncate(f.iter().position(|&b| b == b'\n').map_or(f.len(), |i| i + 1));
            }
            assert_eq!(String::from_utf8_lossy(&f), String::from_utf8_lossy(&r), "{server}, {what}: bytes");
            assert_eq!(fc, rc, "{server}, {what}: close");
        }
    }
    // Every one of them is in the store, closed.
    let db = p.hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") >= 2 * cases.len() as i64));
}

#[test]
fn a_client_silent_after_the_banner_or_the_kexinit_is_closed_without_a_word_at_the_grace_time() {
    let dir = tempfile::tempdir().unwrap();
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml"))
        .unwrap()
        .replace("login_grace_seconds: 120\n", "login_grace_seconds: 3\n");
    std::fs::write(dir.path().join("grace3.yaml"), personality).unwrap();
    let real = real_ssh::sshd(dir.path(), &["LoginGraceTime=3"]);
    let hw = Honeyward::start(dir.path(), &config(&decoy("ossh", &dir.path().join("grace3.yaml").display().to_string(), "")));
    for (addr, who) in [(real.addr, "sshd"), (hw.addr("ossh"), "decoy")] {
        for (what, send) in [("after the banner", &b""[..]), ("after its version", b"SSH-2.0-OpenSSH_9.2p1\r\n")] {
            let started = Instant::now();
            let (got, close) = real_ssh::probe(addr, send, true, Duration::from_secs(10));
            let took = started.elapsed();
            assert_eq!(close, Close::Fin, "{who}, silent {what}");
            assert!(took >= Duration::from_millis(2900) && took < Duration::from_secs(8), "{who}, silent {what}: closed after {took:?}");
            let banner_end = got.iter().position(|&b| b == b'\n').unwrap() + 1;
            let rest = &got[banner_end..];
            // Nothing after the banner, or after the KEXINIT: no text, no DISCONNECT.
            if send.is_empty() {
                assert!(rest.is_empty(), "{who}: sent {rest:?}");
            } else {
                let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                assert_eq!(rest.len(), 4 + len, "{who}: only the KEXINIT");
            }
        }
    }
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "connection_closed").iter().filter(|b| b["details"]["reason"] == "session_timeout").count() == 2));
}

/// Holds `n` connections that have read the banner (unauthenticated).
fn hold(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut b = [0u8; 1];
            let _ = std::io::Read::read(&mut (&s), &mut b);
            s
        })
        .collect()
}

/// How many of `n` further connections were dropped (the admitted ones are held,
/// unauthenticated, as a flood holds them), and what a dropped one got.
fn flood(addr: SocketAddr, n: usize) -> (usize, Vec<Vec<u8>>) {
    let mut answers = Vec::new();
    let mut held = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match std::io::Read::read(&mut s, &mut buf) {
                Ok(0) => {
                    answers.push(got);
                    break;
                }
                Ok(k) => got.extend_from_slice(&buf[..k]),
                Err(_) => {
                    held.push(s);
                    break;
                }
            }
        }
    }
    (answers.len(), answers)
}

#[test]
fn forty_unauthenticated_connections_meet_maxstartups_like_the_real_sshd() {
    let p = pair(&[], &[], &decoy("ossh", "openssh-debian12", ""));
    let mut results = Vec::new();
    for addr in [p.sshd.addr, p.hw.addr("ossh")] {
        let _ten = hold(addr, 10);
        let (dropped, answers) = flood(addr, 40);
        assert!(answers.iter().all(|a| a == b"Exceeded MaxStartups\r\n"), "{answers:?}");
        results.push(dropped);
    }
    // MaxStartups 10:30:100 drops at 30 % and more as the admitted ones add up: the
    // real server dropped about half (20 of 40 measured). Both must be in that range.
    for (who, dropped) in ["sshd", "decoy"].iter().zip(&results) {
        assert!((8..=34).contains(dropped), "{who} dropped {dropped} of 40");
    }
    let db = p.hw.store();
    assert!(eventually(10, || bodies(&db, "connection_closed").iter().filter(|b| b["details"]["reason"] == "max_startups").count() == results[1]));
}

#[test]
fn the_sixth_unauthenticated_connection_from_one_address_gets_nothing_from_dropbear_and_its_decoy() {
    let p = pair(&[], &[], &decoy("dbear", "dropbear-debian12", ""));
    for (addr, who) in [(p.dropbear.addr, "dropbear"), (p.hw.addr("dbear"), "decoy")] {
        let five = hold(addr, 5);
        let (got, close) = real_ssh::probe(addr, b"", false, Duration::from_secs(2));
        assert_eq!((got.len(), close), (0, Close::Fin), "{who}: the 6th");
        drop(five);
        std::thread::sleep(Duration::from_millis(300));
        let (got, _) = real_ssh::probe(addr, b"", false, Duration::from_millis(500));
        assert!(got.starts_with(b"SSH-2.0-dropbear_2022.83\r\n"), "{who}: admitted again");
    }
}
