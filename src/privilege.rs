//! Least privilege: bind the decoys' ports (22, 80, 104, 443 need root or
//! CAP_NET_BIND_SERVICE), then become an unprivileged user for good. A decoy invites
//! attackers in; if one ever found a flaw, it must land in an account that owns
//! nothing but honeyward's own state.

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Why honeyward could not become the unprivileged user.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("bad {what} name {name:?}")]
    BadName { what: &'static str, name: String },
    #[error("no {what} {name:?} on this host")]
    Unknown { what: &'static str, name: String },
    #[error("{0} is root: choose an unprivileged user")]
    IsRoot(String),
    #[error("cannot hand {} to {user}: {cause}", path.display())]
    Handover { path: PathBuf, user: String, cause: std::io::Error },
    #[error("{call}: {cause}")]
    Syscall { call: String, cause: std::io::Error },
    #[error("privileges could be regained after dropping them")]
    Regainable,
}

/// Who to become after binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
}

/// Looks up `user` (and `group`, default: the user's primary group).
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn resolve(user: &str, group: Option<&str>) -> Result<Identity, PrivilegeError> {
    let name = CString::new(user).map_err(|_| PrivilegeError::BadName { what: "user", name: user.to_string() })?;
    // SAFETY: getpwnam returns a pointer into static storage (or null); we copy the
    // two numbers out before any other call.
    let (uid, primary) = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(PrivilegeError::Unknown { what: "user", name: user.to_string() });
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    let gid = match group {
        None => primary,
        Some(g) => {
            let gname = CString::new(g).map_err(|_| PrivilegeError::BadName { what: "group", name: g.to_string() })?;
            // SAFETY: as above, for getgrnam.
            unsafe {
                let gr = libc::getgrnam(gname.as_ptr());
                if gr.is_null() {
                    return Err(PrivilegeError::Unknown { what: "group", name: g.to_string() });
                }
                (*gr).gr_gid
            }
        }
    };
    if uid == 0 {
        return Err(PrivilegeError::IsRoot(user.to_string()));
    }
    Ok(Identity { user: user.to_string(), uid, gid })
}

/// True when running as root.
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn chown_tree(path: &Path, id: &Identity) -> Result<(), PrivilegeError> {
    let handover = |cause| PrivilegeError::Handover { path: path.to_path_buf(), user: id.user.clone(), cause };
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if meta.file_type().is_symlink() {
        return Ok(()); // never follow links while chowning as root
    }
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| handover(std::io::ErrorKind::InvalidInput.into()))?;
    // SAFETY: lchown on a NUL-terminated path we own.
    if unsafe { libc::lchown(c.as_ptr(), id.uid, id.gid) } != 0 {
        return Err(handover(std::io::Error::last_os_error()));
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(handover)? {
            chown_tree(&entry.map_err(handover)?.path(), id)?;
        }
    }
    Ok(())
}

/// Hands the state directory and the store's files to `id`, then becomes `id`
/// (supplementary groups dropped, group, then user). Leaving root this way clears
/// every capability; afterwards, getting root back is checked to fail.
#[allow(unsafe_code)] // a libc call; see the SAFETY comment
pub fn drop_to(id: &Identity, state_dir: &Path, store: &Path) -> Result<(), PrivilegeError> {
    let failed = |call: String| PrivilegeError::Syscall { call, cause: std::io::Error::last_os_error() };
    chown_tree(state_dir, id)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = store.as_os_str().to_owned();
        p.push(suffix);
        chown_tree(Path::new(&p), id)?;
    }
    // SAFETY: plain syscalls with valid arguments; each result is checked.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(failed("setgroups".into()));
        }
        if libc::setgid(id.gid) != 0 {
            return Err(failed(format!("setgid({})", id.gid)));
        }
        if libc::setuid(id.uid) != 0 {
            return Err(failed(format!("setuid({})", id.uid)));
        }
        if libc::setuid(0) == 0 {
            return Err(PrivilegeError::Regainable);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown_users_are_refused() {
        assert!(resolve("root", None).unwrap_err().to_string().contains("unprivileged"));
        assert!(resolve("no-such-user-honeyward", None).unwrap_err().to_string().contains("no user"));
        if let Ok(nobody) = resolve("nobody", None) {
            assert_ne!(nobody.uid, 0);
        }
    }
}
