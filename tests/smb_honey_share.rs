//! A planted Windows credential let into the SMB decoy's honey shares (`accept:
//! tokens`), driven by real clients: Samba's smbclient over SMB 2.1 (HMAC-SHA256
//! signing), 3.0 (AES-CMAC) and 3.1.1 (AES-CMAC, and AES-GMAC with the 2022
//! personality), and impacket. Each lists the share, downloads a honey file whose
//! bytes must arrive whole, and is refused an upload; every step is stored as
//! `smb_file`, and reading a honey patient's image is a hit on its patient token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{bodies, cli, config, eventually, Honeyward};

const PASSWORD: &str = "Trevolka-Mistan-Baiper47!";
const WAITING_LIST: &str = "nhs_number,clinic,date\n9990000018,MRI head,2026-12-14\n";

fn smb_decoy(personality: &str) -> String {
    format!(
        "  - name: fileserv\n    type: smb\n    listen: 127.0.0.1:0\n    personality: {personality}\n    netbios_name: PACS-FS01\n    netbios_domain: NHSTRUST\n    accept: tokens\n    shares:\n      - name: Radiology\n        patients: true\n        files:\n          - path: Reports/waiting-list.csv\n            text: {WAITING_LIST:?}\n"
    )
}

/// smbclient on share `share` with `commands`, at protocol `max` (e.g. SMB3_11).
fn smbclient(addr: SocketAddr, share: &str, user: &str, max: &str, commands: &str, cwd: &Path, extra: &[&str]) -> String {
    let out = Command::new("smbclient")
        .args([&format!("//{}/{share}", addr.ip()), "-p", &addr.port().to_string(), "-U", user, "-m", max, "-c", commands])
        .args(extra)
        .current_dir(cwd)
        .env("HOME", "/nonexistent")
        .output()
        .expect("smbclient (Debian's smbclient package)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A honeyward with one SMB decoy, a planted Windows account and a patient token; the
/// patient's NHS number.
fn start(dir: &Path, personality: &str) -> (Honeyward, String) {
    let yaml = config(&smb_decoy(personality));
    std::fs::write(dir.join("honeyward.yaml"), &yaml).unwrap();
    common::plant_windows_password(dir, "export job on ws12", "svc_pacs", PASSWORD, "net_use_bat", "ws12/export.bat");
    cli(dir, &["token", "create", "patient", "--label", "honey patient on the file server", "--out", "patient.json", "-c", "honeyward.yaml"]);
    let tokens = cli(dir, &["token", "list", "--json", "-c", "honeyward.yaml"]);
    let nhs = tokens.split("\"nhs_number\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (Honeyward::start(dir, &yaml), nhs)
}

/// The stored `smb_file` events as `events list --json` shows them, once `at_least`
/// are there.
fn file_events(hw: &Honeyward, dir: &Path, at_least: usize) -> Vec<serde_json::Value> {
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "smb_file").len() >= at_least), "{at_least} smb_file events, got {:#?}", bodies(&db, "smb_file"));
    let json = cli(dir, &["events", "list", "--json", "--kind", "smb_file", "-c", "honeyward.yaml"]);
    json.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn detail<'a>(e: &'a serde_json::Value, key: &str) -> &'a str {
    let v = &e["details"][key];
    v["text"].as_str().or(v.as_str()).unwrap_or("")
}

