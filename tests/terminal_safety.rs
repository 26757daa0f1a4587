//! Attacker bytes never reach an analyst's terminal raw: what a decoy captured is shown
//! by `events list`, `incidents list/show` (text and JSON) and the logs with every C0,
//! C1, bidi and invisible character as an escape, one table for all of them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// Clears the screen, moves the cursor (CSI as C1), reverses the text, hides marks.
const HOSTILE: &str = "root\x1b[2J\x1b]0;owned\x07\u{9b}31m\u{85}\u{202e}gnp.exe\u{2066}\u{61c}\u{200b}\u{200d}\u{2064}\u{feff}\x7f end";

/// Every hidden character except the line ends a command writes itself.
fn raw_hidden(text: &str) -> Vec<char> {
    text.chars().filter(|&c| c != '\n' && honeyward::event::is_hidden(c)).collect()
}

#[test]
fn hostile_bytes_captured_by_a_decoy_reach_no_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let mut hw = Honeyward::start(dir.path(), &config(&tcp_decoy("intranet", "")));
    let mut s = TcpStream::connect(hw.addr("intranet")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut banner = [0u8; 16];
    let _ = s.read(&mut banner).unwrap();
    s.write_all(HOSTILE.as_bytes()).unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 1));
    assert_eq!(bodies(&db, "data_received")[0]["details"]["data"]["text"], HOSTILE, "stored exactly as received");

    let incident = cli(dir.path(), &["incidents", "list"]).split_whitespace().next().unwrap().to_string();
    for args in [
        &["events", "list"][..],
        &["events", "list", "--json"],
        &["incidents", "list"],
        &["incidents", "list", "--json"],
        &["incidents", "show", &incident],
        &["incidents", "show", &incident, "--json"],
    ] {
        let out = cli(dir.path(), args);
        assert!(raw_hidden(&out).is_empty(), "{args:?} wrote {:?} raw:\n{out}", raw_hidden(&out));
        if args.contains(&"--json") {
            for line in out.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{args:?}: {e}: {line}"));
                assert!(v.is_object());
            }
        }
    }
    let text = cli(dir.path(), &["events", "list", "--kind", "data_received"]);
    assert!(text.contains("\\u{202e}gnp.exe") && text.contains("\\u001b[2J"), "shown as escapes: {text}");
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "data_received"]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["details"]["data"]["text"], HOSTILE, "the JSON still means the same text");

    assert!(hw.stop().success());
    let logs = hw.stderr_text();
    assert!(raw_hidden(&logs).is_empty(), "logs: {logs}");
}
