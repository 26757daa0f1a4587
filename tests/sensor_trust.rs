//! What a sensor's credential lets its holder do, tried against a real controller on
//! loopback: file events only for the decoys its heartbeat declared, learn from its
//! token index nothing about other hosts, and neither date an event freely nor vouch
//! alone for a token hit. (A decoy invites intruders onto the sensor's host.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::controller::*;
use common::*;
use honeyward::event::Timestamp;

#[test]
fn a_sensor_cannot_file_events_for_a_decoy_its_heartbeat_did_not_declare_or_under_a_malformed_name() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-d");
    let (key, ca) = credential(&sdir);
    let controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let now = || honeyward::event::Timestamp::now().as_micros() / 1000;
    let heartbeat = r#"{"decoys":[{"decoy":"door","type":"tcp","listen":"127.0.0.1:2323","up":true}],"version":"test"}"#;
    assert_eq!(signed_curl(port, &ca, "ward-d", &key, now(), "hb-1", heartbeat, false), 200);
    let batch = |decoy: &str| {
        let event = honeyward::event::Event {
            claimed_time: None,
            id: honeyward::event::EventId::new(),
            time: honeyward::event::Timestamp::now(),
            sensor: "ward-d".into(),
            decoy: Some(decoy.into()),
            source: Some("198.51.100.7:40000".parse().unwrap()),
            destination: None,
            session: None,
            kind: honeyward::event::EventKind::ConnectionOpened,
            token: None,
        };
        (event.id.to_string(), serde_json::json!({ "events": [event] }).to_string())
    };
    let ingest = |nonce: &str, body: &str| signed_post(port, &ca, "ward-d", &key, "/v1/sensor/ingest", now(), nonce, body, false);
    let (declared, body) = batch("door");
    assert_eq!(ingest("in-1", &body), 200, "a declared decoy");
    let (forged, body) = batch("radiology-pacs");
    assert_eq!(ingest("in-2", &body), 503, "a decoy the heartbeat did not declare waits for one that does");
    let (malformed, body) = batch("door\u{1b}[2J\n<script>");
    assert_eq!(ingest("in-3", &body), 400, "not a decoy name at all");
    let db = controller.store();
    let stored = |id: &str| db.query_row("SELECT count(*) FROM events WHERE id = ?1", [id], |r| r.get::<_, i64>(0)).unwrap();
    assert!(eventually(10, || stored(&declared) == 1));
    assert_eq!((stored(&forged), stored(&malformed)), (0, 0));
}

