//! The answer to a patient query, in the query's own delimiters and version: `RSP^K22`
//! / `RSP^K21` (MSH, MSA, QAK with the query tag and hit counts, QPD echoed, a PID per
//! patient, with the QRI 2.5 on requires) and `ADR^A19` (MSH, MSA, QRD echoed, PID and PV1 per patient). A query
//! that names nothing is answered `AE` with ERR, as a required field missing. Pure.

use super::ack::{before_2_5, header, msa, AckCode, Problem, Stamp};
use super::message::{Delimiters, Message};
use super::query::{Criteria, QueryKind};
use crate::token::HoneyPatient;

/// `value` with every delimiter escaped (`\F\`, `\S\`, `\T\`, `\R\`, `\E\` in the
/// message's escape character) and anything that would end a segment dropped.
pub fn escape(value: &str, d: &Delimiters) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for b in value.bytes().filter(|b| *b != b'\r' && *b != b'\n') {
        let code = match b {
            _ if b == d.field => b'F',
            _ if b == d.component => b'S',
            _ if b == d.subcomponent => b'T',
            _ if b == d.repetition => b'R',
            _ if b == d.escape => b'E',
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend([d.escape, code, d.escape]);
    }
    out
}

/// A segment from its id and fields, each field a list of components.
fn segment(d: &Delimiters, id: &str, fields: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = id.as_bytes().to_vec();
    for components in fields {
        out.push(d.field);
        out.extend(components.join(&d.component));
    }
    out.push(b'\r');
    out
}

/// The PID of patient `n` (from 1): NHS number and MRN, legal name, birth date, sex.
fn pid(d: &Delimiters, n: usize, p: &HoneyPatient, site_code: &str) -> Vec<u8> {
    let e = |v: &str| escape(v, d);
    let ids = [[e(&p.nhs_number), vec![], vec![], e("NHS"), e("NH")].join(&d.component), [e(&p.mrn), vec![], vec![], e(site_code), e("MR")].join(&d.component)]
        .join(&d.repetition);
    let name = vec![e(&p.family_name.to_uppercase()), e(&p.given_name), vec![], vec![], vec![], vec![], e("L")];
    segment(d, "PID", &[vec![e(&n.to_string())], vec![], vec![ids], vec![], name, vec![], vec![e(&p.birth_date)], vec![e(&p.sex)]])
}

/// The segment of `m` with `id`, echoed as sent (with its segment end).
fn echoed(m: &Message<'_>, id: &[u8]) -> Vec<u8> {
    m.all(id).next().map(|s| [*s, b"\r"].concat()).unwrap_or_default()
}

/// QAK: the query tag (QPD-2), `status`, the query name (QPD-1) and hit counts.
fn qak(m: &Message<'_>, status: &str, hits: usize) -> Vec<u8> {
    let d = m.delimiters;
    let qpd = m.all(b"QPD").next().copied();
    let qpd_field = |n| qpd.and_then(|q| m.field(q, n)).unwrap_or_default().to_vec();
    let count = |n: usize| vec![n.to_string().into_bytes()];
    let mut fields = vec![vec![qpd_field(2)], vec![status.as_bytes().to_vec()], vec![qpd_field(1)]];
    if status != "AE" {
        fields.extend([count(hits), count(hits), count(0)]);
    }
    segment(&d, "QAK", &fields)
}

