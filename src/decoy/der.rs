//! DER (X.690) as the SPNEGO and CredSSP parsers read and write it: one element's
//! header and content read from attacker bytes with every length checked (definite
//! lengths of at most four octets, single-byte tags), nesting checked to a cap, and
//! elements written with minimal definite lengths.

/// Why bytes are not the DER expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("truncated")]
    Truncated,
    #[error("unexpected tag")]
    BadTag,
    #[error("length indefinite or longer than four octets")]
    TooLong,
    #[error("nested too deeply")]
    TooDeep,
}

/// The constructed bit of a tag.
pub const CONSTRUCTED: u8 = 0x20;

/// One element: its tag and content bytes.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub body: &'a [u8],
}

/// The header at the start of `buf`: (tag, content length, header length), or None
/// when `buf` ends inside it.
pub fn header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, DerError> {
    let Some(&tag) = buf.first() else { return Ok(None) };
    if tag & 0x1f == 0x1f {
        return Err(DerError::BadTag);
    }
    let Some(&first) = buf.get(1) else { return Ok(None) };
    if first < 0x80 {
        return Ok(Some((tag, usize::from(first), 2)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return Err(DerError::TooLong);
    }
    let Some(octets) = buf.get(2..2 + count) else { return Ok(None) };
    let length = octets.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    Ok(Some((tag, usize::try_from(length).map_err(|_| DerError::TooLong)?, 2 + count)))
}

/// The element at the start of `buf`, and the bytes after it.
pub fn read_tlv(buf: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (tag, length, start) = header(buf)?.ok_or(DerError::Truncated)?;
    let end = start.checked_add(length).ok_or(DerError::Truncated)?;
    let body = buf.get(start..end).ok_or(DerError::Truncated)?;
    let rest = buf.get(end..).ok_or(DerError::Truncated)?;
    Ok((Tlv { tag, body }, rest))
}

/// Checks that `buf` is a series of well-formed elements at `depth`, descending into
/// constructed ones (each byte read once per level), deeper than `max_depth` refused.
pub fn check_nesting(mut buf: &[u8], depth: usize, max_depth: usize) -> Result<(), DerError> {
    while !buf.is_empty() {
        if depth > max_depth {
            return Err(DerError::TooDeep);
        }
        let (tlv, rest) = read_tlv(buf)?;
        if tlv.tag & CONSTRUCTED != 0 {
            check_nesting(tlv.body, depth + 1, max_depth)?;
        }
        buf = rest;
    }
    Ok(())
}

/// One element: `tag`, the minimal definite length, `body`.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(tag);
    match u8::try_from(body.len()) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let octets: Vec<u8> = (body.len() as u64).to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | octets.len() as u8);
            out.extend_from_slice(&octets);
        }
    }
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_written_minimally_and_read_back() {
        for len in [0usize, 1, 127, 128, 255, 256, 65_535, 70_000] {
            let body = vec![7u8; len];
            let e = tlv(0x04, &body);
            let (t, rest) = read_tlv(&e).unwrap();
            assert_eq!((t.tag, t.body.len(), rest.len()), (0x04, len, 0));
            assert_eq!(
                e.len() - len,
                if len < 128 {
                    2
                } else if len < 256 {
                    3
                } else if len < 65_536 {
                    4
                } else {
                    5
                }
            );
        }
        assert_eq!(read_tlv(&[0x30, 0x80]).unwrap_err(), DerError::TooLong);
        assert_eq!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).unwrap_err(), DerError::TooLong);
        assert_eq!(read_tlv(&[0x1f, 0x01, 0]).unwrap_err(), DerError::BadTag);
        assert_eq!(read_tlv(&[0x04, 0x05, 1]).unwrap_err(), DerError::Truncated);
        assert_eq!(header(&[0x30, 0x82, 0x01]).unwrap(), None);
        let deep = (0..10).fold(Vec::new(), |inner, _| tlv(0x30, &inner));
        assert_eq!(check_nesting(&deep, 1, 8).unwrap_err(), DerError::TooDeep);
        assert!(check_nesting(&deep, 1, 10).is_ok());
    }
}
