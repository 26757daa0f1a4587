//! A date search value: its comparison prefix, and the time range its precision spans
//! (`1950` is the whole year, `1950-03-05T10:15Z` one minute).

use chrono::{Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};

/// A date search value: prefix, and the range its precision spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue {
    pub prefix: Prefix,
    pub precision: Precision,
    /// Start of the range, UTC.
    pub start: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Year,
    Month,
    Day,
    Minute,
    Second,
    Milli,
}

impl DateValue {
    /// End of the range (exclusive).
    pub fn end(&self) -> NaiveDateTime {
        let s = self.start;
        let next = match self.precision {
            Precision::Year => s.checked_add_months(Months::new(12)),
            Precision::Month => s.checked_add_months(Months::new(1)),
            Precision::Day => s.checked_add_signed(Duration::days(1)),
            Precision::Minute => s.checked_add_signed(Duration::minutes(1)),
            Precision::Second => s.checked_add_signed(Duration::seconds(1)),
            Precision::Milli => s.checked_add_signed(Duration::milliseconds(1)),
        };
        next.unwrap_or(NaiveDateTime::MAX)
    }

    /// The date as written at its precision (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or more).
    pub fn text(&self) -> String {
        let f = match self.precision {
            Precision::Year => "%Y",
            Precision::Month => "%Y-%m",
            Precision::Day => "%Y-%m-%d",
            Precision::Minute => "%Y-%m-%dT%H:%M",
            Precision::Second => "%Y-%m-%dT%H:%M:%S",
            Precision::Milli => "%Y-%m-%dT%H:%M:%S%.3f",
        };
        self.start.format(f).to_string()
    }
}

/// A date value: optional two-letter prefix, then `YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|±hh:mm]]]]`.
pub fn date(text: &str) -> Option<DateValue> {
    let text = text.trim();
    let (prefix, rest) = match text.get(..2) {
        Some(p) if p.bytes().all(|b| b.is_ascii_lowercase()) => (prefix(p)?, text.get(2..)?),
        _ => (Prefix::Eq, text),
    };
    let (day, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let num = |s: &str, len: usize| (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    let parts: Vec<&str> = day.splitn(4, '-').collect();
    let (year, month, dom, precision) = match parts.as_slice() {
        [y] => (num(y, 4)?, 1, 1, Precision::Year),
        [y, m] => (num(y, 4)?, num(m, 2)?, 1, Precision::Month),
        [y, m, d] => (num(y, 4)?, num(m, 2)?, num(d, 2)?, Precision::Day),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, dom)?;
    let Some(time) = time else {
        return Some(DateValue { prefix, precision, start: date.and_time(NaiveTime::MIN) });
    };
    if precision != Precision::Day {
        return None;
    }
    // Zone: Z, or ±hh:mm (the clock is converted to UTC); none reads as UTC.
    let (clock, offset_minutes) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0i64)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, zone) = time.split_at(i);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone.get(1..)?.split_once(':')?;
        (c, sign * i64::from(num(h, 2)? * 60 + num(m, 2)?))
    } else {
        (time, 0)
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.splitn(4, ':').collect();
    let (h, mi, sec, mut precision) = match fields.as_slice() {
        [h, m] => (num(h, 2)?, num(m, 2)?, 0, Precision::Minute),
        [h, m, s] => (num(h, 2)?, num(m, 2)?, num(s, 2)?, Precision::Second),
        _ => return None,
    };
    let mut millis = 0;
    if let Some(f) = fraction {
        if precision != Precision::Second || f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        millis = f.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        precision = Precision::Milli;
    }
    let local = date.and_time(NaiveTime::from_hms_milli_opt(h, mi, sec, millis)?);
    let start = local.checked_sub_signed(Duration::minutes(offset_minutes))?;
    Some(DateValue { prefix, precision, start })
}

fn prefix(p: &str) -> Option<Prefix> {
    Some(match p {
        "eq" => Prefix::Eq,
        "ne" => Prefix::Ne,
        "gt" => Prefix::Gt,
        "lt" => Prefix::Lt,
        "ge" => Prefix::Ge,
        "le" => Prefix::Le,
        "sa" => Prefix::Sa,
        "eb" => Prefix::Eb,
        "ap" => Prefix::Ap,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_date_spans_to_the_start_of_the_next_period() {
        let end = |text: &str| date(text).unwrap().end().format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
        assert_eq!(end("1950"), "1951-01-01T00:00:00.000");
        assert_eq!(end("1950-12"), "1951-01-01T00:00:00.000");
        assert_eq!(end("2024-02-29"), "2024-03-01T00:00:00.000");
        assert_eq!(end("2024-02-29T23:59Z"), "2024-03-01T00:00:00.000");
        assert_eq!(end("2024-02-29T23:59:59"), "2024-03-01T00:00:00.000");
        assert_eq!(end("2024-02-29T23:59:59.999"), "2024-03-01T00:00:00.000");
        assert_eq!(end("2024-03-01T00:30+01:00"), "2024-02-29T23:31:00.000");
    }
}
