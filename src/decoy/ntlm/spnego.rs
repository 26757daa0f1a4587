//! SPNEGO (RFC 4178, MS-SPNG) around NTLMSSP: client tokens read from attacker bytes, server tokens written as Windows writes them.
//!
//! Reading is bounded: definite lengths only (at most four length octets), every length
//! checked against the bytes at hand, nesting capped at [`MAX_DEPTH`], at most
//! [`MAX_MECH_TYPES`] mechanism OIDs kept, and one linear pass over the input.

use crate::decoy::der::{self, tlv, DerError, Tlv};

/// SPNEGO, 1.3.6.1.5.5.2 (DER content bytes of the OID).
pub const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// NTLMSSP, 1.3.6.1.4.1.311.2.2.10.
pub const OID_NTLMSSP: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
/// Kerberos 5, 1.2.840.113554.1.2.2.
pub const OID_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// Microsoft's (historically mis-encoded) Kerberos 5, 1.2.840.48018.1.2.2.
pub const OID_MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// NEGOEX, 1.3.6.1.4.1.311.2.2.30.
pub const OID_NEGOEX: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e];

/// negState accept-completed.
pub const ACCEPT_COMPLETED: u8 = 0;
/// negState accept-incomplete.
pub const ACCEPT_INCOMPLETE: u8 = 1;
/// negState reject.
pub const REJECT: u8 = 2;
/// negState request-mic.
pub const REQUEST_MIC: u8 = 3;

/// Deepest nesting of DER elements accepted (the outer element is depth 1).
const MAX_DEPTH: usize = 8;
/// Most mechanism OIDs kept from a client's mechTypes.
const MAX_MECH_TYPES: usize = 32;
/// How every NTLMSSP message starts.
const NTLMSSP_SIGNATURE: &[u8] = b"NTLMSSP\0";

const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_ENUMERATED: u8 = 0x0a;
const TAG_GENERAL_STRING: u8 = 0x1b;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_APPLICATION_0: u8 = 0x60;

/// Context-specific constructed tag `[n]` (n < 31).
const fn ctx(n: u8) -> u8 {
    0xa0 | n
}

/// Why bytes are not a SPNEGO token this parser accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpnegoError {
    /// A length runs past the end of the bytes, or an element is missing.
    #[error("SPNEGO token truncated")]
    Truncated,
    /// An element has a tag other than the one the grammar requires (or a multi-octet tag).
    #[error("unexpected DER tag in SPNEGO token")]
    BadTag,
    /// Elements are nested deeper than any real SPNEGO token nests them.
    #[error("SPNEGO token nested too deeply")]
    TooDeep,
    /// A length is indefinite or has more than four length octets.
    #[error("SPNEGO length indefinite or too long")]
    TooLong,
    /// Neither a GSS-API InitialContextToken for SPNEGO nor a bare NegotiationToken.
    #[error("not a SPNEGO token")]
    NotSpnego,
}

impl From<DerError> for SpnegoError {
    fn from(e: DerError) -> Self {
        match e {
            DerError::Truncated => SpnegoError::Truncated,
            DerError::BadTag => SpnegoError::BadTag,
            DerError::TooLong => SpnegoError::TooLong,
            DerError::TooDeep => SpnegoError::TooDeep,
        }
    }
}

/// What a client sent, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientToken<'a> {
    /// mechTypes OID content bytes, in the client's order (at most 32 kept; empty in a NegTokenResp).
    pub mech_types: Vec<&'a [u8]>,
    /// `[2] mechToken` of a NegTokenInit or `[2] responseToken` of a NegTokenResp.
    pub mech_token: Option<&'a [u8]>,
    /// mechListMIC (`[3]` in NegTokenInit/NegTokenResp, `[4]` in NegTokenInit2).
    pub mech_list_mic: Option<&'a [u8]>,
    /// negState of a NegTokenResp, when present.
    pub neg_state: Option<u8>,
    /// True for a NegTokenInit, false for a NegTokenResp.
    pub init: bool,
}

fn read_tlv(buf: &[u8]) -> Result<(Tlv<'_>, &[u8]), SpnegoError> {
    Ok(der::read_tlv(buf)?)
}