#[test]
fn smbclient_with_a_planted_password_lists_the_honey_share_downloads_its_files_and_is_refused_an_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, nhs) = start(dir.path(), "windows-server-2019-file");
    let addr = hw.addr("fileserv");
    let user = format!("NHSTRUST\\svc_pacs%{PASSWORD}");
    std::fs::write(dir.path().join("dropped.txt"), "pwned").unwrap();
    let out = smbclient(
        addr,
        "Radiology",
        &user,
        "SMB3_11",
        "prompt off; ls; cd Reports; ls; get waiting-list.csv got.csv; put dropped.txt; cd ..\\Patients; ls; mget *.dcm",
        dir.path(),
        &[],
    );
    assert!(out.contains("Reports") && out.contains("Patients"), "{out}");
    assert!(out.contains("waiting-list.csv"), "{out}");
    assert!(out.contains("NT_STATUS_ACCESS_DENIED"), "the upload is refused: {out}");
    assert_eq!(std::fs::read_to_string(dir.path().join("got.csv")).unwrap(), WAITING_LIST, "{out}");
    let image =
        std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).find(|e| e.file_name().to_string_lossy().contains(&nhs)).expect("the patient's image");
    let image = std::fs::read(image.path()).unwrap();
    assert_eq!(&image[128..132], b"DICM", "a DICOM Part 10 file");

    let db = hw.store();
    let logins = bodies(&db, "ntlm_auth");
    assert_eq!(logins[0]["details"]["accepted"], true);
    assert_eq!(logins[0]["details"]["status"], "STATUS_SUCCESS");
    assert_eq!(logins[0]["token"]["kind"], "windows-password");
    let events = file_events(&hw, dir.path(), 8);
    let find = |op: &str, path: &str| events.iter().find(|e| detail(e, "operation") == op && detail(e, "path").ends_with(path));
    let tree = events.iter().find(|e| detail(e, "operation") == "tree_connect" && detail(e, "share") == "Radiology").unwrap();
    assert_eq!((detail(tree, "share"), detail(tree, "status"), detail(tree, "user")), ("Radiology", "STATUS_SUCCESS", "NHSTRUST\\svc_pacs"));
    assert_eq!(tree["attack"]["id"], "T1039");
    assert!(find("list", "Reports").is_some(), "{events:#?}");
    let read = find("read", "waiting-list.csv").unwrap();
    assert_eq!(read["details"]["bytes"], WAITING_LIST.len() as u64);
    let refused = events.iter().find(|e| detail(e, "path").contains("dropped.txt")).unwrap();
    assert_eq!(detail(refused, "status"), "STATUS_ACCESS_DENIED");
    let patient = events.iter().find(|e| detail(e, "operation") == "read" && detail(e, "path").contains(&nhs)).unwrap();
    assert_eq!(patient["token"]["kind"], "patient", "{patient:#}");
    assert_eq!(patient["severity"], "critical");
    assert_eq!(patient["details"]["bytes"], image.len() as u64);
}

#[test]
fn every_signing_and_encryption_algorithm_smbclient_speaks_checks_out_from_smb_2_1_to_3_1_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // HMAC-SHA256, AES-CMAC (3.0's keys), AES-GMAC (2022's signing context), AES-CMAC (3.1.1's keys).
        ("windows-server-2019-file", "SMB2_10", "sign"),
        ("windows-server-2019-file", "SMB3_00", "sign"),
        ("windows-server-2022-file", "SMB3_11", "sign"),
        ("samba-debian12", "SMB3_11", "sign"),
        // AES-128-CCM (3.0), AES-128-GCM (3.1.1, smbclient's first choice).
        ("windows-server-2019-file", "SMB3_00", "encrypt"),
        ("windows-server-2022-file", "SMB3_11", "encrypt"),
    ];
    for (personality, max, protection) in cases {
        let case = dir.path().join(format!("{personality}-{max}-{protection}"));
        std::fs::create_dir_all(&case).unwrap();
        let (hw, _) = start(&case, personality);
        let user = format!("NHSTRUST\\svc_pacs%{PASSWORD}");
        // Protection forced on: every request and answer after the login is signed (or encrypted).
        let protection_arg = format!("--client-protection={protection}");
        let out = smbclient(hw.addr("fileserv"), "Radiology", &user, max, "cd Reports; get waiting-list.csv got.csv", &case, &[&protection_arg]);
        assert_eq!(std::fs::read_to_string(case.join("got.csv")).unwrap_or_default(), WAITING_LIST, "{personality} {max} {protection}: {out}");
        let db = hw.store();
        assert!(eventually(10, || !bodies(&db, "smb_negotiate").is_empty()));
        let trees = file_events(&hw, &case, 1);
        let tree = trees.iter().find(|e| detail(e, "operation") == "tree_connect" && detail(e, "share") == "Radiology").unwrap();
        assert_eq!(detail(tree, "detail"), if protection == "sign" { "signed" } else { "encrypted" }, "{personality} {max}");
        let negotiated = &bodies(&db, "smb_negotiate")[0]["details"]["chosen"];
        let dialect = match max {
            "SMB2_10" => "2.1",
            "SMB3_00" => "3.0",
            _ => "3.1.1",
        };
        assert_eq!(negotiated, dialect, "{personality} {max}");
    }
}

