//! The poisoner canary between two network namespaces joined by a veth pair (made by
//! the test, removed after it): honeyward asks from one, a Responder-like poisoner
//! written in the test (tests/smb/poisoner.py) answers everything from the other. Every
//! protocol's answer is recorded as `name_poisoning` with the poisoner's address and
//! MAC within one round; with no canary configured, the poisoner hears nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bodies, eventually, Honeyward, Reaped};

/// Two namespaces joined by a veth pair: `hwc-a` (10.203.0.1) and `hwc-b` (10.203.0.2).
struct Namespaces(String);

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2)");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Namespaces {
    fn new(tag: &str) -> Self {
        let (a, b) = (format!("hwc-a-{tag}"), format!("hwc-b-{tag}"));
        let _ = Command::new("ip").args(["netns", "del", &a]).output();
        let _ = Command::new("ip").args(["netns", "del", &b]).output();
        ip(&["netns", "add", &a]);
        ip(&["netns", "add", &b]);
        ip(&["link", "add", "hwc-veth-a", "netns", &a, "type", "veth", "peer", "name", "hwc-veth-b", "netns", &b]);
        for (ns, dev, addr) in [(&a, "hwc-veth-a", "10.203.0.1/24"), (&b, "hwc-veth-b", "10.203.0.2/24")] {
            ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        Namespaces(tag.to_string())
    }

    fn a(&self) -> String {
        format!("hwc-a-{}", self.0)
    }

    fn b(&self) -> String {
        format!("hwc-b-{}", self.0)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.a()]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.b()]).output();
    }
}

fn poisoner(ns: &Namespaces, count: &std::path::Path, quiet: bool) -> Reaped {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smb/poisoner.py");
    let b = ns.b();
    let mut args = vec!["netns", "exec", b.as_str(), "python3", script, "10.203.0.2", "10.203.0.2"];
    let count = count.display().to_string();
    args.push(&count);
    if quiet {
        args.push("--quiet");
    }
    let child = Command::new("ip").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    Reaped(child)
}

fn heard(count: &std::path::Path) -> u64 {
    std::fs::read_to_string(count).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

fn config(decoys: &str) -> String {
    format!("sensor:\n  name: ward-sensor\nstore:\n  path: honeyward.db\n  sync: normal\ndecoys:\n{decoys}sinks: []\n")
}

#[test]
fn a_responder_like_poisoner_is_caught_within_one_round_on_every_protocol() {
    let ns = Namespaces::new("catch");
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("heard");
    let _poisoner = poisoner(&ns, &count, false);
    let yaml = config("  - name: canary\n    type: llmnr-canary\n    interface: hwc-veth-a\n    names: [PACS-BACKUP02]\n    interval_seconds: 3\n");
    std::fs::write(dir.path().join("honeyward.yaml"), yaml).unwrap();
    let bin = common::BIN;
    let _hw = Honeyward::spawn_with(dir.path(), Command::new("ip").args(["netns", "exec", &ns.a(), bin, "run", "-c", "honeyward.yaml"]));
    let db = common::store(dir.path());
    assert!(eventually(10, || bodies(&db, "name_poisoning").len() >= 3), "three answers recorded; the poisoner heard {} questions", heard(&count));
    let events = bodies(&db, "name_poisoning");
    let mut protocols: Vec<&str> = events.iter().map(|e| e["details"]["protocol"].as_str().unwrap()).collect();
    protocols.sort();
    protocols.dedup();
    assert_eq!(protocols, ["llmnr", "mdns", "nbns"]);
    for e in &events {
        assert!(e["source"].as_str().unwrap().starts_with("10.203.0.2:"), "the poisoner is the source: {e}");
        assert_eq!(e["details"]["addresses"], "10.203.0.2");
        assert!(e["details"]["name"]["text"].as_str().unwrap().to_ascii_lowercase().starts_with("pacs-backup02"), "{e}");
        assert!(e["details"]["mac"].as_str().is_some_and(|m| m.len() == 17), "the poisoner's MAC: {e}");
    }
}

#[test]
fn without_a_canary_configured_nothing_is_sent() {
    let ns = Namespaces::new("quiet");
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("heard");
    let _poisoner = poisoner(&ns, &count, true);
    let yaml = config("  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n");
    std::fs::write(dir.path().join("honeyward.yaml"), yaml).unwrap();
    let _hw = Honeyward::spawn_with(dir.path(), Command::new("ip").args(["netns", "exec", &ns.a(), common::BIN, "run", "-c", "honeyward.yaml"]));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(heard(&count), 0, "no question left honeyward");
}

#[test]
fn a_poisoner_is_offered_a_planted_account_once_and_the_hash_it_captures_checks_out_for_the_planted_password() {
    let ns = Namespaces::new("offer");
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("heard");
    let _poisoner = poisoner(&ns, &count, false);
    // The poisoner's SMB capture, as Responder's: impacket's SMB server in its namespace.
    let capture = dir.path().join("capture.log");
    let shared = dir.path().join("share");
    std::fs::create_dir_all(&shared).unwrap();
    let log = std::fs::File::create(&capture).unwrap();
    let b = ns.b();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smb/capture_server.py");
    let smbserver = Command::new("ip")
        .args(["netns", "exec", &b, "python3", script, "10.203.0.2", shared.to_str().unwrap()])
        .env("PYTHONUNBUFFERED", "1")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("python3 with impacket (scripts/test.sh installs it)");
    let _smbserver = Reaped(smbserver);
    let yaml = config(
        "  - name: canary\n    type: llmnr-canary\n    interface: hwc-veth-a\n    names: [PACS-BACKUP02]\n    interval_seconds: 3\n    offer:\n      account: svc_backup\n      domain: NHSTRUST\n",
    );
    std::fs::write(dir.path().join("honeyward.yaml"), yaml).unwrap();
    let password = "Orlenta-Quist-Vabrin82!";
    common::plant_windows_password(dir.path(), "backup job on ws07", "svc_backup", password, "net_use_bat", "ws07/backup.bat");
    std::thread::sleep(Duration::from_millis(700));
    let _hw = Honeyward::spawn_with(dir.path(), Command::new("ip").args(["netns", "exec", &ns.a(), common::BIN, "run", "-c", "honeyward.yaml"]));
    let db = common::store(dir.path());
    assert!(eventually(20, || bodies(&db, "name_poisoning").len() >= 6), "two rounds recorded; the poisoner heard {} questions", heard(&count));
    let events = bodies(&db, "name_poisoning");
    let offers: Vec<&str> = events.iter().filter_map(|e| e["details"]["offered"].as_str()).collect();
    assert_eq!(offers.len(), 1, "one offer per poisoner however often it answers: {events:#?}");
    assert!(offers[0].starts_with("NHSTRUST\\svc_backup to 10.203.0.2:445: STATUS_"), "{}", offers[0]);
    let log = std::fs::read_to_string(&capture).unwrap();
    let line = log
        .lines()
        .find_map(|l| l.find("svc_backup::NHSTRUST:").map(|at| l[at..].trim().to_string()))
        .unwrap_or_else(|| panic!("offer {}; captured: {log}", offers[0]));
    let check = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smb/ntlmv2_check.py");
    let out = Command::new("python3").args([check, &line, password]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "match", "the poisoner holds a honeytoken's response: {line}");
}
