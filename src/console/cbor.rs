//! The small part of CBOR (RFC 8949) that WebAuthn attestation objects and COSE keys
//! use: integers, byte and text strings, arrays, maps, simple values. Definite lengths
//! only, depth and sizes capped; the input comes from a browser, so from anyone.

use std::collections::BTreeMap;

/// A decoded item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cbor {
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(BTreeMap<MapKey, Cbor>),
    Simple(u8),
}

/// Map keys: COSE uses integers, attestation objects text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MapKey {
    Int(i128),
    Text(String),
}

const MAX_DEPTH: usize = 8;
const MAX_ITEMS: u64 = 256;

/// Why input is not (our subset of) CBOR.
#[derive(Debug, PartialEq, Eq)]
pub struct CborError(pub &'static str);

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.data.get(self.pos).ok_or(CborError("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError("length too large"))?;
        let end = self.pos.checked_add(n).ok_or(CborError("length too large"))?;
        let s = self.data.get(self.pos..end).ok_or(CborError("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().map_err(|_| CborError("truncated"))?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| CborError("truncated"))?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| CborError("truncated"))?),
            _ => return Err(CborError("indefinite or reserved length")),
        })
    }

    fn item(&mut self, depth: usize) -> Result<Cbor, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError("nested too deeply"));
        }
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return match info {
                0..=23 => Ok(Cbor::Simple(info)),
                24 => Ok(Cbor::Simple(self.byte()?)),
                _ => Err(CborError("floats are not expected here")),
            };
        }
        let arg = self.argument(info)?;
        Ok(match major {
            0 => Cbor::Int(i128::from(arg)),
            1 => Cbor::Int(-1 - i128::from(arg)),
            2 => Cbor::Bytes(self.take(arg)?.to_vec()),
            3 => Cbor::Text(String::from_utf8(self.take(arg)?.to_vec()).map_err(|_| CborError("text is not UTF-8"))?),
            4 => {
                if arg > MAX_ITEMS {
                    return Err(CborError("array too long"));
                }
                Cbor::Array((0..arg).map(|_| self.item(depth + 1)).collect::<Result<_, _>>()?)
            }
            5 => {
                if arg > MAX_ITEMS {
                    return Err(CborError("map too long"));
                }
                let mut map = BTreeMap::new();
                for _ in 0..arg {
                    let key = match self.item(depth + 1)? {
                        Cbor::Int(i) => MapKey::Int(i),
                        Cbor::Text(t) => MapKey::Text(t),
                        _ => return Err(CborError("map key is neither integer nor text")),
                    };
                    let value = self.item(depth + 1)?;
                    if map.insert(key, value).is_some() {
                        return Err(CborError("duplicate map key"));
                    }
                }
                Cbor::Map(map)
            }
            _ => return Err(CborError("tags are not expected here")),
        })
    }
}

/// Decodes one item from the start of `data`; returns it and the bytes it took.
pub fn decode_prefix(data: &[u8]) -> Result<(Cbor, usize), CborError> {
    let mut r = Reader { data, pos: 0 };
    let item = r.item(0)?;
    Ok((item, r.pos))
}

/// Decodes exactly one item.
pub fn decode(data: &[u8]) -> Result<Cbor, CborError> {
    let (item, used) = decode_prefix(data)?;
    if used != data.len() {
        return Err(CborError("trailing bytes"));
    }
    Ok(item)
}

impl Cbor {
    /// A map's value under an integer key.
    pub fn int_key(&self, k: i128) -> Option<&Cbor> {
        match self {
            Cbor::Map(m) => m.get(&MapKey::Int(k)),
            _ => None,
        }
    }

    /// A map's value under a text key.
    pub fn text_key(&self, k: &str) -> Option<&Cbor> {
        match self {
            Cbor::Map(m) => m.get(&MapKey::Text(k.to_string())),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Cbor::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Cbor::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Cbor::Text(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_rfc_8949_appendix_a_examples() {
        let cases: &[(&[u8], Cbor)] = &[
            (&[0x00], Cbor::Int(0)),
            (&[0x17], Cbor::Int(23)),
            (&[0x18, 0x18], Cbor::Int(24)),
            (&[0x19, 0x03, 0xe8], Cbor::Int(1000)),
            (&[0x1a, 0x00, 0x0f, 0x42, 0x40], Cbor::Int(1_000_000)),
            (&[0x20], Cbor::Int(-1)),
            (&[0x38, 0x63], Cbor::Int(-100)),
            (&[0x44, 1, 2, 3, 4], Cbor::Bytes(vec![1, 2, 3, 4])),
            (&[0x62, 0x22, 0x5c], Cbor::Text("\"\\".into())),
            (&[0x83, 1, 2, 3], Cbor::Array(vec![Cbor::Int(1), Cbor::Int(2), Cbor::Int(3)])),
            (&[0xf5], Cbor::Simple(21)),
        ];
        for (bytes, want) in cases {
            assert_eq!(&decode(bytes).unwrap(), want, "{bytes:02x?}");
        }
        let map = decode(&[0xa2, 0x01, 0x02, 0x61, 0x61, 0x03]).unwrap();
        assert_eq!(map.int_key(1), Some(&Cbor::Int(2)));
        assert_eq!(map.text_key("a"), Some(&Cbor::Int(3)));
    }

    #[test]
    fn hostile_input_is_refused_not_trusted() {
        let cases: &[&[u8]] = &[
            &[],
            &[0x5a, 0xff, 0xff, 0xff, 0xff],                         // 4 GB byte string
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // huge array
            &[0x5f],                                                 // indefinite length
            &[0xa2, 0x01, 0x02, 0x01, 0x03],                         // duplicate key
            &[0x62, 0xff, 0xfe],                                     // bad UTF-8
            &[0xc1, 0x00],                                           // tag
            &[0x00, 0x00],                                           // trailing
            &[0x81; 20],                                             // deep nesting
        ];
        for bytes in cases {
            assert!(decode(bytes).is_err(), "{bytes:02x?}");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..20_000 {
            let n = rng.random_range(0..24);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            let _ = decode(&bytes);
        }
    }
}
