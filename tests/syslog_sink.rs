//! The syslog sink with a real rsyslog (Debian's) started on loopback: RFC 5424 over
//! TCP with octet counting and over UDP; rsyslog's mmpstrucdata parses the structured
//! data, and every event arrives exactly once with hostile attacker text intact.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::certs::{certificates, server_certificate};
use common::rsyslog::*;
use common::*;

#[test]
fn rsyslog_receives_every_event_once_with_hostile_text_parsed_into_the_right_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (tcp, udp) = (free_port(), free_port());
    let r = rsyslog(dir.path(), tcp, udp);
    let yaml = format!(
        "sensor:\n  name: ward-7\nstore:\n  path: honeyward.db\n  sync: normal\ndecoys:\n  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n    capture_bytes: 65536\n    limits:\n      idle_timeout_seconds: 2\nsinks:\n  - name: siem\n    type: syslog\n    address: 127.0.0.1:{tcp}\n    transport: tcp\n"
    );
    let hw = Honeyward::start(dir.path(), &yaml);
    let url = format!("http://{}/login", hw.addr("portal"));
    let usernames: [&[u8]; 5] = [b"a\"b]c\\d", b"line1\nline2", b"${jndi:ldap://x}", b"nul\0byte", b"bad\xff\xfeutf8"];
    for u in usernames {
        let encoded: String = u.iter().map(|b| format!("%{b:02X}")).collect();
        let ok = Command::new("curl").args(["-s", "-o", "/dev/null", "--data", &format!("username={encoded}&password=x"), &url]).status().unwrap();
        assert!(ok.success());
    }
    let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
    s.write_all(&vec![b'A'; 65536]).unwrap();
    drop(s);

    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 6));
    let stored: i64 = db.query_row("SELECT count(*) FROM events", [], |row| row.get(0)).unwrap();
    assert!(eventually(15, || received(&r).len() as i64 == stored), "rsyslog got {} of {stored}", received(&r).len());
    let got = received(&r);
    let mut ids: Vec<String> = got.iter().map(|(_, sd, _)| sd["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as i64, stored, "every event exactly once");

    let logins: Vec<&(String, serde_json::Value, String)> = got.iter().filter(|(msgid, _, _)| msgid == "http_request").collect();
    assert_eq!(logins.len(), 5);
    for (u, (_, sd, msg)) in usernames.iter().zip(&logins) {
        let text = String::from_utf8_lossy(u);
        let visible: String = text.chars().map(|c| if (c as u32) < 0x20 { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect();
        assert_eq!(sd["credential.username"], visible.as_str(), "structured data of {text:?}");
        let json: serde_json::Value = serde_json::from_str(msg).unwrap_or_else(|e| panic!("{e}: {msg}"));
        assert_eq!(json["details"]["credential"]["username"]["text"], text.as_ref(), "the JSON message keeps the exact text");
        assert_eq!(sd["sensor"], "ward-7");
    }
    let (_, sd, msg) = got.iter().find(|(msgid, _, _)| msgid == "data_received").unwrap();
    assert_eq!(sd["data_truncated"], "true");
    assert_eq!(sd["data"].as_str().unwrap().len(), 1024);
    let json: serde_json::Value = serde_json::from_str(msg).unwrap();
    assert_eq!(json["details"]["data"]["text"].as_str().unwrap().len(), 65536, "64 KiB of text arrives whole in the message");
}

#[test]
fn the_udp_transport_delivers_one_cef_datagram_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let (tcp, udp) = (free_port(), free_port());
    let r = rsyslog(dir.path(), tcp, udp);
    let yaml = format!("store:\n  path: honeyward.db\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\nsinks:\n  - name: siem\n    type: syslog\n    address: 127.0.0.1:{udp}\n    transport: udp\n    facility: 4\n    format: cef\n");
    let hw = Honeyward::start(dir.path(), &yaml);
    let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
    s.write_all(b"USER root\r\n").unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 1));
    assert!(eventually(15, || received(&r).len() == 3), "{:?}", received(&r));
    let got = received(&r);
    let kinds: Vec<&str> = got.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(kinds, ["connection_opened", "data_received", "connection_closed"]);
    assert!(got.iter().all(|(_, _, msg)| msg.starts_with("CEF:0|honeyward|honeyward|")), "CEF bodies: {got:?}");
    assert!(got[1].2.contains("|102|data_received|5|"), "{}", got[1].2);
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn tls_delivers_to_a_collector_whose_certificate_chains_to_the_pinned_ca_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    certificates(d, "siem-ca");
    certificates(d, "other-ca");
    server_certificate(d, "siem-ca", "siem.test", "server");
    let port = free_port();
    let setup = format!(
        r#"global(workDirectory="{d}" maxMessageSize="1m" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{d}/siem-ca.pem" DefaultNetstreamDriverCertFile="{d}/server.pem" DefaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="hw")"#,
        d = d.display()
    );
    let r = rsyslog_with(d, &setup, port);

    let sink = |name: &str, ca: &str| {
        format!("  - name: {name}\n    type: syslog\n    address: 127.0.0.1:{port}\n    transport: tls\n    tls:\n      ca_file: {}/{ca}.pem\n      server_name: siem.test\n", d.display())
    };
    let yaml = format!(
        "store:\n  path: honeyward.db\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\nsinks:\n{}{}",
        sink("siem", "siem-ca"),
        sink("impostor-check", "other-ca")
    );
    let hw = Honeyward::start(d, &yaml);
    let mut s = TcpStream::connect(hw.addr("banner")).unwrap();
    s.write_all(b"USER root\r\n").unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(15, || count_kind(&db, "connection_closed") == 1));
    assert!(eventually(15, || received(&r).len() == 3), "{:?}", received(&r));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(received(&r).len(), 3, "the sink that pins another CA delivers nothing");
    let text = received(&r).iter().map(|(_, sd, _)| sd["kind"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert_eq!(text, ["connection_opened", "data_received", "connection_closed"]);
    let logs = hw.stderr.lock().unwrap().join("\n");
    assert!(logs.contains("impostor-check") && logs.to_lowercase().contains("certificate"), "the refused handshake is logged: {logs}");
}
