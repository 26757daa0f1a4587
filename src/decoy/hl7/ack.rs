//! The acknowledgement an integration engine sends back for a message (HL7 v2
//! original mode): an MSH with the sender and receiver swapped, the message's own
//! encoding characters, control id, processing id and version, then MSA with the
//! code and the control id echoed, and ERR when there is an error to name. The
//! message type follows the version: `ACK` (2.1, 2.2), `ACK^A01` (2.3),
//! `ACK^A01^ACK` (2.3.1 on). Values are copied as the sender encoded them, so they
//! stay valid in its delimiters. Pure: no I/O.

use std::ops::Not;

use super::message::Message;

/// MSA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// AA: accepted.
    Accept,
    /// AE: an application error.
    Error,
    /// AR: rejected.
    Reject,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// Why a message was not accepted: an HL7 table 0357 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// 101: a field the message needs is empty.
    RequiredFieldMissing,
    /// 200: MSH-9 names no message type.
    UnsupportedMessageType,
    /// 203: MSH-12 is not an HL7 v2 version.
    UnsupportedVersion,
    /// 207: anything else.
    InternalError,
}

impl Problem {
    fn code(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Problem::RequiredFieldMissing => (b"101", b"Required field missing"),
            Problem::UnsupportedMessageType => (b"200", b"Unsupported message type"),
            Problem::UnsupportedVersion => (b"203", b"Unsupported version id"),
            Problem::InternalError => (b"207", b"Application internal error"),
        }
    }
}

/// Whether `version` is before 2.5 (ERR's layout changed there).
pub fn before_2_5(version: &[u8]) -> bool {
    let v = String::from_utf8_lossy(version);
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(2), parts.next().unwrap_or(5)) < (2, 5)
}

/// The message type a reply carries for `version`: `code` alone (2.1, 2.2),
/// `code^trigger` (2.3), `code^trigger^structure` (2.3.1 on).
fn reply_type(version: &[u8], (code, trigger, structure): (&[u8], &[u8], &[u8]), component: u8) -> Vec<u8> {
    let v = String::from_utf8_lossy(version);
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (parts.next().unwrap_or(2), parts.next().unwrap_or(5), parts.next().unwrap_or(0));
    let mut out = code.to_vec();
    match (major, minor, patch) {
        (2, 0..=2, _) => {}
        (2, 3, 0) => {
            out.push(component);
            out.extend_from_slice(trigger);
        }
        _ => {
            out.push(component);
            out.extend_from_slice(trigger);
            out.push(component);
            out.extend_from_slice(structure);
        }
    }
    out
}

/// How an engine stamps its replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// MSH-7.
    pub timestamp: String,
    /// MSH-10 of its own, or None to echo the message's.
    pub control_id: Option<String>,
    /// MSH-12 it always writes, or None to echo the message's.
    pub version: Option<&'static str>,
}

impl Stamp {
    /// A stamp that echoes the message's control id and version.
    pub fn echo(timestamp: &str) -> Self {
        Stamp { timestamp: timestamp.to_string(), control_id: None, version: None }
    }
}

/// The reply's MSH (with its segment end): parties swapped, the message's encoding
/// characters and processing id, the type `(code, trigger, structure)`.
pub fn header(m: &Message<'_>, stamp: &Stamp, kind: (&[u8], &[u8], &[u8])) -> Vec<u8> {
    let d = m.delimiters;
    let msh = m.segments.first().copied().unwrap_or_default();
    let field = |n| m.field(msh, n).unwrap_or_default();
    let version = stamp.version.map_or(field(12), str::as_bytes);
    let control_id = stamp.control_id.as_deref().map_or(field(10), str::as_bytes);
    let mut out = b"MSH".to_vec();
    out.push(d.field);
    out.extend_from_slice(&[d.component, d.repetition, d.escape, d.subcomponent]);
    for part in
        [field(5), field(6), field(3), field(4), stamp.timestamp.as_bytes(), b"", &reply_type(version, kind, d.component), control_id, field(11), version]
    {
        out.push(d.field);
        out.extend_from_slice(part);
    }
    out.push(b'\r');
    out
}

/// The ACK to `m` with `code`, stamped by `stamp`, with ERR naming `error` (its code
/// and text) when given.
pub fn ack(m: &Message<'_>, code: AckCode, stamp: &Stamp, error: Option<(Problem, &str)>) -> Vec<u8> {
    let msh = m.segments.first().copied().unwrap_or_default();
    let trigger = m.components(m.field(msh, 9).unwrap_or_default()).get(1).copied().unwrap_or_default();
    let mut out = header(m, stamp, (b"ACK", trigger, b"ACK"));
    out.extend(msa(m, code, stamp, error));
    out
}

