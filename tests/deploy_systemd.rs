//! The rendered systemd unit passes `systemd-analyze verify` and is rated at most 2.0
//! ("OK") by `systemd-analyze security`, offline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;

use common::*;

#[test]
fn the_rendered_unit_verifies_and_scores_at_most_2_in_systemd_analyze_security() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        panic!("systemd-analyze must be installed: scripts/test.sh installs systemd");
    }
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hospital.yaml");
    let unit = cli(dir.path(), &["deploy", "systemd", "-c", example, "--binary", BIN]);
    assert!(unit.contains(&format!("ExecStart={BIN} run -c /etc/honeyward/honeyward.yaml")));
    // The kernel's limit sits a quarter above the decoys' own budget (max_memory_mb: 384).
    assert!(unit.contains("\nMemoryMax=480M\n"), "{unit}");
    let path = dir.path().join("honeyward.service");
    std::fs::write(&path, &unit).unwrap();
    let verify = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    let security = Command::new("systemd-analyze").args(["security", "--offline=true"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&security.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for honeyward.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in {text}"));
    eprintln!("systemd-analyze security: {score}");
    assert!(score <= 2.0, "exposure {score}: {text}");
    // The committed example is what this renders with the default binary path.
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/systemd/honeyward.service")).unwrap();
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&shipped.replace("/usr/local/bin/honeyward", BIN)), body(&unit), "deploy/systemd/honeyward.service is current");
}