/// The response to query `m` of `kind` naming `found`.
pub fn respond(m: &Message<'_>, kind: QueryKind, criteria: &Criteria, found: &[&HoneyPatient], stamp: &Stamp, site_code: &str) -> Vec<u8> {
    let d = m.delimiters;
    let msh = m.segments.first().copied().unwrap_or_default();
    let version = stamp.version.map_or(m.field(msh, 12).unwrap_or_default(), str::as_bytes);
    let (code, trigger, structure) = kind.response_type(version);
    let mut out = header(m, stamp, (code.as_bytes(), trigger.as_bytes(), structure.as_bytes()));
    if criteria.is_empty() {
        let missing = match kind {
            QueryKind::PatientQuery => "QRD-8 names no patient",
            _ => "QPD-3 names no query parameter",
        };
        out.extend(msa(m, AckCode::Error, stamp, Some((Problem::RequiredFieldMissing, missing))));
        if kind != QueryKind::PatientQuery {
            out.extend(qak(m, "AE", 0));
            out.extend(echoed(m, b"QPD"));
        } else {
            out.extend(echoed(m, b"QRD"));
        }
        return out;
    }
    out.extend(msa(m, AckCode::Accept, stamp, None));
    match kind {
        QueryKind::FindCandidates | QueryKind::Demographics => {
            out.extend(qak(m, if found.is_empty() { "NF" } else { "OK" }, found.len()));
            out.extend(echoed(m, b"QPD"));
            for (i, p) in found.iter().enumerate() {
                out.extend(pid(&d, i + 1, p, site_code));
                if !before_2_5(version) {
                    // The match's confidence, in percent.
                    out.extend(segment(&d, "QRI", &[vec![b"100".to_vec()]]));
                }
            }
        }
        QueryKind::PatientQuery => {
            out.extend(echoed(m, b"QRD"));
            for (i, p) in found.iter().enumerate() {
                out.extend(pid(&d, i + 1, p, site_code));
                out.extend(segment(&d, "PV1", &[vec![b"1".to_vec()], vec![b"O".to_vec()]]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::message::parse;
    use super::super::query::query;
    use super::*;

    fn jane() -> HoneyPatient {
        HoneyPatient {
            family_name: "O'Neil".into(),
            given_name: "Jane".into(),
            sex: "F".into(),
            birth_date: "19800101".into(),
            nhs_number: "9990000018".into(),
            mrn: "GHR1234567".into(),
            studies: vec![],
        }
    }

    fn answer(message: &[u8], found: &[&HoneyPatient]) -> String {
        let m = parse(message).unwrap();
        let (kind, c) = query(&m).unwrap();
        String::from_utf8(respond(&m, kind, &c, found, &Stamp::echo("20261206101501"), "GHR")).unwrap()
    }

    #[test]
    fn a_pdq_query_is_answered_with_its_tag_counts_and_a_pid_per_patient() {
        let q = b"MSH|^~\\&|PDQ|X|MIRTH|HOSP|2026||QBP^Q22^QBP_Q21|Q1|P|2.5\rQPD|IHE PDQ Query|T1|@PID.3.1^9990000018\rRCP|I\r";
        assert_eq!(
            answer(q, &[&jane()]),
            "MSH|^~\\&|MIRTH|HOSP|PDQ|X|20261206101501||RSP^K22^RSP_K21|Q1|P|2.5\rMSA|AA|Q1\rQAK|T1|OK|IHE PDQ Query|1|1|0\r\
             QPD|IHE PDQ Query|T1|@PID.3.1^9990000018\r\
             PID|1||9990000018^^^NHS^NH~GHR1234567^^^GHR^MR||O'NEIL^Jane^^^^^L||19800101|F\rQRI|100\r"
        );
        assert!(answer(q, &[]).contains("QAK|T1|NF|IHE PDQ Query|0|0|0\r"));
    }

    #[test]
    fn an_original_mode_query_gets_adr_with_a_visit_per_patient() {
        let q = b"MSH|^~\\&|A|B|C|D|2026||QRY^A19|Q3|P|2.3\rQRD|2026|R|I|Q3|||10^RD|9990000018|DEM\r";
        assert_eq!(
            answer(q, &[&jane()]),
            "MSH|^~\\&|C|D|A|B|20261206101501||ADR^A19|Q3|P|2.3\rMSA|AA|Q3\rQRD|2026|R|I|Q3|||10^RD|9990000018|DEM\r\
             PID|1||9990000018^^^NHS^NH~GHR1234567^^^GHR^MR||O'NEIL^Jane^^^^^L||19800101|F\rPV1|1|O\r"
        );
    }

    #[test]
    fn a_query_naming_nothing_is_an_application_error() {
        let a = answer(b"MSH|^~\\&|A|B|C|D|2026||QBP^Q22^QBP_Q21|Q9|P|2.5.1\rQPD|IHE PDQ Query|T9\r", &[]);
        assert!(a.contains("MSA|AE|Q9\rERR|||101^Required field missing^HL70357|E||||QPD-3 names no query parameter\rQAK|T9|AE|IHE PDQ Query\r"), "{a}");
    }

    #[test]
    fn values_are_escaped_in_the_senders_delimiters() {
        let d = Delimiters { field: b'\'', component: b'^', repetition: b'~', escape: b'\\', subcomponent: b'&' };
        assert_eq!(escape("O'Neil^&~\\\rX", &d), b"O\\F\\Neil\\S\\\\T\\\\R\\\\E\\X".to_vec());
        // A sender whose field separator is the apostrophe still gets one PID field per value.
        let q = b"MSH'^~\\&'A'B'C'D'2026''QBP^Q22'Q1'P'2.5\rQPD'IHE PDQ Query'T1'@PID.5.1^O\\F\\NEIL\r";
        let a = answer(q, &[&jane()]);
        let pid = a.lines().last().unwrap_or_default().split('\r').find(|s| s.starts_with("PID")).unwrap().to_string();
        assert_eq!(pid.split('\'').nth(5), Some("O\\F\\NEIL^Jane^^^^^L"));
    }
}
