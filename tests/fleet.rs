//! Many sensors, one controller, on loopback: real SSH, HTTP and DICOM clients against
//! three sensors, the controller's store and a real rsyslog behind it, a 60 s
//! controller outage, forged and replayed requests, token sync, and a killed sensor.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::controller::*;
use common::rsyslog::{received, rsyslog};
use common::*;

fn ids(db: &rusqlite::Connection, sensor: Option<&str>) -> Vec<String> {
    let mut stmt = db.prepare("SELECT id FROM events WHERE ?1 IS NULL OR sensor = ?1 ORDER BY seq").unwrap();
    stmt.query_map([sensor], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn three_sensors_forward_ssh_http_and_dicom_interactions_once_to_the_controller_and_once_to_its_syslog() {
    let root = tempfile::tempdir().unwrap();
    let cdir = root.path().join("controller");
    std::fs::create_dir_all(&cdir).unwrap();
    let (port, syslog_port) = (free_port(), free_port());
    let syslog = rsyslog(&cdir, syslog_port, free_port());
    let sink = format!("  - name: siem\n    type: syslog\n    address: 127.0.0.1:{syslog_port}\n    transport: tcp\n");
    std::fs::write(cdir.join("honeyward.yaml"), controller_yaml(port, &sink)).unwrap();
    let dirs: Vec<PathBuf> = ["ward-1", "ward-2", "ward-3"].iter().map(|n| enrol(&cdir, root.path(), n)).collect();
    let controller = start_controller(&cdir, &controller_yaml(port, &sink));
    assert!(controller.addrs.contains_key("controller"), "{}", controller.stderr_text());
    let decoys = "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n  - name: web\n    type: http\n    listen: 127.0.0.1:0\n  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:0\n";
    let sensors: Vec<Honeyward> = dirs.iter().map(|d| start_sensor(d, port, decoys)).collect();
    for s in &sensors {
        let ssh = s.addr("ssh");
        let out = Command::new("sshpass")
            .args([
                "-p",
                "Winter2026!",
                "ssh",
                "-p",
                &ssh.port().to_string(),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "radadmin@127.0.0.1",
                "true",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("sshpass");
        assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(Command::new("curl").args(["-s", "-o", "/dev/null", &format!("http://{}/admin", s.addr("web"))]).status().unwrap().success());
        assert!(Command::new("echoscu").args(["127.0.0.1", &s.addr("pacs").port().to_string()]).status().unwrap().success());
    }
    let cdb = controller.store();
    for (s, name) in sensors.iter().zip(["ward-1", "ward-2", "ward-3"]) {
        let sdb = s.store();
        assert!(eventually(10, || count_kind(&sdb, "dicom_release") == 1 && count_kind(&sdb, "http_request") == 1));
        std::thread::sleep(Duration::from_millis(300));
        let local = sorted(ids(&sdb, None));
        assert!(eventually(20, || sorted(ids(&cdb, Some(name))).len() >= local.len()), "{name}: {} of {}", ids(&cdb, Some(name)).len(), local.len());
        let at_controller = sorted(ids(&cdb, Some(name)));
        assert!(local.iter().all(|id| at_controller.binary_search(id).is_ok()), "every event of {name} reached the controller");
        for kind in ["ssh_auth", "http_request", "dicom_command"] {
            let id = honeyward::event::EventKind::id_of(kind).unwrap();
            let n: i64 = cdb.query_row("SELECT count(*) FROM events WHERE sensor = ?1 AND kind = ?2", rusqlite::params![name, id], |r| r.get(0)).unwrap();
            assert!(n >= 1, "{name} {kind}");
        }
    }
    let all = sorted(ids(&cdb, None));
    assert!(eventually(20, || received(&syslog).len() >= all.len()), "{} of {} in rsyslog", received(&syslog).len(), all.len());
    let mut in_syslog: Vec<String> = received(&syslog).iter().map(|(_, sd, _)| sd["id"].as_str().unwrap_or("").to_string()).collect();
    in_syslog.sort();
    let before = in_syslog.len();
    in_syslog.dedup();
    assert_eq!(before, in_syslog.len(), "no event twice in the SIEM");
    assert_eq!(in_syslog, all, "every controller event once in rsyslog");
    let listed = cli(&cdir, &["controller", "sensors"]);
    assert_eq!(listed.lines().filter(|l| l.contains("enrolled") && l.contains("3 decoys")).count(), 3, "{listed}");
}

#[test]
fn a_controller_down_for_60_seconds_gets_all_10000_events_the_sensors_took_once_each() {
    let (root, cdir, port) = controller_dir();
    let dirs: Vec<PathBuf> = ["ward-a", "ward-b"].iter().map(|n| enrol(&cdir, root.path(), n)).collect();
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let sensors: Vec<Honeyward> = dirs.iter().map(|d| start_sensor(d, port, &tcp_decoy("banner", ""))).collect();
    assert!(controller.stop().success());
    let outage = Instant::now();
    // 3 events per connection (opened, data, closed): 1,667 connections per sensor.
    for s in &sensors {
        let addr = s.addr("banner");
        for _ in 0..1667 {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            std::io::Write::write_all(&mut c, b"USER root\r\n").unwrap();
        }
    }
    let local: Vec<String> = sensors
        .iter()
        .flat_map(|s| {
            let db = s.store();
            assert!(eventually(60, || count_kind(&db, "connection_closed") == 1667));
            ids(&db, None)
        })
        .collect();
    assert!(local.len() >= 10_000, "{}", local.len());
    std::thread::sleep(Duration::from_secs(60).saturating_sub(outage.elapsed()));
    let controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let cdb = controller.store();
    let arrived = || local.iter().filter(|id| cdb.query_row("SELECT 1 FROM events WHERE id = ?1", [id.as_str()], |_| Ok(())).is_ok()).count();
    assert!(eventually(90, || arrived() == local.len()), "{} of {} arrived", arrived(), local.len());
    let total: i64 = cdb.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    let distinct: i64 = cdb.query_row("SELECT count(DISTINCT id) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(total, distinct, "once each");
    drop(sensors);
}

#[test]
fn a_bad_signature_an_old_timestamp_a_replayed_request_and_a_revoked_sensor_are_refused_and_recorded() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-9");
    let (key, ca) = credential(&sdir);
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let now = || honeyward::event::Timestamp::now().as_micros() / 1000;
    let body = r#"{"decoys":[]}"#;

    assert_eq!(signed_curl(port, &ca, "ward-9", &key, now(), "n-1", body, false), 200, "a good request (TLS verified against the credential's CA)");
    let replay_ts = now();
    assert_eq!(signed_curl(port, &ca, "ward-9", &key, replay_ts, "n-2", body, false), 200);
    assert_eq!(signed_curl(port, &ca, "ward-9", &key, replay_ts, "n-2", body, false), 401, "replayed");
    assert_eq!(signed_curl(port, &ca, "ward-9", &key, now(), "n-3", body, true), 401, "bad signature");
    assert_eq!(signed_curl(port, &ca, "ward-9", &key, now() - 600_000, "n-4", body, false), 401, "ten minutes old");
    assert_eq!(signed_curl(port, &ca, "nobody", &key, now(), "n-5", body, false), 401, "unknown sensor");
    let hb = "/v1/sensor/heartbeat";
    let (_, unknown) = signed_answer(port, &ca, "nobody", &key, hb, now(), "n-7", body, false);
    let (_, forged) = signed_answer(port, &ca, "ward-9", &key, hb, now(), "n-8", body, true);
    cli(&cdir, &["controller", "revoke", "ward-9"]);
    assert_eq!(signed_curl(port, &ca, "ward-9", &key, now(), "n-6", body, false), 401, "revoked");
    let (_, revoked) = signed_answer(port, &ca, "ward-9", &key, hb, now(), "n-9", body, false);
    assert!(unknown == forged && forged == revoked, "a prober cannot tell which sensor names exist: {unknown} / {forged} / {revoked}");

    // Each kind of refusal from this address is recorded at once the first time in a
    // minute; the repeats are counted into one more event each.
    let db = controller.store();
    let reasons = || bodies(&db, "sensor_refused").iter().map(|b| b["details"]["reason"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(eventually(10, || reasons().len() >= 5), "{:?}", reasons());
    for expected in ["replayed", "bad signature", "too far off", "unknown sensor", "revoked"] {
        assert!(reasons().iter().any(|r| r.contains(expected)), "{expected} in {:?}", reasons());
    }
    assert!(controller.stop().success());
    let counted: u64 = bodies(&db, "sensor_refused").iter().map(|b| b["details"]["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 8, "every refused request counted");
}

#[test]
fn a_request_captured_before_a_controller_restart_is_refused_as_a_replay_after_it() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-r");
    let (key, ca) = credential(&sdir);
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let body = r#"{"decoys":[]}"#;
    let captured = honeyward::event::Timestamp::now().as_micros() / 1000;
    assert_eq!(signed_curl(port, &ca, "ward-r", &key, captured, "seen-once", body, false), 200);
    assert!(controller.stop().success());
    let controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    assert_eq!(signed_curl(port, &ca, "ward-r", &key, captured, "seen-once", body, false), 401, "the same request, replayed after the restart");
    let now = honeyward::event::Timestamp::now().as_micros() / 1000;
    assert_eq!(signed_curl(port, &ca, "ward-r", &key, now, "fresh", body, false), 200, "the sensor's next request");
    let db = controller.store();
    assert!(eventually(10, || bodies(&db, "sensor_refused").iter().any(|b| b["details"]["reason"].as_str().is_some_and(|r| r.contains("replayed")))));
}

#[test]
fn a_token_created_on_the_controller_is_recognised_by_a_sensor_within_5_seconds_also_after_a_restart_while_the_controller_is_down() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-5");
    let mut controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let ssh = "  - name: ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n";
    let mut sensor = start_sensor(&sdir, port, ssh);
    std::thread::sleep(Duration::from_secs(2));

    let out = cli(&cdir, &["token", "create", "ssh-password", "--label", "backup service account"]);
    let created = Instant::now();
    let (user, password) = (secret(&out, "username"), secret(&out, "password"));
    let id = out.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().to_string();
    // A sensor knows tokens by id only (its controller adds labels and plants).
    let hits = |db: &rusqlite::Connection| bodies(db, "ssh_auth").iter().filter(|b| b["token"]["id"] == id.as_str()).count();
    let sdb = sensor.store();
    while hits(&sdb) == 0 && created.elapsed() < Duration::from_secs(5) {
        try_password(sensor.addr("ssh"), &user, &password);
        std::thread::sleep(Duration::from_millis(300));
    }
    if !eventually(2, || hits(&sdb) >= 1) {
        panic!("not recognised on the sensor within 5 s; sensor log:\n{}\ncontroller log:\n{}", sensor.stderr_text(), controller.stderr_text());
    }
    eprintln!("token recognised on the sensor {:?} after its creation", created.elapsed());

    assert!(controller.stop().success());
    assert!(sensor.stop().success());
    drop(sdb);
    let sensor = start_sensor(&sdir, port, ssh);
    try_password(sensor.addr("ssh"), &user, &password);
    let sdb = sensor.store();
    assert!(eventually(10, || hits(&sdb) >= 2), "still recognised after a restart with the controller away");
}

#[test]
fn a_sensor_killed_with_kill_9_raises_a_sensor_silent_incident_within_its_window() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-k");
    let controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let mut sensor = start_sensor(&sdir, port, &tcp_decoy("banner", ""));
    let cdb = controller.store();
    assert!(eventually(10, || cli(&cdir, &["controller", "sensors"]).contains("last seen 20")), "heartbeats arrive");
    sensor.signal(libc::SIGKILL);
    let _ = sensor.wait_exit(10);
    let killed = Instant::now();
    assert!(eventually(15, || count_kind(&cdb, "sensor_silent") == 1));
    eprintln!("sensor_silent {:?} after kill -9 (window 5 s)", killed.elapsed());
    assert!(killed.elapsed() < Duration::from_secs(5 + 5), "within the window and a check interval");
    let silent = &bodies(&cdb, "sensor_silent")[0];
    assert_eq!(silent["sensor"], "ward-k");
    let incidents = cli(&cdir, &["incidents", "list", "--json"]);
    assert!(incidents.lines().any(|l| l.contains("sensor_silent") && l.contains("\"severity\":\"high\"")), "{incidents}");
}

#[test]
fn the_api_answers_only_with_a_bearer_token_and_creates_lists_and_revokes_tokens() {
    let (root, cdir, port) = controller_dir();
    let sdir = enrol(&cdir, root.path(), "ward-api");
    let (_, ca) = credential(&sdir);
    let token = cli(&cdir, &["controller", "api-token", "soc-automation"]).trim().to_string();
    // Enrolling created the state directory (the controller's key and certificate):
    // private to honeyward, not only the leaf below it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(cdir.join("honeyward-state")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "state directory mode {mode:o}");
    let _controller = start_controller(&cdir, &controller_yaml(port, NO_SINKS));
    let call = |method: &str, path: &str, bearer: Option<&str>, body: Option<&str>| -> (u16, serde_json::Value) {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-w", "\n%{http_code}", "-X", method, "--cacert"]).arg(&ca);
        if let Some(b) = bearer {
            cmd.args(["-H", &format!("Authorization: Bearer {b}")]);
        }
        if let Some(b) = body {
            cmd.args(["-H", "content-type: application/json", "--data-binary", b]);
        }
        let out = cmd.arg(format!("https://127.0.0.1:{port}{path}")).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (json, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap(), serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
    };
    assert_eq!(call("GET", "/v1/sensors", None, None).0, 401);
    assert_eq!(call("GET", "/v1/sensors", Some("hwapi_wrong"), None).0, 401);
    let (status, sensors) = call("GET", "/v1/sensors", Some(&token), None);
    assert_eq!(status, 200);
    assert_eq!(sensors["sensors"][0]["name"], "ward-api");
    let (status, created) = call("POST", "/v1/tokens", Some(&token), Some(r#"{"kind":"http-basic","label":"intranet svc"}"#));
    assert_eq!(status, 200, "{created}");
    let (status, refused) = call("POST", "/v1/tokens", Some(&token), Some(r#"{"kind":"kerberos","label":"x"}"#));
    assert_eq!((status, refused["error"].as_str()), (400, Some("bad request: unknown token kind \"kerberos\"")), "the caller's mistake, not the server's");
    let id = created["token"]["id"].as_str().unwrap().to_string();
    assert!(created["secrets"]["password"].as_str().is_some_and(|p| p.len() >= 12), "the secret, once: {created}");
    let (_, listed) = call("GET", "/v1/tokens", Some(&token), None);
    assert!(
        listed.to_string().contains(&id) && !listed.to_string().contains(created["secrets"]["password"].as_str().unwrap()),
        "listed, never with its secret"
    );
    assert_eq!(call("POST", &format!("/v1/tokens/{id}/revoke"), Some(&token), None).0, 200);
    assert!(cli(&cdir, &["token", "list"]).contains("revoked"));
    let (status, events) = call("GET", "/v1/events?after=0&limit=5", Some(&token), None);
    assert_eq!(status, 200);
    assert!(events["events"].is_array());
    assert_eq!(call("GET", "/v1/incidents", Some(&token), None).0, 200);
    assert_eq!(call("GET", "/v1/sinks", Some(&token), None).1["sinks"][0]["name"], "archive");
    // The OpenAPI description parses and names every path served.
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml")).unwrap();
    for path in ["/v1/events:", "/v1/incidents:", "/v1/sensors:", "/v1/sinks:", "/v1/tokens:", "/v1/tokens/{id}/revoke:"] {
        assert!(spec.contains(path), "{path}");
    }
}

#[test]
fn over_a_real_nats_jetstream_nothing_is_lost_when_the_controller_restarts_mid_stream() {
    let root = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let nats = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string(), "-sd"])
        .arg(root.path().join("jetstream"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server must be installed: scripts/test.sh installs it");
    let _nats = Reaped(nats);
    assert!(eventually(10, || std::net::TcpStream::connect(("127.0.0.1", nats_port)).is_ok()), "nats-server listening");
    let cdir = root.path().join("controller");
    std::fs::create_dir_all(&cdir).unwrap();
    let port = free_port();
    let yaml = controller_yaml(port, NO_SINKS)
        .replace("  silent_after_seconds: 5\n", &format!("  silent_after_seconds: 5\n  nats_url: nats://honeyward:s3cret-nats-pw@127.0.0.1:{nats_port}\n"));
    std::fs::write(cdir.join("honeyward.yaml"), &yaml).unwrap();
    let sdir = enrol(&cdir, root.path(), "ward-n");
    let mut controller = start_controller(&cdir, &yaml);
    let sensor_yaml = format!(
        "store:\n  path: honeyward.db\n  sync: normal\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: credential.json\n  nats_url: nats://127.0.0.1:{nats_port}\ndecoys:\n{}",
        tcp_decoy("banner", "")
    );
    std::fs::write(sdir.join("honeyward.yaml"), sensor_yaml).unwrap();
    let sensor = Honeyward::spawn(&sdir, &["sensor", "-c", "honeyward.yaml"]);
    let addr = sensor.addr("banner");
    let poke = |n: usize| {
        for _ in 0..n {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            std::io::Write::write_all(&mut c, b"USER root\r\n").unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    poke(300);
    assert!(controller.stop().success(), "stopped mid-stream");
    poke(300);
    let controller = start_controller(&cdir, &yaml);
    poke(300);
    let sdb = sensor.store();
    assert!(eventually(30, || count_kind(&sdb, "connection_closed") == 900));
    let local = sorted(ids(&sdb, None));
    let cdb = controller.store();
    assert!(eventually(60, || sorted(ids(&cdb, Some("ward-n"))).len() >= local.len()), "{} of {}", ids(&cdb, Some("ward-n")).len(), local.len());
    let at_controller = sorted(ids(&cdb, Some("ward-n")));
    assert!(local.iter().all(|id| at_controller.binary_search(id).is_ok()), "every event arrived");
    let total: i64 = cdb.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    let distinct: i64 = cdb.query_row("SELECT count(DISTINCT id) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(total, distinct, "once each");
    assert!(controller.stderr_text().contains("consuming sensor events from NATS JetStream"));
    assert!(
        controller.stderr_text().contains("nats://***@127.0.0.1") && !controller.stderr_text().contains("s3cret-nats-pw"),
        "the NATS password is never logged"
    );
    assert_eq!(count_kind(&cdb, "sensor_refused"), 0);
}

/// Starts `nats-server` with `conf` (written into `r`; it listens on `nats_port`), a
/// controller whose `controller:` section gets the lines `controller_nats`, and two
/// enrolled sensors whose `upstream:` sections get `admitted` (sensor `admitted_name`)
/// and `refused` (sensor `refused_name`). Each sensor sees five connections; the
/// admitted one's events must reach the controller through JetStream, the other's
/// must not, and it keeps them in its spool.
fn only_one_sensor_reaches_nats(r: &Path, conf: &str, nats_port: u16, controller_nats: &str, admitted: (&str, &str), refused: (&str, &str), why: (&str, &str)) {
    std::fs::write(r.join("nats.conf"), conf).unwrap();
    let nats = Command::new("nats-server").args(["-c"]).arg(r.join("nats.conf")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nats-server");
    let _nats = Reaped(nats);
    assert!(eventually(10, || std::net::TcpStream::connect(("127.0.0.1", nats_port)).is_ok()), "nats-server listening");

    let cdir = r.join("controller");
    std::fs::create_dir_all(&cdir).unwrap();
    let port = free_port();
    let yaml = controller_yaml(port, NO_SINKS).replace("  silent_after_seconds: 5\n", &format!("  silent_after_seconds: 5\n{controller_nats}"));
    std::fs::write(cdir.join("honeyward.yaml"), &yaml).unwrap();
    let (good_dir, bad_dir) = (enrol(&cdir, r, admitted.0), enrol(&cdir, r, refused.0));
    let controller = start_controller(&cdir, &yaml);
    let sensor = |dir: &Path, nats: &str| {
        let yaml = format!(
            "store:\n  path: honeyward.db\n  sync: normal\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: credential.json\n{nats}decoys:\n{}",
            tcp_decoy("banner", "")
        );
        std::fs::write(dir.join("honeyward.yaml"), yaml).unwrap();
        Honeyward::spawn(dir, &["sensor", "-c", "honeyward.yaml"])
    };
    let (good, bad) = (sensor(&good_dir, admitted.1), sensor(&bad_dir, refused.1));
    for s in [&good, &bad] {
        for _ in 0..5 {
            drop(std::net::TcpStream::connect(s.addr("banner")).unwrap());
        }
    }
    let cdb = controller.store();
    assert!(eventually(30, || ids(&cdb, Some(admitted.0)).len() >= 10), "{}: {}", why.0, controller.stderr_text());
    std::thread::sleep(Duration::from_secs(3));
    assert!(ids(&cdb, Some(refused.0)).is_empty(), "{}", why.1);
    assert!(count_kind(&bad.store(), "connection_opened") >= 5, "it keeps its events in its spool");
}

#[test]
fn a_sensor_reaches_nats_over_tls_only_through_the_ca_it_was_given() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    common::certs::certificates(r, "nats-ca");
    common::certs::certificates(r, "other-ca");
    common::certs::server_certificate(r, "nats-ca", "nats.test", "nats");
    let nats_port = free_port();
    let conf = format!(
        "listen: 127.0.0.1:{nats_port}\njetstream {{ store_dir: \"{d}/jetstream\" }}\ntls {{ cert_file: \"{d}/nats.pem\", key_file: \"{d}/nats.key\" }}\n",
        d = r.display()
    );
    let nats = |ca: &str| format!("  nats_url: tls://127.0.0.1:{nats_port}\n  nats_ca_file: {}\n", r.join(format!("{ca}.pem")).display());
    only_one_sensor_reaches_nats(
        r,
        &conf,
        nats_port,
        &nats("nats-ca"),
        ("ward-t", &nats("nats-ca")),
        ("ward-o", &nats("other-ca")),
        ("the sensor given the server's CA delivers over TLS", "a sensor given another CA does not trust the server and sends nothing"),
    );
}

/// A NATS JWT (as `nsc` makes them): `nats` claims about `subject`, signed by `issuer`.
fn nats_jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let iat = honeyward::event::Timestamp::now().as_micros() / 1_000_000;
    let jti = jti_of(subject);
    let claims = serde_json::json!({"jti": jti, "iat": iat, "iss": issuer.public_key(), "name": name, "sub": subject, "nats": nats});
    let signing_input = format!("{header}.{}", b64.encode(claims.to_string()));
    let signature = issuer.sign(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64.encode(signature))
}

/// A JWT id: unique per token (the server does not check how it was made).
fn jti_of(subject: &str) -> String {
    format!("{:X}", subject.bytes().fold(0xcbf2_9ce4_8422_2325u128, |h, b| (h ^ u128::from(b)).wrapping_mul(0x100_0000_01b3)))
}

#[test]
fn in_operator_mode_a_sensor_reaches_nats_only_with_its_creds_file() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let (operator, account, system, user) =
        (nkeys::KeyPair::new_operator(), nkeys::KeyPair::new_account(), nkeys::KeyPair::new_account(), nkeys::KeyPair::new_user());
    let op_jwt = nats_jwt(&operator, &operator.public_key(), "trust", serde_json::json!({"type": "operator", "version": 2}));
    let limits = serde_json::json!({"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": true, "conn": -1, "leaf": -1,
        "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1});
    let account_jwt = nats_jwt(&operator, &account.public_key(), "honeyward", serde_json::json!({"type": "account", "version": 2, "limits": limits}));
    let system_jwt = nats_jwt(&operator, &system.public_key(), "SYS", serde_json::json!({"type": "account", "version": 2}));
    let user_jwt = nats_jwt(
        &account,
        &user.public_key(),
        "ward",
        serde_json::json!({"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}),
    );
    let creds = r.join("ward.creds");
    std::fs::write(
        &creds,
        format!(
            "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
            user.seed().unwrap()
        ),
    )
    .unwrap();
    let nats_port = free_port();
    let conf = format!(
        "listen: 127.0.0.1:{nats_port}\noperator: {op_jwt}\nsystem_account: {sys}\nresolver: MEMORY\nresolver_preload: {{\n  {acc}: {account_jwt}\n  {sys}: {system_jwt}\n}}\njetstream {{ store_dir: \"{d}/jetstream\" }}\n",
        sys = system.public_key(),
        acc = account.public_key(),
        d = r.display()
    );
    let with_creds = format!("  nats_url: nats://127.0.0.1:{nats_port}\n  nats_creds_file: {}\n", creds.display());
    only_one_sensor_reaches_nats(
        r,
        &conf,
        nats_port,
        &with_creds,
        ("ward-k", &with_creds),
        ("ward-u", &format!("  nats_url: nats://127.0.0.1:{nats_port}\n")),
        ("the sensor with the creds file delivers through JetStream", "a sensor without credentials is not let in"),
    );
}
