//! A real Samba smbd on loopback for side-by-side tests: Debian's smbd in the
//! foreground with a private configuration (standalone server FILESRV01 in workgroup
//! TRUST), in namespaces of its own where its host name is `filesrv01` and that name
//! resolves to `filesrv01.trust.local` (a hosts file mounted over /etc/hosts there
//! only), so that the DNS names in its NTLM CHALLENGE are those of a real deployment.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{free_port, Reaped};

/// Starts smbd with `extra` lines added to `[global]`; waits until it accepts.
pub fn smbd(dir: &Path, extra: &str) -> (Reaped, SocketAddr) {
    let port = free_port();
    for sub in ["private", "lock", "state", "cache", "pid", "log", "share", "state/ncalrpc"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let conf = format!(
        "[global]\n   workgroup = TRUST\n   netbios name = FILESRV01\n   server role = standalone server\n   interfaces = lo\n   bind interfaces only = yes\n   smb ports = {port}\n   disable netbios = yes\n   private dir = {d}/private\n   lock directory = {d}/lock\n   state directory = {d}/state\n   cache directory = {d}/cache\n   pid directory = {d}/pid\n   ncalrpc dir = {d}/state/ncalrpc\n   log file = {d}/log/%m.log\n   load printers = no\n   printing = bsd\n   printcap name = /dev/null\n{extra}\n[imaging]\n   path = {d}/share\n   read only = yes\n"
    );
    std::fs::write(dir.join("smb.conf"), conf).unwrap();
    std::fs::write(dir.join("hosts"), "127.0.0.1 localhost\n127.0.1.1 filesrv01.trust.local filesrv01\n").unwrap();
    let script = format!("mount --bind {d}/hosts /etc/hosts && hostname filesrv01 && exec /usr/sbin/smbd -F --no-process-group -s {d}/smb.conf");
    let child = std::process::Command::new("unshare")
        .args(["--uts", "--mount", "sh", "-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("smbd (Debian's samba package) under unshare (util-linux)");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "smbd did not start; see {d}/log");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Reaped(child), addr)
}
