//! Real h2 clients against an HTTPS decoy (ehr-login, whose sign-in page is rendered
//! by "PHP" behind "nginx"): curl, nghttp and headless Chromium negotiate h2 by ALPN,
//! get the pages, post the sign-in form and upload a body larger than the stream's
//! first window; every request is stored as HTTP/2.0 with its credential and body.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;

use common::*;

const DECOY: &str = "  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n    tls: {common_name: ehr.example-trust.nhs.uk, organisation: Example NHS Trust}\n";

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-sk", "--http2", "--max-time", "10"]).args(args).output().expect("curl");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn curl_nghttp_and_chromium_speak_h2_to_the_decoy_and_every_request_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let base = format!("https://{}", hw.addr("portal"));

    // curl: the page over h2, then a sign-in.
    let page = curl(&["-w", "\n%{http_version} %{response_code}", &format!("{base}/")]);
    assert!(page.ends_with("\n2 200") && page.contains("Sign in"), "{page}");
    let answer = curl(&["-w", "\n%{http_version} %{response_code}", "-d", "username=dr.jones&password=Radiology2026", &format!("{base}/login")]);
    assert!(answer.ends_with("\n2 200"), "{answer}");

    // nghttp: a 200 KiB upload, more than the 64 KiB first window: the stream's window
    // is opened as nginx opens it for a body it reads, and the upload completes.
    let upload = dir.path().join("upload.bin");
    std::fs::write(&upload, vec![b'z'; 200 * 1024]).unwrap();
    let out = Command::new("nghttp").args(["-nv", "-d"]).arg(&upload).arg(format!("{base}/login")).output().expect("nghttp");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("recv WINDOW_UPDATE frame") && text.contains(":status: 200"), "{text}");
    assert!(!text.contains("RST_STREAM"), "the whole body was taken: {text}");

    // Chromium: the page rendered from h2.
    let profile = dir.path().join("profile");
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--ignore-certificate-errors", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{base}/"))
        .output()
        .expect("chromium must be installed: scripts/test.sh installs it");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<title>Clinical Portal - Sign in</title>"), "{dom}");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") >= 4), "{} stored", count_kind(&db, "http_request"));
    let requests = bodies(&db, "http_request");
    assert!(requests.iter().all(|e| e["details"]["version"] == "HTTP/2.0"), "{requests:#?}");
    let sign_in = requests.iter().find(|e| e["details"]["body_bytes"] == 40).expect("the sign-in");
    assert_eq!(sign_in["details"]["credential"]["username"]["text"], "dr.jones", "{sign_in:#}");
    assert!(requests.iter().any(|e| e["details"]["body_bytes"] == 200 * 1024), "the upload, whole: {requests:#?}");
    assert!(requests.iter().any(|e| e["details"]["user_agent"]["text"].as_str().unwrap_or("").contains("HeadlessChrome")));
}
