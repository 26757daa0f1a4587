//! An HL7 v2 message (versions 2.1 to 2.8) read with its own delimiters: the field
//! separator after `MSH`, the encoding characters in MSH-2; segments split on CR
//! (LF and CRLF tolerated, as engines tolerate them). What an analyst needs is
//! summarised: message type, trigger and structure, control and processing ids,
//! version, the sending and receiving applications and facilities, the patient
//! identifiers and names found, and the segment list. Attacker bytes throughout:
//! segments capped, nothing indexed unchecked. Pure: no I/O.

/// Segments read from one message, at most.
pub const MAX_SEGMENTS: usize = 4096;
/// Patient identifiers and names kept from one message, at most.
const MAX_PATIENTS: usize = 64;

/// Why a message is not HL7 v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("does not start with an MSH segment")]
    NoMsh,
    #[error("MSH-1 and MSH-2 do not give five distinct delimiters")]
    BadDelimiters,
}

/// A message's delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: u8,
    pub component: u8,
    pub repetition: u8,
    pub escape: u8,
    pub subcomponent: u8,
}

/// A parsed message: its delimiters and segments (borrowed from the bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub delimiters: Delimiters,
    pub segments: Vec<&'a [u8]>,
    /// More segments than [`MAX_SEGMENTS`] were sent.
    pub truncated: bool,
}

/// What an analyst reads of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// MSH-9: `ADT`, `A01`, `ADT_A01`.
    pub message_type: String,
    pub trigger: String,
    pub structure: String,
    pub control_id: String,
    pub processing_id: String,
    pub version: String,
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    /// PID-2, PID-3 and PID-4 identifiers, and QPD's query values.
    pub patient_ids: Vec<String>,
    /// PID-5 names, `FAMILY^Given`.
    pub patient_names: Vec<String>,
    /// Segment ids in order.
    pub segments: Vec<String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads a message.
pub fn parse(bytes: &[u8]) -> Result<Message<'_>, ParseError> {
    if bytes.get(..3) != Some(b"MSH") {
        return Err(ParseError::NoMsh);
    }
    let field = *bytes.get(3).ok_or(ParseError::BadDelimiters)?;
    let encoding = bytes.get(4..).unwrap_or_default().split(|&b| b == field).next().unwrap_or_default();
    let &[component, repetition, escape, subcomponent, ..] = encoding else {
        // 2.1 messages may leave the subcomponent separator out.
        let &[component, repetition, escape] = encoding else { return Err(ParseError::BadDelimiters) };
        return finish(bytes, Delimiters { field, component, repetition, escape, subcomponent: b'&' });
    };
    finish(bytes, Delimiters { field, component, repetition, escape, subcomponent })
}

fn finish(bytes: &[u8], d: Delimiters) -> Result<Message<'_>, ParseError> {
    let all = [d.field, d.component, d.repetition, d.escape, d.subcomponent];
    let distinct = all.iter().enumerate().all(|(i, a)| !all[..i].contains(a));
    if !distinct || all.iter().any(|b| b.is_ascii_alphanumeric() || *b == b'\r' || *b == b'\n') {
        return Err(ParseError::BadDelimiters);
    }
    let mut segments = Vec::new();
    let mut truncated = false;
    for segment in bytes.split(|&b| b == b'\r' || b == b'\n').filter(|s| !s.is_empty()) {
        if segments.len() == MAX_SEGMENTS {
            truncated = true;
            break;
        }
        segments.push(segment);
    }
    Ok(Message { delimiters: d, segments, truncated })
}

impl<'a> Message<'a> {
    /// The segments with this id.
    pub fn all(&self, id: &[u8]) -> impl Iterator<Item = &&'a [u8]> + '_ {
        let id = id.to_vec();
        self.segments.iter().filter(move |s| s.get(..3) == Some(&id[..]) && (s.len() == 3 || s.get(3) == Some(&self.delimiters.field)))
    }

