//! Whether a resource matches a search, and the order `_sort` puts matches in: every
//! resource offers its searchable values as [`Facts`], one matcher for all types.

use std::cmp::Ordering;

use chrono::{Duration, NaiveDateTime};

use super::date::{DateValue, Prefix};
use super::params::{Modifier, ParamName};
use super::search::{Criterion, Search, Sort, Value};
use super::ResourceType;

/// One searchable value of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A coded value or identifier: its system, code, and display text (for `:text`).
    Token {
        system: String,
        code: String,
        display: String,
    },
    Str(String),
    /// The time span the value covers, end exclusive (a birth date spans its day).
    Date {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    Reference {
        resource: ResourceType,
        id: String,
    },
}

/// A resource's searchable values by parameter, and its patient's (for chains and
/// `:identifier` references).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub fields: Vec<(ParamName, Fact)>,
    pub patient: Option<Box<Facts>>,
}

impl Facts {
    pub fn add(&mut self, name: ParamName, fact: Fact) {
        self.fields.push((name, fact));
    }

    fn of(&self, name: ParamName) -> impl Iterator<Item = &Fact> {
        self.fields.iter().filter(move |(n, _)| *n == name).map(|(_, f)| f)
    }
}

/// A token fact with no display text.
pub fn token(system: &str, code: &str) -> Fact {
    Fact::Token { system: system.to_string(), code: code.to_string(), display: String::new() }
}

/// Whether the resource matches every criterion of the search.
#[cfg(test)]
pub fn matches(search: &Search, facts: &Facts) -> bool {
    Matcher::new(search).matches(facts)
}

/// A search ready to run over many resources: its string values case-folded once.
pub struct Matcher<'a> {
    search: &'a Search,
    folded: Vec<Vec<String>>,
}

impl<'a> Matcher<'a> {
    pub fn new(search: &'a Search) -> Self {
        let fold = |v: &Value| if let Value::Str(s) = v { s.to_lowercase() } else { String::new() };
        Matcher { search, folded: search.criteria.iter().map(|c| c.values.iter().map(fold).collect()).collect() }
    }

    /// Whether the resource matches every criterion.
    pub fn matches(&self, facts: &Facts) -> bool {
        self.search.criteria.iter().zip(&self.folded).all(|(c, folded)| criterion_matches(c, folded, facts))
    }
}

fn criterion_matches(c: &Criterion, folded: &[String], facts: &Facts) -> bool {
    if let Some((name, modifier)) = c.chain {
        let Some(patient) = facts.patient.as_deref() else { return false };
        // The reference itself must be there: a chain goes through it.
        if facts.of(c.name).next().is_none() {
            return false;
        }
        return values_match(name, modifier, &c.values, folded, patient);
    }
    if c.modifier == Some(Modifier::Identifier) {
        let Some(patient) = facts.patient.as_deref() else { return false };
        return facts.of(c.name).next().is_some() && values_match(ParamName::Identifier, None, &c.values, folded, patient);
    }
    values_match(c.name, c.modifier, &c.values, folded, facts)
}

fn values_match(name: ParamName, modifier: Option<Modifier>, values: &[Value], folded: &[String], facts: &Facts) -> bool {
    let has_text = values.iter().any(|v| matches!(v, Value::Str(_)));
    let any = |modifier: Option<Modifier>| {
        facts.of(name).any(|f| {
            // The fact's text folded once for all the values.
            let lower = if has_text { fold(f) } else { Default::default() };
            values.iter().zip(folded).any(|(v, fv)| value_matches(v, fv, modifier, f, &lower))
        })
    };
    if modifier == Some(Modifier::Not) {
        return !any(None);
    }
    values.iter().any(|v| matches!(v, Value::Missing(missing) if *missing == facts.of(name).next().is_none())) || any(modifier)
}

/// A fact's text (a string, or a token's display) and code, lower-cased.
fn fold(f: &Fact) -> [String; 2] {
    match f {
        Fact::Str(s) => [s.to_lowercase(), String::new()],
        Fact::Token { display, code, .. } => [display.to_lowercase(), code.to_lowercase()],
        _ => Default::default(),
    }
}

