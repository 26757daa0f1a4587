//! Comparing secrets (signatures, MACs, tokens) in time that depends only on their
//! lengths, so that an attacker timing the answers learns nothing of the right value.

/// Whether `a` and `b` are the same bytes.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bytes written as hex in a test, whitespace and other separators ignored.
#[cfg(test)]
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len()).step_by(2).filter_map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_bytes_are_the_same_and_any_difference_or_length_is_not() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
        assert_eq!(super::hex("0a 1B:ff"), vec![0x0a, 0x1b, 0xff]);
    }
}
