//! The honey patients' FHIR resources as HAPI's JPA server stores them: Patient,
//! Encounter and ImagingStudy per study, and a patient's vital-sign Observations,
//! with the derived values (times, classes, measurements) their searches use too.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Weekday};

use super::node::{escape_text, strings, Node};
use crate::token::{HoneyPatient, Study};

pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const GENDER: &str = "http://hl7.org/fhir/administrative-gender";
const XHTML_DIV: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";

/// The hospital the resources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    /// Short code (`GHR`): the MRN and visit identifier systems are under
    /// `https://<code lowercased>.nhs.uk/Id/`.
    pub site_code: String,
    pub institution_name: String,
}

impl Hospital {
    pub fn mrn_system(&self) -> String {
        format!("https://{}.nhs.uk/Id/mrn", self.site_code.to_lowercase())
    }

    pub fn visit_system(&self) -> String {
        format!("https://{}.nhs.uk/Id/visit-number", self.site_code.to_lowercase())
    }
}

/// 64-bit FNV-1a over the parts (separated), for deterministic details.
pub fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// When a study was done (its DICOM date and time).
pub fn study_time(study: &Study) -> Option<NaiveDateTime> {
    let time = study.study_time.get(..6).unwrap_or(&study.study_time);
    NaiveDateTime::parse_from_str(&format!("{}{time}", study.study_date), "%Y%m%d%H%M%S").ok()
}

/// When a patient with no studies was stored (token patients without studies).
fn default_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2019, 1, 2).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default()
}

/// The first study's time (a patient is stored with their first study).
pub fn first_time(p: &HoneyPatient) -> NaiveDateTime {
    p.studies.first().and_then(study_time).unwrap_or_else(default_time)
}

/// A FHIR dateTime with the zone HAPI writes (`2024-03-05T10:15:22+00:00`).
pub fn date_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// When a resource was stored: after its study was sent (10 to 30 minutes), to the millisecond.
pub fn stored_at(at: NaiveDateTime, key: &str) -> NaiveDateTime {
    let h = hash(&["stored", key]);
    at + Duration::seconds(600 + (h % 1200) as i64) + Duration::milliseconds((h >> 32) as i64 % 1000)
}

/// `meta`, as HAPI writes it: version 1, last updated to the millisecond, and the
/// request id that stored it as `source`.
pub fn meta(last_updated: NaiveDateTime, key: &str) -> Node {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = hash(&["source", key]);
    let request_id: String = (0..16)
        .map(|i| {
            if i == 8 {
                h = hash(&["source2", key]);
            }
            let c = ALPHABET.get((h % ALPHABET.len() as u64) as usize).copied().unwrap_or(b'A');
            h /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect();
    Node::object()
        .with("versionId", "1")
        .with("lastUpdated", last_updated.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string())
        .with("source", format!("#{request_id}"))
}

fn coding(system: &str, code: &str, display: &str) -> Node {
    Node::object().with("system", system).with("code", code).with_opt("display", Some(display))
}

fn reference(target: &str) -> Node {
    Node::object().with("reference", target)
}

/// FHIR's gender code for a DICOM sex.
pub fn gender(sex: &str) -> &'static str {
    match sex {
        "F" => "female",
        "M" => "male",
        "O" => "other",
        _ => "unknown",
    }
}

/// A `YYYYMMDD` birth date as a date.
pub fn birth_date(p: &HoneyPatient) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&p.birth_date, "%Y%m%d").ok()
}

