//! The pacs-viewer and nas-login personalities with real clients: pacs-viewer side by
//! side with a real Orthanc started on loopback, nas-login and canary URLs with curl.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

#[test]
#[allow(clippy::useless_format)] // one shape for every request in the list
fn pacs_viewer_answers_like_a_real_orthanc_and_lets_only_planted_credentials_in() {
    let dir = tempfile::tempdir().unwrap();
    let settings = "\"Name\": \"PACS-RAD-01\", \"AuthenticationEnabled\": true, \"RegisteredUsers\": {\"orthanc\": \"orthanc\"}";
    let (orthanc, real, _) = real_pacs::orthanc(dir.path(), settings);

    // No synthetic cohort: /patients is empty, as on the freshly installed real server.
    let hw = Honeyward::start(
        dir.path(),
        &format!("{}cohort:\n  patients: 0\n", config("  - name: pacs\n    type: http\n    listen: 127.0.0.1:0\n    personality: pacs-viewer\n")),
    );
    let decoy = hw.addr("pacs");
    // The real server's only user, planted as a token: the decoy lets it in.
    cli(
        dir.path(),
        &[
            "token",
            "create",
            "http-basic",
            "--label",
            "orthanc admin in pacs-ws-03 notes",
            "--username",
            "orthanc",
            "--password",
            "orthanc",
            "--plant",
            "notes/pacs.env",
        ],
    );
    std::thread::sleep(Duration::from_millis(1200));

    let auth = "Authorization: Basic b3J0aGFuYzpvcnRoYW5j\r\n"; // orthanc:orthanc
    let wrong = "Authorization: Basic b3J0aGFuYzp4\r\n"; // orthanc:x
    let requests = [
        format!("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET /system HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET /system HTTP/1.1\r\nHost: x\r\n{wrong}\r\n"),
        format!("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
        format!("GET / HTTP/1.0\r\n\r\n"),
        format!("GET / HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /favicon.ico HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /nope/x%22y HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("DELETE /system HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /app/missing.js HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /patients HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GARBAGE\r\n\r\n"),
    ];
    for req in &requests {
        let (want, got) = (response_shape(&http_raw(real, req.as_bytes())), response_shape(&http_raw(decoy, req.as_bytes())));
        let date =
            |names: &[String], body: &[u8]| (names.to_vec(), String::from_utf8_lossy(body).lines().filter(|l| !l.starts_with("Date")).collect::<String>());
        assert_eq!((got.0.clone(), date(&got.1, &got.2)), (want.0.clone(), date(&want.1, &want.2)), "request {req:?}");
    }
    // /system: same status line and headers; the JSON has the same keys.
    let req = format!("GET /system HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
    let (want, got) = (response_shape(&http_raw(real, req.as_bytes())), response_shape(&http_raw(decoy, req.as_bytes())));
    assert_eq!((&got.0, &got.1), (&want.0, &want.1));
    let keys = |b: &[u8]| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(b).unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got.2), keys(&want.2));
    drop(orthanc);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == requests.len() as i64));
    let reqs = bodies(&db, "http_request");
    assert!(reqs[..5].iter().all(|r| r["details"]["status"] == 401 && r.get("token").is_none()));
    assert_eq!(reqs[2]["details"]["credential"]["secret"]["text"], "x", "wrong passwords are recorded");
    assert!(reqs[5..11].iter().all(|r| r["token"]["label"] == "orthanc admin in pacs-ws-03 notes"), "every request with the planted password is a token hit");
    assert_eq!(count_kind(&db, "data_received"), 1, "the request that did not parse is recorded raw");
}

#[test]
fn a_silent_connection_to_pacs_viewer_is_held_like_orthancs_and_an_idle_keep_alive_one_closes_after_a_second() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    // No synthetic cohort: /patients is empty, as on the freshly installed real server.
    let hw = Honeyward::start(
        dir.path(),
        &format!("{}cohort:\n  patients: 0\n", config("  - name: pacs\n    type: http\n    listen: 127.0.0.1:0\n    personality: pacs-viewer\n")),
    );
    // Silent: Orthanc waits 30 s for a first request (a 1 s close made nmap say
    // `tcpwrapped`); still open after 3 s.
    let mut s = TcpStream::connect(hw.addr("pacs")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut byte = [0u8; 1];
    let err = s.read(&mut byte).expect_err("no answer and no close while silent");
    assert!(matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{err}");
    // After a request, an idle keep-alive connection is closed after 1 s, as Orthanc does.
    s.write_all(b"GET /app/explorer.html HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 "), "{}", String::from_utf8_lossy(&answer));
    assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
}

