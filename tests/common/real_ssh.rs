//! The real SSH servers the SSH decoy is measured against, started on loopback with
//! throwaway host keys: Debian's OpenSSH `sshd` and Debian's `dropbear`. Plus raw
//! probes that say exactly what a server sent and how it closed.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A real server process, killed on drop.
pub struct RealServer {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_listening(addr: SocketAddr) {
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < until, "real server did not start on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Debian's sshd with fresh rsa, ecdsa and ed25519 keys (the stock order) and `extra`
/// `-o` options, e.g. `LoginGraceTime=3` or `UsePAM=no`.
pub fn sshd(dir: &Path, extra: &[&str]) -> RealServer {
    let port = super::free_port();
    let mut cmd = Command::new("/usr/sbin/sshd");
    cmd.args(["-D", "-e", "-p", &port.to_string(), "-o", "ListenAddress=127.0.0.1", "-o"]).arg(format!("PidFile={}", dir.join("sshd.pid").display()));
    for t in ["rsa", "ecdsa", "ed25519"] {
        let k = dir.join(format!("sshd_host_{t}"));
        if !k.exists() {
            assert!(Command::new("ssh-keygen").args(["-q", "-N", "", "-t", t, "-f"]).arg(&k).status().unwrap().success());
        }
        cmd.arg("-h").arg(&k);
    }
    for o in extra {
        cmd.args(["-o", o]);
    }
    std::fs::create_dir_all("/run/sshd").ok();
    let child = cmd.stderr(Stdio::null()).spawn().expect("openssh-server must be installed: scripts/test.sh installs it");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(addr);
    RealServer { child, addr }
}

/// Debian's dropbear with fresh ed25519, ecdsa and rsa keys and `extra` arguments.
pub fn dropbear(dir: &Path, extra: &[&str]) -> RealServer {
    let port = super::free_port();
    let mut cmd = Command::new("/usr/sbin/dropbear");
    cmd.args(["-F", "-E", "-p", &format!("127.0.0.1:{port}")]);
    for t in ["ed25519", "ecdsa", "rsa"] {
        let k = dir.join(format!("dropbear_host_{t}"));
        if !k.exists() {
            assert!(Command::new("dropbearkey").args(["-t", t, "-f"]).arg(&k).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap().success());
        }
        cmd.arg("-r").arg(&k);
    }
    cmd.args(extra);
    let child = cmd.stderr(Stdio::null()).spawn().expect("dropbear (dropbear-bin) must be installed: scripts/test.sh installs it");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(addr);
    RealServer { child, addr }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// An orderly end of stream.
    Fin,
    /// Connection reset.
    Rst,
    /// Still open when we stopped waiting.
    Open,
}

/// Everything a server sent after `send` (written right after connecting, or after
/// its first line when `after_banner`) until it closed or `wait` passed.
pub fn probe(addr: SocketAddr, send: &[u8], after_banner: bool, wait: Duration) -> (Vec<u8>, Close) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut got = Vec::new();
    let started = Instant::now();
    let mut sent = false;
    // A reset that arrives while a long write is blocked is reported to that write
    // (ECONNRESET, then EPIPE), and the reads after it see only the end of the stream.
    let mut reset_during_write = false;
    let mut buf = [0u8; 65536];
    loop {
        if !sent && (!after_banner || got.contains(&b'\n')) {
            if let Err(e) = s.write_all(send) {
                reset_during_write = matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe);
            }
            sent = true;
        }
        match s.read(&mut buf) {
            Ok(0) if reset_during_write => return (got, Close::Rst),
            Ok(0) => return (got, Close::Fin),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if started.elapsed() > wait {
                    return (got, Close::Open);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, Close::Rst),
            Err(e) => panic!("probe read: {e}"),
        }
    }
}

/// The server's first binary packet after the identification lines (its KEXINIT),
/// as (banner line, packet length field, padding length, payload, padding).
pub fn kexinit(addr: SocketAddr) -> (Vec<u8>, u32, u8, Vec<u8>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    while !data.contains(&b'\n') {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        data.extend_from_slice(&buf[..n]);
    }
    s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n").unwrap();
    loop {
        let nl = data.iter().position(|&b| b == b'\n').unwrap();
        if data.len() >= nl + 5 {
            let len = u32::from_be_bytes(data[nl + 1..nl + 5].try_into().unwrap());
            if data.len() >= nl + 5 + len as usize {
                let packet = &data[nl + 5..nl + 5 + len as usize];
                let pad = packet[0];
                let payload = packet[1..packet.len() - pad as usize].to_vec();
                return (data[..=nl].to_vec(), len, pad, payload, packet[packet.len() - pad as usize..].to_vec());
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "server closed before its KEXINIT");
        data.extend_from_slice(&buf[..n]);
    }
}

/// Runs a command, returning stdout + stderr as text.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/test.sh installs the SSH test tools)"));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
