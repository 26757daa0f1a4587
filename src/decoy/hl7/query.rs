//! Patient queries an integration engine answers: what `QBP^Q22` (IHE PDQ, find
//! candidates: QPD-3 as `@PID.5.1^SMITH` pairs), `QBP^Q21` (get demographics: QPD-3
//! an identifier) and `QRY^A19` (original mode: QRD-8 the patient) ask for, and which
//! patients of the cohort fit. Pure: no I/O.

use super::message::Message;
use crate::token::HoneyPatient;

/// Most patients one answer names (RCP-2 / QRD-7 may ask for fewer).
pub const MAX_ANSWERED: usize = 50;

/// Longest criterion value kept.
const MAX_VALUE: usize = 64;

/// The query a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `QBP^Q22`, answered with `RSP^K22`.
    FindCandidates,
    /// `QBP^Q21`, answered with `RSP^K21`.
    Demographics,
    /// `QRY^A19`, answered with `ADR^A19`.
    PatientQuery,
}

impl QueryKind {
    /// The response's message code, trigger and structure in `version`: find
    /// candidates' answer is structure `RSP_K22` in 2.4 and from 2.8, `RSP_K21` between.
    pub fn response_type(self, version: &[u8]) -> (&'static str, &'static str, &'static str) {
        let rsp_k22 = version.starts_with(b"2.4") || version.starts_with(b"2.8");
        match self {
            QueryKind::FindCandidates if rsp_k22 => ("RSP", "K22", "RSP_K22"),
            QueryKind::FindCandidates => ("RSP", "K22", "RSP_K21"),
            QueryKind::Demographics => ("RSP", "K21", "RSP_K21"),
            QueryKind::PatientQuery => ("ADR", "A19", "ADR_A19"),
        }
    }
}

/// What a query asks for; every criterion given must fit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    /// Identifiers (NHS number or MRN), any of which may fit.
    pub ids: Vec<String>,
    /// Family name, case-insensitive; a trailing `*` matches any ending.
    pub family: Option<String>,
    /// Given name, case-insensitive prefix.
    pub given: Option<String>,
    /// `YYYYMMDD`, from the first eight digits given.
    pub birth_date: Option<String>,
    /// `F`, `M`, …
    pub sex: Option<String>,
    /// Most patients wanted.
    pub limit: usize,
}

impl Criteria {
    /// Whether the query names anything at all.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.family.is_none() && self.given.is_none() && self.birth_date.is_none() && self.sex.is_none()
    }

    /// Whether `p` fits every criterion given.
    pub fn fits(&self, p: &HoneyPatient) -> bool {
        let id = self.ids.is_empty() || self.ids.iter().any(|id| *id == p.nhs_number || *id == p.mrn);
        let family = self.family.as_deref().is_none_or(|f| match f.strip_suffix('*') {
            Some(start) => p.family_name.to_uppercase().starts_with(start),
            None => p.family_name.eq_ignore_ascii_case(f),
        });
        let given = self.given.as_deref().is_none_or(|g| p.given_name.to_uppercase().starts_with(g.trim_end_matches('*')));
        let born = self.birth_date.as_deref().is_none_or(|d| p.birth_date == d);
        let sex = self.sex.as_deref().is_none_or(|s| p.sex.eq_ignore_ascii_case(s));
        !self.is_empty() && id && family && given && born && sex
    }
}

/// The readable text of an HL7 value, its delimiter escapes undone, capped.
fn text(m: &Message<'_>, value: &[u8]) -> String {
    String::from_utf8_lossy(&m.unescape(&value[..value.len().min(MAX_VALUE)])).trim().to_string()
}

/// The first eight digits of a date or timestamp.
fn date(value: &[u8]) -> Option<String> {
    let digits: String = value.iter().take_while(|b| b.is_ascii_digit()).take(8).map(|&b| char::from(b)).collect();
    (digits.len() == 8).then_some(digits)
}

/// A quantity limit (`RCP-2` / `QRD-7`: `10^RD`), within [`MAX_ANSWERED`].
fn limit(m: &Message<'_>, value: Option<&[u8]>) -> usize {
    let n = value.and_then(|v| m.components(v).first().and_then(|n| std::str::from_utf8(n).ok()).and_then(|n| n.trim().parse::<usize>().ok()));
    n.filter(|n| *n > 0).unwrap_or(MAX_ANSWERED).min(MAX_ANSWERED)
}