#[test]
fn nas_login_records_sign_in_attempts_and_answers_like_the_web_api() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config("  - name: nas\n    type: http\n    listen: 127.0.0.1:0\n    personality: nas-login\n"));
    let base = format!("http://{}", hw.addr("nas"));
    let page = Command::new("curl").args(["-s", &format!("{base}/")]).output().unwrap();
    assert!(String::from_utf8_lossy(&page.stdout).contains("Synology DiskStation"));
    let out = Command::new("curl")
        .args(["-s", "-i", "--data", "api=SYNO.API.Auth&version=7&method=login&account=backup-svc&passwd=Summer2026!", &format!("{base}/webapi/entry.cgi")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\nServer: nginx\r\n"), "{text}");
    assert!(text.ends_with("{\"error\":{\"code\":400},\"success\":false}"), "{text}");
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 2));
    let login = &bodies(&db, "http_request")[1]["details"];
    assert_eq!(login["credential"]["username"]["text"], "backup-svc");
    assert_eq!(login["credential"]["secret"]["text"], "Summer2026!");

    // Like DSM's Auto Block: the tenth failure from one address within 5 minutes
    // blocks the address (error 407), whatever account comes next.
    let sign_in = |account: &str| {
        let data = format!("api=SYNO.API.Auth&version=7&method=login&account={account}&passwd=x");
        String::from_utf8_lossy(&Command::new("curl").args(["-s", "--data", &data, &format!("{base}/webapi/entry.cgi")]).output().unwrap().stdout).to_string()
    };
    let answers: Vec<String> = ["admin", "root", "guest", "backup", "scan", "pacs", "admin", "it", "nas"].iter().map(|a| sign_in(a)).collect();
    assert!(answers[..8].iter().all(|a| a.contains("\"code\":400")), "{answers:?}");
    assert_eq!(answers[8], "{\"error\":{\"code\":407},\"success\":false}");
    assert_eq!(sign_in("someone-else"), "{\"error\":{\"code\":407},\"success\":false}");
    assert!(eventually(10, || count_kind(&db, "http_request") == 12));
    let blocked = bodies(&db, "http_request").iter().filter(|e| e["details"]["tags"].to_string().contains("source-blocked")).count();
    assert_eq!(blocked, 2);
}

#[test]
fn canary_urls_answer_with_the_response_their_token_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config("  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n"));
    let addr = hw.addr("web");
    let url_of = |response: &str, plant: &str| {
        cli(
            dir.path(),
            &[
                "token",
                "create",
                "url",
                "--label",
                &format!("{response} link"),
                "--url-response",
                response,
                "--endpoint",
                &format!("http://{addr}"),
                "--plant",
                plant,
            ],
        );
        let page = std::fs::read_to_string(dir.path().join(plant)).unwrap();
        page.split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
    };
    let (redirect, pixel, missing) = (url_of("redirect", "a.html"), url_of("pixel", "b.html"), url_of("not-found", "c.html"));
    assert!(pixel.ends_with(".gif"), "{pixel}");
    std::thread::sleep(Duration::from_millis(1200));
    let curl =
        |url: &str| String::from_utf8_lossy(&Command::new("curl").args(["-s", "-i", "-A", "Outlook-Express/7.0", url]).output().unwrap().stdout).to_string();
    let r = curl(&redirect);
    assert!(r.starts_with("HTTP/1.1 302 Moved Temporarily\r\n") && r.contains(&format!("\r\nLocation: http://127.0.0.1:{}/login\r\n", addr.port())), "{r}");
    let p = curl(&pixel);
    assert!(p.starts_with("HTTP/1.1 200 OK\r\n") && p.contains("Content-Type: image/gif\r\nContent-Length: 43\r\n"), "{p}");
    assert!(curl(&missing).starts_with("HTTP/1.1 404 Not Found\r\n"));
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 3));
    let labels: Vec<String> = bodies(&db, "http_request").iter().map(|r| r["token"]["label"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(labels, ["redirect link", "pixel link", "not-found link"]);
    assert!(bodies(&db, "http_request").iter().all(|r| r["details"]["user_agent"]["text"] == "Outlook-Express/7.0"));
}