#[test]
fn impacket_with_a_planted_password_lists_and_downloads_and_a_wrong_password_still_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = start(dir.path(), "windows-server-2022-file");
    let addr = hw.addr("fileserv");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smb/impacket_share.py");
    let args = [
        addr.ip().to_string(),
        addr.port().to_string(),
        "NHSTRUST".into(),
        "svc_pacs".into(),
        PASSWORD.into(),
        "Radiology".into(),
        "Reports".into(),
        "Reports\\waiting-list.csv".into(),
    ];
    let out = Command::new("python3").arg(&script).args(&args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("list * ../ ./ Patients/ Reports/"), "{text}");
    assert!(text.contains("list Reports\\* ../ ./ waiting-list.csv"), "{text}");
    let hex: String = WAITING_LIST.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(text.contains(&format!("file {hex}")), "{text}");
    assert!(text.contains("upload STATUS_ACCESS_DENIED"), "{text}");
    let mut wrong = args.clone();
    wrong[4] = "Trevolka-Mistan-Baiper48!".into();
    let out = Command::new("python3").arg(&script).args(&wrong).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("STATUS_LOGON_FAILURE"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(file_events(&hw, dir.path(), 4).iter().all(|e| detail(e, "user") == "NHSTRUST\\svc_pacs"));
}

#[test]
fn share_listings_show_the_honey_shares_to_a_planted_account_and_nothing_to_a_null_session() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _) = start(dir.path(), "windows-server-2019-file");
    let addr = hw.addr("fileserv");
    let out = Command::new("smbclient")
        .args(["-L", &format!("//{}", addr.ip()), "-p", &addr.port().to_string(), "-U", &format!("NHSTRUST\\svc_pacs%{PASSWORD}")])
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for line in
        ["ADMIN$          Disk      Remote Admin", "C$              Disk      Default share", "IPC$            IPC       Remote IPC", "Radiology       Disk"]
    {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smb/impacket_shares.py");
    let out = Command::new("python3").arg(&script).args([&addr.ip().to_string(), &addr.port().to_string(), "NHSTRUST", "svc_pacs", PASSWORD]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listed.trim(), "ADMIN$ C$ IPC$ Radiology", "{listed}{}", String::from_utf8_lossy(&out.stderr));
    // ADMIN$ is there but not for this account, as on Windows.
    let out = smbclient(addr, "ADMIN$", &format!("NHSTRUST\\svc_pacs%{PASSWORD}"), "SMB3_11", "ls", dir.path(), &[]);
    assert!(out.contains("NT_STATUS_ACCESS_DENIED"), "{out}");
    // A null session reaches IPC$, and Windows keeps srvsvc from it.
    let out =
        Command::new("smbclient").args(["-L", &format!("//{}", addr.ip()), "-p", &addr.port().to_string(), "-N"]).env("HOME", "/nonexistent").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Anonymous login successful") && !text.contains("Radiology") && !text.contains("IPC$"), "{text}");
    let events = file_events(&hw, dir.path(), 3);
    let listing = events.iter().find(|e| detail(e, "operation") == "list_shares").unwrap();
    assert_eq!(detail(listing, "detail"), "NetrShareEnum level 1, 4 shares");
    assert!(events.iter().any(|e| detail(e, "user") == "(null session)" && detail(e, "status") == "STATUS_ACCESS_DENIED"), "{events:#?}");
}
