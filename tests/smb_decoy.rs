//! The SMB decoy driven by real clients: Samba's smbclient and impacket (what
//! ransomware operators' tooling is built on). Every login is stored with its NTLM
//! fields; the NTLMv2 response is checked by an independent Python implementation; a
//! planted Windows account raises a critical hit naming where it was planted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{bodies, cli, config, eventually, Honeyward};

fn smb_decoy(personality: &str) -> String {
    format!("  - name: fileserv\n    type: smb\n    listen: 127.0.0.1:0\n    personality: {personality}\n    netbios_name: PACS-FS01\n    netbios_domain: NHSTRUST\n    dns_domain: nhstrust.local\n")
}

fn smbclient(addr: SocketAddr, user: &str) -> (String, i32) {
    let out = Command::new("smbclient")
        .args(["-L", &format!("//{}", addr.ip()), "-p", &addr.port().to_string(), "-U", user])
        .env("HOME", "/nonexistent")
        .output()
        .expect("smbclient (Debian's smbclient package)");
    (format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)), out.status.code().unwrap_or(-1))
}

fn python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smb").join(script);
    let out = Command::new("python3").arg(path).args(args).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn impacket_login(addr: SocketAddr, domain: &str, user: &str, password: &str) -> String {
    python("impacket_login.py", &[&addr.ip().to_string(), &addr.port().to_string(), domain, user, password])
}

/// The stored ntlm_auth events, once `n` are there.
fn logins(hw: &Honeyward, n: usize) -> Vec<serde_json::Value> {
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "ntlm_auth").len() >= n), "{n} logins stored");
    bodies(&db, "ntlm_auth")
}

#[test]
fn smbclient_with_a_wrong_password_is_refused_and_its_ntlmv2_response_checks_out_for_that_password() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&smb_decoy("windows-server-2019-file")));
    let (out, code) = smbclient(hw.addr("fileserv"), "TRUST\\alice%Winter2026!");
    assert!(out.contains("NT_STATUS_LOGON_FAILURE"), "{out}");
    assert_ne!(code, 0);
    let login = logins(&hw, 1).remove(0);
    let d = &login["details"];
    assert_eq!((d["username"]["text"].as_str(), d["domain"]["text"].as_str()), (Some("alice"), Some("TRUST")));
    assert_eq!((d["protocol"].as_str(), d["ntlm"].as_str(), d["accepted"].as_bool()), (Some("smb"), Some("v2"), Some(false)));
    assert_eq!(d["status"], "STATUS_LOGON_FAILURE");
    assert!(d["target"]["text"].as_str().unwrap().starts_with("cifs/"), "{d}");
    let line = d["hashcat"]["text"].as_str().unwrap();
    assert!(line.starts_with("alice::TRUST:"), "{line}");
    assert_eq!(python("ntlmv2_check.py", &[line, "Winter2026!"]).trim(), "match");
    assert_eq!(python("ntlmv2_check.py", &[line, "Winter2026?"]).trim(), "no match");
    let negotiate = &bodies(&hw.store(), "smb_negotiate")[0]["details"];
    assert_eq!(negotiate["chosen"], "3.1.1");
    assert!(login.get("token").is_none());
}

#[test]
fn impacket_sees_the_configured_windows_host_and_its_failed_login_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&smb_decoy("windows-server-2022-file")));
    let out = impacket_login(hw.addr("fileserv"), "NHSTRUST", "administrator", "P@ssw0rd");
    assert!(out.contains("error STATUS_LOGON_FAILURE"), "{out}");
    assert!(out.contains("server PACS-FS01 NHSTRUST nhstrust.local Windows Server 2022 Build 20348"), "{out}");
    let d = &logins(&hw, 1)[0]["details"];
    assert_eq!((d["username"]["text"].as_str(), d["domain"]["text"].as_str()), (Some("administrator"), Some("NHSTRUST")));
    let line = d["hashcat"]["text"].as_str().unwrap();
    assert_eq!(python("ntlmv2_check.py", &[line, "P@ssw0rd"]).trim(), "match");
}