/// The Patient resource.
pub fn patient(p: &HoneyPatient, id: &str, hospital: &Hospital, last_updated: NaiveDateTime) -> Node {
    let born = birth_date(p);
    let mut div = format!(
        "{XHTML_DIV}<div class=\"hapiHeaderText\">{} <b>{} </b></div><table class=\"hapiPropertyTable\"><tbody><tr><td>Identifier</td><td>{}</td></tr>",
        escape_text(&p.given_name),
        escape_text(&p.family_name.to_uppercase()),
        escape_text(&p.nhs_number)
    );
    if let Some(b) = born {
        div.push_str(&format!("<tr><td>Date of birth</td><td><span>{}</span></td></tr>", b.format("%d %B %Y")));
    }
    div.push_str("</tbody></table></div>");
    let mrn_type = Node::object().with("coding", vec![coding(V2_0203, "MR", "Medical record number")]);
    Node::resource("Patient")
        .with("id", id)
        .with("meta", meta(last_updated, &format!("Patient/{id}/{}", p.nhs_number)))
        .with("text", Node::object().with("status", "generated").with("div", Node::Xhtml(div)))
        .with(
            "identifier",
            vec![
                Node::object().with("system", NHS_NUMBER_SYSTEM).with("value", &p.nhs_number),
                Node::object().with("type", mrn_type).with("system", hospital.mrn_system()).with("value", &p.mrn),
            ],
        )
        .with("active", true)
        .with(
            "name",
            vec![Node::object()
                .with("use", "official")
                .with_opt("family", Some(&p.family_name))
                .with_opt("given", Some(strings(&[&p.given_name])).filter(|_| !p.given_name.is_empty()))],
        )
        .with("gender", gender(&p.sex))
        .with_opt("birthDate", born.map(|b| b.format("%Y-%m-%d").to_string()))
        .with("managingOrganization", Node::object().with("display", &hospital.institution_name))
}

/// Whether a study was acute work: at a weekend, or outside 08:00–17:59.
pub fn emergency(at: NaiveDateTime) -> bool {
    matches!(at.weekday(), Weekday::Sat | Weekday::Sun) || !(8..18).contains(&at.hour())
}

/// The Encounter's class: (code, display).
pub fn encounter_class(at: NaiveDateTime) -> (&'static str, &'static str) {
    if emergency(at) {
        ("EMER", "emergency")
    } else {
        ("AMB", "ambulatory")
    }
}

/// The Encounter's period: from the study's time, half an hour.
pub fn encounter_period(at: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    (at, at + Duration::minutes(30))
}

/// The Encounter's visit number.
pub fn visit_number(study: &Study) -> String {
    format!("V{}", study.accession_number)
}

/// The Encounter of a study.
pub fn encounter(study: &Study, id: &str, patient_id: &str, hospital: &Hospital, last_updated: NaiveDateTime) -> Node {
    let at = study_time(study).unwrap_or_else(default_time);
    let (code, display) = encounter_class(at);
    let (start, end) = encounter_period(at);
    Node::resource("Encounter")
        .with("id", id)
        .with("meta", meta(last_updated, &format!("Encounter/{id}/{}", study.study_instance_uid)))
        .with("identifier", vec![Node::object().with("system", hospital.visit_system()).with("value", visit_number(study))])
        .with("status", "finished")
        .with("class", coding(ACT_CODE, code, display))
        .with_opt("type", Some(vec![Node::object().with_opt("text", Some(&study.description))]).filter(|_| !study.description.is_empty()))
        .with("subject", reference(&format!("Patient/{patient_id}")))
        .with("period", Node::object().with("start", date_time(start)).with("end", date_time(end)))
        .with_opt("serviceProvider", Some(Node::object().with("display", &study.institution_name)).filter(|_| !study.institution_name.is_empty()))
}

/// A DICOM modality's display name.
fn modality_display(code: &str) -> &'static str {
    match code {
        "CT" => "Computed Tomography",
        "MR" => "Magnetic Resonance",
        "DX" => "Digital Radiography",
        "CR" => "Computed Radiography",
        "US" => "Ultrasound",
        "MG" => "Mammography",
        "NM" => "Nuclear Medicine",
        "PT" => "Positron emission tomography",
        "XA" => "X-Ray Angiography",
        _ => "",
    }
}

/// A DICOM Body Part Examined as SNOMED CT (code, display).
fn body_site(part: &str) -> Option<(&'static str, &'static str)> {
    Some(match part {
        "HEAD" => ("69536005", "Head"),
        "CHEST" => ("51185008", "Chest"),
        "ABDOMEN" => ("113345001", "Abdomen"),
        "LSPINE" => ("122496007", "Lumbar spine"),
        "KNEE" => ("72696002", "Knee"),
        "HIP" => ("24136001", "Hip joint"),
        "HAND" => ("85562004", "Hand"),
        "PELVIS" => ("12921003", "Pelvis"),
        "BREAST" => ("76752008", "Breast"),
        _ => return None,
    })
}

