//! The HTTP sinks against a real HTTP receiver (Python's http.server, started by the
//! test on loopback): Splunk HEC through a 30 s outage, Elasticsearch `_bulk` through
//! a restart in the middle of an outage, dead letters, and chat webhooks that get one
//! message per incident while a hydra brute force fills the SIEM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::receiver::{receiver, requests, Receiver};
use common::*;

/// Event ids in the order a receiver accepted them (HEC envelopes).
fn hec_ids(r: &Receiver) -> Vec<String> {
    requests(r)
        .into_iter()
        .filter(|(_, status, _, _)| *status == 200)
        .flat_map(|(_, _, _, body)| {
            serde_json::Deserializer::from_slice(&body)
                .into_iter::<serde_json::Value>()
                .map(|v| v.unwrap()["event"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn poke(addr: SocketAddr, bytes: &[u8]) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut banner = [0u8; 7];
    s.read_exact(&mut banner).unwrap();
    s.write_all(bytes).unwrap();
}

fn stored_ids(db: &rusqlite::Connection) -> Vec<String> {
    db.prepare("SELECT id FROM events ORDER BY seq").unwrap().query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_splunk_hec_receiver_down_for_30_seconds_gets_every_event_once_and_in_order_and_a_400_becomes_a_dead_letter() {
    let dir = tempfile::tempdir().unwrap();
    let hec = receiver(dir.path(), "hec", &["--fail-seconds", "30", "--reject", "POISON"]);
    std::fs::write(dir.path().join("hec-token"), "5f0c9d5e-7a41-4b8e-9d3f-6a2b1c0e4d77\n").unwrap();
    let sink = format!(
        "  - name: splunk\n    type: splunk_hec\n    url: http://127.0.0.1:{}\n    token_file: hec-token\n    allow_private_addresses: true\n    allow_plain_http: true\n    index: honeypot\n",
        hec.port
    );
    let hw = Honeyward::start(dir.path(), &(config(&tcp_decoy("banner", "")) + &sink));
    let addr = hw.addr("banner");

    // Decoy throughput during the outage, against a baseline taken right after start.
    let burst = |n: usize, marker: &[u8]| {
        let t = Instant::now();
        for _ in 0..n {
            poke(addr, marker);
        }
        t.elapsed()
    };
    let during = burst(200, b"hello");
    poke(addr, b"POISON");
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 201));
    assert!(requests(&hec).iter().any(|(_, s, _, _)| *s == 503), "the sink tried during the outage");

    let stored = stored_ids(&db);
    assert!(eventually(90, || hec_ids(&hec).len() + 1 >= stored.len()), "{} of {} delivered", hec_ids(&hec).len(), stored.len());
    let after = burst(200, b"hello");
    eprintln!("200 decoy connections: {during:?} during the outage, {after:?} after");
    assert!(during < after * 4 + Duration::from_secs(2), "the decoy was not held up by the dead receiver");

    let delivered = hec_ids(&hec);
    let mut unique = delivered.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), delivered.len(), "no event twice");
    let poison: Vec<serde_json::Value> = bodies(&db, "data_received");
    let poison_id =
        poison.iter().find(|b| b["details"]["data"]["text"].as_str().is_some_and(|t| t.contains("POISON"))).unwrap()["id"].as_str().unwrap().to_string();
    let expected: Vec<&String> = stored.iter().filter(|id| **id != poison_id).collect();
    assert_eq!(delivered.iter().take(expected.len()).collect::<Vec<_>>(), expected, "all but the refused one, in store order");

    let reqs = requests(&hec);
    let ok = reqs.iter().find(|(_, s, _, _)| *s == 200).unwrap();
    assert_eq!(ok.0, "/services/collector/event");
    assert_eq!(ok.2["authorization"], "Splunk 5f0c9d5e-7a41-4b8e-9d3f-6a2b1c0e4d77");
    assert_eq!(ok.2["content-encoding"], "gzip");
    let first: serde_json::Value = serde_json::Deserializer::from_slice(&ok.3).into_iter().next().unwrap().unwrap();
    assert_eq!(first["index"], "honeypot");
    assert_eq!(first["host"], "test-sensor");

    let status = cli(dir.path(), &["sinks", "status"]);
    assert!(status.contains("splunk (splunk_hec)") && status.contains("1 dead letters"), "{status}");
    assert!(status.contains("HTTP 503") && status.contains("since recovered"), "{status}");
    let dead = cli(dir.path(), &["sinks", "dead-letters", "splunk"]);
    assert!(dead.contains(&poison_id) && dead.contains("HTTP 400"), "{dead}");
    assert!(!hw.stderr_text().contains("5f0c9d5e"), "the token is never printed");
}

#[test]
fn elastic_bulk_survives_a_restart_in_the_middle_of_an_outage_with_nothing_lost_or_indexed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let es = receiver(dir.path(), "es", &["--fail-seconds", "8", "--elastic", "--reject", "POISON"]);
    std::fs::write(dir.path().join("api-key"), "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==").unwrap();
    let sink = format!("  - name: es\n    type: elastic\n    url: http://127.0.0.1:{}/\n    token_file: api-key\n    allow_private_addresses: true\n    allow_plain_http: true\n", es.port);
    let yaml = config(&tcp_decoy("banner", "")) + &sink;
    let mut hw = Honeyward::start(dir.path(), &yaml);
    for _ in 0..50 {
        poke(hw.addr("banner"), b"first run");
    }
    poke(hw.addr("banner"), b"POISON");
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 51));
    assert!(hw.stop().success());
    drop(db);

    let mut hw = Honeyward::start(dir.path(), &yaml);
    for _ in 0..50 {
        poke(hw.addr("banner"), b"second run");
    }
    let db = hw.store();
    let stored = stored_ids(&db);
    let indexed = || {
        let mut ids: Vec<String> = requests(&es)
            .iter()
            .filter(|(_, s, _, _)| *s == 200)
            .flat_map(|(_, _, _, body)| {
                body.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .step_by(2)
                    .map(|l| serde_json::from_slice::<serde_json::Value>(l).unwrap()["create"]["_id"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        ids.sort();
        ids
    };
    assert!(eventually(40, || {
        let mut ids = indexed();
        ids.dedup();
        ids.len() >= stored_ids(&db).len()
    }));
    assert!(hw.stop().success());
    let stored_now = stored_ids(&db);
    assert!(stored_now.len() >= stored.len());
    let mut ids = indexed();
    ids.dedup();
    let mut want = stored_now.clone();
    want.sort();
    assert_eq!(ids, want, "every stored event was sent to the index (the refused one included, as a request)");
    let reqs = requests(&es);
    assert!(reqs.iter().all(|(p, _, h, _)| p == "/_bulk" && h["authorization"].as_str().unwrap().starts_with("ApiKey ")));
    let status = cli(dir.path(), &["sinks", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(status.lines().find(|l| l.contains("\"es\"")).unwrap()).unwrap();
    assert_eq!(v["dead_letters"], 1, "the mapping error is a dead letter: {status}");
    assert_eq!(v["lag_events"], 0);

    // Replay: everything again, answered 409 (already indexed) except the refused one.
    let before = requests(&es).len();
    let replayed = cli(dir.path(), &["sinks", "replay", "es", "--since", "1h"]);
    assert!(replayed.contains(&format!("sent {} events, 1 refused", want.len() - 1)), "{replayed}");
    assert!(requests(&es).len() > before);
    let dead = cli(dir.path(), &["sinks", "replay", "es", "--dead-letters"]);
    assert!(dead.contains("sent 0 events, 1 refused"), "{dead}");
}

#[test]
fn five_thousand_ssh_attempts_from_one_source_are_one_incident_one_slack_and_one_teams_message_and_every_event_in_the_siem() {
    let dir = tempfile::tempdir().unwrap();
    let siem = receiver(dir.path(), "siem", &[]);
    let chat = receiver(dir.path(), "chat", &[]);
    std::fs::write(dir.path().join("hec-token"), "hec-token-for-tests").unwrap();
    std::fs::write(dir.path().join("slack-url"), format!("http://127.0.0.1:{}/services/T000/B000/XXXX\n", chat.port)).unwrap();
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/openssh-debian12.yaml")).unwrap();
    std::fs::write(
        dir.path().join("patient-sshd.yaml"),
        personality
            .replace("max_auth_tries: 6\n", "max_auth_tries: 10000\n")
            .replace(MAX_STARTUPS, "unauthenticated: {max_startups: {begin: 1000, rate_percent: 30, full: 2000}}"),
    )
    .unwrap();
    let yaml = config("  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: patient-sshd.yaml\n    failure_delay_ms: 0\n")
        + &format!("  - name: splunk\n    type: splunk_hec\n    url: http://127.0.0.1:{}\n    token_file: hec-token\n    allow_private_addresses: true\n    allow_plain_http: true\n", siem.port)
        + "  - name: slack\n    type: webhook\n    format: slack\n    url_file: slack-url\n    allow_private_addresses: true\n    allow_plain_http: true\n    filter: {min_severity: medium}\n"
        + &format!("  - name: teams\n    type: webhook\n    format: teams\n    url: http://127.0.0.1:{}/teams\n    allow_private_addresses: true\n    filter: {{min_severity: medium}}\n", chat.port);
    let hw = Honeyward::start(dir.path(), &yaml);
    let words: Vec<String> = (0..5000).map(|i| format!("Summer{i:04}!")).collect();
    std::fs::write(dir.path().join("passwords.txt"), words.join("\n") + "\n").unwrap();
    let out = Command::new("hydra")
        .args(["-l", "<!here> *pacs*", "-P"])
        .arg(dir.path().join("passwords.txt"))
        .args(["-t", "16", "-I"])
        .arg(format!("ssh://{}", hw.addr("ssh")))
        .output()
        .expect("hydra must be installed: scripts/test.sh installs it");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 of 1 target completed"), "{}", String::from_utf8_lossy(&out.stdout));

    let db = hw.store();
    let attempts = |db: &rusqlite::Connection| bodies(db, "ssh_auth").iter().filter(|b| b["details"]["method"] == "password").count();
    assert!(eventually(30, || attempts(&db) >= 5000), "{} attempts stored", attempts(&db));
    let total = stored_ids(&db).len();
    assert!(eventually(30, || hec_ids(&siem).len() >= total), "{} of {total} in the SIEM", hec_ids(&siem).len());
    std::thread::sleep(Duration::from_secs(1));
    let incidents = cli(dir.path(), &["incidents", "list"]);
    assert_eq!(incidents.lines().count(), 1, "one incident: {incidents}");

    let messages = requests(&chat);
    let slack: Vec<_> = messages.iter().filter(|(p, ..)| p.starts_with("/services/")).collect();
    let teams: Vec<_> = messages.iter().filter(|(p, ..)| p == "/teams").collect();
    assert_eq!((slack.len(), teams.len()), (1, 1), "one message per chat for the whole brute force");
    let slack_text = String::from_utf8_lossy(&slack[0].3).to_string();
    assert!(slack_text.contains("&lt;!here&gt;") && !slack_text.contains("<!here>"), "{slack_text}");
    let teams_body: serde_json::Value = serde_json::from_slice(&teams[0].3).unwrap();
    assert_eq!(teams_body["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert!(teams_body.to_string().contains("\\\\*pacs\\\\*"), "{teams_body}");
    let incident_id = incidents.split_whitespace().next().unwrap();
    assert!(slack_text.contains(incident_id), "the message names the incident");
}
