//! Least privilege: bind the decoys' ports (22, 80, 104, 443 need root or
//! CAP_NET_BIND_SERVICE), then become an unprivileged user for good. A decoy invites
//! attackers in; if one ever found a flaw, it must land in an account that owns
//! nothing but honeyward's own state.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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

/// Deepest directory handed over (honeyward's own state is two or three levels deep).
const MAX_DEPTH: usize = 16;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Hands `path` to `id`, and for a directory everything under it, through file
/// descriptors: each directory is opened without following a link and its entries are
/// changed relative to that descriptor, never by path, so a link swapped in while this
/// runs as root is changed itself, never followed out of the tree.
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
fn chown_tree(path: &Path, id: &Identity) -> Result<(), PrivilegeError> {
    let handover = |cause| PrivilegeError::Handover { path: path.to_path_buf(), user: id.user.clone(), cause };
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| handover(std::io::ErrorKind::InvalidInput.into()))?;
    // SAFETY: open on a NUL-terminated path; the descriptor is owned below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd >= 0 {
        // SAFETY: fd was just opened and is owned by nothing else.
        let dir = unsafe { OwnedFd::from_raw_fd(fd) };
        return chown_dir(&dir, path, id, 0);
    }
    match errno() {
        libc::ENOENT => Ok(()),
        // A file, or a link (changed itself, not followed).
        libc::ENOTDIR | libc::ELOOP => {
            // SAFETY: lchown on a NUL-terminated path; it never follows a final link.
            if unsafe { libc::lchown(c.as_ptr(), id.uid, id.gid) } != 0 && errno() != libc::ENOENT {
                return Err(handover(std::io::Error::last_os_error()));
            }
            Ok(())
        }
        _ => Err(handover(std::io::Error::last_os_error())),
    }
}

/// Hands the open directory `dir` (shown as `path`) and what it holds to `id`.
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
fn chown_dir(dir: &OwnedFd, path: &Path, id: &Identity, depth: usize) -> Result<(), PrivilegeError> {
    let handover = |cause| PrivilegeError::Handover { path: path.to_path_buf(), user: id.user.clone(), cause };
    // SAFETY: fchown on a descriptor we own.
    if unsafe { libc::fchown(dir.as_raw_fd(), id.uid, id.gid) } != 0 {
        return Err(handover(std::io::Error::last_os_error()));
    }
    if depth >= MAX_DEPTH {
        return Err(handover(std::io::Error::other(format!("more than {MAX_DEPTH} directories deep"))));
    }
    for name in entries(dir).map_err(handover)? {
        let shown = path.join(std::ffi::OsStr::from_bytes(name.as_bytes()));
        // SAFETY: openat relative to a directory descriptor we own, on a NUL-terminated
        // name without a slash (it came from readdir).
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
        if fd >= 0 {
            // SAFETY: fd was just opened and is owned by nothing else.
            let sub = unsafe { OwnedFd::from_raw_fd(fd) };
            chown_dir(&sub, &shown, id, depth + 1)?;
            continue;
        }
        match errno() {
            libc::ENOENT => {}
            libc::ENOTDIR | libc::ELOOP => {
                // SAFETY: fchownat relative to our directory descriptor, not following a link.
                if unsafe { libc::fchownat(dir.as_raw_fd(), name.as_ptr(), id.uid, id.gid, libc::AT_SYMLINK_NOFOLLOW) } != 0 && errno() != libc::ENOENT {
                    return Err(PrivilegeError::Handover { path: shown, user: id.user.clone(), cause: std::io::Error::last_os_error() });
                }
            }
            _ => return Err(PrivilegeError::Handover { path: shown, user: id.user.clone(), cause: std::io::Error::last_os_error() }),
        }
    }
    Ok(())
}

/// The names in an open directory (without `.` and `..`).
#[allow(unsafe_code)] // libc calls; see the SAFETY comments
fn entries(dir: &OwnedFd) -> std::io::Result<Vec<CString>> {
    // SAFETY: dup of a descriptor we own; fdopendir takes the copy and closedir frees it.
    let copy = unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: copy is a valid directory descriptor; on failure we close it ourselves.
    let stream = unsafe { libc::fdopendir(copy) };
    if stream.is_null() {
        let e = std::io::Error::last_os_error();
        // SAFETY: copy is ours and was not taken by fdopendir.
        unsafe { libc::close(copy) };
        return Err(e);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: readdir on the stream opened above; the entry is read before the next call.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the entry readdir returned.
        let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    // SAFETY: the stream from fdopendir, closed once.
    unsafe { libc::closedir(stream) };
    Ok(names)
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

    #[test]
    fn a_link_swapped_into_the_state_directory_while_it_is_handed_over_is_never_followed() {
        use std::os::unix::fs::MetadataExt;
        if !is_root() {
            eprintln!("skipped: handing files over needs root (CI runs as root)");
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let (state, victim) = (root.path().join("state"), root.path().join("victim"));
        std::fs::create_dir_all(state.join("recordings")).unwrap();
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("shadow"), "root's").unwrap();
        let id = Identity { user: "nobody".into(), uid: 65534, gid: 65534 };
        // An intruder who owns the state flips `recordings` between a directory and a
        // link to a directory of root's, as fast as it can.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flipper = {
            let (state, victim, stop) = (state.clone(), victim.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let (dir, aside) = (state.join("recordings"), state.join("aside"));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::fs::rename(&dir, &aside);
                    let _ = std::os::unix::fs::symlink(&victim, &dir);
                    let _ = std::fs::remove_file(&dir);
                    let _ = std::fs::rename(&aside, &dir);
                }
            })
        };
        for _ in 0..3000 {
            let _ = chown_tree(&state, &id);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        flipper.join().unwrap();
        for p in [victim.clone(), victim.join("shadow")] {
            assert_eq!(std::fs::metadata(&p).unwrap().uid(), 0, "{} stayed root's", p.display());
        }
        assert_eq!(std::fs::symlink_metadata(&state).unwrap().uid(), 65534, "the state itself was handed over");
    }
}
