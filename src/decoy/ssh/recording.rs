//! Session recordings in asciicast v2 (one JSON header line, then one
//! `[seconds, "o"|"i", text]` line per chunk), capped in size, hashed as written.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A recording in progress.
pub struct Recording {
    file: std::fs::File,
    path: PathBuf,
    started: Instant,
    written: u64,
    cap: u64,
    hash: ring::digest::Context,
}

/// A finished recording.
pub struct Finished {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl Recording {
    /// Creates `dir/NAME.cast` (0600); `name` is ours (a session id), never input.
    pub fn create(dir: &Path, name: &str, width: u32, height: u32, cap_bytes: u64) -> std::io::Result<Self> {
        crate::state_file::private_dir(dir).map_err(|e| e.cause)?;
        let path = std::path::absolute(dir.join(format!("{name}.cast")))?;
        let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        let mut rec = Recording { file, path, started: Instant::now(), written: 0, cap: cap_bytes, hash: ring::digest::Context::new(&ring::digest::SHA256) };
        let header = serde_json::json!({
            "version": 2, "width": width, "height": height,
            "timestamp": chrono::Utc::now().timestamp(),
            "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"}
        });
        rec.line(header.to_string());
        Ok(rec)
    }

    fn line(&mut self, mut text: String) {
        text.push('\n');
        if self.written + text.len() as u64 > self.cap {
            return; // capped: the rest of the session is in the events
        }
        if self.file.write_all(text.as_bytes()).is_ok() {
            self.hash.update(text.as_bytes());
            self.written += text.len() as u64;
        }
    }

    fn event(&mut self, kind: &str, data: &[u8]) {
        let t = self.started.elapsed().as_secs_f64();
        let entry = serde_json::json!([(t * 1e6).round() / 1e6, kind, String::from_utf8_lossy(data)]);
        self.line(entry.to_string());
    }

    /// Records what the client was shown.
    pub fn output(&mut self, data: &[u8]) {
        self.event("o", data);
    }

    /// Records what the client typed.
    pub fn input(&mut self, data: &[u8]) {
        self.event("i", data);
    }

    /// Flushes and returns where it is and its hash.
    pub fn finish(mut self) -> Finished {
        let _ = self.file.flush();
        let digest = self.hash.finish();
        Finished { path: self.path.display().to_string(), sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(), bytes: self.written }
    }
}
