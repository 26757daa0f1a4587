//! Orthanc's DICOMweb plugin (1.7, as Debian ships it) under `/dicom-web/`: QIDO-RS
//! searches of studies, series and instances with the attributes the plugin returns
//! at each level, and WADO-RS metadata of a study, series or instance, in the DICOM
//! JSON model as the plugin writes it (a tab-indented styled object per item, items
//! joined by `,`, studies and series in the order of their Orthanc identifiers,
//! instances in storage order; URLs from the request's Host). Pure: no I/O.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::super::answer::Answer;
use super::catalogue::{Catalogue, Level, Place};
use super::json::styled_with;
use crate::token::{HoneyPatient, Series, Study, HONEY_SOP_CLASS};

const DICOM_JSON: &str = "application/dicom+json";

/// Most items one answer holds (the plugin has no limit; a decoy keeps its answers bounded).
const MAX_ITEMS: usize = 5_000;

/// Most files one retrieval sends: more than the largest study the honey department
/// makes (892 images), so a retrieval is never visibly cut; the plugin has no limit.
const MAX_RETRIEVED: usize = 1_000;

/// One attribute in the DICOM JSON model.
fn attr(vr: &str, value: Value) -> Value {
    json!({"Value": [value], "vr": vr})
}

fn text(vr: &str, value: &str) -> Value {
    if value.is_empty() {
        return json!({"vr": vr});
    }
    attr(vr, Value::String(value.to_string()))
}

fn name(value: &str) -> Value {
    if value.is_empty() {
        return json!({"vr": "PN"});
    }
    attr("PN", json!({"Alphabetic": value}))
}

fn number(vr: &str, n: u64) -> Value {
    attr(vr, json!(n))
}

/// The attributes the plugin returns for a study (and repeats at lower levels).
fn study_attrs(m: &mut Map<String, Value>, p: &HoneyPatient, s: &Study) {
    m.insert("00080005".into(), text("CS", "ISO_IR 100"));
    m.insert("00080020".into(), text("DA", &s.study_date));
    m.insert("00080030".into(), text("TM", &s.study_time));
    m.insert("00080050".into(), text("SH", &s.accession_number));
    m.insert("00080090".into(), name(&s.referring_physician));
    m.insert("00100010".into(), name(&p.dicom_name()));
    m.insert("00100020".into(), text("LO", &p.nhs_number));
    m.insert("00100030".into(), text("DA", &p.birth_date));
    m.insert("00100040".into(), text("CS", &p.sex));
    m.insert("0020000D".into(), text("UI", &s.study_instance_uid));
    m.insert("00200010".into(), text("SH", &s.accession_number));
}

fn series_attrs(m: &mut Map<String, Value>, se: &Series) {
    m.insert("00080060".into(), text("CS", &se.modality));
    m.insert("0008103E".into(), text("LO", &se.description));
    m.insert("0020000E".into(), text("UI", &se.series_instance_uid));
    m.insert("00200011".into(), number("IS", u64::from(se.number)));
}

/// The QIDO-RS item of a study, series or instance; `base` is `http://host/dicom-web`.
fn item(c: &Catalogue, place: Place, base: &str) -> Option<Value> {
    let mut m = Map::new();
    match place {
        Place::Study(p, st) => {
            let (patient, study) = (c.patients.get(p)?, c.patients.get(p)?.studies.get(st)?);
            study_attrs(&mut m, patient, study);
            let modalities: Vec<Value> = study.modalities().split('\\').map(|s| Value::String(s.to_string())).collect();
            m.insert("00080061".into(), json!({"Value": modalities, "vr": "CS"}));
            m.insert("00081190".into(), text("UR", &format!("{base}/studies/{}", study.study_instance_uid)));
            m.insert("00201206".into(), number("IS", study.series.len() as u64));
            m.insert("00201208".into(), number("IS", u64::from(study.instance_count())));
        }
        Place::Series(p, st, se) => {
            let (patient, study) = (c.patients.get(p)?, c.patients.get(p)?.studies.get(st)?);
            let series = study.series.get(se)?;
            study_attrs(&mut m, patient, study);
            series_attrs(&mut m, series);
            m.insert("00081190".into(), text("UR", &format!("{base}/studies/{}/series/{}", study.study_instance_uid, series.series_instance_uid)));
            m.insert("00201209".into(), number("IS", u64::from(series.instance_count)));
        }
        Place::Instance(..) => {
            let (patient, study, series, n) = c.instance(place)?;
            study_attrs(&mut m, patient, study);
            series_attrs(&mut m, series);
            let uid = series.instance_uid(n)?;
            m.insert("00080016".into(), text("UI", HONEY_SOP_CLASS));
            m.insert("00080018".into(), text("UI", &uid));
            m.insert(
                "00081190".into(),
                text("UR", &format!("{base}/studies/{}/series/{}/instances/{uid}", study.study_instance_uid, series.series_instance_uid)),
            );
            m.insert("00200013".into(), number("IS", u64::from(n)));
            m.insert("00280010".into(), number("US", u64::from(crate::token::IMAGE_SIDE)));
            m.insert("00280011".into(), number("US", u64::from(crate::token::IMAGE_SIDE)));
            m.insert("00280100".into(), number("US", 8));
        }
        Place::Patient(_) => return None,
    }
    Some(Value::Object(m))
}