/// One value against one fact; `folded` is the value's text lower-cased, `lower` the fact's.
fn value_matches(value: &Value, folded: &str, modifier: Option<Modifier>, fact: &Fact, lower: &[String; 2]) -> bool {
    match (value, fact) {
        (Value::Token { .. }, Fact::Token { .. })
            if matches!(modifier, Some(Modifier::Above | Modifier::Below | Modifier::In | Modifier::NotIn | Modifier::OfType)) =>
        {
            // Terminology-backed modifiers: no value set or hierarchy is loaded here.
            false
        }
        (Value::Token { system, code }, Fact::Token { system: fs, code: fc, .. }) => {
            let code_ok = code == fc || (code.is_empty() && system.is_some());
            match system.as_deref() {
                None => code == fc,
                Some("") => fs.is_empty() && code == fc,
                Some(s) => s == fs && code_ok,
            }
        }
        (Value::Str(_), Fact::Token { .. }) => lower[0].starts_with(folded) || lower[1].starts_with(folded),
        (Value::Str(text), Fact::Str(s)) => match modifier {
            Some(Modifier::Exact) => s == text,
            Some(Modifier::Contains) => lower[0].contains(folded),
            _ => lower[0].starts_with(folded),
        },
        (Value::Date(d), Fact::Date { start, end }) => date_matches(d, *start, *end),
        (Value::Reference { resource, id }, Fact::Reference { resource: fr, id: fid }) => {
            id == fid && resource.as_deref().is_none_or(|r| r == fr.as_str()) && !matches!(modifier, Some(Modifier::Type(t)) if t != *fr)
        }
        _ => false,
    }
}

/// FHIR's date comparison of a search range with a resource's range.
fn date_matches(d: &DateValue, start: NaiveDateTime, end: NaiveDateTime) -> bool {
    let (s, e) = (d.start, d.end());
    let within = start >= s && end <= e;
    let overlaps = start < e && end > s;
    match d.prefix {
        Prefix::Eq => within,
        Prefix::Ne => !within,
        Prefix::Gt => end > e,
        Prefix::Lt => start < s,
        Prefix::Ge => end > e || within,
        Prefix::Le => start < s || within,
        Prefix::Sa => start >= e,
        Prefix::Eb => end <= s,
        Prefix::Ap => {
            // Approximately: the range widened by its own length each side (at least a day).
            let spread = (e - s).max(Duration::days(1));
            let (ws, we) = (s.checked_sub_signed(spread).unwrap_or(s), e.checked_add_signed(spread).unwrap_or(e));
            overlaps || (start < we && end > ws)
        }
    }
}

