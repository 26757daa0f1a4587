//! Standard error for log lines: every line passes through one writer that shows
//! hidden characters ([`crate::event::is_hidden`]: C0, C1, bidi and invisible marks)
//! as escapes and cuts lines longer than [`MAX_LOG_LINE_BYTES`], so that a name or
//! value an attacker chose cannot move the cursor, rewrite the screen, forge a second
//! log line or make one read backwards, in a terminal or in a log shipper.

use std::io::{self, Write};

use super::LogFormat;
use crate::event::{visible, visible_json};

/// Longest log line written, in bytes (the cut is marked).
pub const MAX_LOG_LINE_BYTES: usize = 16 * 1024;

/// A log line writer; one `write` is one formatted line (as tracing's fmt layer does).
pub struct SafeLines<W> {
    inner: W,
    format: LogFormat,
}

impl<W: Write> SafeLines<W> {
    pub fn new(inner: W, format: LogFormat) -> Self {
        SafeLines { inner, format }
    }
}

/// One formatted line made safe: hidden characters escaped (the final newline kept),
/// cut at [`MAX_LOG_LINE_BYTES`].
pub fn safe_line(line: &str, format: LogFormat) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    let mut shown = match format {
        // The JSON formatter escapes C0 inside strings itself; the rest is escaped the
        // JSON way so that the line still parses.
        LogFormat::Json => visible_json(body).into_owned(),
        LogFormat::Text => visible(body).into_owned(),
    };
    if shown.len() > MAX_LOG_LINE_BYTES {
        let mut cut = MAX_LOG_LINE_BYTES;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push_str(" …(line cut)");
    }
    shown + newline
}

impl<W: Write> Write for SafeLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = safe_line(&String::from_utf8_lossy(buf), self.format);
        self.inner.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Makes a [`SafeLines`] over standard error for each line.
pub fn stderr(format: LogFormat) -> impl Fn() -> SafeLines<io::Stderr> {
    move || SafeLines::new(io::stderr(), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_second_line_and_terminal_controls_stay_on_one_visible_line() {
        let line = safe_line("WARN refused user=\"root\n2026-12-05 INFO all clear\x1b[2J\u{9b}\u{202e}\"\n", LogFormat::Text);
        assert_eq!(line, "WARN refused user=\"root\\u{a}2026-12-05 INFO all clear\\u{1b}[2J\\u{9b}\\u{202e}\"\n");
    }

    #[test]
    fn a_json_line_still_parses_to_the_same_value() {
        let value = serde_json::json!({"fields": {"user": "a\u{202e}b\u{85}"}});
        let line = safe_line(&(value.to_string() + "\n"), LogFormat::Json);
        assert!(line.ends_with('\n') && !line.contains('\u{202e}') && !line.contains('\u{85}'), "{line}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(line.trim_end()).ok(), Some(value));
    }

    #[test]
    fn a_long_line_is_cut_and_marked() {
        let line = safe_line(&("é".repeat(MAX_LOG_LINE_BYTES) + "\n"), LogFormat::Text);
        assert!(line.len() <= MAX_LOG_LINE_BYTES + 20 && line.ends_with("(line cut)\n"), "{}", line.len());
    }
}