/// Every attribute of an instance's file in the DICOM JSON model, pixel data as a
/// bulk data URI.
fn metadata(c: &Catalogue, place: Place, base: &str) -> Option<Value> {
    use dicom_core::header::Header as _;
    let (patient, study, series, n) = c.instance(place)?;
    let obj = crate::token::instance_dataset(patient, study, series, n)?;
    let uid = series.instance_uid(n)?;
    let mut m = Map::new();
    for elem in &obj {
        let tag = elem.tag();
        let key = format!("{:04X}{:04X}", tag.group(), tag.element());
        let vr = elem.vr().to_string();
        let value = match vr {
            "OB" | "OW" | "UN" => json!({
                "BulkDataURI": format!("{base}/studies/{}/series/{}/instances/{uid}/bulk/{:04x}{:04x}", study.study_instance_uid, series.series_instance_uid, tag.group(), tag.element()),
                "vr": vr,
            }),
            "US" | "UL" | "SS" | "SL" | "IS" => {
                let numbers: Vec<Value> =
                    elem.to_multi_str().map(|v| v.iter().filter_map(|s| s.trim().parse::<i64>().ok()).map(Value::from).collect()).unwrap_or_default();
                if numbers.is_empty() {
                    json!({"vr": vr})
                } else {
                    json!({"Value": numbers, "vr": vr})
                }
            }
            "PN" => name(elem.to_str().map(|s| s.trim_end_matches([' ', '\0']).to_string()).unwrap_or_default().as_str()),
            _ => {
                let values: Vec<Value> =
                    elem.to_multi_str().map(|v| v.iter().map(|s| Value::String(s.trim_end_matches([' ', '\0']).to_string())).collect()).unwrap_or_default();
                if values.is_empty() || values == [Value::String(String::new())] {
                    json!({"vr": vr})
                } else {
                    json!({"Value": values, "vr": vr})
                }
            }
        };
        m.insert(key, value);
    }
    Some(Value::Object(m))
}

/// The items as the plugin writes a list: `[`, each item styled with tabs and a line
/// end, `,` between, `]`.
fn listing(items: Vec<Value>) -> Answer {
    let parts: Vec<String> = items.iter().map(|v| format!("{}\n", styled_with(v, "\t"))).collect();
    Answer::ok(DICOM_JSON.into(), Bytes::from(format!("[{}]", parts.join(","))))
}

