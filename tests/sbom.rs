//! The SBOMs written by scripts/sbom.sh (cargo-cyclonedx and cargo-sbom) pass their
//! standards' own validators and list every crate of Cargo.lock that a build can link,
//! once, with its package URL and the SHA-256 Cargo.lock pins; the only crates left out
//! are those only tests and benchmarks link.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// (name, version) → checksum of every registry crate in Cargo.lock.
fn locked() -> BTreeMap<(String, String), String> {
    let lock = std::fs::read_to_string(format!("{ROOT}/Cargo.lock")).unwrap();
    let mut crates = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| block.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).map(|v| v.trim_end_matches('"').to_owned());
        if let (Some(name), Some(version), Some(sum)) = (field("name"), field("version"), field("checksum")) {
            crates.insert((name, version), sum);
        }
    }
    crates
}

/// Crates a build (not a test) can link, on any target: `cargo tree -e normal,build`.
fn linkable() -> BTreeSet<(String, String)> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "-e", "normal,build", "--target", "all", "--prefix", "none", "-f", "{p}"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.strip_prefix('v')?.to_owned()))
        })
        .collect()
}

#[test]
fn both_sboms_validate_and_list_every_linkable_locked_crate_once_with_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(format!("{ROOT}/scripts/sbom.sh")).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cdx_path = dir.path().join("honeyward.cdx.json");
    let spdx_path = dir.path().join("honeyward.spdx.json");

    // The standards' own validators: the CycloneDX 1.5 JSON schema (cyclonedx-python-lib)
    // and the SPDX project's pyspdxtools.
    let check = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\n\
                 e = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nsys.exit(str(e) if e else 0)";
    let cdx_valid = Command::new("python3").arg("-c").arg(check).arg(&cdx_path).output().unwrap();
    assert!(cdx_valid.status.success(), "CycloneDX: {}", String::from_utf8_lossy(&cdx_valid.stderr));
    let spdx_valid = Command::new("pyspdxtools").arg("-i").arg(&spdx_path).output().expect("pyspdxtools (scripts/test.sh installs spdx-tools)");
    assert!(spdx_valid.status.success(), "SPDX: {}{}", String::from_utf8_lossy(&spdx_valid.stdout), String::from_utf8_lossy(&spdx_valid.stderr));

    let lock = locked();
    let linkable = linkable();
    let cdx: serde_json::Value = serde_json::from_slice(&std::fs::read(&cdx_path).unwrap()).unwrap();
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["metadata"]["component"]["name"], "honeyward");
    let mut from_cdx = BTreeMap::new();
    for c in cdx["components"].as_array().unwrap() {
        let key = (c["name"].as_str().unwrap().to_owned(), c["version"].as_str().unwrap().to_owned());
        assert_eq!(c["purl"], format!("pkg:cargo/{}@{}", key.0, key.1));
        let hash = c["hashes"].as_array().unwrap().iter().find(|h| h["alg"] == "SHA-256").unwrap()["content"].as_str().unwrap().to_owned();
        assert!(from_cdx.insert(key, hash).is_none(), "listed once");
    }
    let spdx: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx_path).unwrap()).unwrap();
    let mut from_spdx = BTreeMap::new();
    for p in spdx["packages"].as_array().unwrap().iter().filter(|p| p["name"] != "honeyward") {
        let key = (p["name"].as_str().unwrap().to_owned(), p["versionInfo"].as_str().unwrap().to_owned());
        let hash = p["checksums"].as_array().unwrap().iter().find(|h| h["algorithm"] == "SHA256").unwrap()["checksumValue"].as_str().unwrap().to_owned();
        assert!(from_spdx.insert(key, hash).is_none(), "listed once");
    }
    assert_eq!(from_cdx, from_spdx, "both SBOMs list the same crates with the same checksums");

    for (key, sum) in &lock {
        match from_cdx.get(key) {
            Some(listed) => assert_eq!(listed, sum, "{key:?}: the checksum Cargo.lock pins"),
            None => assert!(!linkable.contains(key), "{key:?} can be linked into honeyward but is not in the SBOM"),
        }
    }
    for key in from_cdx.keys() {
        assert!(lock.contains_key(key), "{key:?} is not in Cargo.lock");
    }
    let ring = &from_cdx[&("ring".to_owned(), lock.keys().find(|(n, _)| n == "ring").unwrap().1.clone())];
    assert_eq!(ring.len(), 64);
    assert!(from_cdx.keys().any(|(n, _)| n == "openssl-src"), "the OpenSSL built into the binary is listed");
    let left_out = lock.len() - from_cdx.len();
    eprintln!("{} of {} locked crates listed; {left_out} only tests and benchmarks link", from_cdx.len(), lock.len());
}
