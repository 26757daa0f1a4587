//! Least privilege: bind a privileged port as root, then run as an unprivileged user
//! with no capabilities; refuse to stay root unless told to.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[allow(unsafe_code)] // a libc call; see the SAFETY comment
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A free port below 1024 (only root, or CAP_NET_BIND_SERVICE, may bind it).
fn privileged_port() -> u16 {
    (900..1000).find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()).expect("a free port below 1024")
}

fn status_field(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or("").trim().to_string()
}

#[test]
fn after_binding_a_privileged_port_as_root_it_runs_as_nobody_with_no_capabilities() {
    if !is_root() {
        eprintln!("skipped: needs root to bind a port below 1024 (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The store's directory must be writable by the user honeyward becomes.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let port = privileged_port();
    let yaml = format!("store:\n  path: honeyward.db\n  sync: normal\ndecoys:\n  - name: telnet\n    type: tcp\n    listen: 127.0.0.1:{port}\n    banner: \"login: \"\nsinks: []\n");
    std::fs::write(dir.path().join("honeyward.yaml"), yaml).unwrap();
    let child = Command::new(BIN)
        .args(["run", "-c", "honeyward.yaml", "--user", "nobody"])
        .current_dir(dir.path())
        .env_remove("HONEYWARD_ALLOW_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _reaped = Reaped(child);
    assert!(eventually(15, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()), "listening on {port}");
    std::thread::sleep(Duration::from_millis(300));
    let uid = status_field(pid, "Uid");
    let gid = status_field(pid, "Gid");
    assert!(uid.split_whitespace().all(|u| u != "0"), "Uid {uid}");
    assert!(gid.split_whitespace().all(|g| g != "0"), "Gid {gid}");
    for cap in ["CapEff", "CapPrm", "CapAmb"] {
        let v = u64::from_str_radix(&status_field(pid, cap), 16).unwrap();
        assert_eq!(v & !(1 << 10), 0, "{cap} holds nothing but CAP_NET_BIND_SERVICE: {v:x}");
    }
    // Still a working decoy, writing its store as that user.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut banner = [0u8; 7];
    s.read_exact(&mut banner).unwrap();
    assert_eq!(&banner, b"login: ");
    drop(s);
    let db = store(dir.path());
    // Two connections closed: the readiness probe above and this one.
    assert!(eventually(10, || count_kind(&db, "connection_closed") == 2), "{} closed", count_kind(&db, "connection_closed"));
    use std::os::unix::fs::MetadataExt;
    assert_ne!(std::fs::metadata(dir.path().join("honeyward.db")).unwrap().uid(), 0, "the store belongs to the unprivileged user");
}

#[test]
fn it_refuses_to_keep_running_as_root_without_allow_root() {
    if !is_root() {
        eprintln!("skipped: not running as root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("honeyward.yaml"),
        "store:\n  path: honeyward.db\ndecoys:\n  - name: t\n    type: tcp\n    listen: 127.0.0.1:0\nsinks: []\n",
    )
    .unwrap();
    let out = Command::new(BIN).args(["run", "-c", "honeyward.yaml"]).current_dir(dir.path()).env_remove("HONEYWARD_ALLOW_ROOT").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--user") && err.contains("--allow-root"), "{err}");
    let ok = Command::new(BIN).args(["validate", "-c", "honeyward.yaml"]).current_dir(dir.path()).output().unwrap();
    assert!(ok.status.success());
}

#[test]
fn a_store_or_state_directory_other_users_can_read_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("door", ""));
    let mut hw = Honeyward::start(dir.path(), &yaml);
    let mode = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
    for name in ["honeyward.db", "honeyward.db-wal", "honeyward.db-shm"] {
        assert_eq!(mode(name), 0o600, "{name} is created private");
    }
    assert_eq!(mode("honeyward-state"), 0o700);
    assert!(hw.stop().success());

    let start = || {
        let out = Command::new(BIN)
            .args(["run", "-c", "honeyward.yaml"])
            .current_dir(dir.path())
            .env("HONEYWARD_ALLOW_ROOT", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let chmod = |name: &str, m: u32| std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(m)).unwrap();
    chmod("honeyward.db", 0o644);
    let (ok, stderr) = start();
    assert!(!ok && stderr.contains("honeyward.db can be read by other users (mode 644)") && stderr.contains("chmod 600"), "{stderr}");
    chmod("honeyward.db", 0o600);
    chmod("honeyward-state", 0o755);
    let (ok, stderr) = start();
    assert!(!ok && stderr.contains("state directory") && stderr.contains("chmod 700"), "{stderr}");
    assert!(!stderr.contains("listening"), "refused before any decoy listens: {stderr}");
}