/// The files of `places` as the plugin sends them: `multipart/related` with a boundary
/// of two UUIDs cut to 70 characters, each part's type, length and MIME version; more
/// than one file streamed (no length, the connection closed after).
fn retrieve(c: &Catalogue, places: &[Place]) -> Answer {
    let boundary: String = format!("{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()).chars().take(70).collect();
    let mut body = Vec::new();
    for &place in places.iter().take(MAX_RETRIEVED) {
        let Some((p, st, se, n)) = c.instance(place) else { continue };
        let Ok(file) = crate::token::instance_file(p, st, se, n) else { continue };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: application/dicom\r\nContent-Length: {}\r\nMIME-Version: 1.0\r\n\r\n", file.len()).as_bytes(),
        );
        body.extend_from_slice(&file);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    // One file is sent with its length; more are streamed until the connection closes.
    let streamed = places.len() > 1;
    Answer { streamed, ..Answer::ok(format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"), Bytes::from(body)) }
}

/// The 404 the plugin answers for a study, series or instance it does not hold.
fn missing(what: &str, uid: &str, uri: &str) -> Answer {
    let body = json!({
        "Details": format!("Accessing an inexistent {what} with WADO-RS: {uid}"), "HttpError": "Not Found", "HttpStatus": 404,
        "Message": "Accessing an inexistent item", "Method": "GET", "OrthancError": "Accessing an inexistent item", "OrthancStatus": 7, "Uri": uri,
    });
    Answer { status: 404, reason: "Not Found".into(), ..Answer::ok(String::new(), Bytes::from(format!("{}\n", styled_with(&body, "\t")))) }
}

/// The value of the query key `key` (keyword or tag) for `place`, for matching.
fn matched_value(c: &Catalogue, place: Place, key: &str) -> Option<(u16, u16, String)> {
    let tag = match key {
        "PatientID" | "00100020" => (0x0010, 0x0020),
        "PatientName" | "00100010" => (0x0010, 0x0010),
        "PatientBirthDate" | "00100030" => (0x0010, 0x0030),
        "StudyDate" | "00080020" => (0x0008, 0x0020),
        "AccessionNumber" | "00080050" => (0x0008, 0x0050),
        "StudyInstanceUID" | "0020000D" => (0x0020, 0x000D),
        "ModalitiesInStudy" | "00080061" | "Modality" | "00080060" => (0x0008, 0x0061),
        "SeriesInstanceUID" | "0020000E" => (0x0020, 0x000E),
        "SOPInstanceUID" | "00080018" => (0x0008, 0x0018),
        _ => return None,
    };
    let (patient, study, series, n) = match place {
        Place::Study(p, st) => (c.patients.get(p)?.as_ref(), c.patients.get(p)?.studies.get(st)?, None, None),
        Place::Series(p, st, se) => {
            let study = c.patients.get(p)?.studies.get(st)?;
            (c.patients.get(p)?.as_ref(), study, Some(study.series.get(se)?), None)
        }
        Place::Instance(..) => c.instance(place).map(|(p, st, se, n)| (p, st, Some(se), Some(n)))?,
        Place::Patient(_) => return None,
    };
    let value = match tag {
        (0x0010, 0x0020) => patient.nhs_number.clone(),
        (0x0010, 0x0010) => patient.dicom_name(),
        (0x0010, 0x0030) => patient.birth_date.clone(),
        (0x0008, 0x0020) => study.study_date.clone(),
        (0x0008, 0x0050) => study.accession_number.clone(),
        (0x0020, 0x000D) => study.study_instance_uid.clone(),
        (0x0008, 0x0061) => series.map_or_else(|| study.modalities(), |s| s.modality.clone()),
        (0x0020, 0x000E) => series?.series_instance_uid.clone(),
        _ => series?.instance_uid(n?)?,
    };
    Some((tag.0, tag.1, value))
}

/// Whether `place` fits every filter of the query.
fn fits(c: &Catalogue, place: Place, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(key, pattern)| match matched_value(c, place, key) {
        Some((g, e, value)) if (g, e) == (0x0008, 0x0061) => value.split('\\').any(|v| crate::decoy::dicom::matches((g, e), pattern, v)),
        Some((g, e, value)) => crate::decoy::dicom::matches((g, e), pattern, &value),
        None => true,
    })
}

/// The study with `uid`.
fn study(c: &Catalogue, uid: &str) -> Option<Place> {
    c.listed[Level::Studies as usize]
        .iter()
        .copied()
        .find(|&p| matches!(p, Place::Study(pi, st) if c.patients.get(pi).and_then(|x| x.studies.get(st)).is_some_and(|s| s.study_instance_uid == uid)))
}

/// The series with `uid` in `study`.
fn series_in(c: &Catalogue, study: Place, uid: &str) -> Option<Place> {
    c.children(study)
        .into_iter()
        .find(|&p| matches!(p, Place::Series(pi, st, se) if c.patients[pi].studies[st].series.get(se).is_some_and(|s| s.series_instance_uid == uid)))
}

/// The instance with `uid` in `series`.
fn instance_in(c: &Catalogue, series: Place, uid: &str) -> Option<Place> {
    let Place::Series(p, st, se) = series else { return None };
    let n = c.patients.get(p)?.studies.get(st)?.series.get(se)?.instance_number(uid)?;
    Some(Place::Instance(p, st, se, n))
}

/// A QIDO-RS search over `candidates`: filtered, ordered as the plugin orders them,
/// then `offset` and `limit`.
fn search(c: &Catalogue, level: Level, candidates: Vec<Place>, query: &str, base: &str) -> (Answer, Vec<usize>) {
    let mut filters = Vec::new();
    let (mut offset, mut limit) = (0usize, MAX_ITEMS);
    for (key, value) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        let value = String::from_utf8_lossy(&super::super::request::percent_decode(value.as_bytes(), true)).into_owned();
        match key {
            "offset" => offset = value.parse().unwrap_or(0),
            "limit" => limit = value.parse::<usize>().ok().filter(|l| *l > 0).unwrap_or(MAX_ITEMS).min(MAX_ITEMS),
            "includefield" | "fuzzymatching" => {}
            _ => filters.push((key.to_string(), value)),
        }
    }
    let mut found: Vec<(String, Place)> = candidates.into_iter().filter(|&p| fits(c, p, &filters)).filter_map(|p| Some((c.id(p)?, p))).collect();
    if level != Level::Instances {
        found.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let page: Vec<Place> = found.into_iter().skip(offset).take(limit).map(|(_, p)| p).collect();
    let patients: Vec<usize> = page.iter().map(|p| p.patient()).collect();
    (listing(page.into_iter().filter_map(|p| item(c, p, base)).collect()), patients)
}

/// The answer to `GET /dicom-web/{rest}?{query}` and the patients (catalogue
/// indexes) it shows, or None when the plugin has no such route.
pub fn answer(c: &Catalogue, rest: &[&str], query: &str, base: &str, uri: &str) -> Option<(Answer, Vec<usize>)> {
    let all = |level: Level| c.listed[level as usize].clone();
    let under = |place: Place, level: Level| c.below(place, level);
    let metadata_of = |places: Vec<Place>| {
        let patients = places.iter().map(|p| p.patient()).collect();
        let items = places.into_iter().take(MAX_ITEMS).filter_map(|p| metadata(c, p, base)).collect();
        (listing(items), patients)
    };
    let retrieved = |places: Vec<Place>| (retrieve(c, &places), places.iter().map(|p| p.patient()).collect());
    Some(match rest {
        ["studies"] => search(c, Level::Studies, all(Level::Studies), query, base),
        ["series"] => search(c, Level::Series, all(Level::Series), query, base),
        ["instances"] => search(c, Level::Instances, all(Level::Instances), query, base),
        ["studies", st, tail @ ..] => {
            let found = study(c, st);
            match (found, tail) {
                (None, ["series" | "instances"]) => (listing(Vec::new()), Vec::new()),
                (None, [] | ["metadata"]) => (missing("study", st, uri), Vec::new()),
                (Some(s), []) => retrieved(under(s, Level::Instances)),
                (Some(s), ["series"]) => search(c, Level::Series, under(s, Level::Series), query, base),
                (Some(s), ["instances"]) => search(c, Level::Instances, under(s, Level::Instances), query, base),
                (Some(s), ["metadata"]) => metadata_of(under(s, Level::Instances)),
                (found, ["series", se, tail @ ..]) => {
                    let series = found.and_then(|s| series_in(c, s, se));
                    match (series, tail) {
                        (None, ["instances"]) => (listing(Vec::new()), Vec::new()),
                        (None, [] | ["metadata"]) => (missing("series", se, uri), Vec::new()),
                        (Some(s), []) => retrieved(under(s, Level::Instances)),
                        (Some(s), ["instances"]) => search(c, Level::Instances, under(s, Level::Instances), query, base),
                        (Some(s), ["metadata"]) => metadata_of(under(s, Level::Instances)),
                        (series, ["instances", i, tail @ ..]) if tail.is_empty() || tail == ["metadata"] => {
                            match (series.and_then(|s| instance_in(c, s, i)), tail.is_empty()) {
                                (Some(place), false) => metadata_of(vec![place]),
                                (Some(place), true) => retrieved(vec![place]),
                                (None, _) => (missing("instance", i, uri), Vec::new()),
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::MAX_RETRIEVED;
    use crate::token::clinical::EXAMS;

    #[test]
    fn the_largest_study_the_department_makes_is_retrieved_whole() {
        let largest = EXAMS.iter().map(|e| e.series.iter().map(|&(_, _, most)| most as usize).sum::<usize>()).max().unwrap_or(0);
        assert!(largest > 500 && largest <= MAX_RETRIEVED, "largest study {largest} images, cap {MAX_RETRIEVED}");
    }
}
