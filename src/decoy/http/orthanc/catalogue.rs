//! The honey archive as Orthanc's REST API sees it: every patient, study, series and
//! instance under Orthanc's identifier (SHA-1 of the DICOM identifiers joined by `|`,
//! in five dash-separated groups of eight hex digits), and the JSON Orthanc gives
//! for each. Pure functions of the patients; built once per cohort seed.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::token::{HoneyPatient, Series, Study};

/// Orthanc's identifier of a resource from its DICOM identifiers, outermost first.
pub fn orthanc_id(parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, parts.join("|").as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let groups: Vec<&str> = (0..5).map(|i| &hex[i * 8..i * 8 + 8]).collect();
    groups.join("-")
}

/// A resource's patient, and its study, series and instance number where it has them.
type Parts<'a> = (&'a HoneyPatient, Option<&'a Study>, Option<&'a Series>, Option<u32>);

/// Where a resource is: indexes into the catalogue's patients, studies, series, and
/// the instance number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Patient(usize),
    Study(usize, usize),
    Series(usize, usize, usize),
    Instance(usize, usize, usize, u32),
}

impl Place {
    /// The index of the resource's patient.
    pub fn patient(self) -> usize {
        match self {
            Place::Patient(p) | Place::Study(p, _) | Place::Series(p, ..) | Place::Instance(p, ..) => p,
        }
    }
}

/// Resource levels, as the REST paths name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Patients,
    Studies,
    Series,
    Instances,
}

impl Level {
    pub fn parse(segment: &str) -> Option<Level> {
        match segment {
            "patients" => Some(Level::Patients),
            "studies" => Some(Level::Studies),
            "series" => Some(Level::Series),
            "instances" => Some(Level::Instances),
            _ => None,
        }
    }

    /// The level a resource is at.
    pub fn of(place: Place) -> Level {
        match place {
            Place::Patient(..) => Level::Patients,
            Place::Study(..) => Level::Studies,
            Place::Series(..) => Level::Series,
            Place::Instance(..) => Level::Instances,
        }
    }
}

/// Every resource of a set of patients, in the order Orthanc lists them (the order
/// they were stored), findable by identifier.
pub struct Catalogue {
    pub patients: Vec<Arc<HoneyPatient>>,
    /// Every resource in storage order, per level.
    pub listed: [Vec<Place>; 4],
    ids: HashMap<String, Place>,
    /// File size of each series' first instance (the others differ only by the
    /// lengths of their UID and number).
    first_sizes: HashMap<(usize, usize, usize), u64>,
}

impl Catalogue {
    pub fn new(patients: Vec<Arc<HoneyPatient>>) -> Self {
        // Every resource in storage order: a patient, then each study, its series and
        // their instances.
        let places: Vec<Place> = patients
            .iter()
            .enumerate()
            .flat_map(|(p, patient)| {
                std::iter::once(Place::Patient(p)).chain(patient.studies.iter().enumerate().flat_map(move |(st, study)| {
                    std::iter::once(Place::Study(p, st)).chain(study.series.iter().enumerate().flat_map(move |(se, series)| {
                        std::iter::once(Place::Series(p, st, se)).chain((1..=series.instance_count).map(move |n| Place::Instance(p, st, se, n)))
                    }))
                }))
            })
            .collect();
        let mut c = Catalogue { patients, listed: Default::default(), ids: HashMap::new(), first_sizes: HashMap::new() };
        for place in places {
            if let Place::Series(p, st, se) = place {
                let first = c.instance(Place::Instance(p, st, se, 1)).and_then(|(p, st, se, n)| crate::token::instance_file(p, st, se, n).ok());
                c.first_sizes.insert((p, st, se), first.map_or(0, |f| f.len() as u64));
            }
            if let Some(id) = c.id(place) {
                c.listed[Level::of(place) as usize].push(place);
                c.ids.insert(id, place);
            }
        }
        c
    }

    /// The resource with Orthanc identifier `id` at `level`.
    pub fn find(&self, level: Level, id: &str) -> Option<Place> {
        self.ids.get(id).copied().filter(|p| Level::of(*p) == level)
    }

