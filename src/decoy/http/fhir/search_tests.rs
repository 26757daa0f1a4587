use super::super::date::{Precision, Prefix};
use super::*;
use chrono::{NaiveDate, NaiveTime};

fn one(resource: &str, query: &str) -> Criterion {
    let s = parse(resource, query).unwrap();
    assert_eq!(s.criteria.len(), 1, "{query}");
    s.criteria.into_iter().next().unwrap()
}

#[test]
fn an_empty_query_is_the_default_page_of_everything() {
    let s = parse("Patient", "").unwrap();
    assert_eq!((s.resource, s.criteria.len(), s.count, s.offset), (ResourceType::Patient, 0, DEFAULT_COUNT, 0));
    assert_eq!((s.format, s.pretty, s.summary, s.total), (None, None, None, None));
}

#[test]
fn an_identifier_token_reads_its_system_and_value_percent_decoded() {
    let c = one("Patient", "identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9990000018&_count=5");
    assert_eq!(c.name, ParamName::Identifier);
    assert_eq!(c.values, vec![Value::Token { system: Some("https://fhir.nhs.uk/Id/nhs-number".into()), code: "9990000018".into() }]);
    assert_eq!(one("Patient", "identifier=9990000018").values, vec![Value::Token { system: None, code: "9990000018".into() }]);
    assert_eq!(one("Patient", "identifier=|x").values, vec![Value::Token { system: Some(String::new()), code: "x".into() }]);
    assert_eq!(one("Patient", "identifier=a%5C|b|c").values, vec![Value::Token { system: Some("a|b".into()), code: "c".into() }]);
}

#[test]
fn commas_are_or_values_unless_escaped_and_repeated_parameters_are_separate_criteria() {
    let c = one("Patient", "family=Ellis,Khan,O%5C,Brien");
    assert_eq!(c.values, vec![Value::Str("Ellis".into()), Value::Str("Khan".into()), Value::Str("O,Brien".into())]);
    let s = parse("Patient", "given=Ann&given=May&name=a+b").unwrap();
    assert_eq!(s.criteria.len(), 3);
    assert_eq!(s.criteria[2].values, vec![Value::Str("a b".into())]);
}

#[test]
fn dates_read_prefixes_and_partial_precisions() {
    let d = |q: &str| match &one("Patient", &format!("birthdate={q}")).values[0] {
        Value::Date(d) => *d,
        v => panic!("{v:?}"),
    };
    let y = d("1950");
    assert_eq!((y.prefix, y.precision, y.text()), (Prefix::Eq, Precision::Year, "1950".to_string()));
    assert_eq!(y.end(), NaiveDate::from_ymd_opt(1951, 1, 1).unwrap().and_time(NaiveTime::MIN));
    let m = d("ge1950-02");
    assert_eq!((m.prefix, m.precision), (Prefix::Ge, Precision::Month));
    assert_eq!(m.end().date(), NaiveDate::from_ymd_opt(1950, 3, 1).unwrap());
    let day = d("lt1950-02-28");
    assert_eq!((day.prefix, day.precision, day.text()), (Prefix::Lt, Precision::Day, "1950-02-28".to_string()));
    let t = d("sa2024-03-05T10:15:22.5%2B01:00");
    assert_eq!((t.prefix, t.precision, t.text()), (Prefix::Sa, Precision::Milli, "2024-03-05T09:15:22.500".to_string()));
    assert_eq!(d("2024-03-05T10:15Z").precision, Precision::Minute);
    for p in ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"] {
        assert!(date(&format!("{p}2020")).is_some(), "{p}");
    }
}

#[test]
fn bad_dates_are_refused_with_hapis_message() {
    for bad in ["1950-13", "1950-02-30", "50", "xx1950", "1950-1-1", "1950T10:00", "1950-01-01T25:00", "1950-01-01T10:00:00.", "1950-01-01T10:00+1"] {
        let e = parse("Patient", &format!("birthdate={bad}")).unwrap_err();
        assert!(matches!(e, SearchError::BadValue { expected: Expected::Date, .. }), "{bad}: {e:?}");
    }
    let e = parse("Patient", "birthdate=nope").unwrap_err();
    assert_eq!(e.to_string(), "HAPI-1882: Invalid date/time format: \"nope\"");
}

