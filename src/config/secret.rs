//! Secrets in the configuration (SIEM tokens, API keys, webhook URLs): read from an
//! environment variable or a file, never written in the YAML itself, never printed.

use std::fmt;
use std::sync::Arc;

/// Why a secret could not be read (the message never contains the value).
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is empty")]
    EmptyVariable(String),
    #[error("environment variable {0} is not set")]
    UnsetVariable(String),
    #[error("cannot read secret file {}: {cause}", path.display())]
    Unreadable { path: std::path::PathBuf, cause: std::io::Error },
    #[error("secret file {} is empty", .0.display())]
    EmptyFile(std::path::PathBuf),
}

/// A secret value. `Debug` and `Display` show only where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: Arc<str>,
    origin: Arc<str>,
}

impl Secret {
    /// Reads the variable `name`.
    pub fn from_env(name: &str) -> Result<Secret, SecretError> {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret { value: Arc::from(v.trim()), origin: Arc::from(format!("${name}")) }),
            Ok(_) => Err(SecretError::EmptyVariable(name.to_string())),
            Err(_) => Err(SecretError::UnsetVariable(name.to_string())),
        }
    }

    /// Reads the file at `path` (surrounding whitespace and the final newline dropped).
    pub fn from_file(path: &std::path::Path) -> Result<Secret, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|cause| SecretError::Unreadable { path: path.to_path_buf(), cause })?;
        if text.trim().is_empty() {
            return Err(SecretError::EmptyFile(path.to_path_buf()));
        }
        Ok(Secret { value: Arc::from(text.trim()), origin: Arc::from(path.display().to_string()) })
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it came from (`$VAR` or a path), safe to print.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(from {})", self.origin)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<secret from {}>", self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_its_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hec-token");
        std::fs::write(&path, "11111111-2222-3333-4444-555555555555\n").unwrap();
        let s = Secret::from_file(&path).unwrap();
        assert_eq!(s.expose(), "11111111-2222-3333-4444-555555555555");
        for shown in [format!("{s}"), format!("{s:?}")] {
            assert!(!shown.contains("1111"), "{shown}");
        }
        assert!(Secret::from_env("HONEYWARD_SURELY_UNSET_VARIABLE").unwrap_err().to_string().contains("not set"));
    }
}