/// Reads the element at the start of `buf` and requires its tag to be `tag`.
fn expect(buf: &[u8], tag: u8) -> Result<&[u8], SpnegoError> {
    let (tlv, _) = read_tlv(buf)?;
    if tlv.tag == tag {
        Ok(tlv.body)
    } else {
        Err(SpnegoError::BadTag)
    }
}

fn check_nesting(buf: &[u8], depth: usize) -> Result<(), SpnegoError> {
    Ok(der::check_nesting(buf, depth, MAX_DEPTH)?)
}

/// Parses a GSS-API InitialContextToken (0x60 APPLICATION 0 with the SPNEGO OID then
/// `[0]` NegTokenInit), or a bare NegTokenInit `[0]` or NegTokenResp `[1]` (0xa1) as
/// sent in later legs. Bytes after the outer element are ignored.
pub fn parse(bytes: &[u8]) -> Result<ClientToken<'_>, SpnegoError> {
    match bytes.first() {
        None => return Err(SpnegoError::Truncated),
        Some(&(TAG_APPLICATION_0 | 0xa0 | 0xa1)) => {}
        Some(_) => return Err(SpnegoError::NotSpnego),
    }
    let (outer, _trailing) = read_tlv(bytes)?;
    check_nesting(outer.body, 2)?;
    if outer.tag != TAG_APPLICATION_0 {
        return negotiation_token(outer);
    }
    let (mech, rest) = read_tlv(outer.body)?;
    if mech.tag != TAG_OID || mech.body != OID_SPNEGO {
        return Err(SpnegoError::NotSpnego);
    }
    let (inner, _) = read_tlv(rest)?;
    negotiation_token(inner)
}

/// NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }.
fn negotiation_token(choice: Tlv<'_>) -> Result<ClientToken<'_>, SpnegoError> {
    let init = match choice.tag {
        0xa0 => true,
        0xa1 => false,
        _ => return Err(SpnegoError::BadTag),
    };
    let mut fields = expect(choice.body, TAG_SEQUENCE)?;
    let mut token = ClientToken { init, ..ClientToken::default() };
    while !fields.is_empty() {
        let (field, rest) = read_tlv(fields)?;
        fields = rest;
        if init {
            init_field(&mut token, field)?;
        } else {
            resp_field(&mut token, field)?;
        }
    }
    Ok(token)
}

/// One field of NegTokenInit (RFC 4178 §4.2.1) or NegTokenInit2 (MS-SPNG §2.2.1); others skipped.
fn init_field<'a>(token: &mut ClientToken<'a>, field: Tlv<'a>) -> Result<(), SpnegoError> {
    match field.tag {
        t if t == ctx(0) => {
            let mut list = expect(field.body, TAG_SEQUENCE)?;
            while !list.is_empty() {
                let (oid, rest) = read_tlv(list)?;
                list = rest;
                if oid.tag != TAG_OID {
                    return Err(SpnegoError::BadTag);
                }
                if token.mech_types.len() < MAX_MECH_TYPES {
                    token.mech_types.push(oid.body);
                }
            }
        }
        // reqFlags: read by nobody, accepted as sent.
        t if t == ctx(1) => {}
        t if t == ctx(2) => token.mech_token = Some(expect(field.body, TAG_OCTET_STRING)?),
        // [3] is mechListMIC in RFC 4178 and negHints (a SEQUENCE, ignored) in NegTokenInit2.
        t if t == ctx(3) => {
            let (value, _) = read_tlv(field.body)?;
            match value.tag {
                TAG_OCTET_STRING => token.mech_list_mic = Some(value.body),
                TAG_SEQUENCE => {}
                _ => return Err(SpnegoError::BadTag),
            }
        }
        t if t == ctx(4) => token.mech_list_mic = Some(expect(field.body, TAG_OCTET_STRING)?),
        _ => {}
    }
    Ok(())
}

