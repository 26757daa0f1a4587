//! Reading the personality a decoy's configuration names: a built-in by name or a YAML
//! file, parsed by the decoy that wears it (the personality's types are the decoy's).
//! A mistake is reported at the line of the configuration that named it.

use std::path::Path;
use std::sync::Arc;

use super::error::PersonalityError;
use super::{dicom, http, rdp, smb, ssh};
use crate::config::{ConfigError, DicomDecoyConfig, HttpDecoyConfig, PersonalityChoice, RdpDecoyConfig, SmbDecoyConfig, SshDecoyConfig};

/// The SSH decoy's personality, with the decoy's `failure_delay_ms` override applied.
/// Blocking (it may read files).
pub fn ssh(c: &SshDecoyConfig) -> Result<Arc<ssh::SshPersonality>, ConfigError> {
    let mut p = load(&c.personality, "SSH", ssh::BUILT_IN_PERSONALITIES, |yaml, _| ssh::SshPersonality::parse(yaml))?;
    if let Some(ms) = c.failure_delay_ms {
        // The decoy's override: one fixed delay for every counted failure.
        p.failure_delay = ssh::delay::FailureDelay::Fixed { ms };
    }
    Ok(Arc::new(p))
}

/// The HTTP decoy's personality. Blocking (it may read files).
pub fn http(c: &HttpDecoyConfig) -> Result<Arc<http::HttpPersonality>, ConfigError> {
    load(&c.personality, "HTTP", http::BUILT_IN_PERSONALITIES, http::HttpPersonality::parse_at).map(Arc::new)
}

/// The DICOM decoy's personality. Blocking (it may read files).
pub fn dicom(c: &DicomDecoyConfig) -> Result<Arc<dicom::DicomPersonality>, ConfigError> {
    load(&c.personality, "DICOM", dicom::BUILT_IN_PERSONALITIES, |yaml, _| dicom::DicomPersonality::parse(yaml)).map(Arc::new)
}

/// The SMB decoy's personality. Blocking (it may read files).
pub fn smb(c: &SmbDecoyConfig) -> Result<Arc<smb::SmbPersonality>, ConfigError> {
    load(&c.personality, "SMB", smb::BUILT_IN_PERSONALITIES, |yaml, _| smb::SmbPersonality::parse(yaml)).map(Arc::new)
}

/// The RDP decoy's personality. Blocking (it may read files).
pub fn rdp(c: &RdpDecoyConfig) -> Result<Arc<rdp::RdpPersonality>, ConfigError> {
    load(&c.personality, "RDP", rdp::BUILT_IN_PERSONALITIES, |yaml, _| rdp::RdpPersonality::parse(yaml)).map(Arc::new)
}

/// A built-in by name, or the file at the path (relative to the working directory).
fn load<T>(
    choice: &PersonalityChoice,
    what: &'static str,
    built_in: &[(&str, &str)],
    parse: fn(&str, Option<&Path>) -> Result<T, PersonalityError>,
) -> Result<T, ConfigError> {
    let loaded = match built_in.iter().find(|(n, _)| *n == choice.name) {
        Some((_, yaml)) => parse(yaml, None),
        None if choice.is_path() => {
            let path = Path::new(&choice.name);
            std::fs::read_to_string(path)
                .map_err(|cause| PersonalityError::Unreadable { path: path.to_path_buf(), cause })
                .and_then(|t| parse(&t, path.parent()))
        }
        None => Err(PersonalityError::Unknown { kind: what, name: choice.name.clone() }),
    };
    loaded.map_err(|e| {
        let names: Vec<&str> = built_in.iter().map(|(n, _)| *n).collect();
        choice.error(format!("{what} personality: {e}"), format!("built-in personalities: {}; or the path of a YAML file", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh_decoy(personality: &str) -> SshDecoyConfig {
        let yaml = format!("decoys:\n  - name: s\n    type: ssh\n    listen: 127.0.0.1:0\n    personality: {personality}\n");
        let config = crate::config::parse_str("test.yaml", &yaml).expect("valid configuration");
        match config.decoys.into_iter().next() {
            Some(crate::config::DecoyConfig::Ssh(c)) => c,
            other => panic!("one SSH decoy: {other:?}"),
        }
    }

    #[test]
    fn a_built_in_personality_is_read_by_name() {
        assert!(matches!(ssh(&ssh_decoy("dropbear-debian12")), Ok(p) if p.name == "dropbear-debian12"));
    }

    #[test]
    fn an_unknown_personality_is_reported_at_its_line_with_the_built_ins() {
        let e = ssh(&ssh_decoy("openssh-plan9")).expect_err("no such personality");
        let text = e.to_string();
        assert!(text.starts_with("test.yaml:5:18: SSH personality: no built-in SSH personality `openssh-plan9`"), "{text}");
        assert!(text.contains("openssh-debian12"), "{text}");
    }

    #[test]
    fn a_missing_personality_file_is_reported_at_its_line() {
        let e = ssh(&ssh_decoy("/nonexistent/sshd.yaml")).expect_err("no such file");
        assert!(e.to_string().starts_with("test.yaml:5:18: SSH personality: cannot read /nonexistent/sshd.yaml"), "{e}");
    }
}