/// A DICOM Person Name (`FAMILY^Given^^Dr`) as written (`Dr Given Family`).
fn person_name(pn: &str) -> String {
    let parts: Vec<&str> = pn.split('^').collect();
    let family = parts.first().copied().unwrap_or("");
    let family: String = family
        .split(' ')
        .map(|w| w.chars().enumerate().map(|(i, c)| if i == 0 { c } else { c.to_ascii_lowercase() }).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    let pick = |i: usize| parts.get(i).copied().unwrap_or("");
    [pick(3), pick(1), &family].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// The distinct modalities of a study's series, in order (its main one when it has none).
pub fn modalities(study: &Study) -> Vec<&str> {
    let mut all: Vec<&str> = Vec::new();
    for m in study.series.iter().map(|s| s.modality.as_str()).chain(std::iter::once(study.modality.as_str())) {
        if !m.is_empty() && !all.contains(&m) {
            all.push(m);
        }
    }
    all
}

/// The ImagingStudy of a study.
pub fn imaging_study(study: &Study, id: &str, patient_id: &str, encounter_id: &str, last_updated: NaiveDateTime) -> Node {
    let identifiers = vec![
        Node::object().with("system", "urn:dicom:uid").with("value", format!("urn:oid:{}", study.study_instance_uid)),
        Node::object().with("type", Node::object().with("coding", vec![coding(V2_0203, "ACSN", "Accession ID")])).with("value", &study.accession_number),
    ];
    let series: Vec<Node> = study
        .series
        .iter()
        .map(|s| {
            let modality = if s.modality.is_empty() { &study.modality } else { &s.modality };
            Node::object()
                .with("uid", &s.series_instance_uid)
                .with("number", s.number)
                .with("modality", coding(DCM, modality, modality_display(modality)))
                .with_opt("description", Some(&s.description))
                .with("numberOfInstances", s.instance_count)
                .with_opt("bodySite", body_site(&study.body_part).map(|(code, display)| coding(SNOMED, code, display)))
        })
        .collect();
    Node::resource("ImagingStudy")
        .with("id", id)
        .with("meta", meta(last_updated, &format!("ImagingStudy/{id}/{}", study.study_instance_uid)))
        .with("identifier", identifiers)
        .with("status", "available")
        .with_opt("modality", Some(modalities(study).into_iter().map(|m| coding(DCM, m, modality_display(m))).collect::<Vec<_>>()))
        .with("subject", reference(&format!("Patient/{patient_id}")))
        .with("encounter", reference(&format!("Encounter/{encounter_id}")))
        .with_opt("started", study_time(study).map(date_time))
        .with_opt("referrer", Some(person_name(&study.referring_physician)).filter(|n| !n.is_empty()).map(|n| Node::object().with("display", n)))
        .with("numberOfSeries", study.series.len())
        .with("numberOfInstances", study.instance_count())
        .with_opt("description", Some(&study.description))
        .with_opt("series", Some(series))
}

/// The vital signs recorded for every patient at their first study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vital {
    Weight,
    Height,
}

impl Vital {
    pub const ALL: [Vital; 2] = [Vital::Weight, Vital::Height];

    /// LOINC code, display, UCUM unit.
    pub fn code(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Vital::Weight => ("29463-7", "Body weight", "kg"),
            Vital::Height => ("8302-2", "Body height", "cm"),
        }
    }
}