/// One field of NegTokenResp (RFC 4178 §4.2.2); supportedMech and unknown fields skipped.
fn resp_field<'a>(token: &mut ClientToken<'a>, field: Tlv<'a>) -> Result<(), SpnegoError> {
    match field.tag {
        t if t == ctx(0) => match expect(field.body, TAG_ENUMERATED)? {
            [state] => token.neg_state = Some(*state),
            _ => return Err(SpnegoError::BadTag),
        },
        t if t == ctx(2) => token.mech_token = Some(expect(field.body, TAG_OCTET_STRING)?),
        t if t == ctx(3) => token.mech_list_mic = Some(expect(field.body, TAG_OCTET_STRING)?),
        _ => {}
    }
    Ok(())
}

/// The NTLMSSP message in a security buffer: the buffer itself when it starts with
/// `b"NTLMSSP\0"` (raw NTLMSSP, which some clients send), else the mechToken of a
/// parsed SPNEGO token when it starts with `b"NTLMSSP\0"`.
pub fn ntlmssp(buffer: &[u8]) -> Option<&[u8]> {
    if buffer.starts_with(NTLMSSP_SIGNATURE) {
        return Some(buffer);
    }
    let token = parse(buffer).ok()?.mech_token?;
    token.starts_with(NTLMSSP_SIGNATURE).then_some(token)
}

/// The NegTokenInit2 a Windows server puts in its SMB2 NEGOTIATE response:
/// `0x60 { OID_SPNEGO, [0] SEQUENCE { [0] mechTypes, [3] negHints { [0] hintName } } }`,
/// mechTypes in the order given, negHints only when `hint_name` is given (Windows sends
/// `"not_defined_in_RFC4178@please_ignore"`).
pub fn neg_token_init2(mech_types: &[&[u8]], hint_name: Option<&str>) -> Vec<u8> {
    let oids: Vec<u8> = mech_types.iter().flat_map(|oid| tlv(TAG_OID, oid)).collect();
    let mut fields = tlv(ctx(0), &tlv(TAG_SEQUENCE, &oids));
    if let Some(hint) = hint_name {
        let hints = tlv(TAG_SEQUENCE, &tlv(ctx(0), &tlv(TAG_GENERAL_STRING, hint.as_bytes())));
        fields.extend(tlv(ctx(3), &hints));
    }
    let mut body = tlv(TAG_OID, OID_SPNEGO);
    body.extend(tlv(ctx(0), &tlv(TAG_SEQUENCE, &fields)));
    tlv(TAG_APPLICATION_0, &body)
}

