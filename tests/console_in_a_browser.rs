//! The web console in Debian's headless Chromium (driven through its DevTools protocol
//! by playwright-core, tests/browser/console.mjs): after SSH (OpenSSH with sshpass),
//! HTTP (hostile raw requests) and DICOM (findscu) activity, a virtual WebAuthn
//! authenticator signs up through the one-time link, signs out and in again, opens
//! the incidents and every incident, creates a token and downloads its file.
//! Screenshots go to target/test-artifacts/console/. No console errors, no dialog, the
//! hostile strings appear as text, and axe-core finds no serious or critical violation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const HOSTILE_PATH: &str = "/<script>alert(1)</script>";
const HOSTILE_AGENT: &str = "\"><img src=x onerror=alert(2)>";
const BIDI_PATH: &str = "/invoice\u{202e}fdp.exe";

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/console");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_passkey_user_sees_ssh_http_and_dicom_incidents_as_text_and_creates_and_downloads_a_token_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = "  - name: jump\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n    accept: tokens\n  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n    unknown_ae_queries: answer\n";
    let yaml = config(decoys) + "console:\n  listen: 127.0.0.1:0\n";
    let hw = Honeyward::start(dir.path(), &yaml);
    // No terminal here: the first-start sign-up link is in a private file, not the log.
    let invite_file = dir.path().join("honeyward-state/console-invite.txt");
    assert!(eventually(10, || invite_file.exists()), "a sign-up link is handed over at first start: {}", hw.stderr_text());
    let invite = std::fs::read_to_string(&invite_file).unwrap().trim().to_string();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&invite_file).unwrap().permissions()) & 0o777, 0o600);
    assert!(!hw.stderr_text().contains("invite="), "the link never reaches the log: {}", hw.stderr_text());
    let console = hw.addr("console");
    let base = format!("http://localhost:{}", console.port());
    assert!(invite.starts_with(&base), "{invite} is on {base}");

    // SSH: a planted password gets the fake shell; the command line is hostile too.
    cli(
        dir.path(),
        &[
            "token",
            "create",
            "ssh-password",
            "--label",
            "jump host admin",
            "--username",
            "radadmin",
            "--password",
            "Kelvo-Mistan-Baiper47!",
            "--plant",
            "h/.bash_history",
        ],
    );
    std::thread::sleep(Duration::from_millis(1200));
    let ssh = hw.addr("jump");
    let out = Command::new("sshpass")
        .args(["-p", "Kelvo-Mistan-Baiper47!", "ssh", "-p", &ssh.port().to_string(), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .arg(format!("radadmin@{}", ssh.ip()))
        .arg("id; echo '<script>alert(3)</script>'")
        .stdin(Stdio::null())
        .output()
        .expect("sshpass and ssh (scripts/test.sh installs them)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // HTTP: script in the path, markup in the user agent, a bidi override in a path.
    let web = hw.addr("portal");
    for (target, agent) in [(HOSTILE_PATH, HOSTILE_AGENT), (BIDI_PATH, "curl/7.88.1")] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n");
        let response = http_raw(web, request.as_bytes());
        assert!(response.starts_with(b"HTTP/1.1 "), "{}", String::from_utf8_lossy(&response));
    }
    // DICOM: a query of the honey cohort.
    let pacs = hw.addr("pacs");
    let found = Command::new("findscu")
        .args(["-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientName=*", "127.0.0.1", &pacs.port().to_string()])
        .output()
        .expect("findscu (dcmtk)");
    assert!(found.status.success());
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "ssh_command") >= 1 && count_kind(&db, "http_request") >= 1 && count_kind(&db, "dicom_command") >= 1));

    let artifacts = artifacts();
    let label = "finance share aws key (console test)";
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.mjs");
    let run = Command::new("node")
        .args([driver, &base, &invite, artifacts.to_str().unwrap(), label])
        .output()
        .expect("node (scripts/test.sh installs nodejs and playwright-core)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("driver output: {stdout}\n{}", String::from_utf8_lossy(&run.stderr)));
    assert!(run.status.success() && report["ok"] == true, "browser run failed: {report:#}\nstderr: {}", String::from_utf8_lossy(&run.stderr));

    assert_eq!(report["invite_reuse_status"], 403, "the sign-up link works once");
    // axe-core audited every kind of page (a serious or critical violation fails the run above).
    eprintln!("axe-core: {}", report["audited"]);
    let audited: Vec<&str> = report["audited"].as_array().unwrap().iter().map(|a| a["page"].as_str().unwrap()).collect();
    for page in ["enrol", "login", "overview", "incidents", "tokens", "token", "/health", "/sinks", "decoy"] {
        assert!(audited.contains(&page), "axe audited {page}: {audited:?}");
    }
    assert!(audited.iter().any(|p| p.starts_with("/incidents/")), "axe audited an incident: {audited:?}");
    assert!(report["links_checked"].as_u64().unwrap() >= 20, "every link on every page answered 200: {}", report["links_checked"]);
    assert!(report["local_times"].as_u64().unwrap() >= 1, "relative times gain the local time");
    let decoy = report["decoy_text"].as_str().unwrap();
    assert!(decoy.contains("Decoy: portal") && decoy.contains("http_request"), "the decoy page lists its latest events: {decoy}");
    let overview = report["overview_text"].as_str().unwrap();
    assert!(overview.contains("Latest token hits") && overview.contains("Planted SSH password used: jump host admin"), "{overview}");
    let incidents = report["incidents_text"].as_str().unwrap();
    assert!(incidents.contains("T1021.004") || incidents.contains("T1078"), "SSH techniques listed: {incidents}");
    assert!(incidents.contains("T1046"), "the DICOM query's technique: {incidents}");
    let pages: Vec<&str> = report["incident_pages"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    let all = pages.join("\n");
    assert!(all.contains(HOSTILE_PATH), "the script path shows as text");
    assert!(all.contains(HOSTILE_AGENT), "the markup user agent shows as text");
    assert!(all.contains("$ id; echo '<script>alert(3)</script>'"), "the SSH transcript shows the typed line as text");
    assert!(all.contains("C-FIND"), "the DICOM query is listed");
    assert!(all.contains("uid=1001(radadmin)"), "the terminal replay shows the session's output");
    let replayed = report["replayed"].as_str().unwrap_or_default();
    assert!(replayed.contains("uid=1001(radadmin)") && replayed.contains("<script>alert(3)</script>"), "the replay played the session: {replayed}");
    assert!(!all.contains('\u{202e}'), "no bidi override reaches the page unmarked");
    assert!(all.contains("/invoice⟨U+202E⟩fdp.exe"), "the override is shown as a mark");

    // The token exists in the registry and its file is the one downloaded.
    let tokens = cli(dir.path(), &["token", "list", "--json"]);
    assert!(tokens.contains(label), "{tokens}");
    assert!(report["tokens_text"].as_str().unwrap().contains(label));
    assert!(report["tokens_text"].as_str().unwrap().contains("finance-fs01:/srv/share/finance/.aws/credentials"), "the plant is listed");
    assert!(tokens.contains("/srv/share/finance/.aws/credentials"), "the plant is in the registry: {tokens}");
    let created = report["created_text"].as_str().unwrap();
    assert!(created.contains("aws_credentials template") && created.contains("~/.aws/credentials"), "the confirmation says what and where: {created}");
    let token_page = report["token_text"].as_str().unwrap();
    assert!(token_page.contains("revoked") && token_page.contains("finance-fs01") && token_page.contains("No hit yet"), "{token_page}");
    // The form offers an aws-key only the templates that hold one.
    let offered: Vec<&str> = report["aws_templates"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(offered.contains(&"aws_credentials") && offered.contains(&"") && !offered.contains(&"ssh_config"), "{offered:?}");
    // A mismatched template is refused on the form (sent without the page's help), and nothing is made.
    assert_eq!(report["mismatch_status"], 400);
    let alert = report["mismatch_alert"].as_str().unwrap();
    assert!(alert == "Not created: the template ssh_config cannot hold a token of kind aws-key; choose one made for it, or the kind's default.", "{alert}");
    assert!(!tokens.contains("mismatch (console test)"), "{tokens}");
    let file = std::fs::read_to_string(report["download"].as_str().unwrap()).unwrap();
    assert!(file.contains("aws_access_key_id") && file.contains("aws_secret_access_key"), "{file}");
    for shot in ["1-incidents-after-sign-up.png", "2-incidents.png", "3-incident.png", "4-tokens.png", "5-health.png", "5-sinks.png"] {
        assert!(std::fs::metadata(artifacts.join(shot)).map(|m| m.len() > 1000).unwrap_or(false), "screenshot {shot}");
    }
    let _ = std::io::stderr().flush();
}
