//! A static file's conditional and range requests, answered as nginx answers them:
//! If-Unmodified-Since and If-Match can fail the request (412); If-None-Match and
//! If-Modified-Since (an exact date, nginx's default) can spare the body (304); a
//! `Range` of bytes gives one part (206 with Content-Range), several parts
//! (`multipart/byteranges`), or nothing satisfiable (416), unless If-Range says the
//! file changed or the parts add up to more than the file (then the whole file).
//! Pure functions over header values, so every case is a table row.

/// What a static file's request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with the whole file.
    Full,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
    /// 206 with these parts, each `[start, end)`.
    Partial(Vec<(u64, u64)>),
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// A file's validators as sent in Last-Modified and ETag.
pub struct Validators<'a> {
    pub etag: &'a str,
    pub modified_unix: i64,
}

/// The request headers that matter, as received.
#[derive(Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a [u8]>,
    pub if_unmodified_since: Option<&'a [u8]>,
    pub if_none_match: Option<&'a [u8]>,
    pub if_modified_since: Option<&'a [u8]>,
    pub if_range: Option<&'a [u8]>,
    pub range: Option<&'a [u8]>,
}

/// Unix seconds of an HTTP date (IMF-fixdate), None if it is not one.
fn http_time(value: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(value).ok()?.trim();
    chrono::NaiveDateTime::parse_from_str(text, "%a, %d %b %Y %H:%M:%S GMT").ok().map(|t| t.and_utc().timestamp())
}

/// Whether an If-Match / If-None-Match list names `etag` (`*` names any); `weak`
/// comparison ignores a `W/` prefix on either side.
fn names(list: &[u8], etag: &str, weak: bool) -> bool {
    fn strip(t: &[u8], weak: bool) -> &[u8] {
        if weak {
            t.strip_prefix(b"W/").unwrap_or(t)
        } else {
            t
        }
    }
    let ours = strip(etag.as_bytes(), weak);
    if !weak && ours.starts_with(b"W/") {
        return false;
    }
    list.split(|&b| b == b',').map(<[u8]>::trim_ascii).any(|t| t == b"*" || strip(t, weak) == ours)
}

/// The outcome for a file of `len` bytes.
pub fn decide(c: &Conditions<'_>, v: &Validators<'_>, len: u64) -> Outcome {
    if let Some(since) = c.if_unmodified_since {
        if http_time(since).is_none_or(|t| t < v.modified_unix) {
            return Outcome::PreconditionFailed;
        }
    }
    if c.if_match.is_some_and(|list| !names(list, v.etag, false)) {
        return Outcome::PreconditionFailed;
    }
    if c.if_modified_since.is_some() || c.if_none_match.is_some() {
        let unmodified_since = c.if_modified_since.is_none_or(|since| http_time(since) == Some(v.modified_unix));
        let matches = c.if_none_match.is_none_or(|list| names(list, v.etag, true));
        if unmodified_since && matches {
            return Outcome::NotModified;
        }
    }
    let Some(range) = c.range else { return Outcome::Full };
    if let Some(if_range) = c.if_range {
        let same = if if_range.starts_with(b"\"") { if_range.trim_ascii() == v.etag.as_bytes() } else { http_time(if_range) == Some(v.modified_unix) };
        if !same {
            return Outcome::Full;
        }
    }
    match range.get(..6) {
        Some(unit) if unit.eq_ignore_ascii_case(b"bytes=") => ranges(&range[6..], len),
        _ => Outcome::Full,
    }
}

/// Parses the byte ranges after `bytes=`: spaces allowed around numbers, suffix
/// ranges (`-N`), open ranges (`N-`), ends past the file cut to it.
fn ranges(spec: &[u8], len: u64) -> Outcome {
    let mut at = 0;
    let skip_spaces = |at: &mut usize| {
        while spec.get(*at) == Some(&b' ') {
            *at += 1;
        }
    };
    let number = |at: &mut usize| -> Option<u64> {
        let start = *at;
        let mut n: u64 = 0;
        while let Some(d) = spec.get(*at).filter(|b| b.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            *at += 1;
        }
        (*at > start).then_some(n)
    };
    let (mut parts, mut total) = (Vec::new(), 0u64);
    loop {
        skip_spaces(&mut at);
        let (start, end);
        if spec.get(at) == Some(&b'-') {
            at += 1;
            let Some(suffix) = number(&mut at) else { return Outcome::Unsatisfiable };
            (start, end) = (len.saturating_sub(suffix), len);
        } else {
            let Some(first) = number(&mut at) else { return Outcome::Unsatisfiable };
            skip_spaces(&mut at);
            if spec.get(at) != Some(&b'-') {
                return Outcome::Unsatisfiable;
            }
            at += 1;
            skip_spaces(&mut at);
            if matches!(spec.get(at), None | Some(b',')) {
                (start, end) = (first, len);
            } else {
                let Some(last) = number(&mut at) else { return Outcome::Unsatisfiable };
                (start, end) = (first, if last >= len { len } else { last + 1 });
            }
        }
        skip_spaces(&mut at);
        if !matches!(spec.get(at), None | Some(b',')) {
            return Outcome::Unsatisfiable;
        }
        if start < end {
            parts.push((start, end));
            total += end - start;
        } else if start == 0 {
            return Outcome::Full;
        }
        if spec.get(at) != Some(&b',') {
            break;
        }
        at += 1;
    }
    match parts.len() {
        0 => Outcome::Unsatisfiable,
        _ if total > len => Outcome::Full,
        _ => Outcome::Partial(parts),
    }
}