/// A NegTokenResp (`0xa1` SEQUENCE): `[0]` negState ENUMERATED, `[1]` supportedMech OID,
/// `[2]` responseToken OCTET STRING and `[3]` mechListMIC OCTET STRING, each when given.
pub fn neg_token_resp(neg_state: Option<u8>, supported_mech: Option<&[u8]>, response_token: Option<&[u8]>, mech_list_mic: Option<&[u8]>) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(state) = neg_state {
        fields.extend(tlv(ctx(0), &tlv(TAG_ENUMERATED, &[state])));
    }
    if let Some(mech) = supported_mech {
        fields.extend(tlv(ctx(1), &tlv(TAG_OID, mech)));
    }
    if let Some(response) = response_token {
        fields.extend(tlv(ctx(2), &tlv(TAG_OCTET_STRING, response)));
    }
    if let Some(mic) = mech_list_mic {
        fields.extend(tlv(ctx(3), &tlv(TAG_OCTET_STRING, mic)));
    }
    tlv(ctx(1), &tlv(TAG_SEQUENCE, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40-byte NTLMSSP NEGOTIATE as Windows 10 sends it.
    const NEGOTIATE: [u8; 40] = [
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x97, 0x82, 0x08, 0xe2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x63, 0x45, 0x00, 0x00, 0x00, 0x0f,
    ];

    /// A client's first SMB2 SESSION_SETUP security buffer, spelled out.
    fn client_init() -> Vec<u8> {
        let mut bytes = vec![
            0x60, 0x48, // APPLICATION 0, 72
            0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, // SPNEGO OID
            0xa0, 0x3e, 0x30, 0x3c, // [0] NegTokenInit SEQUENCE
            0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, // [0] mechTypes { NTLMSSP }
            0xa2, 0x2a, 0x04, 0x28, // [2] mechToken OCTET STRING, 40
        ];
        bytes.extend_from_slice(&NEGOTIATE);
        bytes
    }

    fn nest(tags: &[u8], inner: &[u8]) -> Vec<u8> {
        tags.iter().rev().fold(inner.to_vec(), |acc, tag| tlv(*tag, &acc))
    }

    #[test]
    fn hand_written_client_init_parses() {
        let bytes = client_init();
        assert_eq!(bytes.len(), 74);
        let token = parse(&bytes).unwrap();
        assert!(token.init);
        assert_eq!(token.mech_types, vec![OID_NTLMSSP]);
        assert_eq!(token.mech_token, Some(&NEGOTIATE[..]));
        assert_eq!(token.mech_list_mic, None);
        assert_eq!(ntlmssp(&bytes), Some(&NEGOTIATE[..]));
        // Trailing bytes after the outer element are ignored.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0, 0, 0xff]);
        assert_eq!(parse(&padded).unwrap(), token);
    }

    #[test]
    fn init2_round_trips() {
        let mechs = [OID_NEGOEX, OID_MS_KRB5, OID_KRB5, OID_NTLMSSP];
        for hint in [None, Some("not_defined_in_RFC4178@please_ignore")] {
            let bytes = neg_token_init2(&mechs, hint);
            assert_eq!(&bytes[..10], &[0x60, bytes[1], 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
            let token = parse(&bytes).unwrap();
            assert!(token.init);
            assert_eq!(token.mech_types, mechs.to_vec());
            assert_eq!(token.mech_token, None);
            assert_eq!(token.mech_list_mic, None);
        }
    }

    #[test]
    fn resp_round_trips_to_ntlmssp() {
        let bytes = neg_token_resp(Some(ACCEPT_INCOMPLETE), Some(OID_NTLMSSP), Some(&NEGOTIATE), Some(b"mic"));
        assert_eq!(bytes[0], 0xa1);
        let token = parse(&bytes).unwrap();
        assert!(!token.init);
        assert_eq!(token.neg_state, Some(ACCEPT_INCOMPLETE));
        assert_eq!(token.mech_token, Some(&NEGOTIATE[..]));
        assert_eq!(token.mech_list_mic, Some(&b"mic"[..]));
        assert_eq!(ntlmssp(&bytes), Some(&NEGOTIATE[..]));
        assert_eq!(neg_token_resp(Some(REJECT), None, None, None), vec![0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02]);
        // A non-NTLMSSP responseToken is not NTLMSSP.
        assert_eq!(ntlmssp(&neg_token_resp(None, None, Some(b"kerberos"), None)), None);
    }

    #[test]
    fn raw_ntlmssp_passes_through() {
        assert_eq!(ntlmssp(&NEGOTIATE), Some(&NEGOTIATE[..]));
        assert_eq!(ntlmssp(b"NTLMSSP"), None);
        assert_eq!(ntlmssp(b""), None);
    }

    #[test]
    fn long_form_lengths() {
        let big = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00].repeat(64);
        let bytes = neg_token_resp(None, None, Some(&big), None);
        assert_eq!(&bytes[..2], &[0xa1, 0x82]);
        assert_eq!(usize::from(bytes[2]) << 8 | usize::from(bytes[3]), bytes.len() - 4);
        assert_eq!(ntlmssp(&bytes), Some(&big[..]));
        // Non-minimal long forms are tolerated on input.
        let hand = [0xa1, 0x82, 0x00, 0x0b, 0x30, 0x82, 0x00, 0x07, 0xa2, 0x82, 0x00, 0x03, 0x04, 0x01, 0xff];
        assert_eq!(parse(&hand).unwrap().mech_token, Some(&[0xff][..]));
    }

    #[test]
    fn req_flags_unknown_tags_and_mic_accepted() {
        let mut fields = tlv(ctx(0), &tlv(TAG_SEQUENCE, &tlv(TAG_OID, OID_NTLMSSP)));
        fields.extend(tlv(ctx(1), &[0x03, 0x02, 0x07, 0x80]));
        fields.extend(tlv(ctx(7), &[0x05, 0x00]));
        fields.extend(tlv(0x85, &[1, 2, 3]));
        fields.extend(tlv(ctx(2), &tlv(TAG_OCTET_STRING, &NEGOTIATE)));
        fields.extend(tlv(ctx(3), &tlv(TAG_OCTET_STRING, b"mic")));
        let bytes = tlv(ctx(0), &tlv(TAG_SEQUENCE, &fields));
        let token = parse(&bytes).unwrap();
        assert_eq!(token.mech_types, vec![OID_NTLMSSP]);
        assert_eq!(token.mech_token, Some(&NEGOTIATE[..]));
        assert_eq!(token.mech_list_mic, Some(&b"mic"[..]));
    }

    #[test]
    fn mech_types_capped() {
        let mechs = vec![OID_KRB5; 100];
        assert_eq!(parse(&neg_token_init2(&mechs, None)).unwrap().mech_types.len(), MAX_MECH_TYPES);
    }

    #[test]
    fn every_truncation_fails() {
        for bytes in [client_init(), neg_token_init2(&[OID_NTLMSSP], Some("hint")), neg_token_resp(Some(0), Some(OID_NTLMSSP), Some(&NEGOTIATE), Some(b"m"))] {
            assert!(parse(&bytes).is_ok());
            for cut in 0..bytes.len() {
                assert!(parse(&bytes[..cut]).is_err(), "prefix {cut} parsed");
            }
        }
    }

    #[test]
    fn deep_nesting_is_too_deep() {
        let deep = nest(&[0x30; 200], &[0x04, 0x00]);
        assert_eq!(parse(&tlv(0xa1, &deep)), Err(SpnegoError::TooDeep));
        assert_eq!(parse(&tlv(0x60, &deep)), Err(SpnegoError::TooDeep));
        // Depth 8 (a1 30 a5 30 30 30 30 04) is accepted; one more level is not.
        assert!(parse(&nest(&[0xa1, 0x30, 0xa5, 0x30, 0x30, 0x30, 0x30], &[0x04, 0x00])).is_ok());
        assert_eq!(parse(&nest(&[0xa1, 0x30, 0xa5, 0x30, 0x30, 0x30, 0x30, 0x30], &[0x04, 0x00])), Err(SpnegoError::TooDeep));
    }

    #[test]
    fn bad_lengths_and_tags() {
        assert_eq!(parse(&[0xa1, 0x05, 0x30, 0x03]), Err(SpnegoError::Truncated));
        assert_eq!(parse(&[0xa1, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00]), Err(SpnegoError::Truncated));
        assert_eq!(parse(&[0xa1, 0x04, 0x30, 0x02, 0xa2, 0x7f]), Err(SpnegoError::Truncated));
        assert_eq!(parse(&[0xa1, 0x85, 0, 0, 0, 0, 2, 0x30, 0x00]), Err(SpnegoError::TooLong));
        assert_eq!(parse(&[0xa1, 0x80, 0x30, 0x00, 0x00, 0x00]), Err(SpnegoError::TooLong));
        assert_eq!(parse(&[0xa1, 0x02, 0x04, 0x00]), Err(SpnegoError::BadTag));
        assert_eq!(parse(b"NTLMSSP\0"), Err(SpnegoError::NotSpnego));
        assert_eq!(parse(&[0x60, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04]), Err(SpnegoError::NotSpnego));
        assert_eq!(parse(&[]), Err(SpnegoError::Truncated));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = [client_init(), neg_token_init2(&[OID_NEGOEX, OID_NTLMSSP], Some("h")), neg_token_resp(Some(1), Some(OID_NTLMSSP), Some(&NEGOTIATE), None)];
        for i in 0..2_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 96) as usize;
                let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if let Some(first) = bytes.first_mut() {
                    *first = [0x60, 0xa0, 0xa1, 0x30][(next() % 4) as usize];
                }
                bytes
            } else {
                let mut bytes = seeds[i % seeds.len()].clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                bytes.truncate((next() as usize) % (bytes.len() + 1));
                bytes
            };
            let _ = parse(&bytes);
            let _ = ntlmssp(&bytes);
        }
    }
}
