//! HPACK (RFC 7541) for the h2 decoy: a bounded decoder for the attacker's header
//! blocks, and an encoder that writes a response's headers the way nginx 1.22 does
//! (statically indexed names with incremental indexing for the headers nginx knows,
//! literal new names for the rest, Huffman only where it is shorter, no dynamic
//! table of its own). Huffman tables are the `octets` crate's.

use octets::OctetsWriter;

use super::table::{STATIC_TABLE, STATIC_TABLE_LEN};

/// The dynamic table size the decoder allows (the default; nginx does not announce another).
pub const TABLE_BYTES: usize = 4096;

/// Why a header block could not be decoded (a COMPRESSION_ERROR for the connection),
/// or was decoded past what the decoy accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    #[error("header block ends inside a field")]
    Truncated,
    #[error("integer longer than 32 bits")]
    IntegerOverflow,
    #[error("index {0} is in neither table")]
    BadIndex(u32),
    #[error("invalid Huffman string")]
    Huffman,
    #[error("table size update to {0} bytes, over the {TABLE_BYTES} allowed")]
    TableSize(u32),
    #[error("a literal with an empty new name")]
    EmptyName,
    #[error("a field longer than {0} bytes")]
    FieldTooLong(usize),
    #[error("the header list grows past {0} bytes")]
    ListTooLong(usize),
}

/// One decoded header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl Field {
    /// The size RFC 7541 §4.1 counts for a table entry and that limits a header list.
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + 32
    }
}

/// The connection's decoding context: its dynamic table, newest entry first.
pub struct Decoder {
    table: std::collections::VecDeque<Field>,
    table_bytes: usize,
    max_table_bytes: usize,
    /// Longest name or value accepted (nginx: one large header buffer).
    pub max_field_bytes: usize,
    /// Most bytes (by RFC 7541's count) a decoded header list may take.
    pub max_list_bytes: usize,
}

impl Decoder {
    pub fn new(max_field_bytes: usize, max_list_bytes: usize) -> Self {
        Decoder { table: Default::default(), table_bytes: 0, max_table_bytes: TABLE_BYTES, max_field_bytes, max_list_bytes }
    }

    /// Decodes one complete header block. The dynamic table is updated as the block
    /// says even when a limit stops the decoding, so later blocks can still be read.
    pub fn decode(&mut self, mut block: &[u8]) -> Result<Vec<Field>, HpackError> {
        let mut fields = Vec::new();
        let mut list_bytes = 0usize;
        while let Some(&byte) = block.first() {
            let field = if byte & 0x80 != 0 {
                let index = integer(&mut block, 7)?;
                self.get(index)?
            } else if byte & 0xc0 == 0x40 {
                let field = self.literal(&mut block, 6)?;
                self.insert(field.clone());
                field
            } else if byte & 0xe0 == 0x20 {
                // nginx takes a size update anywhere in a block.
                let size = integer(&mut block, 5)?;
                if size as usize > TABLE_BYTES {
                    return Err(HpackError::TableSize(size));
                }
                self.max_table_bytes = size as usize;
                self.evict(0);
                continue;
            } else {
                // Without indexing (0000) and never indexed (0001): a 4-bit prefix.
                self.literal(&mut block, 4)?
            };
            // nginx counts names and values, without RFC 7541's 32 per entry.
            list_bytes += field.name.len() + field.value.len();
            if list_bytes > self.max_list_bytes {
                return Err(HpackError::ListTooLong(self.max_list_bytes));
            }
            fields.push(field);
        }
        Ok(fields)
    }

    fn literal(&self, block: &mut &[u8], prefix: u8) -> Result<Field, HpackError> {
        let index = integer(block, prefix)?;
        let name = if index == 0 { self.string(block)? } else { self.get(index)?.name };
        if name.is_empty() {
            return Err(HpackError::EmptyName);
        }
        let value = self.string(block)?;
        Ok(Field { name, value })
    }

