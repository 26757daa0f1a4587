//! CredSSP's TSRequest (MS-CSSP 2.2.1) in DER: read from attacker bytes (bounded, linear), written as Windows writes it.

use crate::decoy::der::{self, tlv, DerError, Tlv};

/// Deepest nesting of DER elements accepted (the TSRequest itself is depth 1; its negoToken sits at depth 6).
const MAX_DEPTH: usize = 8;

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;
/// The class bits of a tag, and their value for context-specific tags.
const CLASS_MASK: u8 = 0xc0;
const CLASS_CONTEXT: u8 = 0x80;

/// Context-specific constructed tag `[n]` (n < 31).
const fn ctx(n: u8) -> u8 {
    0xa0 | n
}

/// A TSRequest as read (fields borrowed from the input).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TsRequest<'a> {
    /// The sender's CredSSP version.
    pub version: u32,
    /// negoTokens: the first NegoData's negoToken (all that clients send)
    pub nego_token: Option<&'a [u8]>,
    /// authInfo: the encrypted TSCredentials.
    pub auth_info: Option<&'a [u8]>,
    /// pubKeyAuth: the encrypted server public key (or its hash, from version 5).
    pub pub_key_auth: Option<&'a [u8]>,
    /// errorCode: an NTSTATUS, as its 32-bit pattern.
    pub error_code: Option<u32>,
    /// clientNonce (version 5 and later).
    pub client_nonce: Option<&'a [u8]>,
}

/// Why bytes are not a TSRequest this parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredsspError {
    /// A length runs past the end of the bytes.
    #[error("TSRequest truncated")]
    Truncated,
    /// An element has a tag (or an INTEGER a value) the grammar does not allow, is out of order, or is missing.
    #[error("unexpected DER tag or value in TSRequest")]
    BadTag,
    /// A length is indefinite or has more than four length octets, or bytes follow the TSRequest.
    #[error("TSRequest length indefinite or too long")]
    TooLong,
    /// Elements are nested deeper than any real TSRequest nests them.
    #[error("TSRequest nested too deeply")]
    TooDeep,
}

impl From<DerError> for CredsspError {
    fn from(e: DerError) -> Self {
        match e {
            DerError::Truncated => CredsspError::Truncated,
            DerError::BadTag => CredsspError::BadTag,
            DerError::TooLong => CredsspError::TooLong,
            DerError::TooDeep => CredsspError::TooDeep,
        }
    }
}

fn header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, CredsspError> {
    Ok(der::header(buf)?)
}

fn read_tlv(buf: &[u8]) -> Result<(Tlv<'_>, &[u8]), CredsspError> {
    Ok(der::read_tlv(buf)?)
}

/// The content of `buf`, which must be exactly one element tagged `tag`.
fn expect(buf: &[u8], tag: u8) -> Result<&[u8], CredsspError> {
    match read_tlv(buf)? {
        (tlv, []) if tlv.tag == tag => Ok(tlv.body),
        _ => Err(CredsspError::BadTag),
    }
}

fn check_nesting(buf: &[u8], depth: usize) -> Result<(), CredsspError> {
    Ok(der::check_nesting(buf, depth, MAX_DEPTH)?)
}

