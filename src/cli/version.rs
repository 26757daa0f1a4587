//! `honeyward version`: what this binary is, for inventories and bug reports.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

/// Options of `version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// One JSON object: version, commit, commit_date, target, profile, features, rustc.
    #[arg(long)]
    pub json: bool,
}

/// The facts fixed when the binary was built (build.rs).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct BuildFacts {
    pub version: &'static str,
    pub commit: &'static str,
    pub commit_date: &'static str,
    pub target: &'static str,
    pub profile: &'static str,
    pub features: Vec<&'static str>,
    pub rustc: &'static str,
}

impl BuildFacts {
    /// This binary's facts.
    pub fn current() -> Self {
        BuildFacts {
            version: env!("CARGO_PKG_VERSION"),
            commit: env!("HONEYWARD_COMMIT"),
            commit_date: env!("HONEYWARD_COMMIT_DATE"),
            target: env!("HONEYWARD_TARGET"),
            profile: env!("HONEYWARD_PROFILE"),
            features: env!("HONEYWARD_FEATURES").split(',').filter(|f| !f.is_empty()).collect(),
            rustc: env!("HONEYWARD_RUSTC"),
        }
    }
}

/// Prints the version line, or every fact as JSON.
pub fn version(args: VersionArgs) -> anyhow::Result<ExitCode> {
    let facts = BuildFacts::current();
    if args.json {
        println!("{}", serde_json::to_string(&facts)?);
    } else {
        let short = facts.commit.get(..12).unwrap_or(facts.commit);
        println!("honeyward {} ({short}, {}, {})", facts.version, facts.target, facts.rustc);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_facts_name_the_package_version_and_a_target() {
        let facts = BuildFacts::current();
        assert_eq!(facts.version, env!("CARGO_PKG_VERSION"));
        assert!(facts.target.contains("linux"), "{facts:?}");
        assert!(facts.rustc.starts_with("rustc "), "{facts:?}");
        assert!(!facts.commit.is_empty());
    }
}
