//! The ehr-login page and Orthanc Explorer in a real browser: headless Chromium
//! (Debian's `chromium`) renders them without console errors (the ehr-login screenshot
//! is kept as a test artifact in `target/test-artifacts/ehr-login.png`), and the
//! explorer browses the honey archive through pacs-viewer's REST API.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn chromium(profile: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium must be installed: scripts/test.sh installs it")
}

#[test]
fn the_ehr_login_page_renders_in_headless_chromium_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config("  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n"));
    let url = format!("http://{}/", hw.addr("portal"));
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("ehr-login.png");
    let _ = std::fs::remove_file(&shot);

    let out = chromium(&dir.path().join("profile"), &[&format!("--screenshot={}", shot.display()), "--window-size=1280,900", &url]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a real picture, {} bytes", png.len());
    assert_eq!((u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap())), (1280, 900));
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    let dom = chromium(&dir.path().join("profile2"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<title>Clinical Portal - Sign in</title>") && dom.contains("name=\"password\""), "{dom}");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") >= 2));
    let first = &bodies(&db, "http_request")[0]["details"];
    assert!(first["user_agent"]["text"].as_str().unwrap().contains("HeadlessChrome"), "{first}");
}

#[test]
fn orthanc_explorer_in_headless_chromium_lists_the_honey_patients_and_opens_their_studies() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!("{}cohort:\n  patients: 3\n", config("  - name: viewer\n    type: http\n    listen: 127.0.0.1:0\n    personality: pacs-viewer\n"));
    let hw = Honeyward::start(dir.path(), &yaml);
    cli(dir.path(), &["token", "create", "http-basic", "--label", "orthanc admin", "--username", "orthanc", "--password", "orthanc"]);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let addr = hw.addr("viewer");
    let api = |path: &str| {
        let out = Command::new("curl").args(["-s", "-u", "orthanc:orthanc", &format!("http://{addr}{path}")]).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let page = |fragment: &str, profile: &str| {
        let url = format!("http://orthanc:orthanc@{addr}/app/explorer.html#{fragment}");
        let out = chromium(&dir.path().join(profile), &["--virtual-time-budget=5000", "--dump-dom", &url]);
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
        assert!(console.is_empty(), "console messages: {console:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let patients = api("/patients?expand");
    let listed = page("find-patients", "p1");
    for p in patients.as_array().unwrap() {
        let name = p["MainDicomTags"]["PatientName"].as_str().unwrap();
        assert!(listed.contains(name), "{name} is listed: {listed}");
    }
    let first = patients[0]["ID"].as_str().unwrap();
    let studies = page(&format!("patient?uuid={first}"), "p2");
    for s in api(&format!("/patients/{first}/studies")).as_array().unwrap() {
        let accession = s["MainDicomTags"]["AccessionNumber"].as_str().unwrap();
        assert!(studies.contains(accession), "the patient's study {accession} is shown: {studies}");
    }
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "http_request").iter().filter(|r| r.get("token").is_some()).count() >= 6), "every signed-in request is a token hit");
}