/// An INTEGER's content as a 32-bit pattern: 1 to 4 octets (sign-extended, so Windows' negative NTSTATUS reads back as
/// sent), or 5 octets when the first is 0x00.
fn integer(body: &[u8]) -> Result<u32, CredsspError> {
    let (init, octets) = match body {
        [0, rest @ ..] if rest.len() == 4 => (0, rest),
        [first, ..] if body.len() <= 4 => (if first & 0x80 != 0 { u32::MAX } else { 0 }, body),
        _ => return Err(CredsspError::BadTag),
    };
    Ok(octets.iter().fold(init, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Parses TSRequest ::= SEQUENCE { version [0] INTEGER, negoTokens [1] NegoData OPTIONAL, authInfo [2] OCTET STRING OPTIONAL,
/// pubKeyAuth [3] OCTET STRING OPTIONAL, errorCode [4] INTEGER OPTIONAL, clientNonce [5] OCTET STRING OPTIONAL },
/// NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }. Definite lengths only (at most 4 length octets), nesting
/// capped at 8, fields in ascending tag order, unknown context tags skipped, nothing after the TSRequest; INTEGERs as in
/// [`TsRequest::error_code`] (up to 4 octets as a 32-bit pattern, 5 only with a leading 0x00).
pub fn parse(bytes: &[u8]) -> Result<TsRequest<'_>, CredsspError> {
    let (outer, trailing) = read_tlv(bytes)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(CredsspError::BadTag);
    }
    if !trailing.is_empty() {
        return Err(CredsspError::TooLong);
    }
    check_nesting(outer.body, 2)?;
    let mut request = TsRequest::default();
    let mut version = None;
    let mut last = None;
    let mut fields = outer.body;
    while !fields.is_empty() {
        let (field, rest) = read_tlv(fields)?;
        fields = rest;
        let number = field.tag & 0x1f;
        if field.tag & CLASS_MASK != CLASS_CONTEXT || last.is_some_and(|l| number <= l) {
            return Err(CredsspError::BadTag);
        }
        last = Some(number);
        match field.tag {
            t if t == ctx(0) => version = Some(integer(expect(field.body, TAG_INTEGER)?)?),
            t if t == ctx(1) => request.nego_token = nego_data(field.body)?,
            t if t == ctx(2) => request.auth_info = Some(expect(field.body, TAG_OCTET_STRING)?),
            t if t == ctx(3) => request.pub_key_auth = Some(expect(field.body, TAG_OCTET_STRING)?),
            t if t == ctx(4) => request.error_code = Some(integer(expect(field.body, TAG_INTEGER)?)?),
            t if t == ctx(5) => request.client_nonce = Some(expect(field.body, TAG_OCTET_STRING)?),
            _ if number > 5 => {}
            _ => return Err(CredsspError::BadTag),
        }
    }
    request.version = version.ok_or(CredsspError::BadTag)?;
    Ok(request)
}

/// NegoData: every item is checked, the first item's negoToken kept.
fn nego_data(body: &[u8]) -> Result<Option<&[u8]>, CredsspError> {
    let mut items = expect(body, TAG_SEQUENCE)?;
    let mut first = None;
    while !items.is_empty() {
        let (item, rest) = read_tlv(items)?;
        items = rest;
        if item.tag != TAG_SEQUENCE {
            return Err(CredsspError::BadTag);
        }
        let (field, after) = read_tlv(item.body)?;
        if field.tag != ctx(0) || !after.is_empty() {
            return Err(CredsspError::BadTag);
        }
        let token = expect(field.body, TAG_OCTET_STRING)?;
        first = first.or(Some(token));
    }
    Ok(first)
}

/// How many bytes the DER element at the start of `bytes` spans (tag + length + content), if its header is complete:
/// Ok(Some(n)) when known (n may exceed bytes.len(): more must be read), Ok(None) when the header itself is incomplete,
/// Err on an invalid header (not a SEQUENCE 0x30: BadTag; indefinite length or more than 4 length octets: TooLong).
/// Used to read exactly one TSRequest from a TLS stream; the caller caps n.
pub fn element_length(bytes: &[u8]) -> Result<Option<usize>, CredsspError> {
    if bytes.first().is_some_and(|&tag| tag != TAG_SEQUENCE) {
        return Err(CredsspError::BadTag);
    }
    match header(bytes)? {
        Some((_, length, start)) => start.checked_add(length).map(Some).ok_or(CredsspError::TooLong),
        None => Ok(None),
    }
}

/// `[n] EXPLICIT INTEGER` whose content is the last `octets` octets of `value` (as big-endian u64).
fn explicit_integer(n: u8, value: u64, octets: usize) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    tlv(ctx(n), &tlv(TAG_INTEGER, bytes.get(8usize.saturating_sub(octets)..).unwrap_or_default()))
}

/// Encodes a TSRequest with the given fields, fields in order version, negoTokens, pubKeyAuth, errorCode, clientNonce (a
/// server never sends authInfo). Minimal DER; version as a non-negative INTEGER (a leading 0x00 when its top bit is set);
/// errorCode as Windows encodes it, the minimal two's complement of the 32-bit value taken as signed, so 0xC000006D
/// (STATUS_LOGON_FAILURE) is `02 04 c0 00 00 6d`.
pub fn encode(version: u32, nego_token: Option<&[u8]>, pub_key_auth: Option<&[u8]>, error_code: Option<u32>, client_nonce: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    let unsigned = (1..=5).find(|n| u64::from(version) < 1 << (8 * n - 1)).unwrap_or(5);
    body.extend(explicit_integer(0, u64::from(version), unsigned));
    if let Some(token) = nego_token {
        let item = tlv(TAG_SEQUENCE, &tlv(ctx(0), &tlv(TAG_OCTET_STRING, token)));
        body.extend(tlv(ctx(1), &tlv(TAG_SEQUENCE, &item)));
    }
    if let Some(auth) = pub_key_auth {
        body.extend(tlv(ctx(3), &tlv(TAG_OCTET_STRING, auth)));
    }
    if let Some(code) = error_code {
        let signed = i64::from(code as i32);
        let octets = (1..=4).find(|n| (-(1i64 << (8 * n - 1))..1i64 << (8 * n - 1)).contains(&signed)).unwrap_or(4);
        body.extend(explicit_integer(4, signed as u64, octets));
    }
    if let Some(nonce) = client_nonce {
        body.extend(tlv(ctx(5), &tlv(TAG_OCTET_STRING, nonce)));
    }
    tlv(TAG_SEQUENCE, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An NTLMSSP NEGOTIATE as mstsc sends it (40 bytes).
    const NTLM_NEGOTIATE: &[u8] = &[
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb7, 0x82, 0x08, 0xe2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x63, 0x45, 0x00, 0x00, 0x00, 0x0f,
    ];

    /// TSRequest { version 6, negoTokens { { negoToken NTLM_NEGOTIATE } } }, spelled out.
    fn hand_written() -> Vec<u8> {
        let mut out = vec![0x30, 0x37, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa1, 0x30, 0x30, 0x2e, 0x30, 0x2c, 0xa0, 0x2a, 0x04, 0x28];
        out.extend_from_slice(NTLM_NEGOTIATE);
        out
    }

    /// TSRequest { version 6, [6] SEQUENCE nested `seqs` deep around an empty OCTET STRING }.
    fn nested(seqs: usize) -> Vec<u8> {
        let mut inner = vec![TAG_OCTET_STRING, 0];
        for _ in 0..seqs {
            inner = tlv(TAG_SEQUENCE, &inner);
        }
        let mut body = vec![0xa0, 0x03, 0x02, 0x01, 0x06];
        body.extend(tlv(ctx(6), &inner));
        tlv(TAG_SEQUENCE, &body)
    }

    #[test]
    fn hand_written_request() {
        let bytes = hand_written();
        assert_eq!(bytes.len(), 0x39);
        assert_eq!(parse(&bytes), Ok(TsRequest { version: 6, nego_token: Some(NTLM_NEGOTIATE), ..TsRequest::default() }));
        assert_eq!(encode(6, Some(NTLM_NEGOTIATE), None, None, None), bytes);
    }

    #[test]
    fn round_trip() {
        let bytes = encode(6, Some(NTLM_NEGOTIATE), None, None, None);
        assert_eq!(parse(&bytes), Ok(TsRequest { version: 6, nego_token: Some(NTLM_NEGOTIATE), ..TsRequest::default() }));
        let big = vec![0x5a; 300];
        let all = encode(0x8000_0000, Some(&big), Some(&[1, 2, 3]), Some(0xffff_ff80), Some(&[9; 32]));
        let parsed = parse(&all).unwrap();
        assert_eq!(parsed.version, 0x8000_0000);
        assert_eq!(parsed.nego_token, Some(&big[..]));
        assert_eq!(parsed.pub_key_auth, Some(&[1, 2, 3][..]));
        assert_eq!(parsed.error_code, Some(0xffff_ff80));
        assert_eq!(parsed.client_nonce, Some(&[9; 32][..]));
        assert_eq!(element_length(&all), Ok(Some(all.len())));
        for code in [0, 0x7f, 0x80, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xc000_0022] {
            assert_eq!(parse(&encode(2, None, None, Some(code), None)).unwrap().error_code, Some(code));
        }
    }

    #[test]
    fn wrong_password_answer() {
        let bytes = encode(6, None, None, Some(0xc000_006d), None);
        assert_eq!(bytes, [0x30, 0x0d, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa4, 0x06, 0x02, 0x04, 0xc0, 0x00, 0x00, 0x6d]);
        assert_eq!(parse(&bytes).unwrap().error_code, Some(0xc000_006d));
        // The positive form with a leading 0x00 reads the same.
        let positive = [0x30, 0x0e, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa4, 0x07, 0x02, 0x05, 0x00, 0xc0, 0x00, 0x00, 0x6d];
        assert_eq!(parse(&positive).unwrap().error_code, Some(0xc000_006d));
    }

    #[test]
    fn integers() {
        let with = |int: &[u8]| {
            let mut body = tlv(ctx(0), &tlv(TAG_INTEGER, int));
            body.extend(tlv(ctx(7), &[]));
            parse(&tlv(TAG_SEQUENCE, &body)).map(|r| r.version)
        };
        assert_eq!(with(&[0x06]), Ok(6));
        assert_eq!(with(&[0x00, 0x80, 0, 0, 0]), Ok(0x8000_0000));
        assert_eq!(with(&[]), Err(CredsspError::BadTag));
        assert_eq!(with(&[0x01, 0, 0, 0, 0]), Err(CredsspError::BadTag));
        assert_eq!(with(&[0, 0, 0, 0, 0, 1]), Err(CredsspError::BadTag));
    }

    #[test]
    fn element_lengths() {
        let bytes = hand_written();
        assert_eq!(element_length(&[]), Ok(None));
        assert_eq!(element_length(&bytes[..1]), Ok(None));
        assert_eq!(element_length(&bytes[..2]), Ok(Some(0x39)));
        assert_eq!(element_length(&[0x30, 0x82, 0x01]), Ok(None));
        assert_eq!(element_length(&[0x30, 0x82, 0x01, 0x00]), Ok(Some(4 + 256)));
        assert_eq!(element_length(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Ok(Some(6 + 0xffff_ffff)));
        assert_eq!(element_length(&[0x30, 0x80]), Err(CredsspError::TooLong));
        assert_eq!(element_length(&[0x30, 0x85, 0, 0, 0, 0, 1]), Err(CredsspError::TooLong));
        assert_eq!(element_length(&[0x16, 0x03]), Err(CredsspError::BadTag));
    }

    #[test]
    fn every_truncation_fails() {
        let all = encode(6, Some(NTLM_NEGOTIATE), Some(&[7; 200]), Some(0xc000_006d), Some(&[1; 32]));
        for bytes in [hand_written(), all] {
            assert!(parse(&bytes).is_ok());
            for end in 0..bytes.len() {
                assert!(parse(&bytes[..end]).is_err(), "prefix {end}");
            }
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(parse(&nested(5)).map(|r| r.version), Ok(6));
        assert_eq!(parse(&nested(6)), Err(CredsspError::TooDeep));
        assert_eq!(parse(&nested(1000)), Err(CredsspError::TooDeep));
        assert_eq!(parse(&[0x30, 0x85, 0, 0, 0, 0, 0]), Err(CredsspError::TooLong));
        assert_eq!(parse(&[0x30, 0x80, 0, 0]), Err(CredsspError::TooLong));
        assert_eq!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(CredsspError::Truncated));
        let mut trailing = hand_written();
        trailing.push(0);
        assert_eq!(parse(&trailing), Err(CredsspError::TooLong));
        // Missing version, fields out of order, a universal tag among the fields, an OCTET STRING where an INTEGER belongs.
        for body in [
            &[0xa2, 0x02, 0x04, 0x00][..],
            &[0xa0, 0x03, 0x02, 0x01, 0x06, 0xa3, 0x02, 0x04, 0x00, 0xa2, 0x02, 0x04, 0x00],
            &[0x02, 0x01, 0x06],
            &[0xa0, 0x03, 0x04, 0x01, 0x06],
        ] {
            assert_eq!(parse(&tlv(TAG_SEQUENCE, body)), Err(CredsspError::BadTag));
        }
        assert_eq!(parse(&[0x04, 0x00]), Err(CredsspError::BadTag));
        assert_eq!(parse(&[0x30, 0x00]), Err(CredsspError::BadTag));
    }

    #[test]
    fn random_input_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = encode(6, Some(NTLM_NEGOTIATE), Some(&[7; 20]), Some(0xc000_006d), Some(&[1; 32]));
        for i in 0..2000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 64) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                // A valid request with a few bytes flipped, so the parser gets deep.
                let mut bytes = valid.clone();
                for _ in 0..1 + next() % 3 {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                bytes
            };
            let _ = parse(&bytes);
            let _ = element_length(&bytes);
        }
    }
}