/// MSA with `code` and the message's control id, then ERR naming `error` when given
/// (in MSA-3 and ERR-1 before 2.5, in ERR-3 and ERR-8 from 2.5).
pub fn msa(m: &Message<'_>, code: AckCode, stamp: &Stamp, error: Option<(Problem, &str)>) -> Vec<u8> {
    let d = m.delimiters;
    let f = d.field;
    let msh = m.segments.first().copied().unwrap_or_default();
    let field = |n| m.field(msh, n).unwrap_or_default();
    let encoding = [d.component, d.repetition, d.escape, d.subcomponent];
    let mut out = Vec::new();
    let version = stamp.version.map_or(field(12), str::as_bytes);
    // The error's text, without anything that would end a field, component or segment.
    let text: Option<String> = error
        .map(|(_, t)| t.chars().filter(|ch| ch.is_ascii_graphic() || *ch == ' ').filter(|ch| !encoding.contains(&(*ch as u8)) && *ch as u8 != f).collect());
    let from_2_5 = before_2_5(version).not();
    out.extend_from_slice(b"MSA");
    for part in [code.as_str().as_bytes(), field(10)] {
        out.push(f);
        out.extend_from_slice(part);
    }
    if let (Some(t), false) = (&text, from_2_5) {
        // Before 2.5 the text goes in MSA-3.
        out.push(f);
        out.extend_from_slice(t.as_bytes());
    }
    out.push(b'\r');
    if let (Some(t), Some((problem, _))) = (text, error) {
        let (c, s) = (d.component, d.subcomponent);
        let (number, label) = problem.code();
        let code = |sep: u8| [number, &[sep], label, &[sep], b"HL70357"].concat();
        out.extend_from_slice(b"ERR");
        if from_2_5 {
            // ERR-3: the HL7 error code, ERR-4 E, ERR-8 the text.
            out.extend([f, f, f]);
            out.extend(code(c));
            out.extend([f, b'E', f, f, f, f]);
            out.extend_from_slice(t.as_bytes());
        } else {
            // ERR-1 (ELD): the code as its fourth component.
            out.extend([f, c, c, c]);
            out.extend(code(s));
        }
        out.push(b'\r');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::message::parse;
    use super::*;

    #[test]
    fn the_ack_swaps_the_parties_echoes_the_ids_and_follows_the_version() {
        let m = parse(b"MSH|^~\\&|EPIC|RAD|MIRTH|HOSP|20261206101500||ADT^A01^ADT_A01|MSG00001|P|2.5.1\rPID|1\r").unwrap();
        assert_eq!(
            ack(&m, AckCode::Accept, &Stamp::echo("20261206101501"), None),
            b"MSH|^~\\&|MIRTH|HOSP|EPIC|RAD|20261206101501||ACK^A01^ACK|MSG00001|P|2.5.1\rMSA|AA|MSG00001\r".to_vec()
        );
        let old = parse(b"MSH#@*%$#A#B#C#D#2026##ADT@A04#7#T#2.2\r").unwrap();
        assert_eq!(ack(&old, AckCode::Reject, &Stamp::echo("2026"), None), b"MSH#@*%$#C#D#A#B#2026##ACK#7#T#2.2\rMSA#AR#7\r".to_vec());
        let v23 = parse(b"MSH|^~\\&|A|B|C|D|2026||ORU^R01|9|P|2.3\r").unwrap();
        let a = ack(&v23, AckCode::Error, &Stamp::echo("2026"), Some((Problem::InternalError, "bad|value^here\r")));
        assert_eq!(
            a,
            b"MSH|^~\\&|C|D|A|B|2026||ACK^R01|9|P|2.3\rMSA|AE|9|badvaluehere\rERR|^^^207&Application internal error&HL70357\r".to_vec(),
            "{}",
            String::from_utf8_lossy(&a)
        );
        let v25 = parse(b"MSH|^~\\&|A|B|C|D|2026||ORU^R01^ORU_R01|9|P|2.5\r").unwrap();
        assert!(ack(&v25, AckCode::Error, &Stamp::echo("2026"), Some((Problem::InternalError, "x")))
            .ends_with(b"MSA|AE|9\rERR|||207^Application internal error^HL70357|E||||x\r"));
        // What the ACK says reads back with the same parser.
        let back = parse(&a).unwrap().summary();
        assert_eq!((back.message_type.as_str(), back.control_id.as_str(), back.sending_application.as_str()), ("ACK", "9", "C"));
    }
}
