//! An SSH session's asciicast v2 recording as plain text for the incident page: the
//! terminal output (`"o"`) in order, escape sequences removed, line ends normalised.
//! The recording is the decoy's own file, but it is still read as untrusted: only
//! from the state directory's `recordings/`, capped in size.

use std::path::Path;

/// Most bytes of a recording read.
const MAX_BYTES: u64 = 1 << 20;

/// Most output frames a replay plays.
const MAX_FRAMES: usize = 20_000;

/// The recording at `path` as read, if it lies under `recordings`.
fn read_cast(recordings: &Path, path: &Path) -> Option<String> {
    let root = recordings.canonicalize().ok()?;
    let file = path.canonicalize().ok()?;
    if !file.starts_with(&root) {
        return None;
    }
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(&file).ok()?.take(MAX_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

/// The text of the recording at `path`, if it lies under `recordings`.
pub fn transcript(recordings: &Path, path: &Path) -> Option<String> {
    read_cast(recordings, path).map(|cast| from_cast(&cast))
}

/// The output frames of the recording at `path` for a replay: (seconds from the
/// start, text without escape codes).
pub fn frames(recordings: &Path, path: &Path) -> Option<Vec<(f64, String)>> {
    let cast = read_cast(recordings, path)?;
    let mut out = Vec::new();
    for line in cast.lines().skip(1) {
        if let Ok(serde_json::Value::Array(frame)) = serde_json::from_str::<serde_json::Value>(line) {
            if let (Some(t), Some("o"), Some(data)) =
                (frame.first().and_then(|t| t.as_f64()), frame.get(1).and_then(|k| k.as_str()), frame.get(2).and_then(|d| d.as_str()))
            {
                out.push((t.max(0.0), strip_terminal_codes(data)));
                if out.len() >= MAX_FRAMES {
                    break;
                }
            }
        }
    }
    Some(out)
}

/// The output stream of an asciicast v2 document, as text.
pub fn from_cast(cast: &str) -> String {
    let mut out = String::new();
    for line in cast.lines().skip(1) {
        if let Ok(serde_json::Value::Array(frame)) = serde_json::from_str::<serde_json::Value>(line) {
            if frame.get(1).and_then(|k| k.as_str()) == Some("o") {
                out.push_str(frame.get(2).and_then(|d| d.as_str()).unwrap_or(""));
            }
        }
    }
    strip_terminal_codes(&out)
}

/// Removes CSI and OSC escape sequences and carriage returns before line feeds.
fn strip_terminal_codes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    chars.next();
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' || (n == '\u{1b}' && chars.peek() == Some(&'\\')) {
                            if n == '\u{1b}' {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_frames_become_text_without_escape_codes() {
        let cast = "{\"version\":2,\"width\":80,\"height\":24}\n[0.1,\"o\",\"\\u001b[1;32mroot@pacs\\u001b[0m:~# \"]\n[0.2,\"i\",\"id\\r\"]\n[0.3,\"o\",\"id\\r\\nuid=0(root)\\r\\n\"]\n[0.4,\"o\",\"\\u001b]0;title\\u0007done\"]\nnot json\n";
        assert_eq!(from_cast(cast), "root@pacs:~# id\nuid=0(root)\ndone");
    }

    #[test]
    fn only_recordings_under_the_directory_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("recordings");
        std::fs::create_dir_all(&rec).unwrap();
        std::fs::write(rec.join("a.cast"), "{}\n[0,\"o\",\"hi\"]\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "{}\n[0,\"o\",\"no\"]\n").unwrap();
        assert_eq!(transcript(&rec, &rec.join("a.cast")).as_deref(), Some("hi"));
        assert_eq!(transcript(&rec, &rec.join("../secret.txt")), None);
        assert_eq!(transcript(&rec, &dir.path().join("secret.txt")), None);
    }
}