    /// Field `n` of `segment`, numbered as HL7 numbers it (MSH-1 is the separator).
    pub fn field(&self, segment: &'a [u8], n: usize) -> Option<&'a [u8]> {
        let is_msh = segment.get(..3) == Some(b"MSH");
        match (is_msh, n) {
            (_, 0) => None,
            (true, 1) => segment.get(3..4),
            (true, n) => segment.split(|&b| b == self.delimiters.field).nth(n - 1),
            (false, n) => segment.split(|&b| b == self.delimiters.field).nth(n),
        }
    }

    /// The components of a field value (of its first repetition when `first`).
    pub fn components(&self, value: &'a [u8]) -> Vec<&'a [u8]> {
        value.split(|&b| b == self.delimiters.component).collect()
    }

    /// `value` with the delimiter escapes (`\F\`, `\S\`, `\T\`, `\R\`, `\E\`)
    /// turned back into the characters they stand for; other escapes are kept.
    pub fn unescape(&self, value: &[u8]) -> Vec<u8> {
        let d = self.delimiters;
        let mut out = Vec::with_capacity(value.len());
        let mut i = 0;
        while i < value.len() {
            let ch = match (value[i] == d.escape, value.get(i + 1), value.get(i + 2) == Some(&d.escape)) {
                (true, Some(b'F'), true) => Some(d.field),
                (true, Some(b'S'), true) => Some(d.component),
                (true, Some(b'T'), true) => Some(d.subcomponent),
                (true, Some(b'R'), true) => Some(d.repetition),
                (true, Some(b'E'), true) => Some(d.escape),
                _ => None,
            };
            match ch {
                Some(c) => {
                    out.push(c);
                    i += 3;
                }
                None => {
                    out.push(value[i]);
                    i += 1;
                }
            }
        }
        out
    }

    /// The repetitions of a field value.
    pub fn repetitions(&self, value: &'a [u8]) -> Vec<&'a [u8]> {
        value.split(|&b| b == self.delimiters.repetition).collect()
    }

    fn msh(&self, n: usize) -> &'a [u8] {
        self.segments.first().and_then(|s| self.field(s, n)).unwrap_or_default()
    }

    fn msh_component(&self, n: usize, c: usize) -> String {
        text(self.components(self.msh(n)).get(c).copied().unwrap_or_default())
    }

    /// What an analyst reads of it.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            message_type: self.msh_component(9, 0),
            trigger: self.msh_component(9, 1),
            structure: self.msh_component(9, 2),
            control_id: text(self.msh(10)),
            processing_id: self.msh_component(11, 0),
            version: self.msh_component(12, 0),
            sending_application: self.msh_component(3, 0),
            sending_facility: self.msh_component(4, 0),
            receiving_application: self.msh_component(5, 0),
            receiving_facility: self.msh_component(6, 0),
            ..Summary::default()
        };
        s.segments = self.segments.iter().map(|seg| text(seg.get(..3).unwrap_or(seg))).collect();
        for pid in self.all(b"PID") {
            for n in [2, 3, 4] {
                for rep in self.repetitions(self.field(pid, n).unwrap_or_default()) {
                    let id = text(self.components(rep).first().copied().unwrap_or_default());
                    if !id.is_empty() && s.patient_ids.len() < MAX_PATIENTS && !s.patient_ids.contains(&id) {
                        s.patient_ids.push(id);
                    }
                }
            }
            for rep in self.repetitions(self.field(pid, 5).unwrap_or_default()) {
                let c = self.components(rep);
                let name = format!("{}^{}", text(c.first().copied().unwrap_or_default()), text(c.get(1).copied().unwrap_or_default()));
                if name != "^" && s.patient_names.len() < MAX_PATIENTS {
                    s.patient_names.push(name);
                }
            }
        }
        // A query's parameters (QPD-3 onwards: `@PID.3.1^123` pairs or plain values).
        for qpd in self.all(b"QPD") {
            for n in 3..12 {
                let Some(value) = self.field(qpd, n) else { break };
                for rep in self.repetitions(value) {
                    let c = self.components(rep);
                    let v = if c.first().is_some_and(|f| f.starts_with(b"@")) { c.get(1).copied() } else { c.first().copied() };
                    let v = text(v.unwrap_or_default());
                    if !v.is_empty() && s.patient_ids.len() < MAX_PATIENTS && !s.patient_ids.contains(&v) {
                        s.patient_ids.push(v);
                    }
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADT: &[u8] = b"MSH|^~\\&|EPIC|RAD|MIRTH|HOSP|20261206101500||ADT^A01^ADT_A01|MSG00001|P|2.5.1\rEVN|A01|20261206101500\rPID|1||9990000018^^^NHS^NH~MRN123^^^RAD^MR||SMITH^Jane||19800101|F\rPV1|1|I\r";

    #[test]
    fn an_adt_message_is_summarised_with_its_own_delimiters() {
        let m = parse(ADT).unwrap();
        let s = m.summary();
        assert_eq!((s.message_type.as_str(), s.trigger.as_str(), s.structure.as_str()), ("ADT", "A01", "ADT_A01"));
        assert_eq!((s.control_id.as_str(), s.processing_id.as_str(), s.version.as_str()), ("MSG00001", "P", "2.5.1"));
        assert_eq!((s.sending_application.as_str(), s.receiving_facility.as_str()), ("EPIC", "HOSP"));
        assert_eq!(s.patient_ids, vec!["9990000018", "MRN123"]);
        assert_eq!(s.patient_names, vec!["SMITH^Jane"]);
        assert_eq!(s.segments, vec!["MSH", "EVN", "PID", "PV1"]);
        // Other delimiters, CRLF segments: the same reading.
        let other = b"MSH#@*%$#EPIC#RAD#MIRTH#HOSP#20261206##ADT@A01#X1#P#2.3\r\nPID#1##42@@@H\r\n";
        let s = parse(other).unwrap().summary();
        assert_eq!((s.message_type.as_str(), s.trigger.as_str(), s.control_id.as_str()), ("ADT", "A01", "X1"));
        assert_eq!(s.patient_ids, vec!["42"]);
    }

    #[test]
    fn queries_give_their_patient_values() {
        let q = b"MSH|^~\\&|X|Y|Z|W|2026||QBP^Q22^QBP_Q21|Q1|P|2.5\rQPD|IHE PDQ Query|Q1|@PID.3.1^9990000018~@PID.5.1^SMITH\rRCP|I\r";
        assert_eq!(parse(q).unwrap().summary().patient_ids, vec!["9990000018", "SMITH"]);
    }

    #[test]
    fn hostile_messages_are_refused_or_capped_without_panicking() {
        assert_eq!(parse(b"PID|1").unwrap_err(), ParseError::NoMsh);
        assert_eq!(parse(b"MSH").unwrap_err(), ParseError::BadDelimiters);
        assert_eq!(parse(b"MSH||||").unwrap_err(), ParseError::BadDelimiters);
        assert_eq!(parse(b"MSHa^~\\&").unwrap_err(), ParseError::BadDelimiters);
        let many = [b"MSH|^~\\&|a\r".as_slice(), &b"Z|\r".repeat(MAX_SEGMENTS + 5)].concat();
        let m = parse(&many).unwrap();
        assert!(m.truncated && m.segments.len() == MAX_SEGMENTS);
        for n in 0..ADT.len() {
            if let Ok(m) = parse(&ADT[..n]) {
                let _ = m.summary();
            }
        }
    }
}