/// Sets the criterion a PDQ field path (`PID.5.1.1`, `@PID.3`, …) names.
fn criterion(m: &Message<'_>, c: &mut Criteria, path: &[u8], value: &[u8]) {
    let path = String::from_utf8_lossy(path).to_ascii_uppercase();
    let path = path.trim_start_matches('@');
    let parts: Vec<&str> = path.split('.').collect();
    let upper = text(m, value).to_uppercase();
    if upper.is_empty() {
        return;
    }
    match parts.as_slice() {
        ["PID", "2" | "3" | "4" | "18" | "19", ..] if c.ids.len() < 8 => c.ids.push(text(m, value)),
        ["PID", "5", "1", ..] | ["PID", "5"] => c.family = Some(upper),
        ["PID", "5", "2", ..] => c.given = Some(upper),
        ["PID", "7", ..] => c.birth_date = date(value),
        ["PID", "8", ..] => c.sex = Some(upper),
        _ => {}
    }
}

/// The query `m` is and what it asks, when it is one of the queries answered. A query
/// without the segment its parameters go in gives empty criteria.
pub fn query(m: &Message<'_>) -> Option<(QueryKind, Criteria)> {
    let msh = m.segments.first().copied()?;
    let kind = m.components(m.field(msh, 9).unwrap_or_default());
    let kind = match (kind.first().copied(), kind.get(1).copied()) {
        (Some(b"QBP"), Some(b"Q22")) => QueryKind::FindCandidates,
        (Some(b"QBP"), Some(b"Q21")) => QueryKind::Demographics,
        (Some(b"QRY"), Some(b"A19")) => QueryKind::PatientQuery,
        _ => return None,
    };
    let mut c = Criteria { limit: MAX_ANSWERED, ..Criteria::default() };
    match kind {
        QueryKind::FindCandidates => {
            if let Some(qpd) = m.all(b"QPD").next() {
                for rep in m.repetitions(m.field(qpd, 3).unwrap_or_default()) {
                    let parts = m.components(rep);
                    if let (Some(path), Some(value)) = (parts.first(), parts.get(1)) {
                        criterion(m, &mut c, path, value);
                    }
                }
            }
            c.limit = limit(m, m.all(b"RCP").next().and_then(|rcp| m.field(rcp, 2)));
        }
        QueryKind::Demographics => {
            if let Some(id) = m.all(b"QPD").next().and_then(|qpd| m.field(qpd, 3)).and_then(|v| m.components(v).first().copied()) {
                if !text(m, id).is_empty() {
                    c.ids.push(text(m, id));
                }
            }
            // One identifier, one person.
            c.limit = 1;
        }
        QueryKind::PatientQuery => {
            if let Some(qrd) = m.all(b"QRD").next() {
                for rep in m.repetitions(m.field(qrd, 8).unwrap_or_default()).into_iter().take(8) {
                    let id = text(m, m.components(rep).first().copied().unwrap_or_default());
                    if !id.is_empty() {
                        c.ids.push(id);
                    }
                }
                c.limit = limit(m, m.field(qrd, 7));
            }
        }
    }
    Some((kind, c))
}

/// The patients that fit, token patients first, at most `c.limit`; each with whether
/// it is a token's.
pub fn find<'a>(c: &Criteria, tokens: &'a [HoneyPatient], cohort: &'a [std::sync::Arc<HoneyPatient>]) -> Vec<(&'a HoneyPatient, bool)> {
    let tokens = tokens.iter().map(|p| (p, true));
    let cohort = cohort.iter().map(|p| (p.as_ref(), false));
    tokens.chain(cohort).filter(|(p, _)| c.fits(p)).take(c.limit).collect()
}

#[cfg(test)]
mod tests {
    use super::super::message::parse;
    use super::*;

    fn patient(family: &str, given: &str, nhs: &str) -> HoneyPatient {
        HoneyPatient {
            family_name: family.into(),
            given_name: given.into(),
            sex: "F".into(),
            birth_date: "19800101".into(),
            nhs_number: nhs.into(),
            mrn: format!("M{nhs}"),
            studies: vec![],
        }
    }