    fn string(&self, block: &mut &[u8]) -> Result<Vec<u8>, HpackError> {
        let huffman = block.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
        let len = integer(block, 7)? as usize;
        if block.len() < len {
            return Err(HpackError::Truncated);
        }
        // nginx limits the encoded length, Huffman-coded or not.
        if len > self.max_field_bytes {
            return Err(HpackError::FieldTooLong(self.max_field_bytes));
        }
        let (raw, rest) = block.split_at(len);
        *block = rest;
        if !huffman {
            return Ok(raw.to_vec());
        }
        // A Huffman code is at least 5 bits, so the length is bounded by the input.
        octets::Octets::with_slice(raw).get_huffman_decoded_with_max_length(raw.len() * 8 / 5 + 1).map_err(|_| HpackError::Huffman)
    }

    fn get(&self, index: u32) -> Result<Field, HpackError> {
        let i = index as usize;
        if i == 0 {
            return Err(HpackError::BadIndex(index));
        }
        if i <= STATIC_TABLE_LEN {
            let (name, value) = STATIC_TABLE[i - 1];
            return Ok(Field { name: name.as_bytes().to_vec(), value: value.as_bytes().to_vec() });
        }
        self.table.get(i - STATIC_TABLE_LEN - 1).cloned().ok_or(HpackError::BadIndex(index))
    }

    fn insert(&mut self, field: Field) {
        let size = field.size();
        self.evict(size);
        // An entry larger than the whole table empties it and is not kept (§4.4).
        if size <= self.max_table_bytes {
            self.table_bytes += size;
            self.table.push_front(field);
        }
    }

    /// Drops the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.table_bytes + room > self.max_table_bytes {
            match self.table.pop_back() {
                Some(old) => self.table_bytes -= old.size(),
                None => break,
            }
        }
    }
}

/// Reads an integer with an `prefix`-bit prefix (RFC 7541 §5.1) and, as nginx allows,
/// at most three more octets.
fn integer(block: &mut &[u8], prefix: u8) -> Result<u32, HpackError> {
    let (&first, mut rest) = block.split_first().ok_or(HpackError::Truncated)?;
    let max = (1u32 << prefix) - 1;
    let mut value = u32::from(first) & max;
    if value == max {
        let mut shift = 0u32;
        loop {
            let (&b, after) = rest.split_first().ok_or(HpackError::Truncated)?;
            rest = after;
            let part = u64::from(b & 0x7f) << shift;
            let sum = u64::from(value) + part;
            if shift > 14 || sum > u64::from(u32::MAX) {
                return Err(HpackError::IntegerOverflow);
            }
            value = sum as u32;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    *block = rest;
    Ok(value)
}

/// Writes `value` with a `prefix`-bit prefix, `flags` in the first byte's high bits.
pub fn put_integer(out: &mut Vec<u8>, flags: u8, prefix: u8, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// A `Vec` the `octets` Huffman encoder writes into.
struct Sink<'a>(&'a mut Vec<u8>);

impl OctetsWriter for Sink<'_> {
    type Error = std::convert::Infallible;
    fn put_bytes(&mut self, v: &[u8]) -> Result<(), Self::Error> {
        self.0.extend_from_slice(v);
        Ok(())
    }
}

/// Writes a string literal as nginx does: Huffman-coded when that is strictly
/// shorter, raw otherwise; `lower` lower-cases it first (names).
pub fn put_string(out: &mut Vec<u8>, s: &[u8], lower: bool) {
    let huffman_len =
        if lower { octets::huffman_encoding_len::<true>(s) } else { octets::huffman_encoding_len::<false>(s) }.ok().filter(|&n| n > 0 && n < s.len());
    match huffman_len {
        Some(n) => {
            put_integer(out, 0x80, 7, n);
            let _ = if lower { Sink(out).put_huffman_encoded::<true>(s) } else { Sink(out).put_huffman_encoded::<false>(s) };
        }
        None => {
            put_integer(out, 0, 7, s.len());
            out.extend(s.iter().map(|b| if lower { b.to_ascii_lowercase() } else { *b }));
        }
    }
}

/// Static table indices of the `:status` values nginx sends fully indexed.
fn status_index(status: u16) -> Option<u8> {
    Some(match status {
        200 => 8,
        204 => 9,
        206 => 10,
        304 => 11,
        400 => 12,
        404 => 13,
        500 => 14,
        _ => return None,
    })
}

/// The response headers nginx writes with a statically indexed name (and incremental
/// indexing): their static table index.
fn known_header(name: &str, value: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "server" => 54,
        "date" => 33,
        "content-type" => 31,
        "content-length" => 28,
        "last-modified" => 44,
        "location" => 46,
        // Only the one gzip adds; any other Vary is one of the "other" headers.
        "vary" if value == "Accept-Encoding" => 59,
        _ => return None,
    })
}

