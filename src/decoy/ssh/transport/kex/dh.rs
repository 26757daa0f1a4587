//! Finite-field Diffie-Hellman for the fixed groups and group exchange (RFC 4419),
//! on crypto-bigint's constant-time Montgomery exponentiation. Group exchange picks a
//! prime from the host's moduli file the way OpenSSH's `choose_dh` does: among the
//! safe primes within [min, max], the smallest size above the wanted one (else the
//! largest below it), one of those at random; the fixed groups when none fits.

use std::sync::Arc;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};

use super::primes;
use super::KexError;

/// OpenSSH's bounds on group-exchange sizes (DH_GRP_MIN, DH_GRP_MAX).
pub const GEX_MIN_BITS: u32 = 2048;
pub const GEX_MAX_BITS: u32 = 8192;

/// A prime-order-ish MODP group: prime `p`, generator `g`.
pub struct Group {
    pub p: Vec<u8>,
    pub g: Vec<u8>,
    bits: u32,
    params: BoxedMontyParams,
    precision: u32,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Group({} bits, g={:?})", self.bits, self.g)
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Group {
    /// A group from big-endian `p` and `g`; None unless p is odd and g in range.
    pub fn new(p: Vec<u8>, g: Vec<u8>) -> Option<Self> {
        let start = p.iter().position(|&b| b != 0)?;
        let p = p[start..].to_vec();
        let bits = (p.len() as u32) * 8 - p[0].leading_zeros();
        let precision = (p.len() as u32 * 8).next_multiple_of(64);
        let modulus = Odd::new(BoxedUint::from_be_slice(&p, precision).ok()?).into_option()?;
        Some(Group { params: BoxedMontyParams::new(modulus), p, g, bits, precision })
    }

    fn fixed(hex_lines: &[&str]) -> Self {
        let p = hex(&hex_lines.concat()).unwrap_or_default();
        Group::new(p, vec![2]).unwrap_or_else(|| unreachable!("the fixed primes are odd"))
    }

    /// The prime's size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    fn uint(&self, b: &[u8]) -> Option<BoxedUint> {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        BoxedUint::from_be_slice(&b[start..], self.precision).ok()
    }

    /// The server's half: a private exponent of `exponent_bits` bits, `f = g^x`, and
    /// `K = e^x`, after checking the client's `e` (1 < e < p - 1, at least 4 bits set).
    pub fn exchange(&self, e: &[u8], exponent_bits: u32) -> Result<(Vec<u8>, Vec<u8>), KexError> {
        let e_int = self.uint(e).ok_or(KexError::InvalidPublic)?;
        let p_int = self.uint(&self.p).ok_or(KexError::InvalidPublic)?;
        let one = BoxedUint::one_with_precision(self.precision);
        let p_minus_1 = p_int.wrapping_sub(&one);
        // OpenSSH also refuses values with fewer than 4 bits set (trivial logarithms).
        let bits_set: u32 = e.iter().map(|b| b.count_ones()).sum();
        if e_int <= one || e_int >= p_minus_1 || bits_set < 4 {
            return Err(KexError::InvalidPublic);
        }
        let bits = exponent_bits.clamp(256, self.bits - 1);
        let mut x_bytes = vec![0u8; bits.div_ceil(8) as usize];
        rand::fill(&mut x_bytes[..]);
        let excess = x_bytes.len() as u32 * 8 - bits;
        x_bytes[0] &= 0xff >> excess;
        x_bytes[0] |= 0x80 >> excess; // a full-length exponent
        let x = BoxedUint::from_be_slice(&x_bytes, self.precision).map_err(|_| KexError::InvalidPublic)?;
        let g = self.uint(&self.g).ok_or(KexError::InvalidPublic)?;
        let f = BoxedMontyForm::new(g, &self.params).pow_bounded_exp(&x, bits).retrieve();
        let k = BoxedMontyForm::new(e_int, &self.params).pow_bounded_exp(&x, bits).retrieve();
        Ok((f.to_be_bytes().to_vec(), k.to_be_bytes().to_vec()))
    }
}

/// The fixed groups, built once.
pub struct FixedGroups {
    pub group1: Arc<Group>,
    pub group14: Arc<Group>,
    pub group16: Arc<Group>,
    pub group18: Arc<Group>,
}

impl FixedGroups {
    pub fn get() -> &'static FixedGroups {
        static GROUPS: std::sync::OnceLock<FixedGroups> = std::sync::OnceLock::new();
        GROUPS.get_or_init(|| FixedGroups {
            group1: Arc::new(Group::fixed(primes::GROUP1)),
            group14: Arc::new(Group::fixed(primes::GROUP14)),
            group16: Arc::new(Group::fixed(primes::GROUP16)),
            group18: Arc::new(Group::fixed(primes::GROUP18)),
        })
    }

    /// OpenSSH's fallback when the moduli file has nothing in range: by `max`.
    pub fn fallback(&self, max: u32) -> Arc<Group> {
        if max < 3072 {
            Arc::clone(&self.group14)
        } else if max < 6144 {
            Arc::clone(&self.group16)
        } else {
            Arc::clone(&self.group18)
        }
    }
}

/// Safe primes from a moduli file (`/etc/ssh/moduli` format).
#[derive(Default)]
pub struct Moduli {
    /// (size in bits as OpenSSH counts it: the file's field + 1, group).
    entries: Vec<(u32, Arc<Group>)>,
}