    fn parts(&self, place: Place) -> Option<Parts<'_>> {
        let (p, st, se, n) = match place {
            Place::Patient(p) => (p, None, None, None),
            Place::Study(p, st) => (p, Some(st), None, None),
            Place::Series(p, st, se) => (p, Some(st), Some(se), None),
            Place::Instance(p, st, se, n) => (p, Some(st), Some(se), Some(n)),
        };
        let patient = self.patients.get(p)?;
        let study = match st {
            Some(st) => Some(patient.studies.get(st)?),
            None => None,
        };
        let series = match (study, se) {
            (Some(study), Some(se)) => Some(study.series.get(se)?),
            _ => None,
        };
        Some((patient, study, series, n))
    }

    /// The resource's Orthanc identifier.
    pub fn id(&self, place: Place) -> Option<String> {
        let (patient, study, series, n) = self.parts(place)?;
        let mut parts = vec![patient.nhs_number.clone()];
        parts.extend(study.map(|s| s.study_instance_uid.clone()));
        parts.extend(series.map(|s| s.series_instance_uid.clone()));
        if let (Some(series), Some(n)) = (series, n) {
            parts.push(series.instance_uid(n)?);
        }
        Some(orthanc_id(&parts.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// The resource's children, in order.
    pub fn children(&self, place: Place) -> Vec<Place> {
        let Some((patient, study, series, _)) = self.parts(place) else { return Vec::new() };
        match place {
            Place::Patient(p) => (0..patient.studies.len()).map(|st| Place::Study(p, st)).collect(),
            Place::Study(p, st) => (0..study.map_or(0, |s| s.series.len())).map(|se| Place::Series(p, st, se)).collect(),
            Place::Series(p, st, se) => (1..=series.map_or(0, |s| s.instance_count)).map(|n| Place::Instance(p, st, se, n)).collect(),
            Place::Instance(..) => Vec::new(),
        }
    }

    /// Every resource of `level` under `place` (itself when it is at that level).
    pub fn below(&self, place: Place, level: Level) -> Vec<Place> {
        if Level::of(place) == level {
            return vec![place];
        }
        let children = self.children(place);
        if children.is_empty() {
            return Vec::new();
        }
        children.into_iter().flat_map(|c| self.below(c, level)).collect()
    }

    /// When the resource was last stored: the study's date and time plus a few minutes
    /// (sent from the modality after the examination), Orthanc's `YYYYMMDDTHHMMSS`.
    pub fn last_update(&self, place: Place) -> String {
        let Some((patient, study, _, _)) = self.parts(place) else { return String::new() };
        let study = study.or_else(|| patient.studies.last());
        let Some(s) = study else { return String::new() };
        let at = chrono::NaiveDateTime::parse_from_str(&format!("{}{}", s.study_date, s.study_time), "%Y%m%d%H%M%S").unwrap_or_default();
        let spread = u64::from_str_radix(&orthanc_id(&[&s.study_instance_uid])[..4], 16).unwrap_or(0) % 1200;
        (at + chrono::Duration::seconds(600 + spread as i64)).format("%Y%m%dT%H%M%S").to_string()
    }

    /// The resource as `GET /{level}/{id}` answers it.
    pub fn resource(&self, place: Place) -> Option<Value> {
        let (patient, study, series, n) = self.parts(place)?;
        let ids = |places: Vec<Place>| Value::Array(places.into_iter().filter_map(|p| self.id(p)).map(Value::String).collect());
        let mut v = Map::new();
        v.insert("ID".into(), Value::String(self.id(place)?));
        let parent = |p: Place| self.id(p).map(Value::String).unwrap_or(Value::Null);
        match place {
            Place::Patient(_) => {
                v.insert("IsStable".into(), json!(true));
                v.insert("LastUpdate".into(), json!(self.last_update(place)));
                v.insert("MainDicomTags".into(), patient_tags(patient));
                v.insert("Studies".into(), ids(self.children(place)));
                v.insert("Type".into(), json!("Patient"));
            }
            Place::Study(p, _) => {
                let s = study?;
                v.insert("IsStable".into(), json!(true));
                v.insert("LastUpdate".into(), json!(self.last_update(place)));
                v.insert(
                    "MainDicomTags".into(),
                    json!({
                        "AccessionNumber": s.accession_number, "InstitutionName": s.institution_name,
                        "ReferringPhysicianName": s.referring_physician, "StudyDate": s.study_date,
                        "StudyDescription": s.description, "StudyID": s.accession_number,
                        "StudyInstanceUID": s.study_instance_uid, "StudyTime": s.study_time,
                    }),
                );
                v.insert("ParentPatient".into(), parent(Place::Patient(p)));
                v.insert("PatientMainDicomTags".into(), patient_tags(patient));
                v.insert("Series".into(), ids(self.children(place)));
                v.insert("Type".into(), json!("Study"));
            }
            Place::Series(p, st, _) => {
                let (s, x) = (study?, series?);
                v.insert("ExpectedNumberOfInstances".into(), Value::Null);
                v.insert("Instances".into(), ids(self.children(place)));
                v.insert("IsStable".into(), json!(true));
                v.insert("LastUpdate".into(), json!(self.last_update(place)));
                v.insert(
                    "MainDicomTags".into(),
                    json!({
                        "BodyPartExamined": s.body_part, "Modality": x.modality, "SeriesDescription": x.description,
                        "SeriesInstanceUID": x.series_instance_uid, "SeriesNumber": x.number.to_string(), "StationName": s.station_name,
                    }),
                );
                v.insert("ParentStudy".into(), parent(Place::Study(p, st)));
                v.insert("Status".into(), json!("Unknown"));
                v.insert("Type".into(), json!("Series"));
            }
            Place::Instance(p, st, se, _) => {
                let (x, n) = (series?, n?);
                let id = self.id(place)?;
                v.insert("FileSize".into(), json!(self.file_size(place)));
                v.insert("FileUuid".into(), json!(file_uuid(&id)));
                v.insert("IndexInSeries".into(), json!(n));
                v.insert("MainDicomTags".into(), json!({"InstanceNumber": n.to_string(), "SOPInstanceUID": x.instance_uid(n)?}));
                v.insert("ParentSeries".into(), parent(Place::Series(p, st, se)));
                v.insert("Type".into(), json!("Instance"));
            }
        }
        Some(Value::Object(v))
    }

    /// Bytes of an instance's Part 10 file (what `/instances/{id}/file` sends).
    pub fn file_size(&self, place: Place) -> u64 {
        let Place::Instance(p, st, se, n) = place else { return 0 };
        let Some((_, _, series, _)) = self.instance(place) else { return 0 };
        let even = |n: usize| (n + 1) & !1;
        // The SOP Instance UID is in the file meta and the data set; the number once.
        let varying = |n: u32| 2 * even(series.instance_uid(n).map_or(0, |u| u.len())) + even(n.to_string().len());
        let first = self.first_sizes.get(&(p, st, se)).copied().unwrap_or(0);
        (first + varying(n) as u64).saturating_sub(varying(1) as u64)
    }

    /// The patient, study, series and instance of a place, for encoding its file.
    pub fn instance(&self, place: Place) -> Option<(&HoneyPatient, &Study, &Series, u32)> {
        match self.parts(place)? {
            (p, Some(st), Some(se), Some(n)) => Some((p, st, se, n)),
            _ => None,
        }
    }
}

fn patient_tags(p: &HoneyPatient) -> Value {
    json!({"OtherPatientIDs": p.mrn, "PatientBirthDate": p.birth_date, "PatientID": p.nhs_number, "PatientName": p.dicom_name(), "PatientSex": p.sex})
}

/// A stable, version-4-shaped UUID for an instance's attachment (Orthanc names the
/// stored file by a random UUID; ours is derived so it never changes).
pub fn file_uuid(instance_id: &str) -> String {
    let h = orthanc_id(&["attachment", instance_id]).replace('-', "");
    format!("{}-{}-4{}-{}{}-{}", &h[..8], &h[8..12], &h[13..16], ["8", "9", "a", "b"][usize::from(h.as_bytes()[16] % 4)], &h[17..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_orthancs() {
        // Captured from Orthanc 1.10.1 after storing one file of this patient.
        let (p, st, se) = ("9998295599", "2.25.48547125318452773155623073487078479398", "2.25.59083180686724494506495342152395622821");
        assert_eq!(orthanc_id(&[p]), "faf19e12-c0473804-e38fbd37-39b2be66-938912fd");
        assert_eq!(orthanc_id(&[p, st]), "1c2082cc-e449e6d3-18f8fcd9-f470298d-c1fdc537");
        assert_eq!(orthanc_id(&[p, st, se]), "2157d213-27085dc0-2a6083ed-99747bd6-450b7fcb");
        assert_eq!(orthanc_id(&[p, st, se, &format!("{se}.1")]), "1a86a9a8-28b4cff7-aba6616d-93166ba4-082e0699");
    }

    #[test]
    fn every_resource_is_found_by_its_id_at_its_level_only() {
        let site = crate::token::clinical::Site::default();
        let patients: Vec<Arc<HoneyPatient>> = crate::token::clinical::cohort(1, 5, &site).into_iter().map(Arc::new).collect();
        let c = Catalogue::new(patients);
        for level in [Level::Patients, Level::Studies, Level::Series, Level::Instances] {
            for &place in &c.listed[level as usize] {
                let id = c.id(place).unwrap();
                assert_eq!(c.find(level, &id), Some(place));
                assert_eq!(c.find(if level == Level::Patients { Level::Studies } else { Level::Patients }, &id), None);
                let v = c.resource(place).unwrap();
                assert_eq!(v["ID"], id.as_str());
            }
        }
        let instances: u32 = c.patients.iter().flat_map(|p| &p.studies).map(Study::instance_count).sum();
        assert_eq!(c.listed[Level::Instances as usize].len() as u32, instances);
        assert_eq!(c.below(Place::Patient(0), Level::Instances).len() as u32, c.patients[0].studies.iter().map(Study::instance_count).sum::<u32>());
        assert!(file_uuid("x").len() == 36 && file_uuid("x").as_bytes()[14] == b'4');
        for &place in &c.listed[Level::Instances as usize] {
            let (p, st, se, n) = c.instance(place).unwrap();
            if [1, 2, 9, 10, 11, 99, 100, 101].contains(&n) || n == se.instance_count {
                assert_eq!(c.file_size(place), crate::token::instance_file(p, st, se, n).unwrap().len() as u64, "instance {n}");
            }
        }
    }
}
