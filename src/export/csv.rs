//! Incidents as CSV (RFC 4180) for spreadsheets: every cell that a spreadsheet would
//! read as a formula is defused, since attacker-influenced text ends up here.

use std::collections::HashMap;

use crate::incident::Incident;
use crate::store::Ack;

/// One cell: a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front
/// (spreadsheets then show it as text), and a cell with a comma, quote or line break
/// is quoted with its quotes doubled.
pub fn cell(value: &str) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if defused.contains([',', '"', '\n', '\r']) || defused.starts_with(' ') || defused.ends_with(' ') {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The column names.
pub const HEADER: [&str; 12] =
    ["id", "first_seen", "last_seen", "severity", "sensor", "source", "events", "decoys", "techniques", "token", "suppressed", "acked_by"];

/// The whole file, header first, CRLF line ends.
pub fn incidents(list: &[Incident], acks: &HashMap<String, Ack>) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for i in list {
        let id = i.id.to_string();
        let row = [
            id.clone(),
            i.first.to_rfc3339(),
            i.last.to_rfc3339(),
            i.severity.as_str().to_string(),
            i.sensor.clone(),
            i.source.map(|s| s.to_string()).unwrap_or_default(),
            i.events.to_string(),
            i.decoys.iter().cloned().collect::<Vec<_>>().join(" "),
            i.techniques.iter().cloned().collect::<Vec<_>>().join(" "),
            i.token.clone().unwrap_or_default(),
            i.suppressed.to_string(),
            acks.get(&id).map(|a| a.by.clone()).unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_cells() {
        let cases = [
            ("plain", "plain"),
            ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""),
            ("+1+1", "'+1+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\r=1", "\"'\r=1\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            (" padded", "\" padded\""),
            ("", ""),
            ("2026-11-28T14:55:00.000000Z", "2026-11-28T14:55:00.000000Z"),
            ("::1", "::1"),
        ];
        for (input, want) in cases {
            assert_eq!(cell(input), want, "{input:?}");
        }
    }

    #[test]
    fn no_cell_starts_a_formula_once_unquoted() {
        use rand::RngExt;
        let mut rng = rand::rng();
        let alphabet: Vec<char> = "=+-@\t\r\n,\" a1é\u{202e}".chars().collect();
        for _ in 0..5000 {
            let s: String = (0..rng.random_range(0..8)).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
            let c = cell(&s);
            let inner = if c.starts_with('"') { c[1..c.len() - 1].replace("\"\"", "\"") } else { c.clone() };
            assert!(!inner.starts_with(['=', '+', '-', '@', '\t', '\r']), "{s:?} -> {c:?}");
            if !c.starts_with('"') {
                assert!(!c.contains([',', '"', '\n', '\r']), "{s:?} -> {c:?}");
            }
        }
    }
}
