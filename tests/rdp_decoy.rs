//! The RDP decoy driven by real clients: FreeRDP's `xfreerdp /auth-only` (under Xvfb,
//! which it needs even when it draws nothing) and nmap's RDP scripts. A wrong password
//! fails Network Level Authentication as it does against Windows; the cookie and the
//! NTLM fields are stored; a planted Windows account raises a critical hit naming
//! where it was planted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{bodies, cli, config, eventually, Honeyward};

const DECOY: &str =
    "  - name: rdp\n    type: rdp\n    listen: 127.0.0.1:0\n    netbios_name: RAD-WS-014\n    netbios_domain: NHSTRUST\n    dns_domain: nhstrust.local\n";

fn xfreerdp(addr: SocketAddr, domain: &str, user: &str, password: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("xvfb-run")
        .args([
            "-a",
            "xfreerdp",
            &format!("/v:{addr}"),
            &format!("/u:{user}"),
            &format!("/p:{password}"),
            &format!("/d:{domain}"),
            "/auth-only",
            "/cert:ignore",
        ])
        .env("HOME", home.path())
        .output()
        .expect("xvfb-run (xvfb) and xfreerdp (freerdp2-x11)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smb").join(script);
    let out = Command::new("python3").arg(path).args(args).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn nmap_sees_a_windows_host_that_requires_nla_with_the_configured_names() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let port = hw.addr("rdp").port().to_string();
    let out = Command::new("nmap").args(["-Pn", "-n", "-sV", "-p", &port, "--script", "rdp-ntlm-info,rdp-enum-encryption", "127.0.0.1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "open  ms-wbt-server Microsoft Terminal Services",
        "|   Target_Name: NHSTRUST",
        "|   NetBIOS_Domain_Name: NHSTRUST",
        "|   NetBIOS_Computer_Name: RAD-WS-014",
        "|   DNS_Domain_Name: nhstrust.local",
        "|   DNS_Computer_Name: RAD-WS-014.nhstrust.local",
        "|   DNS_Tree_Name: nhstrust.local",
        "|   Product_Version: 10.0.19045",
        "|     CredSSP (NLA): SUCCESS",
        "|     CredSSP with Early User Auth: SUCCESS",
        "|_    RDSTLS: SUCCESS",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(!text.contains("Native RDP"), "standard RDP security is refused:\n{text}");
    let negotiations = bodies(&hw.store(), "rdp_negotiate");
    assert!(negotiations.iter().any(|e| e["details"]["mstshash"]["text"] == "nmap" && e["details"]["refused"] == "hybrid_required_by_server"));
}

#[test]
fn the_certificate_is_a_windows_style_self_signed_one_for_the_hosts_fqdn_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(DECOY);
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let addr = hw.addr("rdp");
    let first = python("rdp_certificate.py", &[&addr.ip().to_string(), &addr.port().to_string()]);
    for line in [
        "subject CN=RAD-WS-014.nhstrust.local",
        "issuer CN=RAD-WS-014.nhstrust.local",
        "days 183",
        "key 2048",
        "serial_bytes 16",
        "eku 1.3.6.1.5.5.7.3.1",
        "extensions 2",
    ] {
        assert!(first.lines().any(|l| l == line), "{line:?} in:\n{first}");
    }
    hw.stop();
    let hw = Honeyward::start(dir.path(), &yaml);
    let addr = hw.addr("rdp");
    let second = python("rdp_certificate.py", &[&addr.ip().to_string(), &addr.port().to_string()]);
    let fingerprint = |s: &str| s.lines().find(|l| l.starts_with("fingerprint")).unwrap().to_string();
    assert_eq!(fingerprint(&first), fingerprint(&second), "the same certificate after a restart");
}

#[test]
fn xfreerdp_with_a_wrong_password_fails_nla_as_against_windows_and_the_cookie_and_ntlm_fields_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let out = xfreerdp(hw.addr("rdp"), "NHSTRUST", "alice", "Summer2026!");
    assert!(out.contains("ERRCONNECT_LOGON_FAILURE"), "{out}");
    let db = hw.store();
    assert!(eventually(10, || !bodies(&db, "ntlm_auth").is_empty()));
    let negotiate = &bodies(&db, "rdp_negotiate")[0]["details"];
    assert_eq!(negotiate["mstshash"]["text"], "alice");
    assert!(negotiate["selected"].as_str().unwrap().starts_with("hybrid"), "{negotiate}");
    let login = &bodies(&db, "ntlm_auth")[0]["details"];
    assert_eq!(
        (login["protocol"].as_str(), login["username"]["text"].as_str(), login["domain"]["text"].as_str()),
        (Some("rdp"), Some("alice"), Some("NHSTRUST"))
    );
    assert_eq!(login["status"], "STATUS_LOGON_FAILURE");
    assert!(login["target"]["text"].as_str().unwrap().starts_with("TERMSRV/"), "{login}");
    let line = login["hashcat"]["text"].as_str().unwrap();
    assert_eq!(python("ntlmv2_check.py", &[line, "Summer2026!"]).trim(), "match");
}

#[test]
fn a_planted_windows_password_used_with_xfreerdp_raises_a_critical_hit_naming_its_plant() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(DECOY);
    std::fs::write(dir.path().join("honeyward.yaml"), &yaml).unwrap();
    let id = common::plant_windows_password(dir.path(), "saved RDP connection on ws14", "svc_ris", "Kranzair-Tairus-Trenkro64?", "rdp_file", "ws14/pacs.rdp");
    let hw = Honeyward::start(dir.path(), &yaml);
    let out = xfreerdp(hw.addr("rdp"), "NHSTRUST", "svc_ris", "Kranzair-Tairus-Trenkro64?");
    assert!(out.contains("ERRCONNECT_LOGON_FAILURE"), "{out}");
    assert!(eventually(10, || !bodies(&hw.store(), "ntlm_auth").is_empty()));
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "ntlm_auth"]);
    let hit: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(hit["severity"], "critical");
    assert_eq!(hit["token"]["id"], id.as_str());
    assert!(hit["token"]["plants"][0]["path"].as_str().unwrap().ends_with("ws14/pacs.rdp"));
    assert!(hit["details"].get("hashcat").is_none());
}
