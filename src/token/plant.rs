//! Writing a planted file: never over an existing file unless forced, with tight
//! permissions, and by rename so that a canary watcher never sees honeyward open it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::TokenError;

/// Writes `bytes` to `path` with `mode`. Parent directories are created (0700).
pub fn write_planted(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), TokenError> {
    let io = |what: &str, e: std::io::Error| TokenError::Io(format!("{what} {}: {e}", path.display()));
    if path.symlink_metadata().is_ok() && !force {
        return Err(TokenError::Exists(path.display().to_string()));
    }
    let name = path.file_name().ok_or_else(|| TokenError::Invalid(format!("{} is not a file path", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| io("cannot create the directory of", e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| io("cannot set permissions on the directory of", e))?;
    }
    let tmp = dir.join(format!(".{}.honeyward-{:08x}", name.to_string_lossy(), rand::random::<u32>()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("cannot write", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/.pgpass");
        write_planted(&p, b"a", 0o600, false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(matches!(write_planted(&p, b"b", 0o600, false), Err(TokenError::Exists(_))));
        write_planted(&p, b"b", 0o600, true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"b");
        assert_eq!(std::fs::read_dir(dir.path().join("sub")).unwrap().count(), 1, "no temp file left behind");
    }
}