#[test]
fn a_planted_windows_password_used_with_smbclient_and_impacket_raises_a_critical_hit_naming_its_plant() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&smb_decoy("windows-server-2019-file"));
    std::fs::write(dir.path().join("honeyward.yaml"), &yaml).unwrap();
    let id = common::plant_windows_password(dir.path(), "export job on ws12", "svc_pacs", "Trevolka-Mistan-Baiper47!", "net_use_bat", "ws12/export.bat");
    let planted = std::fs::read_to_string(dir.path().join("ws12/export.bat")).unwrap();
    assert!(planted.contains("/user:NHSTRUST\\svc_pacs"), "{planted}");
    let hw = Honeyward::start(dir.path(), &yaml);
    let addr = hw.addr("fileserv");
    let (out, _) = smbclient(addr, "NHSTRUST\\svc_pacs%Trevolka-Mistan-Baiper47!");
    assert!(out.contains("NT_STATUS_LOGON_FAILURE"), "the decoy still refuses: {out}");
    // impacket upper-cases nothing: the account is found whatever its case.
    let out = impacket_login(addr, "nhstrust", "SVC_PACS", "Trevolka-Mistan-Baiper47!");
    assert!(out.contains("STATUS_LOGON_FAILURE"), "{out}");
    // A wrong password for the planted account is a guess, not a hit.
    impacket_login(addr, "NHSTRUST", "svc_pacs", "Trevolka-Mistan-Baiper48!");
    logins(&hw, 3);
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "ntlm_auth"]);
    let all: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hits: Vec<_> = all.iter().filter(|e| e.get("token").is_some()).collect();
    assert_eq!(hits.len(), 2, "{all:#?}");
    for hit in hits {
        assert_eq!(hit["severity"], "critical");
        assert_eq!(hit["attack"]["id"], "T1078");
        assert_eq!(hit["token"]["id"], id.as_str());
        assert_eq!(hit["token"]["kind"], "windows-password");
        assert!(hit["token"]["plants"][0]["path"].as_str().unwrap().ends_with("ws12/export.bat"));
        assert!(hit["details"].get("hashcat").is_none(), "a planted account's response is not kept");
    }
    let guess = all.iter().find(|e| e.get("token").is_none()).unwrap();
    assert_eq!(guess["details"]["username"]["text"], "svc_pacs");
    assert!(guess["details"]["hashcat"]["text"].is_string());
}

#[test]
fn nmap_sees_windows_server_2019_and_2022_file_servers_with_smb1_removed_and_signing_not_required() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = "  - name: fs2019\n    type: smb\n    listen: 127.0.0.4:445\n    personality: windows-server-2019-file\n    netbios_name: PACS-FS01\n  - name: fs2022\n    type: smb\n    listen: 127.0.0.5:445\n    personality: windows-server-2022-file\n    netbios_name: PACS-FS02\n";
    let _hw = Honeyward::start(dir.path(), &config(decoys));
    let scan = |ip: &'static str| {
        std::thread::spawn(move || {
            let out = Command::new("nmap")
                .args(["-Pn", "-n", "-sV", "-p", "445", "--script", "smb-protocols,smb2-security-mode,smb-os-discovery,smb-vuln-ms17-010", ip])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
    };
    // Version detection takes half a minute: both at once.
    let scans = [scan("127.0.0.4"), scan("127.0.0.5")];
    for text in scans.map(|s| s.join().unwrap()) {
        // As nmap 7.93 sees a Windows Server 2019 or 2022 without SMB1: the port's
        // service guessed (no SMB1 answer to its probe), every SMB2/3 dialect, signing
        // enabled and not required, and nothing from the SMB1-only scripts.
        assert!(text.contains("445/tcp open  microsoft-ds?"), "{text}");
        assert!(text.contains("|     202\n|     210\n|     300\n|     302\n|_    311"), "{text}");
        assert!(text.contains("|   311: \n|_    Message signing enabled but not required"), "{text}");
        assert!(!text.contains("smb-os-discovery") && !text.contains("VULNERABLE"), "{text}");
    }
}