/// The `Content-Range` of one part.
pub fn content_range((start, end): (u64, u64), len: u64) -> String {
    format!("bytes {start}-{}/{len}", end - 1)
}

/// A `multipart/byteranges` body of `parts` of `body`.
pub fn multipart(boundary: &str, content_type: &str, body: &[u8], parts: &[(u64, u64)]) -> Vec<u8> {
    let len = body.len() as u64;
    let mut out = Vec::new();
    for &(start, end) in parts {
        out.extend_from_slice(
            format!("\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n", content_range((start, end), len)).as_bytes(),
        );
        out.extend_from_slice(&body[start as usize..end as usize]);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"6b13d9d8-267\"";
    const WHEN: &str = "Sat, 05 Dec 2026 09:31:04 GMT";

    fn outcome(c: Conditions<'_>) -> Outcome {
        let modified_unix = http_time(WHEN.as_bytes()).unwrap();
        decide(&c, &Validators { etag: ETAG, modified_unix }, 615)
    }

    fn range(spec: &str) -> Outcome {
        outcome(Conditions { range: Some(spec.as_bytes()), ..Default::default() })
    }

    #[test]
    fn table_of_ranges_as_nginx_answers_them() {
        use Outcome::*;
        for (spec, want) in [
            ("bytes=0-9", Partial(vec![(0, 10)])),
            ("bytes=-5", Partial(vec![(610, 615)])),
            ("bytes=600-", Partial(vec![(600, 615)])),
            ("bytes=0-700", Partial(vec![(0, 615)])),
            ("bytes= 0-1", Partial(vec![(0, 2)])),
            ("BYTES=0-1", Partial(vec![(0, 2)])),
            ("bytes=0-1,5-6", Partial(vec![(0, 2), (5, 7)])),
            ("bytes=9999-", Unsatisfiable),
            ("bytes=5-2", Unsatisfiable),
            ("bytes=abc", Unsatisfiable),
            ("bytes=0-1,,5-6", Unsatisfiable),
            ("bytes=0-400,300-600", Full),
            ("items=0-5", Full),
            ("bytes=99999999999999999999999-", Unsatisfiable),
        ] {
            assert_eq!(range(spec), want, "{spec}");
        }
    }

    #[test]
    fn table_of_conditions_as_nginx_answers_them() {
        use Outcome::*;
        let c = |f: fn(&mut Conditions<'static>)| {
            let mut c = Conditions::default();
            f(&mut c);
            outcome(c)
        };
        assert_eq!(c(|c| c.if_none_match = Some(b"\"6b13d9d8-267\"")), NotModified);
        assert_eq!(c(|c| c.if_none_match = Some(b"W/\"6b13d9d8-267\", \"x\"")), NotModified);
        assert_eq!(c(|c| c.if_none_match = Some(b"*")), NotModified);
        assert_eq!(c(|c| c.if_none_match = Some(b"\"other\"")), Full);
        assert_eq!(c(|c| c.if_modified_since = Some(WHEN.as_bytes())), NotModified);
        assert_eq!(c(|c| c.if_modified_since = Some(b"Sat, 05 Dec 2026 09:31:05 GMT")), Full, "exact, not later");
        assert_eq!(c(|c| c.if_match = Some(b"\"nope\"")), PreconditionFailed);
        assert_eq!(c(|c| c.if_match = Some(b"*")), Full);
        assert_eq!(c(|c| c.if_unmodified_since = Some(b"Sat, 01 Jan 2000 00:00:00 GMT")), PreconditionFailed);
        assert_eq!(c(|c| c.if_unmodified_since = Some(WHEN.as_bytes())), Full);
        assert_eq!(
            c(|c| {
                c.range = Some(b"bytes=0-3");
                c.if_range = Some(b"\"6b13d9d8-267\"");
            }),
            Partial(vec![(0, 4)])
        );
        assert_eq!(
            c(|c| {
                c.range = Some(b"bytes=0-3");
                c.if_range = Some(b"\"nope\"");
            }),
            Full
        );
    }

    #[test]
    fn a_multipart_body_has_each_part_with_its_range_and_a_closing_boundary() {
        let body = b"<!DOCTYPE html>";
        let out = multipart("00000000000000000001", "text/html", body, &[(0, 2), (5, 7)]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\r\n--00000000000000000001\r\nContent-Type: text/html\r\nContent-Range: bytes 0-1/15\r\n\r\n<!\r\n--00000000000000000001\r\nContent-Type: text/html\r\nContent-Range: bytes 5-6/15\r\n\r\nTY\r\n--00000000000000000001--\r\n"
        );
    }
}