#[test]
fn an_unknown_parameter_lists_the_valid_ones_as_hapi_does() {
    let e = parse("Patient", "foo=1").unwrap_err();
    let SearchError::UnknownParameter { resource, name, valid } = &e else { panic!("{e:?}") };
    assert_eq!((*resource, name.as_str()), ("Patient", "foo"));
    assert!(valid.contains(&"birthdate"));
    assert!(e.to_string().starts_with(
        "HAPI-0524: Unknown search parameter \"foo\" for resource type \"Patient\". Valid search parameters for this search are: [_id, _lastUpdated, "
    ));
    // A parameter of another resource type is unknown here too.
    assert!(matches!(parse("Patient", "modality=CT"), Err(SearchError::UnknownParameter { .. })));
    assert!(parse("Observation", "code=x").is_ok());
}

#[test]
fn result_controls_are_read_and_count_is_clamped() {
    let s = parse(
        "Patient",
        "_count=100000&_format=application/fhir+xml&_pretty=true&_summary=count&_elements=id,name&_sort=-birthdate,_id&_include=Patient:organization&_revinclude=ImagingStudy:patient&_total=accurate&_getpages=abc-123&_getpagesoffset=40&_bundletype=searchset",
    )
    .unwrap();
    assert_eq!((s.count, s.offset), (MAX_COUNT, 40));
    assert_eq!((s.format, s.pretty, s.summary, s.total), (Some(Format::Xml), Some(true), Some(Summary::Count), Some(Total::Accurate)));
    assert_eq!(s.elements, vec!["id", "name"]);
    assert_eq!(s.sort, vec![Sort { name: ParamName::Birthdate, descending: true }, Sort { name: ParamName::Id, descending: false }]);
    assert_eq!((s.include.len(), s.revinclude.len()), (1, 1));
    assert_eq!((s.getpages.as_deref(), s.bundle_type.as_deref()), (Some("abc-123"), Some("searchset")));
    assert!(s.criteria.is_empty());
    for (f, want) in
        [("json", Format::Json), ("xml", Format::Xml), ("html/xml", Format::HtmlXml), ("text/html", Format::HtmlJson), ("application/json", Format::Json)]
    {
        assert_eq!(parse("Patient", &format!("_format={f}")).unwrap().format, Some(want), "{f}");
    }
    assert_eq!(parse("Patient", "_format=image/png").unwrap().format, None);
}

#[test]
fn bad_result_controls_are_refused() {
    for q in ["_count=-1", "_count=abc", "_getpagesoffset=x", "_summary=maybe", "_total=all", "_sort=modality"] {
        assert!(matches!(parse("Patient", q), Err(SearchError::BadValue { .. })), "{q}");
    }
}

#[test]
fn references_read_bare_ids_typed_ids_and_urls() {
    let r = |q: &str| one("ImagingStudy", q).values;
    let want = |t: Option<&str>| vec![Value::Reference { resource: t.map(String::from), id: "12".into() }];
    assert_eq!(r("patient=12"), want(None));
    assert_eq!(r("patient=Patient/12"), want(Some("Patient")));
    assert_eq!(r("subject=https%3A%2F%2Fpacs.example%2Ffhir%2FPatient%2F12"), want(Some("Patient")));
    assert_eq!(r("subject=Patient/12/_history/3"), want(Some("Patient")));
    assert_eq!(r("subject:Patient=12"), want(Some("Patient")));
    for bad in ["patient=Patient/", "patient=Pat%20ient/1", "patient=1%3Cscript"] {
        assert!(matches!(parse("ImagingStudy", bad), Err(SearchError::BadValue { expected: Expected::Reference, .. })), "{bad}");
    }
}

#[test]
fn chains_through_the_patient_reference_take_the_patients_parameter() {
    let c = one("ImagingStudy", "subject.identifier=9990000018");
    assert_eq!(c.chain, Some((ParamName::Identifier, None)));
    assert_eq!(c.values, vec![Value::Token { system: None, code: "9990000018".into() }]);
    let c = one("Observation", "patient.name:exact=Ann");
    assert_eq!(c.chain, Some((ParamName::Name, Some(Modifier::Exact))));
    for bad in ["encounter.status=x", "subject.modality=CT", "subject.organization.name=x", "status.x=1"] {
        assert!(matches!(parse("ImagingStudy", bad), Err(SearchError::UnknownParameter { .. })), "{bad}");
    }
}

