//! HTTPS with curl: a generated certificate that looks like an internal CA's (kept
//! across restarts), the operator's own certificate, h2 by ALPN, and bad TLS config.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;

use common::*;

/// curl -v output (stderr) and body (stdout).
fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl").args(["-sk", "-v"]).args(args).output().unwrap();
    (String::from_utf8_lossy(&out.stderr).into_owned(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn line<'a>(verbose: &'a str, key: &str) -> &'a str {
    verbose.lines().find(|l| l.contains(key)).unwrap_or_else(|| panic!("no {key} in\n{verbose}"))
}

#[test]
fn https_decoys_present_a_believable_certificate_kept_across_restarts_and_speak_h2() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = "  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n    tls: {common_name: ehr.example-trust.nhs.uk, organisation: Example NHS Trust}\n";
    let hw = Honeyward::start(dir.path(), &config(decoy));
    let url = format!("https://{}/", hw.addr("portal"));
    let (verbose, body) = curl(&[&url]);
    assert!(body.contains("Clinical Portal"), "{body}");
    assert!(line(&verbose, "subject:").ends_with("C=GB; O=Example NHS Trust; CN=ehr.example-trust.nhs.uk"), "{verbose}");
    assert!(line(&verbose, "issuer:").ends_with("CN=Example NHS Trust Issuing CA 01"));
    assert!(verbose.contains("ALPN: server accepted h2"), "{verbose}");
    let (v11, _) = curl(&["--http1.1", &format!("{url}nope")]);
    assert!(v11.contains("< HTTP/1.1 404 Not Found"), "{v11}");
    let start = line(&verbose, "start date:").to_string();
    let pem = std::fs::read(dir.path().join("honeyward-state/http/portal/cert.pem")).unwrap();

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 2));
    let reqs = bodies(&db, "http_request");
    assert_eq!(reqs[0]["details"]["version"], "HTTP/2.0");
    assert_eq!(reqs[1]["details"]["version"], "HTTP/1.1");
    drop(db);
    drop(hw);

    let hw = Honeyward::start(dir.path(), &config(decoy));
    let (verbose, _) = curl(&[&format!("https://{}/", hw.addr("portal"))]);
    assert_eq!(line(&verbose, "start date:"), start, "the same certificate after a restart");
    assert_eq!(std::fs::read(dir.path().join("honeyward-state/http/portal/cert.pem")).unwrap(), pem);
}

#[test]
fn an_operators_own_certificate_is_served_and_a_half_configured_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/O=Radiology/CN=pacs.trust.local"])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let decoy = format!(
        "  - name: pacs\n    type: http\n    listen: 127.0.0.1:0\n    personality: pacs-viewer\n    tls:\n      cert_file: {d}/cert.pem\n      key_file: {d}/key.pem\n",
        d = dir.path().display()
    );
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let (verbose, _) = curl(&[&format!("https://{}/system", hw.addr("pacs"))]);
    assert!(line(&verbose, "subject:").ends_with("O=Radiology; CN=pacs.trust.local"), "{verbose}");
    assert!(verbose.contains("< HTTP/1.1 401 Unauthorized"), "Orthanc (civetweb) offers no h2: {verbose}");
    drop(hw);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, config(&format!("  - name: pacs\n    type: http\n    listen: 127.0.0.1:0\n    tls:\n      cert_file: {}/key.pem\n      key_file: {}/key.pem\n  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    tls: {{key_file: x.pem}}\n", dir.path().display(), dir.path().display()))).unwrap();
    let out = Command::new(BIN).arg("validate").arg("-c").arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.yaml:") && err.contains("no CERTIFICATE in the file"), "{err}");
    assert!(err.contains("set both `cert_file` and `key_file`, or neither"), "{err}");
}
