//! Files honeyward generates once and keeps in the state directory (SSH host keys, TLS
//! certificates, credentials, the token key): created exclusively or replaced
//! atomically, with the mode asked for, synced to disk.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A state file or directory that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {cause}", path.display())]
pub struct StateFileError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> StateFileError + '_ {
    move |cause| StateFileError { path: path.to_path_buf(), cause }
}

/// Creates `dir` (mode 0700) if needed, and every missing directory above it with
/// the same mode (the state directory itself is often created here, as a parent).
pub fn private_dir(dir: &Path) -> Result<(), StateFileError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(at(dir))?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    Ok(())
}

/// Writes a new file (never overwriting one) with `mode`.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateFileError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(at(path))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(at(path))
}

/// Replaces a file atomically (written beside it, synced, renamed over it) with `mode`.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dir(dir)?;
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, bytes, mode)?;
    std::fs::rename(&tmp, path).map_err(at(path))
}