#[test]
fn modifiers_are_typed_and_missing_takes_a_boolean() {
    assert_eq!(one("Patient", "name:contains=ll").modifier, Some(Modifier::Contains));
    assert_eq!(one("Patient", "gender:not=male").modifier, Some(Modifier::Not));
    assert_eq!(one("Patient", "identifier:text=NHS").values, vec![Value::Str("NHS".into())]);
    assert_eq!(one("Patient", "birthdate:missing=true").values, vec![Value::Missing(true)]);
    assert!(matches!(parse("Patient", "birthdate:missing=yes"), Err(SearchError::BadValue { expected: Expected::Boolean, .. })));
    let e = parse("Patient", "name:bogus=x").unwrap_err();
    assert_eq!(e, SearchError::BadModifier { name: "name:bogus".into(), modifier: "bogus".into() });
    assert_eq!(one("ImagingStudy", "patient:identifier=a|b").values, vec![Value::Token { system: Some("a".into()), code: "b".into() }]);
}

#[test]
fn caps_on_size_and_count_are_typed_errors() {
    assert_eq!(parse("Patient", &"a".repeat(MAX_QUERY_BYTES + 1)), Err(SearchError::QueryTooLong { bytes: MAX_QUERY_BYTES + 1 }));
    let many: Vec<String> = (0..=MAX_PARAMETERS).map(|i| format!("given=a{i}")).collect();
    assert_eq!(parse("Patient", &many.join("&")), Err(SearchError::TooManyParameters));
    assert!(parse("Patient", &many[..MAX_PARAMETERS].join("&")).is_ok());
    let long = format!("family={}", "x".repeat(MAX_VALUE_BYTES + 1));
    assert_eq!(parse("Patient", &long), Err(SearchError::ValueTooLong { name: "family".into() }));
    assert!(matches!(parse("Practitioner", ""), Err(SearchError::UnknownResource(t)) if t == "Practitioner"));
    let ors = format!("family={}", vec!["a"; MAX_VALUES + 1].join(","));
    assert_eq!(parse("Patient", &ors), Err(SearchError::TooManyValues));
    assert!(parse("Patient", &format!("family={}", vec!["a"; MAX_VALUES].join(","))).is_ok());
}

#[test]
fn hostile_queries_never_panic_and_stay_fast() {
    let hostile = [
        "%",
        "%%%",
        "%zz",
        "=",
        "&&&",
        "==",
        ":=",
        ".=",
        "%FF%FE=%C0%80",
        "identifier=\\",
        "identifier=\\\\|\\",
        "birthdate=ge",
        "birthdate=2020-01-01T",
        "birthdate=2020-01-01T10:00:00.0000000000",
        "subject=/",
        "subject=//////",
        "name:=x",
        "subject.=x",
        "subject:.name=x",
        "_sort=-",
        "_sort=,,,",
    ];
    for q in hostile {
        for t in ["Patient", "ImagingStudy", "Encounter", "Observation"] {
            let _ = parse(t, q).map(|s| named_patient_values(&s));
        }
    }
    // The largest accepted query, all commas and escapes, parses in one pass.
    let worst = format!("family={}&given={}", "\\,".repeat(MAX_VALUE_BYTES / 2 - 1), "\\|,".repeat(MAX_VALUE_BYTES / 3 - 1));
    let started = std::time::Instant::now();
    for _ in 0..50 {
        let _ = parse("Patient", &worst);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn named_patient_values_are_the_identifiers_names_and_birth_dates_asked_for() {
    let s = parse("Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018&family=Ellis,Ellis&birthdate=1950-03-05&gender=female").unwrap();
    assert_eq!(named_patient_values(&s), vec!["9990000018", "Ellis", "1950-03-05"]);
    let s =
        parse("ImagingStudy", "subject.given=Ann&patient:identifier=G1234567&modality=CT&patient=Patient/3&identifier=urn:dicom:uid|urn:oid:2.25.9").unwrap();
    assert_eq!(named_patient_values(&s), vec!["Ann", "G1234567", "2.25.9"]);
}

#[test]
fn the_fuzz_entry_point_survives_its_seeds_and_mutations() {
    use rand::{RngExt, SeedableRng};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/fhir_search");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    assert!(seeds.len() >= 5);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xf1);
    for s in &seeds {
        crate::fuzzing::fhir_search(s);
    }
    for _ in 0..3000 {
        let mut v = seeds[rng.random_range(0..seeds.len())].clone();
        for _ in 0..rng.random_range(1..6) {
            let i = rng.random_range(0..=v.len());
            match rng.random_range(0..4) {
                0 if i < v.len() => v[i] ^= 1 << rng.random_range(0..8),
                1 => v.truncate(i),
                2 => v.insert(i, rng.random()),
                _ => {
                    v.splice(i..i, *b"%,|\\:.=&");
                }
            }
        }
        crate::fuzzing::fhir_search(&v);
    }
}
