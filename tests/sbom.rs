//! The CycloneDX SBOM written by scripts/sbom.py lists every locked crate exactly once,
//! with its package URL and crates.io checksum.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

use std::process::Command;

#[test]
fn the_sbom_lists_every_locked_crate_with_its_purl_and_checksum() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3").arg(format!("{root}/scripts/sbom.py")).arg(format!("{root}/Cargo.lock")).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["metadata"]["component"]["purl"], "pkg:cargo/honeyward@0.1.0");
    let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).unwrap();
    let locked = lock.matches("[[package]]").count();
    let components = bom["components"].as_array().unwrap();
    assert_eq!(components.len() + 1, locked, "every locked crate but honeyward itself");
    let mut purls: Vec<&str> = components.iter().map(|c| c["purl"].as_str().unwrap()).collect();
    purls.sort();
    purls.dedup();
    assert_eq!(purls.len(), components.len(), "once each");
    let ring = components.iter().find(|c| c["name"] == "ring").expect("ring");
    assert_eq!(ring["hashes"][0]["alg"], "SHA-256");
    assert_eq!(ring["hashes"][0]["content"].as_str().unwrap().len(), 64);
}
