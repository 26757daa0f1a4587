//! Synthetic honey patients: believable demographics, an NHS number in the
//! never-issued 999 range, a hospital MRN and imaging studies with fresh UIDs.

use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::nhs;

const GIVEN_F: &[&str] = &["Margaret", "Susan", "Joan", "Patricia", "Eileen", "Sarah", "Emma", "Priya", "Aisha", "Helen", "Gwen", "Fiona"];
const GIVEN_M: &[&str] = &["David", "John", "Robert", "Michael", "Peter", "Ahmed", "Thomas", "Gareth", "Ian", "Rajesh", "Colin", "Stephen"];
const FAMILY: &[&str] = &[
    "Thompson",
    "Hughes",
    "Walker",
    "Patel",
    "Roberts",
    "Evans",
    "Khan",
    "Wright",
    "Morgan",
    "Davies",
    "Clarke",
    "Begum",
    "Turner",
    "Ellis",
    "Lloyd",
    "Fletcher",
    "Whitfield",
    "Ashworth",
    "Pritchard",
    "Holloway",
];
const EXAMS: &[(&str, &str, &str)] = &[
    ("CT", "CT CHEST WITH CONTRAST", "1.2.840.10008.5.1.4.1.1.2"),
    ("CT", "CT HEAD WITHOUT CONTRAST", "1.2.840.10008.5.1.4.1.1.2"),
    ("MR", "MRI BRAIN WITH AND WITHOUT CONTRAST", "1.2.840.10008.5.1.4.1.1.4"),
    ("MR", "MRI LUMBAR SPINE", "1.2.840.10008.5.1.4.1.1.4"),
    ("CR", "XR CHEST PA", "1.2.840.10008.5.1.4.1.1.1"),
    ("US", "US ABDOMEN COMPLETE", "1.2.840.10008.5.1.4.1.1.6.1"),
    ("MG", "MAMMOGRAPHY SCREENING BILATERAL", "1.2.840.10008.5.1.4.1.1.1.2"),
];

/// One image in a study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
}

/// One imaging study (one series with one instance: enough to be retrieved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Study {
    pub study_instance_uid: String,
    pub series_instance_uid: String,
    pub accession_number: String,
    /// `YYYYMMDD`.
    pub study_date: String,
    pub modality: String,
    pub description: String,
    pub instances: Vec<Instance>,
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

    /// Every identifier a query or retrieve could carry, for token matching.
    pub fn identifiers(&self) -> Vec<String> {
        let mut ids = vec![self.nhs_number.clone(), self.mrn.clone()];
        for s in &self.studies {
            ids.push(s.study_instance_uid.clone());
            ids.push(s.accession_number.clone());
            ids.extend(s.instances.iter().map(|i| i.sop_instance_uid.clone()));
        }
        ids
    }
}

/// A new DICOM UID under `root` (`2.25` gives UUID-derived UIDs that need no
/// registered root). Always at most 64 characters.
pub fn new_uid(rng: &mut impl Rng, root: &str) -> String {
    if root == "2.25" {
        return format!("2.25.{}", rng.random::<u128>() >> 1);
    }
    let room = 64usize.saturating_sub(root.len() + 1).clamp(1, 38);
    let mut digits: String = (0..room).map(|_| char::from(b'0' + rng.random_range(0..10))).collect();
    if digits.len() > 1 && digits.starts_with('0') {
        digits.replace_range(0..1, "1"); // UID components have no leading zero
    }
    format!("{root}.{digits}")
}

fn date(rng: &mut impl Rng, from_year: i32, to_year: i32) -> String {
    format!("{:04}{:02}{:02}", rng.random_range(from_year..=to_year), rng.random_range(1..=12), rng.random_range(1..=28))
}

/// Generates a honey patient with `studies` imaging studies (UIDs under `uid_root`).
pub fn generate(rng: &mut impl Rng, uid_root: &str, studies: usize) -> HoneyPatient {
    let female = rng.random_bool(0.5);
    let given = if female { GIVEN_F } else { GIVEN_M };
    let studies = (0..studies.max(1))
        .map(|_| {
            let &(modality, description, sop_class) = EXAMS.choose(rng).unwrap_or(&EXAMS[0]);
            Study {
                study_instance_uid: new_uid(rng, uid_root),
                series_instance_uid: new_uid(rng, uid_root),
                accession_number: format!("A{:09}", rng.random_range(0..1_000_000_000u32)),
                study_date: date(rng, 2019, 2026),
                modality: modality.into(),
                description: description.into(),
                instances: vec![Instance { sop_class_uid: sop_class.into(), sop_instance_uid: new_uid(rng, uid_root) }],
            }
        })
        .collect();
    HoneyPatient {
        family_name: FAMILY.choose(rng).copied().unwrap_or("Walker").into(),
        given_name: given.choose(rng).copied().unwrap_or("Alex").into(),
        sex: if female { "F" } else { "M" }.into(),
        birth_date: date(rng, 1935, 2004),
        nhs_number: nhs::generate(rng),
        mrn: format!("H{:07}", rng.random_range(0..10_000_000u32)),
        studies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patients_have_valid_identifiers_and_uids() {
        let mut rng = rand::rng();
        for root in ["2.25", "1.2.826.0.1.3680043.10.543"] {
            for _ in 0..500 {
                let p = generate(&mut rng, root, 2);
                assert!(p.nhs_number.starts_with("999") && nhs::is_valid(&p.nhs_number));
                assert_eq!(p.studies.len(), 2);
                for uid in p.studies.iter().flat_map(|s| [&s.study_instance_uid, &s.series_instance_uid]) {
                    assert!(uid.len() <= 64 && uid.starts_with(root), "{uid}");
                    assert!(uid.split('.').all(|c| !c.is_empty() && (c == "0" || !c.starts_with('0'))), "{uid}");
                }
            }
        }
    }
}