impl Moduli {
    /// Parses moduli text; lines that are not usable safe primes are skipped, as
    /// OpenSSH skips them.
    pub fn parse(text: &str) -> Self {
        let entries = text.lines().filter_map(parse_line).collect();
        Moduli { entries }
    }

    /// Reads a moduli file; a missing or unreadable file gives an empty set (OpenSSH
    /// then uses its fallback groups).
    pub fn load(path: &std::path::Path) -> Self {
        std::fs::read_to_string(path).map(|t| Self::parse(&t)).unwrap_or_default()
    }

    /// How many primes were read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no prime was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The group OpenSSH would send for a (clamped) request.
    pub fn choose(&self, min: u32, wanted: u32, max: u32) -> Arc<Group> {
        let mut best = 0u32;
        for &(size, _) in &self.entries {
            if size > max || size < min {
                continue;
            }
            if (size > wanted && size < best) || (size > best && best < wanted) {
                best = size;
            }
        }
        let candidates: Vec<&Arc<Group>> = self.entries.iter().filter(|(s, _)| *s == best && best != 0).map(|(_, g)| g).collect();
        if candidates.is_empty() {
            return FixedGroups::get().fallback(max);
        }
        Arc::clone(candidates[rand::random_range(0..candidates.len())])
    }
}

/// One moduli line: `time type tests tries size generator modulus`. Only safe
/// primes (type 2), tested and not marked composite (tests bit 0x01), with trials.
fn parse_line(line: &str) -> Option<(u32, Arc<Group>)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = line.split_whitespace().collect();
    let [_time, kind, tests, tries, size, generator, modulus] = f.as_slice() else { return None };
    let kind: u32 = kind.parse().ok()?;
    let tests: u32 = tests.parse().ok()?;
    let tries: u32 = tries.parse().ok()?;
    let size: u32 = size.parse::<u32>().ok()?.checked_add(1)?;
    let generator: u32 = u32::from_str_radix(generator, 16).ok()?;
    if kind != 2 || tests & 0x01 != 0 || tests & !0x01 == 0 || tries == 0 || generator < 2 || !(512..=16384).contains(&size) {
        return None;
    }
    let p = hex(if modulus.len() % 2 == 1 { return None } else { modulus })?;
    let g = generator.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
    let group = Group::new(p, g)?;
    (group.bits() == size).then(|| (size, Arc::new(group)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_primes_have_the_rfc_shape() {
        let groups = FixedGroups::get();
        for (g, bits) in [(&groups.group1, 1024), (&groups.group14, 2048), (&groups.group16, 4096), (&groups.group18, 8192)] {
            assert_eq!(g.bits(), bits);
            assert!(g.p[..8].iter().all(|&b| b == 0xff) && g.p[g.p.len() - 8..].iter().all(|&b| b == 0xff));
            assert_eq!(&g.p[8..12], &[0xc9, 0x0f, 0xda, 0xa2], "pi's binary digits follow");
        }
        assert_eq!(groups.fallback(2048).bits(), 2048);
        assert_eq!(groups.fallback(4096).bits(), 4096);
        assert_eq!(groups.fallback(8192).bits(), 8192);
    }

    #[test]
    fn both_sides_of_an_exchange_agree() {
        let group = &FixedGroups::get().group14;
        // The client's side with a small exponent: e = 2^y.
        let y = BoxedUint::from_be_slice(&[0x12, 0x34, 0x56, 0x78, 0x9a], group.precision).unwrap();
        let g = group.uint(&group.g).unwrap();
        let e = BoxedMontyForm::new(g, &group.params).pow(&y).retrieve().to_be_bytes().to_vec();
        let (f, k) = group.exchange(&e, 512).unwrap();
        let f_int = group.uint(&f).unwrap();
        let k_client = BoxedMontyForm::new(f_int, &group.params).pow(&y).retrieve().to_be_bytes().to_vec();
        assert_eq!(k, k_client);
        for bad in [vec![0u8], vec![1], group.p.clone(), vec![0x80; 400]] {
            assert_eq!(group.exchange(&bad, 512).unwrap_err(), KexError::InvalidPublic);
        }
    }

    #[test]
    fn group_exchange_chooses_like_openssh() {
        let g14 = FixedGroups::get().group14.p.iter().map(|b| format!("{b:02X}")).collect::<String>();
        let g16 = FixedGroups::get().group16.p.iter().map(|b| format!("{b:02X}")).collect::<String>();
        let text = format!("# comment\n20230101000000 2 6 100 2047 2 {g14}\n20230101000000 2 6 100 4095 5 {g16}\n20230101000000 2 5 100 4095 2 {g16}\n");
        let moduli = Moduli::parse(&text);
        assert_eq!(moduli.len(), 2, "the composite-marked line is skipped");
        assert_eq!(moduli.choose(2048, 2048, 8192).bits(), 2048);
        assert_eq!(moduli.choose(2048, 3072, 8192).bits(), 4096, "smallest above the wanted size");
        assert_eq!(moduli.choose(2048, 8192, 8192).bits(), 4096, "largest below when none is above");
        assert_eq!(moduli.choose(4096, 8192, 8192).g, vec![5]);
        assert_eq!(moduli.choose(6000, 7000, 8192).bits(), 8192, "fallback group by max");
        assert_eq!(Moduli::default().choose(2048, 2048, 2048).bits(), 2048);
    }
}
