//! The mirth-admin personality (NextGen Connect 4.4.0's administration server over
//! HTTPS): curl reads the version endpoint scanners ask, nmap -sV with http-title sees
//! an HTTPS server with Mirth's landing page, sign-ins are recorded and refused as
//! Mirth refuses them, and a request built like the public CVE-2023-43208 check is
//! tagged as that exploit (T1190) with its body quarantined by sha256 and never run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::Path;
use std::process::Command;

use common::{bodies, config, eventually, Honeyward};

const DECOY: &str = "  - name: mirth\n    type: http\n    listen: 127.0.0.1:0\n    personality: mirth-admin\n    tls: {common_name: mirth01.trust.local}\n";

/// The command the payload would run, were it ever evaluated.
const MARKER: &str = "honeyward-mirth-test-was-run";

/// An XStream gadget chain built like the public CVE-2023-43208 checks: a sorted set
/// whose comparator is a dynamic proxy that runs a command through ProcessBuilder.
fn payload(marker: &Path) -> String {
    format!(
        "<sorted-set>\n  <string>abcd</string>\n  <dynamic-proxy>\n    <interface>java.lang.Comparable</interface>\n    <handler class=\"java.beans.EventHandler\">\n      <target class=\"java.lang.ProcessBuilder\">\n        <command>\n          <string>touch</string>\n          <string>{}</string>\n        </command>\n      </target>\n      <action>start</action>\n    </handler>\n  </dynamic-proxy>\n</sorted-set>\n",
        marker.display()
    )
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-sk", "-i"]).args(args).output().expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn scanners_see_mirth_sign_ins_are_refused_and_a_cve_2023_43208_request_is_quarantined_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let addr = hw.addr("mirth");
    let base = format!("https://{addr}");

    let version = curl(&["-H", "X-Requested-With: OpenAPI", &format!("{base}/api/server/version")]);
    assert!(version.starts_with("HTTP/1.1 200 OK\r\n") && version.ends_with("\r\n\r\n4.4.0"), "{version}");
    let landing = curl(&[&format!("{base}/")]);
    assert!(landing.contains("<title>Mirth Connect Administrator</title>"), "{landing}");
    let scan = Command::new("nmap").args(["-sV", "--script", "http-title", "-Pn", "-p", &addr.port().to_string(), "127.0.0.1"]).output().unwrap();
    let scan = String::from_utf8_lossy(&scan.stdout);
    assert!(scan.contains("ssl/http") && scan.contains("Mirth Connect Administrator"), "{scan}");

    let login = curl(&["-X", "POST", "-H", "X-Requested-With: OpenAPI", "-d", "username=admin&password=admin", &format!("{base}/api/users/_login")]);
    assert!(login.starts_with("HTTP/1.1 401 Unauthorized\r\n") && login.contains("<status>FAIL</status>"), "{login}");
    // A missing page is Jetty's, with the URI escaped.
    let missing = curl(&[&format!("{base}/nope%3Cscript%3E")]);
    assert!(missing.contains("<tr><th>URI:</th><td>/nope&lt;script&gt;</td></tr>"), "{missing}");

    let marker = dir.path().join(MARKER);
    let body = payload(&marker);
    let exploit =
        curl(&["-X", "POST", "-H", "X-Requested-With: OpenAPI", "-H", "Content-Type: application/xml", "--data-binary", &body, &format!("{base}/api/users")]);
    assert!(exploit.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{exploit}");

    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "http_request").iter().any(|e| e["details"]["target"]["text"] == "/api/users")));
    let events = bodies(&db, "http_request");
    let attack = events.iter().find(|e| e["details"]["target"]["text"] == "/api/users").unwrap();
    let tags: Vec<&str> = attack["details"]["tags"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    assert!(tags.contains(&"exploit") && tags.contains(&"cve-2023-43208") && tags.contains(&"quarantined"), "{attack:#}");
    let sha = attack["details"]["body_sha256"].as_str().unwrap();
    let kept = dir.path().join(format!("honeyward-state/http/mirth/quarantine/{sha}.bin"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), body, "the whole payload, by its hash");
    assert!(!marker.exists(), "the payload was never run");
    let signed_in = events.iter().find(|e| e["details"]["target"]["text"] == "/api/users/_login").unwrap();
    assert_eq!(signed_in["details"]["credential"]["username"]["text"], "admin", "{signed_in:#}");
    // The version probe is no exploit.
    let probe = events.iter().find(|e| e["details"]["target"]["text"] == "/api/server/version").unwrap();
    assert!(probe["details"].get("tags").is_none_or(|t| t.as_array().unwrap().is_empty()), "{probe:#}");
}
