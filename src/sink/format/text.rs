//! Allocation-free text for the envelope's scalars: integers, RFC 3339 times, IP
//! addresses and event ids, appended straight to an encoder's output.
//!
//! Why: every encoder writes these for every event, and the obvious `to_string()` /
//! `format!` / `Timestamp::to_rfc3339` each allocate a `String` that is freed a
//! moment later; at half a million events a second those allocations were a large
//! share of the encoders' time. Everything written here is plain ASCII that needs no
//! escaping in any of our formats.

use std::fmt;
use std::net::IpAddr;

use chrono::{Datelike, Timelike};

use crate::event::{EventId, Timestamp};

/// Where the functions below append: the encoder's output, or a [`Scratch`].
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
    fn put_byte(&mut self, b: u8) {
        self.put(&[b]);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// Appends `n` in decimal.
pub fn push_u64(out: &mut impl Sink, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put(&buf[i..]);
}

/// Appends `n` in decimal, with a leading `-` when negative.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends `n` as exactly `width` digits (zero-padded; `n` must fit).
fn push_padded(out: &mut Vec<u8>, n: u32, width: usize) {
    let mut buf = [b'0'; 6];
    let mut n = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// Appends the time exactly as [`Timestamp::to_rfc3339`] writes it
/// (`2026-11-28T14:55:00.123456Z`), without allocating for years 0–9999. Other years
/// (chrono writes them with a sign) take the allocating path, so the text is the same.
pub fn push_rfc3339(out: &mut Vec<u8>, t: Timestamp) {
    let Some(dt) = chrono::DateTime::from_timestamp_micros(t.as_micros()) else {
        out.extend_from_slice(t.to_rfc3339().as_bytes());
        return;
    };
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(t.to_rfc3339().as_bytes());
        return;
    }
    push_padded(out, year as u32, 4);
    out.push(b'-');
    push_padded(out, dt.month(), 2);
    out.push(b'-');
    push_padded(out, dt.day(), 2);
    out.push(b'T');
    push_padded(out, dt.hour(), 2);
    out.push(b':');
    push_padded(out, dt.minute(), 2);
    out.push(b':');
    push_padded(out, dt.second(), 2);
    out.push(b'.');
    push_padded(out, dt.timestamp_subsec_micros() % 1_000_000, 6);
    out.push(b'Z');
}

/// Appends the address as `Display` writes it (`203.0.113.9`, `::1`).
pub fn push_ip(out: &mut impl Sink, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.put_byte(b'.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let mut s = Scratch::<48>::new();
            // Writing an address into 48 bytes cannot fail (the longest is 45).
            let _ = fmt::Write::write_fmt(&mut s, format_args!("{v6}"));
            out.put(s.as_str().as_bytes());
        }
    }
}

/// Appends the canonical hyphenated id.
pub fn push_id(out: &mut Vec<u8>, id: EventId) {
    let mut buf = [0u8; 36];
    out.extend_from_slice(id.encode(&mut buf).as_bytes());
}

/// A short string formatted on the stack (`write!` into it), for values that are
/// only needed for the duration of one call. Text past `N` bytes is refused.
pub struct Scratch<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Scratch<N> {
    pub fn new() -> Self {
        Scratch { buf: [0; N], len: 0 }
    }

    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this is always valid UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes past `N` are dropped (callers size `N` for the longest text they write).
impl<const N: usize> Sink for Scratch<N> {
    fn put(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }
}

impl<const N: usize> fmt::Write for Scratch<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_to_rfc3339_across_the_range() {
        use rand::RngExt;
        let mut rng = rand::rng();
        let fixed = [
            0,
            -1,
            1,
            1_764_341_700_123_456,
            -62_135_596_800_000_000,
            253_402_300_799_999_999,
            253_402_300_800_000_000,
            -62_135_596_800_000_001,
            i64::MIN,
            i64::MAX,
        ];
        let random = (0..20_000).map(|_| rng.random_range(-70_000_000_000_000_000i64..300_000_000_000_000_000));
        for us in fixed.into_iter().chain(random) {
            let t = Timestamp::from_micros(us);
            let mut out = Vec::new();
            push_rfc3339(&mut out, t);
            assert_eq!(String::from_utf8(out).unwrap(), t.to_rfc3339(), "{us}");
        }
    }

    #[test]
    fn numbers_and_addresses_match_display() {
        for n in [0u64, 9, 10, 99, 100, 65535, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        for n in [0i64, -1, -10, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        for ip in
            ["0.0.0.0", "203.0.113.9", "255.255.255.255", "::1", "::", "::ffff:10.1.2.3", "2001:db8::8a2e:370:7334", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
        {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string().as_bytes());
            let mut s = Scratch::<48>::new();
            push_ip(&mut s, ip);
            assert_eq!(s.as_str(), ip.to_string());
        }
    }
}
