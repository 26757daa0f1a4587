//! The command line, driven as a user would: the embedded quick-start, `validate`,
//! `schema`, `example-config`, `events list`, a port that is already taken, and `version`,
//! `man` and `completions`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn run_without_config_serves_the_embedded_quickstart_and_records_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mut hw = Honeyward::spawn(dir.path(), &["run"]);
    let stderr = hw.stderr_text();
    assert!(stderr.contains("embedded quick-start"), "{stderr}");
    assert!(stderr.contains("decoy tcp-banner (tcp) listening on 127.0.0.1:2323"), "{stderr}");
    assert!(stderr.contains("decoy pacs (dicom) listening on 127.0.0.1:4242"), "{stderr}");

    let mut s = TcpStream::connect(hw.addr("tcp-banner")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut banner = [0u8; 64];
    let n = s.read(&mut banner).unwrap();
    assert!(String::from_utf8_lossy(&banner[..n]).contains("Username:"));
    s.write_all(b"admin\r\n").unwrap();
    drop(s);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    assert_eq!(count_kind(&db, "connection_opened"), 1);
    let data = bodies(&db, "data_received");
    assert_eq!(data[0]["details"]["data"]["text"], "admin\r\n");

    // The stdout sink printed the same events as JSON lines.
    assert!(eventually(10, || std::fs::read_to_string(dir.path().join("stdout.log")).unwrap().lines().count() == 3));
    let stdout = std::fs::read_to_string(dir.path().join("stdout.log")).unwrap();
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "connection_opened");
    assert_eq!(first["decoy"], "tcp-banner");

    // `events list` in the same directory finds the quick-start store.
    let out = Command::new(BIN).args(["events", "list"]).current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("connection_opened") && text.contains("data_received") && text.contains("tcp-banner"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--limit"), "all 3 events fit the default limit");
    // A listing cut at its limit says so (on stderr; stdout stays one event a line).
    let out = Command::new(BIN).args(["events", "list", "--json", "--limit", "2"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 of 3 events (the most recent); --limit N to see more"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN).args(["events", "list", "--json", "--kind", "connection_closed"]).current_dir(dir.path()).output().unwrap();
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["details"]["reason"], "peer_closed");

    // `events tail` follows new events as they are committed.
    let mut tail =
        Command::new(BIN).args(["events", "tail", "--json", "-n", "0"]).current_dir(dir.path()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(TcpStream::connect(hw.addr("tcp-banner")).unwrap());
    let mut lines = std::io::BufReader::new(tail.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["kind"], "connection_opened");
    let second: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["kind"], "connection_closed");
    let _ = tail.kill();
    let _ = tail.wait();

    assert!(hw.stop().success());
}

#[test]
fn validate_reports_three_mistakes_with_line_and_column_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "decoys:\n  - name: telnet\n    type: tcp\n    listen: 127.0.0.1:70000\n  - name: telnet\n    type: tcp\n    listen: 127.0.0.1:2324\n    limits:\n      idle_timeout_seconds: 0\n",
    )
    .unwrap();
    let out = Command::new(BIN).args(["validate", "-c"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let shown = path.display();
    assert!(err.contains(&format!("{shown}:4:13: invalid listen address")), "{err}");
    assert!(err.contains(&format!("{shown}:5:11: duplicate decoy name `telnet`")), "{err}");
    assert!(err.contains(&format!("{shown}:9:29: `idle_timeout_seconds` is 0")), "{err}");
    assert!(err.contains("3 error(s)"), "{err}");
}

#[test]
fn every_example_config_validates() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = Command::new(BIN).args(["validate", "-c"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
            checked += 1;
        }
    }
    assert!(checked >= 2);
}

#[test]
fn example_config_output_is_itself_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).arg("example-config").output().unwrap();
    std::fs::write(dir.path().join("h.yaml"), &out.stdout).unwrap();
    let v = Command::new(BIN).args(["validate", "-c", "h.yaml"]).current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(text.contains("decoy telnet-switch (tcp) on 127.0.0.1:2323"), "{text}");
    assert!(text.contains("sink archive (file)"), "{text}");
}

#[test]
fn schema_is_json_schema_of_the_config() {
    let out = Command::new(BIN).arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(schema["properties"]["decoys"].is_object());
}

#[test]
fn a_port_already_in_use_names_the_decoy_and_address_and_nothing_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let yaml = config(&format!("{}  - name: second\n    type: tcp\n    listen: 127.0.0.1:{port}\n", tcp_decoy("first", "")));
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let status = hw.wait_exit(20);
    assert!(!status.success());
    let err = hw.stderr_text();
    assert!(err.contains(&format!("decoy `second` cannot listen on 127.0.0.1:{port}")), "{err}");
    assert!(err.contains("in use"), "{err}");
    assert!(!err.contains("listening on"), "a decoy started before the failure: {err}");
}

#[test]
fn a_busy_controller_port_is_named_in_a_clean_error_after_the_pipeline_has_started() {
    // The controller binds after the store writer and the pipeline's runtime are up:
    // giving up then must still be an error message and exit 1, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let yaml = format!("sensor:\n  name: ctrl\nstore:\n  path: honeyward.db\n  sync: normal\ncontroller:\n  listen: 127.0.0.1:{port}\n");
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let status = hw.wait_exit(20);
    let err = hw.stderr_text();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("controller cannot listen on 127.0.0.1:{port}")), "{err}");
    assert!(err.contains("in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn version_man_and_completions_describe_this_build_and_its_commands() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let facts: serde_json::Value = serde_json::from_str(&run(&["version", "--json"])).unwrap();
    assert_eq!(facts["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(facts["profile"], "debug");
    assert!(facts["target"].as_str().unwrap().starts_with("x86_64-"), "{facts}");
    assert!(facts["rustc"].as_str().unwrap().starts_with("rustc "), "{facts}");
    let head = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    if head.status.success() {
        assert_eq!(facts["commit"], String::from_utf8_lossy(&head.stdout).trim(), "built from the checked-out commit");
    }
    assert!(run(&["version"]).starts_with(&format!("honeyward {} (", env!("CARGO_PKG_VERSION"))));

    let page = run(&["man", "token", "create"]);
    assert!(page.starts_with(".ie") && page.contains(".TH honeyward-token-create 1"), "{page}");
    assert!(page.contains("windows\\-password"), "token kinds are listed: {page}");
    let dir = tempfile::tempdir().unwrap();
    run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let pages = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(pages >= 40 && dir.path().join("honeyward.1").exists() && dir.path().join("honeyward-token-create.1").exists(), "{pages} pages");
    let wrong = Command::new(BIN).args(["man", "no-such-command"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(1));

    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]);
        assert!(script.contains("incidents") && script.contains("create"), "{shell}");
        // clap_complete offers a positional argument's values in bash and zsh only.
        assert_eq!(script.contains("aws-key"), shell != "fish", "{shell}");
    }
}