/// A patient's (height in cm, weight in kg), plausible for their sex and age at their
/// first study, the same every time (derived from the NHS number).
pub fn measurements(p: &HoneyPatient) -> (f64, f64) {
    let h = hash(&["vitals", &p.nhs_number]);
    // Roughly standard normal: the sum of three uniform draws in [-1, 1] (variance 1, within ±3).
    let unit = |shift: u32| ((h >> shift) & 0xffff) as f64 / 65535.0 * 2.0 - 1.0;
    let z = unit(0) + unit(16) + unit(32);
    let age = birth_date(p).map_or(50, |b| crate::token::clinical::age_on(b, first_time(p).date()));
    let (mean, sd) = if p.sex == "F" { (162.0, 6.5) } else { (175.5, 7.0) };
    let mut height = mean + z * sd - if age > 70 { 2.5 } else { 0.0 };
    if age < 16 {
        height = 75.0 + f64::from(age) * 6.0 + z * 4.0;
    }
    let bmi = if age < 16 { 17.0 } else { 20.5 + ((h >> 48) & 0xffff) as f64 / 65535.0 * 11.0 };
    let weight = bmi * (height / 100.0) * (height / 100.0);
    (height.round(), (weight * 10.0).round() / 10.0)
}

/// One vital-sign Observation.
pub fn observation(p: &HoneyPatient, vital: Vital, id: &str, patient_id: &str, encounter_id: Option<&str>, last_updated: NaiveDateTime) -> Node {
    let (code, display, unit) = vital.code();
    let (height, weight) = measurements(p);
    let value = match vital {
        Vital::Weight => Node::decimal(weight, 1),
        Vital::Height => Node::decimal(height, 0),
    };
    let category = Node::object().with("coding", vec![coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]);
    Node::resource("Observation")
        .with("id", id)
        .with("meta", meta(last_updated, &format!("Observation/{id}/{}", p.nhs_number)))
        .with("status", "final")
        .with("category", vec![category])
        .with("code", Node::object().with("coding", vec![coding(LOINC, code, display)]).with("text", display))
        .with("subject", reference(&format!("Patient/{patient_id}")))
        .with_opt("encounter", encounter_id.map(|e| reference(&format!("Encounter/{e}"))))
        .with("effectiveDateTime", date_time(first_time(p)))
        .with("valueQuantity", Node::object().with("value", value).with("unit", unit).with("system", UCUM).with("code", unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers_are_written_title_first_and_family_in_title_case() {
        assert_eq!(person_name("OKONKWO^Adaeze^^Dr"), "Dr Adaeze Okonkwo");
        assert_eq!(person_name("PEMBERTON^Richard^^Mr"), "Mr Richard Pemberton");
        assert_eq!(person_name(""), "");
    }

    #[test]
    fn out_of_hours_and_weekend_studies_are_emergencies() {
        let at = |d: u32, h: u32| NaiveDate::from_ymd_opt(2024, 3, d).unwrap().and_hms_opt(h, 0, 0).unwrap();
        assert_eq!(encounter_class(at(5, 10)).0, "AMB"); // a Tuesday
        assert_eq!(encounter_class(at(5, 7)).0, "EMER");
        assert_eq!(encounter_class(at(5, 18)).0, "EMER");
        assert_eq!(encounter_class(at(9, 11)).0, "EMER"); // a Saturday
    }

    #[test]
    fn meta_is_deterministic_with_a_sixteen_character_source() {
        let t = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap().and_hms_milli_opt(10, 15, 22, 123).unwrap();
        let m = meta(t, "Patient/1");
        assert_eq!(m, meta(t, "Patient/1"));
        assert_eq!(m.get("lastUpdated").and_then(Node::as_str), Some("2024-03-05T10:15:22.123+00:00"));
        let source = m.get("source").and_then(Node::as_str).unwrap();
        assert!(source.len() == 17 && source.starts_with('#') && source[1..].chars().all(|c| c.is_ascii_alphanumeric()), "{source}");
        assert_ne!(meta(t, "Patient/2").get("source"), m.get("source"));
    }

    #[test]
    fn measurements_are_plausible_for_the_whole_cohort() {
        let site = crate::token::clinical::Site::default();
        for p in crate::token::clinical::cohort(7, 200, &site) {
            let (height, weight) = measurements(&p);
            assert!((135.0..=205.0).contains(&height), "{height}");
            assert!((35.0..=140.0).contains(&weight), "{weight}");
            assert_eq!(measurements(&p), (height, weight));
        }
    }
}
