//! The characters no analyst's terminal, log line or page may receive raw, in one
//! table for the CLI, the logs, the console and every sink encoder: C0 controls, DEL
//! and C1 controls (cursor movement, screen clearing, terminal queries), and the
//! invisible or direction-changing marks that make text read other than it is (the
//! Arabic letter mark, zero-width space and joiners, LRM/RLM, bidi embeddings,
//! overrides and isolates, the word joiner and invisible operators, the BOM).

use std::borrow::Cow;

/// True for a character that must be shown as an escape.
pub fn is_hidden(c: char) -> bool {
    matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f | 0x061c | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff)
}

/// Text with every hidden character written as `\u{hex}`; borrowed when nothing
/// changes (printable ASCII is checked in one pass).
pub fn visible(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text (as serde_json writes it) with every hidden character above C0 written
/// as a JSON `\uXXXX` escape. Such characters only occur inside JSON strings, where
/// the escape means the same character, so the document still parses to the same
/// value; C0 is left alone (serde_json escapes it inside strings, and the rest is the
/// document's own whitespace).
pub fn visible_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| c >= ' ' && is_hidden(c)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c >= ' ' && is_hidden(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`visible`], cut to at most `max_chars` characters of the original with `…` marking
/// the cut: for attacker-chosen names in log lines.
pub fn visible_capped(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => visible(text),
        Some((at, _)) => Cow::Owned(format!("{}…", visible(&text[..at]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_and_invisible_mark_is_escaped_and_the_rest_kept() {
        for (raw, shown) in [
            ("plain text", "plain text"),
            ("esc\x1b[2J", "esc\\u{1b}[2J"),
            ("nul\0 tab\t nl\n", "nul\\u{0} tab\\u{9} nl\\u{a}"),
            ("del\x7f c1\u{85}\u{9b}", "del\\u{7f} c1\\u{85}\\u{9b}"),
            ("alm\u{61c}", "alm\\u{61c}"),
            ("zw\u{200b}\u{200c}\u{200d} lrm\u{200e}\u{200f}", "zw\\u{200b}\\u{200c}\\u{200d} lrm\\u{200e}\\u{200f}"),
            ("rlo\u{202e}txt.exe", "rlo\\u{202e}txt.exe"),
            ("wj\u{2060}\u{2061}\u{2065} iso\u{2066}\u{2069}", "wj\\u{2060}\\u{2061}\\u{2065} iso\\u{2066}\\u{2069}"),
            ("bom\u{feff}", "bom\\u{feff}"),
            ("é日🦀\u{2010}\u{2028}", "é日🦀\u{2010}\u{2028}"),
        ] {
            assert_eq!(visible(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn nothing_hidden_survives_any_input() {
        let alphabet: Vec<char> = "a\x1b\u{9b}\u{202e}\u{61c}\u{200b}\u{2064}é\n".chars().collect();
        for n in 0..5000u32 {
            let s: String = (0..(n % 17)).map(|i| alphabet[((n * 31 + i * 7) % alphabet.len() as u32) as usize]).collect();
            assert!(!visible(&s).chars().any(is_hidden), "{s:?}");
        }
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_hidden_characters() {
        let value = serde_json::json!({"user": "root\u{202e}\u{9b}\u{1b}[2J\u{61c}", "n": 1});
        for text in [value.to_string(), serde_json::to_string_pretty(&value).unwrap_or_default()] {
            let shown = visible_json(&text);
            assert!(!shown.chars().any(|c| c >= ' ' && is_hidden(c)) && !shown.contains('\u{1b}'), "{shown}");
            assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).ok(), Some(value.clone()));
        }
    }

    #[test]
    fn a_long_name_is_cut_on_a_character_boundary() {
        assert_eq!(visible_capped("abcdef", 3), "abc…");
        assert_eq!(visible_capped("日本語です", 2), "日本…");
        assert_eq!(visible_capped("a\u{202e}b", 8), "a\\u{202e}b");
    }
}
