//! SSH wire types (RFC 4251 §5): a bounds-checked reader over one payload and the
//! writer side as methods on `Vec<u8>`. Every read of attacker bytes goes through
//! [`Reader`], which never panics and never allocates from a length field.

/// Why a payload could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload ended inside a field.
    #[error("truncated field")]
    Truncated,
    /// A boolean, name-list or mpint that is not in its canonical form.
    #[error("malformed field")]
    Malformed,
}

/// Reads SSH wire types from a payload, front to back.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// True once every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// A `byte`.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }

    /// A `boolean`: any non-zero byte is true (RFC 4251 §5).
    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }

    /// A `uint32`.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `string`: u32 length then that many bytes (borrowed, never copied).
    pub fn string(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.u32()? as usize;
        self.bytes(len)
    }

    /// A `name-list`. Read as the real servers read them: empty names (libssh sends
    /// a trailing comma) are skipped, and odd bytes simply match nothing.
    pub fn name_list(&mut self) -> Result<NameList<'a>, WireError> {
        Ok(NameList(self.string()?))
    }

    /// An `mpint`'s magnitude, big-endian without leading zeros. As OpenSSH reads
    /// them: negative values and more than 2048 bytes (16384 bits) are refused,
    /// superfluous leading zeros are accepted.
    pub fn mpint_positive(&mut self) -> Result<&'a [u8], WireError> {
        let raw = self.string()?;
        if raw.first().is_some_and(|b| b & 0x80 != 0) || raw.len() > MAX_MPINT + 1 || (raw.len() == MAX_MPINT + 1 && raw[0] != 0) {
            return Err(WireError::Malformed);
        }
        let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
        Ok(&raw[start..])
    }
}

/// OpenSSH's largest big number (SSHBUF_MAX_BIGNUM), in bytes.
const MAX_MPINT: usize = 2048;

/// A name-list as read off the wire (any bytes; names are split at commas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameList<'a>(pub &'a [u8]);

impl<'a> NameList<'a> {
    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let raw = self.0;
        raw.split(|&b| b == b',').filter(|n| !n.is_empty())
    }

    /// True when `name` is one of the names.
    pub fn contains(&self, name: &str) -> bool {
        self.names().any(|n| n == name.as_bytes())
    }
}

/// Writing SSH wire types.
pub trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_bool(&mut self, v: bool);
    fn put_u32(&mut self, v: u32);
    /// A `string`.
    fn put_string(&mut self, v: &[u8]);
    /// A `name-list` from names (joined with commas).
    fn put_name_list<S: AsRef<str>>(&mut self, names: &[S]);
    /// An `mpint` from an unsigned big-endian magnitude (leading zeros dropped, a zero
    /// byte added when the top bit is set).
    fn put_mpint(&mut self, magnitude: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }

    fn put_bool(&mut self, v: bool) {
        self.push(u8::from(v));
    }

    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn put_string(&mut self, v: &[u8]) {
        // Every string we write is far below 4 GiB (packets are capped well before).
        self.put_u32(v.len() as u32);
        self.extend_from_slice(v);
    }

    fn put_name_list<S: AsRef<str>>(&mut self, names: &[S]) {
        let len: usize = names.iter().map(|n| n.as_ref().len()).sum::<usize>() + names.len().saturating_sub(1);
        self.put_u32(len as u32);
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.push(b',');
            }
            self.extend_from_slice(n.as_ref().as_bytes());
        }
    }

    fn put_mpint(&mut self, magnitude: &[u8]) {
        let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
        let m = &magnitude[start..];
        let pad = m.first().is_some_and(|b| b & 0x80 != 0);
        self.put_u32((m.len() + usize::from(pad)) as u32);
        if pad {
            self.push(0);
        }
        self.extend_from_slice(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpint_examples_of_rfc_4251() {
        let table: &[(&[u8], &[u8])] = &[
            (&[], &[0, 0, 0, 0]),
            (&[0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7], &[0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]),
            (&[0x80], &[0, 0, 0, 2, 0, 0x80]),
            (&[0, 0, 0x80], &[0, 0, 0, 2, 0, 0x80]),
        ];
        for (magnitude, wire) in table {
            let mut out = Vec::new();
            out.put_mpint(magnitude);
            assert_eq!(&out, wire);
            let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
            assert_eq!(Reader::new(wire).mpint_positive().unwrap(), &magnitude[start..]);
        }
        assert_eq!(Reader::new(&[0, 0, 0, 1, 0xff]).mpint_positive(), Err(WireError::Malformed), "negative");
        assert_eq!(Reader::new(&[0, 0, 0, 2, 0, 1]).mpint_positive(), Ok(&[1u8][..]), "a needless zero is tolerated, as OpenSSH does");
        let mut big = vec![0u8, 0, 8, 2];
        big.extend(vec![1u8; 2050]);
        assert_eq!(Reader::new(&big).mpint_positive(), Err(WireError::Malformed), "over 16384 bits");
    }

    #[test]
    fn name_lists_round_trip_and_skip_empty_names() {
        let mut out = Vec::new();
        out.put_name_list(&["zlib@openssh.com", "none"]);
        let list = Reader::new(&out).name_list().unwrap();
        assert_eq!(list.names().collect::<Vec<_>>(), vec![&b"zlib@openssh.com"[..], b"none"]);
        assert!(list.contains("none") && !list.contains("zlib"));
        let mut empty = Vec::new();
        empty.put_name_list::<&str>(&[]);
        assert_eq!(empty, [0, 0, 0, 0]);
        let mut w = Vec::new();
        w.put_string(b",aes128-ctr,,none,");
        let list = Reader::new(&w).name_list().unwrap();
        assert_eq!(list.names().collect::<Vec<_>>(), vec![&b"aes128-ctr"[..], b"none"], "libssh's trailing comma");
    }

    #[test]
    fn truncation_is_an_error_never_a_panic() {
        let mut w = Vec::new();
        w.put_string(b"hello");
        w.put_u32(7);
        for cut in 0..w.len() {
            let mut r = Reader::new(&w[..cut]);
            let whole = r.string().and_then(|_| r.u32());
            assert!(whole.is_err());
        }
        // A length far past the end allocates nothing and fails.
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]).string(), Err(WireError::Truncated));
    }
}
