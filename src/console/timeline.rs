//! An incident's timeline as server-rendered SVG: events per minute (or per wider
//! step, for long incidents), one row per decoy, each cell shaded by its count, token
//! hits marked in red. No script; every name is escaped for XML. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::StoredEvent;

/// Most columns drawn; a longer incident gets wider steps.
const MAX_COLUMNS: i64 = 240;
/// Most decoy rows; the rest share one.
const MAX_ROWS: usize = 8;
const LABEL_PX: i64 = 130;
const WIDTH_PX: i64 = 860;
const ROW_PX: i64 = 22;
const AXIS_PX: i64 = 20;

fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if crate::event::is_hidden(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// One row of a grid: its name and its cells (column, count, a token hit among them).
pub type Row = (String, Vec<(i64, u64, bool)>);

/// The SVG for `events` (in time order); empty when there are none.
pub fn svg(events: &[StoredEvent]) -> String {
    let (Some(first), Some(last)) = (events.iter().map(|e| e.event.time.as_micros()).min(), events.iter().map(|e| e.event.time.as_micros()).max()) else {
        return String::new();
    };
    let minute = 60_000_000i64;
    let span = (last - first) / minute + 1;
    let step = (span + MAX_COLUMNS - 1) / MAX_COLUMNS;
    let columns = (span + step - 1) / step;
    let mut rows: Vec<Row> = Vec::new();
    let mut cells: BTreeMap<(usize, i64), (u64, bool)> = BTreeMap::new();
    for e in events {
        let name = e.event.decoy.clone().unwrap_or_else(|| "sensor".into());
        let row = match rows.iter().position(|(d, _)| *d == name) {
            Some(r) => r,
            None if rows.len() < MAX_ROWS - 1 => {
                rows.push((name, Vec::new()));
                rows.len() - 1
            }
            None => MAX_ROWS - 1,
        };
        let cell = cells.entry((row, (e.event.time.as_micros() - first) / minute / step)).or_default();
        cell.0 += 1;
        cell.1 |= e.event.token.is_some();
    }
    if cells.keys().any(|(r, _)| *r == MAX_ROWS - 1) {
        rows.push(("other decoys".into(), Vec::new()));
    }
    for ((r, c), (n, hit)) in cells {
        rows[r].1.push((c, n, hit));
    }
    let unit = if step == 1 { "minute".to_string() } else { format!("{step} minutes") };
    let time = |us: i64| format!("{} UTC", crate::event::Timestamp::from_micros(us).to_rfc3339().get(11..16).unwrap_or_default());
    grid(&rows, columns, &format!("Events per {unit} by decoy; token hits in red"), (&time(first), &time(last)))
}

/// A grid of rows × `columns` cells shaded by count, hits marked, with a title and
/// the labels of its two ends.
pub fn grid(rows: &[Row], columns: i64, title: &str, (left, right): (&str, &str)) -> String {
    let columns = columns.max(1);
    let most = rows.iter().flat_map(|(_, cells)| cells.iter().map(|c| c.1)).max().unwrap_or(1).max(1);
    let height = rows.len() as i64 * ROW_PX + AXIS_PX;
    let cell_px = (WIDTH_PX - LABEL_PX) as f64 / columns as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" viewBox=\"0 0 {WIDTH_PX} {height}\" width=\"{WIDTH_PX}\" height=\"{height}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        escaped(title),
        escaped(title)
    );
    for (r, (name, cells)) in rows.iter().enumerate() {
        let y = r as i64 * ROW_PX;
        let _ = write!(out, "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>", y + 15, escaped(&crate::event::visible_capped(name, 18)));
        for (c, n, hit) in cells {
            let x = LABEL_PX as f64 + *c as f64 * cell_px;
            let shade = 0.25 + 0.75 * (*n as f64 / most as f64);
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"#1f5f99\" fill-opacity=\"{shade:.2}\"><title>{n} event(s)</title></rect>",
                y + 3,
                cell_px.max(1.0)
            );
            if *hit {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{}\" r=\"5\" fill=\"#b42318\"><title>token hit</title></circle>",
                    x + cell_px.max(1.0) / 2.0,
                    y + 11
                );
            }
        }
    }
    let axis = height - 5;
    let _ = write!(
        out,
        "<text x=\"{LABEL_PX}\" y=\"{axis}\" font-size=\"11\">{}</text><text x=\"{WIDTH_PX}\" y=\"{axis}\" font-size=\"11\" text-anchor=\"end\">{}</text></svg>",
        escaped(left),
        escaped(right)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64, decoy: &str, hit: bool) -> StoredEvent {
        let mut event = crate::incident::fixtures::ssh_auth("203.0.113.9", seconds);
        event.decoy = Some(decoy.into());
        if hit {
            event.token = Some(crate::event::hit_fixture("tok-1", crate::event::TokenKind::Url, "l"));
        }
        StoredEvent { seq: seconds as u64, event }
    }

    #[test]
    fn one_row_per_decoy_one_cell_per_minute_and_a_mark_per_token_hit() {
        let events = vec![at(0, "ssh", false), at(30, "ssh", false), at(61, "web", true), at(600, "<b>", false)];
        let svg = svg(&events);
        assert_eq!(svg.matches("<rect ").count(), 3, "ssh minute 0, web minute 1, the third decoy at minute 10: {svg}");
        assert_eq!(svg.matches("<circle ").count(), 1);
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "names are escaped");
        assert!(svg.contains("2 event(s)"));
    }

    #[test]
    fn a_long_incident_is_drawn_in_wider_steps_and_at_most_eight_rows() {
        let events: Vec<StoredEvent> = (0..2000).map(|i| at(i * 60 * 3, &format!("d{}", i % 12), false)).collect();
        let svg = svg(&events);
        assert!(svg.matches("<rect ").count() as i64 <= MAX_COLUMNS * MAX_ROWS as i64);
        assert!(svg.contains("Events per 25 minutes") && svg.contains("other decoys"), "{}", &svg[..300]);
        assert_eq!(svg.matches("<text ").count(), MAX_ROWS + 2);
        assert!(super::svg(&[]).is_empty());
    }
}
