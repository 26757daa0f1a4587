//! Build facts for `honeyward version --json`: the commit, target, rustc and enabled
//! features, fixed at build time. Nothing here depends on the clock or the build
//! directory, so two builds of one commit stay byte-identical (REPRODUCIBLE.md).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=HONEYWARD_COMMIT");
    let commit = std::env::var("HONEYWARD_COMMIT").ok().filter(|c| !c.is_empty()).or_else(git_commit).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HONEYWARD_COMMIT={commit}");
    // The commit's own date (not the clock's): manual pages carry it.
    println!("cargo:rerun-if-env-changed=HONEYWARD_COMMIT_DATE");
    let date = std::env::var("HONEYWARD_COMMIT_DATE")
        .ok()
        .filter(|d| !d.is_empty())
        .or_else(|| git(&["log", "-1", "--format=%cs", &commit]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HONEYWARD_COMMIT_DATE={date}");

    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=HONEYWARD_TARGET={target}");
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!("cargo:rustc-env=HONEYWARD_PROFILE={profile}");

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version =
        Command::new(rustc).arg("--version").output().ok().and_then(|o| String::from_utf8(o.stdout).ok()).map(|v| v.trim().to_owned()).unwrap_or_default();
    println!("cargo:rustc-env=HONEYWARD_RUSTC={rustc_version}");

    let mut features: Vec<String> =
        std::env::vars().filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(|f| f.to_ascii_lowercase().replace('_', "-"))).collect();
    features.sort();
    println!("cargo:rustc-env=HONEYWARD_FEATURES={}", features.join(","));
}

/// The checked-out commit, when the source is a git work tree; its HEAD and refs are
/// watched so a new commit rebuilds the facts.
fn git_commit() -> Option<String> {
    let head = git(&["rev-parse", "--git-path", "HEAD"])?;
    if Path::new(&head).exists() {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &reference]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
        if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
            if Path::new(&packed).exists() {
                println!("cargo:rerun-if-changed={packed}");
            }
        }
    }
    git(&["rev-parse", "HEAD"])
}

/// One line of git's answer, or nothing when git or the repository is missing.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
