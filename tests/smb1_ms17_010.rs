//! The `windows-7-modality` SMB personality, which still speaks SMB1 as the Windows 7
//! workstations behind many imaging modalities do, seen by nmap (on port 445 of a
//! loopback address of its own: nmap's SMB scripts only look at 445 and 139), and
//! taken through the shapes of the MS17-010 exploitation steps: the check is answered
//! as an unpatched host answers it and recorded as T1210, EternalBlue's oversized
//! transaction is recorded and its payload quarantined by hash, DoublePulsar's ping is
//! answered as a clean host answers it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{cli, config, eventually, Honeyward};

const DECOY: &str = "  - name: ct\n    type: smb\n    listen: 127.0.0.3:445\n    personality: windows-7-modality\n    netbios_name: CT-CONSOLE-01\n    netbios_domain: NHSTRUST\n    dns_domain: nhstrust.local\n";

fn exploits(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let json = cli(dir, &["events", "list", "--json", "--kind", "smb_exploit"]);
    json.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn nmap_sees_an_unpatched_windows_7_with_smb1_and_its_ms17_010_check_is_recorded_as_t1210_and_the_exploit_steps_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let addr = hw.addr("ct");
    let out = Command::new("nmap")
        .args(["-Pn", "-n", "-sV", "-p", "445", "--script", "smb-protocols,smb-os-discovery,smb-vuln-ms17-010,smb-security-mode", &addr.ip().to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "445/tcp open  microsoft-ds Windows 7 Professional 7601 Service Pack 1 microsoft-ds (workgroup: NHSTRUST)",
        "NT LM 0.12 (SMBv1) [dangerous, but default]",
        "|   OS: Windows 7 Professional 7601 Service Pack 1 (Windows 7 Professional 6.1)",
        "|   Computer name: CT-CONSOLE-01",
        "|   FQDN: CT-CONSOLE-01.nhstrust.local",
        "|     State: VULNERABLE",
        "|_  message_signing: disabled (dangerous, but default)",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(eventually(10, || !exploits(dir.path()).is_empty()));
    let check = &exploits(dir.path())[0];
    assert_eq!(check["details"]["stage"], "ms17-010-check");
    assert_eq!(check["attack"]["id"], "T1210");
    assert_eq!(check["severity"], "high");

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smb/ms17_010_shapes.py");
    let out = Command::new("python3").args([script, &addr.ip().to_string(), &addr.port().to_string()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let sha = text.lines().find_map(|l| l.strip_prefix("sha256 ")).unwrap().to_string();
    assert!(text.contains("ping 0xc0000002 0x41"), "a clean host's answer to the ping, MID unchanged: {text}");
    assert!(eventually(10, || exploits(dir.path()).len() >= 3));
    let all = exploits(dir.path());
    let blue = all.iter().find(|e| e["details"]["stage"] == "eternalblue").unwrap();
    assert_eq!(blue["details"]["bytes"], 0x10fe8);
    assert_eq!(blue["details"]["sha256"], sha.as_str());
    assert_eq!(blue["details"]["quarantined"], true);
    let kept = dir.path().join(format!("honeyward-state/smb/ct/quarantine/{sha}.bin"));
    assert_eq!(std::fs::metadata(&kept).map(|m| m.len()).ok(), Some(0x10fe8), "{}", kept.display());
    assert!(all.iter().any(|e| e["details"]["stage"] == "doublepulsar-ping"));
}