    #[test]
    fn each_query_gives_its_criteria() {
        let pdq = b"MSH|^~\\&|A|B|C|D|2026||QBP^Q22^QBP_Q21|Q1|P|2.5\rQPD|IHE PDQ Query|T1|@PID.5.1.1^smith~@PID.5.2^Ja~@PID.7.1^19800101120000~@PID.8^F\rRCP|I|5^RD\r";
        let (kind, c) = query(&parse(pdq).unwrap()).unwrap();
        assert_eq!(kind, QueryKind::FindCandidates);
        assert_eq!(
            (c.family.as_deref(), c.given.as_deref(), c.birth_date.as_deref(), c.sex.as_deref(), c.limit),
            (Some("SMITH"), Some("JA"), Some("19800101"), Some("F"), 5)
        );
        let q21 = b"MSH|^~\\&|A|B|C|D|2026||QBP^Q21^QBP_Q21|Q2|P|2.5\rQPD|IHE PIX Query|T2|9990000018^^^NHS^NH\rRCP|I\r";
        let (kind, c) = query(&parse(q21).unwrap()).unwrap();
        assert_eq!((kind, c.ids, c.limit), (QueryKind::Demographics, vec!["9990000018".to_string()], 1));
        let a19 = b"MSH|^~\\&|A|B|C|D|2026||QRY^A19|Q3|P|2.3\rQRD|2026|R|I|Q3|||10^RD|M123~9990000018|DEM\r";
        let (kind, c) = query(&parse(a19).unwrap()).unwrap();
        assert_eq!((kind, c.ids, c.limit), (QueryKind::PatientQuery, vec!["M123".to_string(), "9990000018".to_string()], 10));
        assert!(query(&parse(b"MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5\r").unwrap()).is_none());
        let bare = query(&parse(b"MSH|^~\\&|A|B|C|D|2026||QBP^Q22|1|P|2.5\r").unwrap()).unwrap();
        assert!(bare.1.is_empty(), "no QPD: nothing asked");
    }

    #[test]
    fn patients_fit_by_identifier_name_birth_date_and_sex() {
        let tokens = vec![patient("Smith", "Jane", "9990000018")];
        let cohort = vec![std::sync::Arc::new(patient("Smithers", "Janet", "9990000026")), std::sync::Arc::new(patient("Jones", "Ann", "9990000034"))];
        let names = |c: &Criteria| find(c, &tokens, &cohort).iter().map(|(p, t)| (p.family_name.clone(), *t)).collect::<Vec<_>>();
        let by = |f: fn(&mut Criteria)| {
            let mut c = Criteria { limit: MAX_ANSWERED, ..Criteria::default() };
            f(&mut c);
            c
        };
        assert_eq!(names(&by(|c| c.ids = vec!["9990000018".into()])), vec![("Smith".to_string(), true)]);
        assert_eq!(names(&by(|c| c.ids = vec!["M9990000034".into()])), vec![("Jones".to_string(), false)]);
        assert_eq!(names(&by(|c| c.family = Some("SMITH".into()))).len(), 1);
        assert_eq!(names(&by(|c| c.family = Some("SMITH*".into()))).len(), 2);
        assert_eq!(names(&by(|c| c.given = Some("JAN".into()))).len(), 2);
        assert_eq!(names(&by(|c| c.birth_date = Some("19800101".into()))).len(), 3);
        assert_eq!(names(&by(|c| c.sex = Some("M".into()))).len(), 0);
        assert_eq!(names(&by(|_| {})).len(), 0, "an empty query finds nobody");
        let mut two = by(|c| c.birth_date = Some("19800101".into()));
        two.limit = 2;
        assert_eq!(names(&two).len(), 2);
    }

    #[test]
    fn hostile_queries_are_capped() {
        let many = format!("MSH|^~\\&|A|B|C|D|2026||QRY^A19|Q|P|2.3\rQRD|2026|R|I|Q|||99999999999999999999^RD|{}|DEM\r", "1~".repeat(10_000));
        let (_, c) = query(&parse(many.as_bytes()).unwrap()).unwrap();
        assert!(c.ids.len() <= 8 && c.limit == MAX_ANSWERED);
        let long = format!("MSH|^~\\&|A|B|C|D|2026||QBP^Q22|Q|P|2.5\rQPD|x|y|@PID.5.1^{}\r", "A".repeat(100_000));
        let (_, c) = query(&parse(long.as_bytes()).unwrap()).unwrap();
        assert_eq!(c.family.map(|f| f.len()), Some(MAX_VALUE));
    }
}