#[test]
fn a_sensor_pulling_its_token_index_learns_nothing_of_other_hosts_plants_and_its_hits_come_back_whole() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-a");
    enrol(&cdir, root.path(), "ward-b");
    let (key, ca) = credential(&sdir);
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let plants = cdir.join("plants");
    std::fs::create_dir_all(&plants).unwrap();
    let at = |name: &str| plants.join(name).to_str().unwrap().to_string();
    let password = "Stolen-From-Ward-B-History-7";
    let (history, payroll, ours) = (at("history-b"), at("payroll-b.env"), at("ours-a.env"));
    let out = cli(&cdir, &["token", "create", "ssh-password", "--label", "backup svc on ward-b", "--username", "svc_wardb_backup", "--password", password]);
    let id = out.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().to_string();
    cli(&cdir, &["token", "plant", &id, "--record-only", "--host", "ward-b", "--path", &history, "--note", "left in root history"]);
    cli(&cdir, &["token", "create", "file", "--label", "finance share canary", "--plant", &payroll, "--host", "ward-b", "--note", "finance share"]);
    cli(&cdir, &["token", "create", "file", "--label", "ward A canary", "--plant", &ours, "--host", "ward-a"]);
    let patient = cli(&cdir, &["token", "create", "patient", "--label", "honey patient for the PACS"]);
    let patient_name = secret(&patient, "patient").split(" NHS ").next().unwrap().to_string();
    let hidden = ["ward-b", "backup svc", "root history", "finance", "payroll", "history-b", "svc_wardb_backup", patient_name.as_str(), "honey patient"];

    let ssh = "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n";
    let mut sensor = start_sensor(&sdir, port, ssh);
    // ward-a's own credential asks for its index, as a stolen sensor would.
    let request = |n: &str| {
        SignedRequest { port, ca: &ca, sensor: "ward-a", key: &key, path: "/v1/sensor/tokens", timestamp_ms: Timestamp::now().as_micros() / 1000, nonce: n }
            .get()
    };
    let mut index = String::new();
    let pulled = eventually(10, || {
        index = request(&format!("pull-{}", Timestamp::now().as_micros())).1;
        index.contains(&id)
    });
    assert!(pulled, "ward-a's index never held the password it may see: {index}");
    for h in hidden {
        assert!(!index.contains(h), "{h:?} is in ward-a's index: {index}");
    }
    assert!(index.contains(&ours), "ward-a watches the canary planted on its own host: {index}");

    // The sensor's disk (store and state) holds nothing more.
    let sdb = sensor.store();
    assert!(eventually(10, || sdb.query_row("SELECT count(*) FROM tokens", [], |r| r.get::<_, i64>(0)).unwrap() >= 3));
    let mut disk = Vec::new();
    for entry in walk(&sdir) {
        disk.extend(std::fs::read(entry).unwrap_or_default());
    }
    let disk = String::from_utf8_lossy(&disk);
    for h in hidden {
        assert!(!disk.contains(h), "{h:?} is on ward-a's disk");
    }

    // A hit on the sensor names the token by id; the controller checks the digest the
    // sensor reports and attaches what it alone knows.
    let cdb = controller.store();
    let whole = |db: &rusqlite::Connection| bodies(db, "ssh_auth").into_iter().find(|b| b["token"]["id"] == id.as_str());
    let deadline = Instant::now() + Duration::from_secs(20);
    while whole(&cdb).is_none() && Instant::now() < deadline {
        try_password(sensor.addr("ssh"), "svc_wardb_backup", password);
        std::thread::sleep(Duration::from_millis(500));
    }
    let Some(stored) = whole(&cdb) else { panic!("no hit reached the controller; sensor log:\n{}", sensor.stderr_text()) };
    assert_eq!(stored["token"]["label"], "backup svc on ward-b", "{stored}");
    assert_eq!(stored["token"]["plants"][0]["host"], "ward-b", "{stored}");
    assert_eq!(stored["token"]["plants"][0]["note"], "left in root history", "{stored}");
    assert!(stored["token"].get("claimed_by_sensor").is_none() && stored["token"].get("digest").is_none(), "checked, not claimed: {stored}");
    assert!(!serde_json::to_string(&stored).unwrap().contains(password), "the secret is gone: {stored}");
    assert!(sensor.stop().success());
    assert!(controller.stop().success());
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_sensor_cannot_date_an_event_into_the_future_nor_vouch_alone_for_a_token_hit() {
    use honeyward::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp, TokenHit, TokenKind, TokenState};
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-c");
    let (key, ca) = credential(&sdir);
    let controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    // A stolen sensor credential: a login dated 2099 with a hit on a "domain admin"
    // token whose secret it says it removed.
    let forged = Event {
        id: EventId::new(),
        time: Timestamp::parse_rfc3339("2099-01-01T00:00:00Z").unwrap(),
        sensor: "ward-c".into(),
        decoy: None,
        source: Some("203.0.113.9:40000".parse().unwrap()),
        destination: None,
        session: None,
        kind: EventKind::SshAuth {
            method: SshAuthMethod::Password,
            username: AttackerBytes::new("administrator"),
            password: Some(AttackerBytes::new("[redacted]")),
            key_fingerprint: None,
            key_algorithm: None,
            accepted: true,
            methods_tried: None,
        },
        token: Some(TokenHit {
            id: "tok-forged".into(),
            kind: TokenKind::SshPassword,
            label: "domain admin".into(),
            state: TokenState::Active,
            plants: vec![],
            claimed_by_sensor: false,
            digest: None,
        }),
        claimed_time: None,
    };
    let body = serde_json::json!({ "events": [forged] }).to_string();
    let now = Timestamp::now().as_micros() / 1000;
    assert_eq!(signed_post(port, &ca, "ward-c", &key, "/v1/sensor/ingest", now, "forge-1", &body, false), 200, "kept, not refused");
    let db = controller.store();
    assert!(eventually(10, || count_kind(&db, "ssh_auth") == 1));
    let stored = &bodies(&db, "ssh_auth")[0];
    assert_eq!(stored["claimed_time"], "2099-01-01T00:00:00.000000Z", "the claim is kept: {stored}");
    let time = Timestamp::parse_rfc3339(stored["time"].as_str().unwrap()).unwrap().as_micros();
    assert!(time <= Timestamp::now().as_micros() + 5 * 60 * 1_000_000, "grouped at the window's edge, not in 2099: {stored}");
    assert_eq!(stored["token"]["claimed_by_sensor"], true, "{stored}");
}
