//! The `file` sink: appends one encoded event per line.
//!
//! Exactly once across crashes: before writing, the sink reads its file's last
//! complete line, finds that event in the store, and resumes after it (a crash
//! between writing a batch and saving the cursor would otherwise repeat the batch).
//! A torn last line left by a crash mid-write is cut off first.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::format::{encode_line_for, event_id_in_line};
use super::{Sink, SinkError};
use crate::config::{EventFormat, FileSinkConfig};
use crate::store::{StoreReader, StoredEvent};

/// How far back the tail scan reads per step.
const TAIL_CHUNK: u64 = 64 * 1024;

/// Appends events to a file.
pub struct FileSink {
    path: PathBuf,
    file: Option<File>,
    format: EventFormat,
    fsync: bool,
    buf: Vec<u8>,
    /// Incident ids of the events about to be sent (incidents-only mode).
    pub incidents: super::Announced,
}

impl FileSink {
    /// Opens (creating if needed) the file, repairs a torn tail, and returns the sink
    /// with the cursor to resume from: `max(stored cursor, last event in the file)`.
    pub fn open(config: &FileSinkConfig, reader: &StoreReader, stored_cursor: u64) -> Result<(Self, u64), SinkError> {
        let fail = |e: std::io::Error| SinkError::Permanent(format!("file sink {}: {}: {e}", config.name, config.path.display()));
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&config.path).map_err(fail)?;
        let mut cursor = stored_cursor;
        if let Some(line) = last_complete_line(&mut file).map_err(fail)? {
            if let Some(id) = event_id_in_line(&line) {
                if let Ok(Some(seq)) = reader.seq_of(&id) {
                    cursor = cursor.max(seq);
                }
            }
        }
        let sink = FileSink {
            path: config.path.clone(),
            file: Some(file),
            format: config.format,
            fsync: config.fsync,
            buf: Vec::new(),
            incidents: Default::default(),
        };
        Ok((sink, cursor))
    }
}

/// Cuts off a partial last line (no trailing newline) and returns the last complete line.
fn last_complete_line(file: &mut File) -> std::io::Result<Option<Vec<u8>>> {
    let len = file.metadata()?.len();
    let Some(last_nl) = rfind_newline(file, len)? else {
        file.set_len(0)?;
        return Ok(None);
    };
    if last_nl + 1 != len {
        tracing::warn!(bytes = len - last_nl - 1, "file sink: removing a partial last line left by a crash");
        file.set_len(last_nl + 1)?;
    }
    let start = match rfind_newline(file, last_nl)? {
        Some(p) => p + 1,
        None => 0,
    };
    let mut line = vec![0u8; (last_nl - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    Ok(Some(line))
}

/// Position of the last `\n` before `end`.
fn rfind_newline(file: &mut File, end: u64) -> std::io::Result<Option<u64>> {
    let mut hi = end;
    let mut chunk = vec![0u8; TAIL_CHUNK as usize];
    while hi > 0 {
        let lo = hi.saturating_sub(TAIL_CHUNK);
        let part = &mut chunk[..(hi - lo) as usize];
        file.seek(SeekFrom::Start(lo))?;
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(lo + i as u64));
        }
        hi = lo;
    }
    Ok(None)
}

impl Sink for FileSink {
    async fn send(&mut self, batch: &[StoredEvent]) -> Result<(), SinkError> {
        self.buf.clear();
        for e in batch {
            encode_line_for(self.format, e, self.incidents.get(&e.seq), &mut self.buf);
        }
        let file = match self.file.take() {
            Some(f) => f,
            None => OpenOptions::new().append(true).create(true).open(&self.path).map_err(|e| self.retryable(e))?,
        };
        // Writes and fsync run off the async workers so a slow disk never stalls decoys.
        let buf = std::mem::take(&mut self.buf);
        let fsync = self.fsync;
        let joined = tokio::task::spawn_blocking(move || {
            let mut file = file;
            let result = file.write_all(&buf).and_then(|()| if fsync { file.sync_data() } else { Ok(()) });
            (file, buf, result)
        })
        .await;
        let (file, buf, result) = joined.map_err(|e| SinkError::Retryable(format!("{}: {e}", self.path.display())))?;
        self.buf = buf;
        match result {
            Ok(()) => {
                self.file = Some(file);
                Ok(())
            }
            // Reopen on the next attempt (the file may have been rotated or the disk freed).
            Err(e) => Err(self.retryable(e)),
        }
    }
}

impl FileSink {
    fn retryable(&self, e: std::io::Error) -> SinkError {
        SinkError::Retryable(format!("{}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_cut_and_last_complete_line_returned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        assert_eq!(last_complete_line(&mut f).unwrap().unwrap(), b"{\"b\":2}");
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn file_without_newline_is_emptied_and_single_line_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        std::fs::write(&path, b"partial").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        assert_eq!(last_complete_line(&mut f).unwrap(), None);
        std::fs::write(&path, b"only\n").unwrap();
        let mut f = OpenOptions::new().read(true).append(true).open(&path).unwrap();
        assert_eq!(last_complete_line(&mut f).unwrap().unwrap(), b"only");
    }
}
