//! Credentials that look exactly like the real thing, from a CSPRNG.
//!
//! `rand::rng()` is a ChaCha-based generator reseeded from the operating system.

use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

const ONSETS: &[&str] = &["b", "br", "d", "f", "g", "k", "kr", "l", "m", "n", "p", "pl", "r", "s", "st", "t", "tr", "v", "z"];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "io"];
const CODAS: &[&str] = &["", "", "n", "r", "s", "l", "m", "x"];
const SYMBOLS: &[u8] = b"!#%&*+=?@";

/// Service-account names as hospitals name them.
const USERNAMES: &[&str] = &[
    "svc_backup",
    "svc_pacs",
    "pacsadmin",
    "risadmin",
    "svc_hl7",
    "labsync",
    "svc_veeam",
    "dcmadmin",
    "svc_ris",
    "imaging",
    "ehr_batch",
    "svc_sql",
    "nessus_scan",
    "radadmin",
    "svc_print",
];

/// A password that a person could type from memory but that has over 64 bits of
/// entropy: three pronounceable syllable pairs, two digits and a symbol,
/// e.g. `Trevolka-Mistan-Baiper47!`.
pub fn password(rng: &mut impl Rng) -> String {
    let mut words = Vec::with_capacity(3);
    for _ in 0..3 {
        let mut w = String::new();
        for _ in 0..2 {
            for part in [ONSETS, VOWELS, CODAS] {
                w.push_str(part.choose(rng).copied().unwrap_or(""));
            }
        }
        let mut chars = w.chars();
        let cap: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
        words.push(cap);
    }
    let symbol = char::from(*SYMBOLS.choose(rng).unwrap_or(&b'!'));
    format!("{}{:02}{symbol}", words.join("-"), rng.random_range(0..100))
}

/// A believable service-account username.
pub fn username(rng: &mut impl Rng) -> String {
    USERNAMES.choose(rng).copied().unwrap_or("svc_backup").to_string()
}

/// A Windows service account as domain admins name them (`svc_` and a role).
pub fn windows_username(rng: &mut impl Rng) -> String {
    let svc: Vec<&str> = USERNAMES.iter().copied().filter(|u| u.starts_with("svc_")).collect();
    let name = svc.choose(rng).copied().unwrap_or("svc_backup");
    // Numbered like a second instance half of the time (`svc_pacs02`): fewer clashes
    // between tokens, each of which owns its account name.
    match rng.random_range(0..20u8) {
        n @ 1..=9 => format!("{name}0{n}"),
        _ => name.to_string(),
    }
}

fn from_alphabet(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
}

const AWS_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const AWS_SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// An AWS long-term access key id: `AKIA` and 16 characters of AWS's base-32 alphabet.
pub fn aws_access_key_id(rng: &mut impl Rng) -> String {
    format!("AKIA{}", from_alphabet(rng, AWS_ID_ALPHABET, 16))
}

/// An AWS secret access key: 40 base-64 characters.
pub fn aws_secret_access_key(rng: &mut impl Rng) -> String {
    from_alphabet(rng, AWS_SECRET_ALPHABET, 40)
}

/// A GitLab-style personal access token (`glpat-` and 20 characters), a format
/// common in hospitals' self-hosted tooling.
pub fn bearer(rng: &mut impl Rng) -> String {
    format!("glpat-{}", from_alphabet(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 20))
}

/// A canary URL path that looks like a document link on an intranet.
pub fn url_path(rng: &mut impl Rng, image: bool) -> String {
    const DIRS: &[&str] = &["docs", "share", "reports", "policies", "downloads"];
    const FILES: &[&str] = &["rota.pdf", "handover.docx", "network-diagram.pdf", "passwords.xlsx", "vpn-setup.pdf"];
    if image {
        const IMAGES: &[&str] = &["spacer.gif", "logo.gif", "t.gif", "pixel.gif"];
        let file = IMAGES.choose(rng).copied().unwrap_or("t.gif");
        return format!("/static/img/{}/{file}", from_alphabet(rng, BASE62, 22));
    }
    let dir = DIRS.choose(rng).copied().unwrap_or("docs");
    let file = FILES.choose(rng).copied().unwrap_or("rota.pdf");
    format!("/{dir}/{}/{file}", from_alphabet(rng, BASE62, 22))
}

/// A short, unique-enough token id for people to type: `tok-` and 10 base-32 characters.
pub fn token_id(rng: &mut impl Rng) -> String {
    format!("tok-{}", from_alphabet(rng, b"abcdefghijkmnpqrstuvwxyz23456789", 10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn aws_keys_match_the_documented_formats() {
        let mut rng = rand::rng();
        for _ in 0..5_000 {
            let id = aws_access_key_id(&mut rng);
            assert!(id.len() == 20 && id.starts_with("AKIA"));
            assert!(id[4..].bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)), "{id}");
            let secret = aws_secret_access_key(&mut rng);
            assert_eq!(secret.len(), 40);
            assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'), "{secret}");
        }
    }

    #[test]
    fn no_secret_repeats_across_many_draws() {
        let mut rng = rand::rng();
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            assert!(seen.insert(password(&mut rng)));
            assert!(seen.insert(aws_secret_access_key(&mut rng)));
            assert!(seen.insert(aws_access_key_id(&mut rng)));
            assert!(seen.insert(bearer(&mut rng)));
            assert!(seen.insert(url_path(&mut rng, false)));
        }
    }

    #[test]
    fn passwords_are_typeable_and_long() {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let p = password(&mut rng);
            assert!(p.len() >= 16 && p.is_ascii() && !p.contains(' '), "{p}");
        }
    }
}