/// The order of two resources by `_sort` (missing values last), then by id as numbers.
pub fn compare(a: &Facts, b: &Facts, sort: &[Sort]) -> Ordering {
    for s in sort {
        let ord = match (sort_key(a, s.name), sort_key(b, s.name)) {
            (Some(x), Some(y)) if s.descending => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    sort_key(a, ParamName::Id).cmp(&sort_key(b, ParamName::Id))
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(u64),
    Date(NaiveDateTime),
    Text(String),
}

fn sort_key(facts: &Facts, name: ParamName) -> Option<Key> {
    facts.of(name).next().map(|f| match f {
        Fact::Token { code, .. } | Fact::Reference { id: code, .. } => code.parse().map(Key::Number).unwrap_or_else(|_| Key::Text(code.clone())),
        Fact::Str(s) => Key::Text(s.to_lowercase()),
        Fact::Date { start, .. } => Key::Date(*start),
    })
}

#[cfg(test)]
mod tests {
    use super::super::search::parse;
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap()
    }

    fn patient(id: &str, family: &str, born: NaiveDateTime) -> Facts {
        let mut f = Facts::default();
        f.add(ParamName::Id, token("", id));
        f.add(ParamName::Identifier, token("https://fhir.nhs.uk/Id/nhs-number", "9990000018"));
        f.add(ParamName::Family, Fact::Str(family.into()));
        f.add(ParamName::Name, Fact::Str(family.into()));
        f.add(ParamName::Name, Fact::Str("Ann".into()));
        f.add(ParamName::Gender, Fact::Token { system: "http://hl7.org/fhir/administrative-gender".into(), code: "female".into(), display: "Female".into() });
        f.add(ParamName::Birthdate, Fact::Date { start: born, end: born + Duration::days(1) });
        f
    }

    fn study(patient: Facts) -> Facts {
        let mut f = Facts::default();
        f.add(ParamName::Id, token("", "3"));
        f.add(ParamName::Patient, Fact::Reference { resource: ResourceType::Patient, id: "1".into() });
        f.add(ParamName::Subject, Fact::Reference { resource: ResourceType::Patient, id: "1".into() });
        f.add(ParamName::Modality, token("http://dicom.nema.org/resources/ontology/DCM", "CT"));
        f.patient = Some(Box::new(patient));
        f
    }

    fn hit(resource: &str, query: &str, facts: &Facts) -> bool {
        matches(&parse(resource, query).unwrap(), facts)
    }

    #[test]
    fn tokens_match_by_system_and_code_as_fhir_defines() {
        let p = patient("1", "Ellis", day(1950, 3, 5));
        for (q, want) in [
            ("identifier=9990000018", true),
            ("identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018", true),
            ("identifier=https://fhir.nhs.uk/Id/nhs-number|", true),
            ("identifier=|9990000018", false),
            ("identifier=urn:other|9990000018", false),
            ("identifier=999000001", false),
            ("identifier:text=999", true),
            ("gender=female", true),
            ("gender:not=female", false),
            ("gender:not=male", true),
            ("gender:text=fem", true),
            ("_id=1", true),
            ("_id=2,1", true),
            ("_id=2", false),
            ("_tag=x", false),
            ("_tag:missing=true", true),
            ("identifier:in=http://vs", false),
        ] {
            assert_eq!(hit("Patient", q, &p), want, "{q}");
        }
    }

    #[test]
    fn strings_match_from_the_start_ignoring_case_unless_modified() {
        let p = patient("1", "Ellis", day(1950, 3, 5));
        for (q, want) in [
            ("family=ell", true),
            ("family=ELLIS", true),
            ("family=lis", false),
            ("family:contains=LI", true),
            ("family:exact=Ellis", true),
            ("family:exact=ellis", false),
            ("name=ann", true),
            ("name=bob,ann", true),
            ("name=ann&family=bob", false),
            ("address=x", false),
            ("address:missing=true", true),
            ("family:missing=true", false),
        ] {
            assert_eq!(hit("Patient", q, &p), want, "{q}");
        }
    }

    #[test]
    fn dates_compare_ranges_with_every_prefix() {
        let p = patient("1", "Ellis", day(1950, 3, 5));
        for (q, want) in [
            ("birthdate=1950", true),
            ("birthdate=1950-03", true),
            ("birthdate=1950-03-05", true),
            ("birthdate=1950-03-06", false),
            ("birthdate=ne1950", false),
            ("birthdate=ne1951", true),
            ("birthdate=gt1949", true),
            ("birthdate=gt1950", false),
            ("birthdate=lt1951", true),
            ("birthdate=lt1950-03-05", false),
            ("birthdate=ge1950-03-05", true),
            ("birthdate=le1950-03-05", true),
            ("birthdate=le1950-03-04", false),
            ("birthdate=sa1950-03-04", true),
            ("birthdate=sa1950-03-05", false),
            ("birthdate=eb1950-03-06", true),
            ("birthdate=eb1950-03-05", false),
            ("birthdate=ap1950-03-04", true),
            ("birthdate=ap1960", false),
            ("birthdate=gt1940&birthdate=lt1960", true),
        ] {
            assert_eq!(hit("Patient", q, &p), want, "{q}");
        }
    }

    #[test]
    fn references_chains_and_identifier_references_go_through_the_patient() {
        let s = study(patient("1", "Ellis", day(1950, 3, 5)));
        for (q, want) in [
            ("patient=1", true),
            ("patient=Patient/1", true),
            ("subject=http://x/fhir/Patient/1", true),
            ("subject=Encounter/1", false),
            ("patient=2", false),
            ("subject:Patient=1", true),
            ("subject.family=ell", true),
            ("patient.identifier=9990000018", true),
            ("patient.identifier=9990000019", false),
            ("subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018", true),
            ("modality=CT", true),
            ("modality=http://dicom.nema.org/resources/ontology/DCM|MR", false),
            ("encounter=5", false),
            ("encounter:missing=true", true),
        ] {
            assert_eq!(hit("ImagingStudy", q, &s), want, "{q}");
        }
    }

    #[test]
    fn sorting_follows_the_sort_keys_then_the_numeric_id() {
        let a = patient("2", "Khan", day(1960, 1, 1));
        let b = patient("10", "Ellis", day(1950, 1, 1));
        let c = patient("3", "Ellis", day(1970, 1, 1));
        let mut all = [&a, &b, &c];
        all.sort_by(|x, y| compare(x, y, &[]));
        assert_eq!(all.map(|f| sort_key(f, ParamName::Id)), [Some(Key::Number(2)), Some(Key::Number(3)), Some(Key::Number(10))]);
        let s = parse("Patient", "_sort=family,-birthdate").unwrap();
        all.sort_by(|x, y| compare(x, y, &s.sort));
        assert_eq!(all.map(|f| sort_key(f, ParamName::Id)), [Some(Key::Number(3)), Some(Key::Number(10)), Some(Key::Number(2))]);
    }
}
