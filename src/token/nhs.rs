//! NHS numbers in the never-issued 999 range, with a valid modulus-11 check digit.

use rand::{Rng, RngExt};

/// The check digit of the first nine digits, or `None` when the weighted sum leaves
/// remainder 1 (no valid number has those nine digits).
pub fn check_digit(first9: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first9.iter().enumerate().map(|(i, d)| u32::from(*d) * (10 - i as u32)).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        d => Some(d as u8),
    }
}

/// True for ten digits whose last is the correct check digit.
pub fn is_valid(number: &str) -> bool {
    let digits: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    if digits.len() != 10 || number.bytes().any(|b| !b.is_ascii_digit() && b != b' ') {
        return false;
    }
    let mut first9 = [0u8; 9];
    first9.copy_from_slice(&digits[..9]);
    check_digit(&first9) == Some(digits[9])
}

/// A random valid NHS number starting 999 (never issued to a real patient).
pub fn generate(rng: &mut impl Rng) -> String {
    loop {
        let mut first9 = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
        for d in first9.iter_mut().skip(3) {
            *d = rng.random_range(0..10);
        }
        if let Some(check) = check_digit(&first9) {
            return first9.iter().chain(std::iter::once(&check)).map(|d| char::from(b'0' + d)).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers_check_out() {
        // Published example of a valid test number, and one with a wrong check digit.
        assert!(is_valid("9434765919"));
        assert!(!is_valid("9434765918"));
        assert!(!is_valid("943476591"));
        assert!(!is_valid("94347659x9"));
    }

    #[test]
    fn every_generated_number_is_in_the_999_range_and_valid() {
        let mut rng = rand::rng();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let n = generate(&mut rng);
            assert!(n.starts_with("999") && n.len() == 10 && is_valid(&n), "{n}");
            seen.insert(n);
        }
        assert!(seen.len() > 19_000, "numbers should rarely repeat");
    }
}