/// Encodes a response head as nginx 1.22 does: a table size update of 0 first when
/// `table_update` (the client announced a table size), then `:status`, then each
/// header in the order given.
pub fn encode_response(status: u16, headers: &[(String, String)], table_update: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum::<usize>());
    if table_update {
        out.push(0x20);
    }
    match status_index(status) {
        Some(index) => out.push(0x80 | index),
        None => {
            out.push(0x40 | 8);
            out.push(3);
            out.extend_from_slice(format!("{:03}", status % 1000).as_bytes());
        }
    }
    for (name, value) in headers {
        match known_header(name, value) {
            Some(28) => {
                // nginx prints the length and never Huffman-codes it.
                out.push(0x40 | 28);
                put_integer(&mut out, 0, 7, value.len());
                out.extend_from_slice(value.as_bytes());
            }
            Some(index) => {
                out.push(0x40 | index);
                put_string(&mut out, value.as_bytes(), false);
            }
            None => {
                out.push(0);
                put_string(&mut out, name.as_bytes(), true);
                put_string(&mut out, value.as_bytes(), false);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::secret_eq::hex;

    fn pairs(fields: &[Field]) -> Vec<(String, String)> {
        fields.iter().map(|f| (String::from_utf8_lossy(&f.name).into(), String::from_utf8_lossy(&f.value).into())).collect()
    }

    fn strs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn rfc7541_c3_requests_without_huffman_decode_with_a_shared_table() {
        let mut d = Decoder::new(8192, 32768);
        let one = d.decode(&hex("828684410f7777772e6578616d706c652e636f6d")).unwrap();
        assert_eq!(pairs(&one), strs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]));
        let two = d.decode(&hex("828684be58086e6f2d6361636865")).unwrap();
        assert_eq!(
            pairs(&two),
            strs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")])
        );
        let three = d.decode(&hex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565")).unwrap();
        assert_eq!(
            pairs(&three),
            strs(&[(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")])
        );
        assert_eq!(d.table_bytes, 164);
    }

    #[test]
    fn rfc7541_c4_huffman_request_decodes() {
        let mut d = Decoder::new(8192, 32768);
        let one = d.decode(&hex("828684418cf1e3c2e5f23a6ba0ab90f4ff")).unwrap();
        assert_eq!(pairs(&one), strs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]));
    }

    #[test]
    fn integers_round_trip_at_every_prefix_and_overlong_ones_fail() {
        for prefix in 1..=8u8 {
            for value in [0usize, 1, 30, 31, 126, 127, 128, 255, 1337, 65_535, 1 << 20] {
                let mut out = Vec::new();
                put_integer(&mut out, 0, prefix, value);
                let mut slice = &out[..];
                assert_eq!(integer(&mut slice, prefix).unwrap() as usize, value, "prefix {prefix}");
                assert!(slice.is_empty());
            }
        }
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix.
        let mut out = Vec::new();
        put_integer(&mut out, 0, 5, 1337);
        assert_eq!(out, [31, 154, 10]);
        assert_eq!(integer(&mut &[0x1f, 0xff, 0xff, 0xff, 0x01][..], 5), Err(HpackError::IntegerOverflow));
        assert_eq!(integer(&mut &[0x1f, 0xff, 0xff, 0x01][..], 5), Ok(31 + 127 + (127 << 7) + (1 << 14)));
        assert_eq!(integer(&mut &[0x1f, 0xff][..], 5), Err(HpackError::Truncated));
    }

    #[test]
    fn hostile_blocks_are_refused_not_expanded() {
        // An index past both tables, a table size over the default, an empty new name;
        // a size update after a field is taken, as nginx takes it.
        assert_eq!(Decoder::new(8192, 32768).decode(&[0xbe]), Err(HpackError::BadIndex(62)));
        assert_eq!(Decoder::new(8192, 32768).decode(&hex("3fe21f")), Err(HpackError::TableSize(4097)));
        assert_eq!(Decoder::new(8192, 32768).decode(&hex("000000")), Err(HpackError::EmptyName));
        assert!(Decoder::new(8192, 32768).decode(&hex("8220")).is_ok());
        // A bomb: one 4 KiB entry referenced again and again stops at the list limit.
        let mut block = vec![0x40, 0x01, b'x'];
        put_integer(&mut block, 0, 7, 4000);
        block.extend(std::iter::repeat_n(b'a', 4000));
        block.extend(std::iter::repeat_n(0xbe, 100));
        assert_eq!(Decoder::new(8192, 32768).decode(&block), Err(HpackError::ListTooLong(32768)));
        // A field over the per-field limit, raw and Huffman-coded.
        let mut long = vec![0x00, 0x01, b'x'];
        put_integer(&mut long, 0, 7, 9000);
        long.extend(std::iter::repeat_n(b'a', 9000));
        assert!(matches!(Decoder::new(8192, 32768).decode(&long), Err(HpackError::FieldTooLong(8192))));
        let mut huff = vec![0x00, 0x01, b'x'];
        put_string(&mut huff, &vec![b'a'; 14_000], false);
        assert!(matches!(Decoder::new(8192, 32768).decode(&huff), Err(HpackError::FieldTooLong(8192))));
        // nginx limits what is on the wire: 10,000 Huffman-coded bytes fit in 6,250.
        let mut fits = vec![0x00, 0x01, b'x'];
        put_string(&mut fits, &vec![b'a'; 10_000], false);
        assert!(matches!(Decoder::new(8192, 32768).decode(&fits), Ok(f) if f[0].value.len() == 10_000));
        // Bad Huffman: EOS-prefix padding longer than 7 bits.
        assert_eq!(Decoder::new(8192, 32768).decode(&hex("000178 82 ffff")), Err(HpackError::Huffman));
        assert_eq!(Decoder::new(8192, 32768).decode(&hex("0001")), Err(HpackError::Truncated));
    }

    #[test]
    fn a_size_update_to_zero_empties_the_table() {
        let mut d = Decoder::new(8192, 32768);
        d.decode(&hex("400a637573746f6d2d6b65790c637573746f6d2d76616c7565")).unwrap();
        assert_eq!(d.table_bytes, 54);
        d.decode(&hex("2082")).unwrap();
        assert_eq!(d.table_bytes, 0);
        assert_eq!(d.decode(&[0xbe]), Err(HpackError::BadIndex(62)));
    }

    #[test]
    fn responses_are_encoded_byte_for_byte_as_nginx_encodes_them() {
        // The known headers get incremental indexing with a static name; "nginx" and
        // "Accept-Encoding" take the Huffman forms nginx has as constants.
        let head = encode_response(200, &strs(&[("Server", "nginx"), ("Vary", "Accept-Encoding"), ("Content-Length", "615")]), false);
        assert_eq!(head, hex("88 76 84aa6355e7 7b 8b84842d695b05443c86aa6f 5c 03 363135"));
        // Status without a static entry; table size update first; other headers with
        // a literal lower-cased name.
        let head = encode_response(418, &strs(&[("X-A", "b")]), true);
        assert_eq!(head, hex("20 48 03 343138 00 03 782d61 01 62"));
    }

    #[test]
    fn encoded_responses_decode_to_what_was_encoded() {
        let headers = strs(&[
            ("Server", "nginx/1.22.1"),
            ("Date", "Sun, 06 Dec 2026 05:00:00 GMT"),
            ("Content-Type", "text/html"),
            ("Last-Modified", "Tue, 01 Sep 2026 10:00:00 GMT"),
            ("ETag", "W/\"66f0-267\""),
            ("Content-Encoding", "gzip"),
            ("X-Weird", "\u{7f}~ {}"),
        ]);
        let mut d = Decoder::new(8192, 32768);
        let got = d.decode(&encode_response(302, &headers, true)).unwrap();
        let mut want = vec![(":status".to_string(), "302".to_string())];
        want.extend(headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())));
        assert_eq!(pairs(&got), want);
    }
}
