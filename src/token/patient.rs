//! Synthetic honey patients as data: demographics, an NHS number in the never-issued
//! 999 range, a hospital MRN, and imaging studies with their series and instances.
//! (Who is sent for what, and when, is `clinical`.)

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// One series of a study. Its instances are `SERIES_UID.1` … `SERIES_UID.N` (as many
/// archives number them), unless `listed` names them (tokens made before series).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub series_instance_uid: String,
    /// Series Number, from 1.
    pub number: u32,
    pub modality: String,
    pub description: String,
    pub instance_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<String>,
}

impl Series {
    /// The SOP Instance UID of instance `number` (from 1), if the series has it.
    pub fn instance_uid(&self, number: u32) -> Option<String> {
        if number == 0 || number > self.instance_count {
            return None;
        }
        match self.listed.get(number as usize - 1) {
            Some(uid) => Some(uid.clone()),
            None if self.listed.is_empty() => Some(format!("{}.{number}", self.series_instance_uid)),
            None => None,
        }
    }

    /// The instance number a SOP Instance UID names in this series.
    pub fn instance_number(&self, uid: &str) -> Option<u32> {
        if !self.listed.is_empty() {
            return self.listed.iter().position(|u| u == uid).map(|i| i as u32 + 1);
        }
        let n: u32 = uid.strip_prefix(self.series_instance_uid.as_str())?.strip_prefix('.')?.parse().ok()?;
        (self.instance_uid(n).as_deref() == Some(uid)).then_some(n)
    }
}

/// One imaging study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StudyWire")]
pub struct Study {
    pub study_instance_uid: String,
    pub accession_number: String,
    /// `YYYYMMDD`.
    pub study_date: String,
    /// `HHMMSS`.
    pub study_time: String,
    /// The study's main modality (a CT's scout is CT too).
    pub modality: String,
    pub description: String,
    /// DICOM Body Part Examined (`CHEST`, `HEAD`, …).
    pub body_part: String,
    /// DICOM Person Name of the referrer (`FAMILY^Given^^Dr`).
    pub referring_physician: String,
    pub institution_name: String,
    pub station_name: String,
    pub series: Vec<Series>,
}

impl Study {
    /// Instances across every series.
    pub fn instance_count(&self) -> u32 {
        self.series.iter().map(|s| s.instance_count).sum()
    }

    /// Distinct modalities of the series, as Modalities in Study lists them.
    pub fn modalities(&self) -> String {
        let mut all: Vec<&str> = self.series.iter().map(|s| s.modality.as_str()).collect();
        all.dedup();
        all.join("\\")
    }
}

/// A study as stored, in either shape: the current one, or the one-series,
/// listed-instances shape of tokens created before studies had series.
#[derive(Deserialize)]
struct StudyWire {
    study_instance_uid: String,
    accession_number: String,
    study_date: String,
    #[serde(default = "default_time")]
    study_time: String,
    modality: String,
    description: String,
    #[serde(default)]
    body_part: String,
    #[serde(default)]
    referring_physician: String,
    #[serde(default = "default_institution")]
    institution_name: String,
    #[serde(default)]
    station_name: String,
    #[serde(default)]
    series: Vec<Series>,
    #[serde(default)]
    series_instance_uid: Option<String>,
    #[serde(default)]
    instances: Vec<OldInstance>,
}

#[derive(Deserialize)]
struct OldInstance {
    sop_instance_uid: String,
}

fn default_time() -> String {
    "101500".into()
}

fn default_institution() -> String {
    "General Hospital Radiology".into()
}

impl From<StudyWire> for Study {
    fn from(w: StudyWire) -> Study {
        let mut series = w.series;
        if let (true, Some(uid)) = (series.is_empty(), w.series_instance_uid) {
            let listed: Vec<String> = w.instances.into_iter().map(|i| i.sop_instance_uid).collect();
            let instance_count = listed.len() as u32;
            series.push(Series {
                series_instance_uid: uid,
                number: 1,
                modality: w.modality.clone(),
                description: w.description.clone(),
                instance_count,
                listed,
            });
        }
        Study {
            study_instance_uid: w.study_instance_uid,
            accession_number: w.accession_number,
            study_date: w.study_date,
            study_time: w.study_time,
            modality: w.modality,
            description: w.description,
            body_part: w.body_part,
            referring_physician: w.referring_physician,
            institution_name: w.institution_name,
            station_name: w.station_name,
            series,
        }
    }
}

