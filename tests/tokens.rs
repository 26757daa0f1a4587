//! Honeytokens end to end with the real binary: create and plant, list, the canary
//! watcher with real `cat` and `ls`, revocation, a deleted plant, a honey patient's
//! DICOM file read by DCMTK's dcmdump, and no secret in the database file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

fn hw(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(BIN).args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "honeyward {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn token_id(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().to_string()
}

fn quiet_config() -> String {
    "store:\n  path: honeyward.db\n  sync: normal\n".to_string()
}

#[test]
fn a_planted_ssh_password_lands_in_bash_history_and_is_listed_with_its_plant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), quiet_config()).unwrap();
    let out = hw(dir.path(), &["token", "create", "ssh-password", "--label", "backup svc on pacs-ws-12", "--plant", "home/svc/.bash_history"]);
    let id = token_id(&out);
    let history = std::fs::read_to_string(dir.path().join("home/svc/.bash_history")).unwrap();
    let line = history.lines().find(|l| l.starts_with("sshpass -p '")).expect("an sshpass line");
    assert!(line.contains(" ssh ") && line.contains('@'), "{line}");
    let password = line.split('\'').nth(1).unwrap();
    assert!(password.len() >= 16);

    let list = String::from_utf8(hw(dir.path(), &["token", "list"]).stdout).unwrap();
    assert!(list.contains(&id) && list.contains("ssh-password") && list.contains("active") && list.contains("backup svc on pacs-ws-12"), "{list}");
    assert!(list.contains("home/svc/.bash_history (bash_history)"), "{list}");
    let json: serde_json::Value = serde_json::from_slice(&hw(dir.path(), &["token", "list", "--json"]).stdout).unwrap();
    assert_eq!(json["plants"][0]["template"], "bash_history");

    // Neither the database nor its WAL holds the planted password in plaintext.
    for f in ["honeyward.db", "honeyward.db-wal"] {
        let raw = std::fs::read(dir.path().join(f)).unwrap_or_default();
        assert!(!raw.windows(password.len()).any(|w| w == password.as_bytes()), "{f} contains the password");
    }
}

#[test]
fn no_planted_secret_reaches_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), quiet_config()).unwrap();
    hw(dir.path(), &["token", "create", "aws-key", "--label", "build box", "--plant", "aws/credentials"]);
    hw(dir.path(), &["token", "create", "ssh-key", "--label", "deploy key", "--plant", "ssh/id_ed25519"]);
    hw(dir.path(), &["token", "create", "bearer", "--label", "kube", "--endpoint", "https://127.0.0.1:6443", "--plant", "kube/config"]);
    let creds = std::fs::read_to_string(dir.path().join("aws/credentials")).unwrap();
    let secret = creds.lines().find_map(|l| l.strip_prefix("aws_secret_access_key = ")).unwrap().to_string();
    let key_id = creds.lines().find_map(|l| l.strip_prefix("aws_access_key_id = ")).unwrap().to_string();
    let key = std::fs::read_to_string(dir.path().join("ssh/id_ed25519")).unwrap();
    let key_body = key.lines().nth(2).unwrap().to_string();
    let kube = std::fs::read_to_string(dir.path().join("kube/config")).unwrap();
    let bearer = kube.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_string();
    let mode = |p: &str| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.path().join(p)).unwrap().permissions()) & 0o777;
    assert_eq!(mode("aws/credentials"), 0o600);
    assert_eq!(mode("ssh/id_ed25519"), 0o600);

    let mut raw = std::fs::read(dir.path().join("honeyward.db")).unwrap();
    raw.extend(std::fs::read(dir.path().join("honeyward.db-wal")).unwrap_or_default());
    for needle in [&secret, &key_id, &key_body, &bearer] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle.as_bytes()), "database holds {needle}");
    }
}

#[test]
fn a_honey_patient_dicom_file_is_read_by_dcmdump_with_name_and_nhs_number() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), quiet_config()).unwrap();
    let out = hw(dir.path(), &["token", "create", "patient", "--label", "honey patient", "--plant", "exports/IM0001.dcm", "--template", "dicom"]);
    let id = token_id(&out);
    let show: serde_json::Value = serde_json::from_slice(&hw(dir.path(), &["token", "show", &id]).stdout).unwrap();
    let patient = &show["facts"]["patient"];
    let nhs = patient["nhs_number"].as_str().unwrap();
    assert!(nhs.starts_with("999") && honeyward::token::nhs::is_valid(nhs));

    let dump =
        Command::new("dcmdump").arg(dir.path().join("exports/IM0001.dcm")).output().expect("dcmdump (DCMTK) must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.status.success(), "dcmdump failed: {}", String::from_utf8_lossy(&dump.stderr));
    let family = patient["family_name"].as_str().unwrap().to_uppercase();
    assert!(text.contains(&format!("(0010,0010) PN [{family}^")), "{text}");
    assert!(text.contains(&format!("(0010,0020) LO [{nhs}]")), "{text}");
    assert!(text.contains("(0028,0010) US 64"), "{text}");
    assert!(text.contains("OFFIS_DCMTK_367"), "{text}");
}

