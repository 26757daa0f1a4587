//! Section 4: idle RSS of the release binary.
#![allow(unused_imports)]

use super::*;

// ---------------------------------------------------------------------------------
// 4. Idle RSS of the release binary

pub(crate) struct Rss {
    pub(crate) command: String,
    pub(crate) config: String,
    pub(crate) rss_kib: u64,
    pub(crate) hwm_kib: u64,
}

#[allow(unsafe_code)] // libc calls; see the SAFETY comments
pub(crate) fn idle_rss() -> Res<Rss> {
    let bin = std::env::var("HW_BENCH_BIN").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/tmp/hw-bench-target/release/honeyward"));
    if !bin.is_file() {
        return Err(format!("{} not found: run `CARGO_TARGET_DIR=/tmp/hw-bench-target cargo build --release` first", bin.display()).into());
    }
    let dir = tempfile::tempdir()?;
    // The embedded quick-start listens on 127.0.0.1:2323; use it when that port is free,
    // else the same configuration with a port-0 decoy.
    let port_free = std::net::TcpListener::bind("127.0.0.1:2323").is_ok();
    let config = if port_free {
        "embedded quick-start (127.0.0.1:2323, ./honeyward.db, stdout sink)".to_string()
    } else {
        let yaml = "store:\n  path: ./honeyward.db\ndecoys:\n  - name: tcp-banner\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"\\r\\nUser Access Verification\\r\\n\\r\\nUsername: \"\nsinks:\n  - name: console\n    type: stdout\n";
        std::fs::write(dir.path().join("honeyward.yaml"), yaml)?;
        "quick-start with port 0 (2323 was busy)".to_string()
    };
    let mut child = std::process::Command::new(&bin)
        .arg("run")
        .current_dir(dir.path())
        .env("HONEYWARD_ALLOW_ROOT", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(2));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
    let field =
        |s: &str, name: &str| -> Option<u64> { s.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()) };
    let exited_early = child.try_wait()?.is_some();
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let stop_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if Instant::now() > stop_deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if exited_early {
        return Err("honeyward exited before the measurement (port in use?)".into());
    }
    let status = status?;
    let rss_kib = field(&status, "VmRSS:").ok_or("no VmRSS")?;
    let hwm_kib = field(&status, "VmHWM:").unwrap_or(rss_kib);
    Ok(Rss { command: format!("{} run", bin.display()), config, rss_kib, hwm_kib })
}