/// A synthetic patient that exists only to be stolen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoneyPatient {
    pub family_name: String,
    pub given_name: String,
    /// `F` or `M` (DICOM Patient's Sex).
    pub sex: String,
    /// `YYYYMMDD`.
    pub birth_date: String,
    /// Ten digits starting 999, valid check digit.
    pub nhs_number: String,
    /// Hospital medical record number.
    pub mrn: String,
    pub studies: Vec<Study>,
}

impl HoneyPatient {
    /// DICOM Person Name: `FAMILY^Given`.
    pub fn dicom_name(&self) -> String {
        format!("{}^{}", self.family_name.to_uppercase(), self.given_name)
    }

    /// The identifiers a query or retrieve could name the patient by, for token
    /// matching (derived instance UIDs are matched through their series).
    pub fn identifiers(&self) -> Vec<String> {
        let mut ids = vec![self.nhs_number.clone(), self.mrn.clone()];
        for s in &self.studies {
            ids.push(s.study_instance_uid.clone());
            ids.push(s.accession_number.clone());
            for series in &s.series {
                ids.push(series.series_instance_uid.clone());
                ids.extend(series.listed.iter().cloned());
            }
        }
        ids
    }
}

/// Characters an instance number adds to its series UID (`.` and up to four digits).
pub const INSTANCE_SUFFIX_LEN: usize = 5;

/// A new DICOM UID under `root` (`2.25` gives UUID-derived UIDs that need no
/// registered root), leaving `reserve` characters of the 64 free for a suffix.
pub fn new_uid(rng: &mut impl Rng, root: &str, reserve: usize) -> String {
    if root == "2.25" {
        return format!("2.25.{}", rng.random::<u128>() >> 1);
    }
    let room = 64usize.saturating_sub(root.len() + 1 + reserve).clamp(1, 38);
    let mut digits: String = (0..room).map(|_| char::from(b'0' + rng.random_range(0..10))).collect();
    if digits.len() > 1 && digits.starts_with('0') {
        digits.replace_range(0..1, "1"); // UID components have no leading zero
    }
    format!("{root}.{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_leave_room_for_instance_numbers_and_have_no_leading_zeros() {
        let mut rng = rand::rng();
        for root in ["2.25", "1.2.826.0.1.3680043.10.543", "1.2.826.0.1.3680043.10.5"] {
            for _ in 0..500 {
                let uid = new_uid(&mut rng, root, INSTANCE_SUFFIX_LEN);
                assert!(uid.len() + INSTANCE_SUFFIX_LEN <= 64 && uid.starts_with(root), "{uid}");
                assert!(uid.split('.').all(|c| !c.is_empty() && (c == "0" || !c.starts_with('0'))), "{uid}");
            }
        }
    }

    #[test]
    fn a_study_stored_before_series_reads_as_one_series_of_its_listed_instances() {
        let old = r#"{"study_instance_uid":"2.25.1","series_instance_uid":"2.25.2","accession_number":"A000000001",
            "study_date":"20240101","modality":"CR","description":"XR CHEST PA",
            "instances":[{"sop_class_uid":"1.2.840.10008.5.1.4.1.1.7","sop_instance_uid":"2.25.3"}]}"#;
        let s: Study = serde_json::from_str(old).unwrap();
        assert_eq!(s.series.len(), 1);
        let series = &s.series[0];
        assert_eq!((series.series_instance_uid.as_str(), series.instance_count), ("2.25.2", 1));
        assert_eq!(series.instance_uid(1).as_deref(), Some("2.25.3"));
        assert_eq!(series.instance_number("2.25.3"), Some(1));
        assert_eq!(series.instance_uid(2), None);
        let again: Study = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn derived_instance_uids_round_trip_and_reject_lookalikes() {
        let s =
            Series { series_instance_uid: "2.25.7".into(), number: 1, modality: "CT".into(), description: String::new(), instance_count: 300, listed: vec![] };
        assert_eq!(s.instance_uid(300).as_deref(), Some("2.25.7.300"));
        assert_eq!(s.instance_number("2.25.7.300"), Some(300));
        for bad in ["2.25.7.301", "2.25.7.0", "2.25.7.01", "2.25.70.1", "2.25.7.", "2.25.7"] {
            assert_eq!(s.instance_number(bad), None, "{bad}");
        }
    }
}