fn file_opened(db: &rusqlite::Connection) -> Vec<serde_json::Value> {
    bodies(db, "file_opened")
}

#[test]
fn opening_a_canary_file_raises_one_token_hit_and_listing_or_planting_raises_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Honeyward::start(dir.path(), &quiet_config());
    let out =
        hw(dir.path(), &["token", "create", "file", "--label", "passwords on the radiology share", "--plant", "share/passwords.env", "--note", "IT share"]);
    let id = token_id(&out);
    let canary = std::fs::canonicalize(dir.path().join("share/passwords.env")).unwrap();
    let db = run.store();
    // The running process notices the new plant and starts watching it.
    assert!(eventually(10, || run.stderr_text().contains("watching canary files files=1")), "{}", run.stderr_text());

    let ls = Command::new("ls").arg("-la").arg(dir.path().join("share")).output().unwrap();
    assert!(ls.status.success());
    hw(dir.path(), &["token", "list"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(file_opened(&db).len(), 0, "ls, planting and listing must not alert");

    let opened_at = Instant::now();
    let cat = Command::new("cat").arg(&canary).output().unwrap();
    assert!(cat.status.success());
    assert!(eventually(5, || file_opened(&db).len() == 1));
    let waited = opened_at.elapsed();
    eprintln!("cat → stored file_opened in {waited:?}");
    assert!(waited < Duration::from_millis(1000), "took {waited:?}");
    std::thread::sleep(Duration::from_millis(500));
    let events = file_opened(&db);
    assert_eq!(events.len(), 1, "exactly one event per open");
    let ev = &events[0];
    assert_eq!(ev["details"]["path"], canary.display().to_string());
    assert_eq!(ev["token"]["id"], id.as_str());
    assert_eq!(ev["token"]["state"], "active");
    assert_eq!(ev["token"]["plants"][0]["path"], canary.display().to_string());
    assert_eq!(ev["token"]["plants"][0]["note"], "IT share");

    // The JSON sink view of it: critical, T1552.001.
    let out = hw(dir.path(), &["events", "list", "--json", "--kind", "file_opened"]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["severity"], "critical");
    assert_eq!(line["attack"]["id"], "T1552.001");

    // Revoked: still recognised, marked revoked.
    hw(dir.path(), &["token", "revoke", &id]);
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("cat").arg(&canary).output().unwrap();
    assert!(eventually(5, || file_opened(&db).len() == 2));
    assert_eq!(file_opened(&db)[1]["token"]["state"], "revoked");

    // Deleted: reported missing, and the watcher keeps going.
    std::fs::remove_file(&canary).unwrap();
    assert!(eventually(5, || count_kind(&db, "canary_missing") == 1));
    let list = String::from_utf8(hw(dir.path(), &["token", "list"]).stdout).unwrap();
    assert!(list.contains("[missing]"), "{list}");
    assert!(run.child.try_wait().unwrap().is_none(), "honeyward must keep running");
    assert!(run.stop().success());
}

#[test]
fn a_canary_listed_in_the_config_is_watched_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("finance")).unwrap();
    let canary = std::fs::canonicalize(dir.path().join("finance")).unwrap().join("salaries.xlsx");
    std::fs::write(&canary, b"PK\x03\x04").unwrap();
    let yaml = format!("{}canaries:\n  - path: {}\n    label: salaries spreadsheet\n", quiet_config(), canary.display());
    let run = Honeyward::start(dir.path(), &yaml);
    let db = run.store();
    assert!(eventually(10, || run.stderr_text().contains("watching canary files files=1")));
    Command::new("cat").arg(&canary).output().unwrap();
    assert!(eventually(5, || file_opened(&db).len() == 1));
    let ev = &file_opened(&db)[0];
    assert_eq!(ev["details"]["path"], canary.display().to_string());
    assert!(ev.get("token").is_none(), "not a token: no token hit");
}
