//! The decoy's archive: a seeded synthetic cohort plus every `patient` token's honey
//! patient, flattened into query records at PATIENT/STUDY/SERIES/IMAGE level and
//! matched as C-FIND does (universal, single value, `*`/`?` wildcards, date ranges,
//! UID lists). Pure functions over strings; nothing here reads the network.

use rand::SeedableRng;

use crate::token::{HoneyPatient, HONEY_SOP_CLASS};

/// Query/retrieve level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Patient,
    Study,
    Series,
    Image,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim() {
            "PATIENT" => Some(Level::Patient),
            "STUDY" => Some(Level::Study),
            "SERIES" => Some(Level::Series),
            "IMAGE" => Some(Level::Image),
            _ => None,
        }
    }
}

/// One record: a patient, and at lower levels one of its studies (each honey study
/// has one series with one instance).
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub patient: &'a HoneyPatient,
    pub study: Option<usize>,
    pub level: Level,
    /// The patient comes from a token (a hit), not the cohort.
    pub token: bool,
}

/// (group, element) of the attributes the archive knows.
pub type Tag = (u16, u16);

impl Record<'_> {
    /// The record's value for `tag`, if the archive knows it at this level.
    pub fn value(&self, tag: Tag) -> Option<String> {
        let p = self.patient;
        let patient = match tag {
            (0x0010, 0x0010) => Some(p.dicom_name()),
            (0x0010, 0x0020) => Some(p.nhs_number.clone()),
            (0x0010, 0x0021) => Some("NHS".into()),
            (0x0010, 0x0030) => Some(p.birth_date.clone()),
            (0x0010, 0x0040) => Some(p.sex.clone()),
            (0x0020, 0x1200) => Some(p.studies.len().to_string()),
            _ => None,
        };
        if patient.is_some() {
            return patient;
        }
        let s = &p.studies[self.study?];
        let study = match tag {
            (0x0020, 0x000D) => Some(s.study_instance_uid.clone()),
            (0x0008, 0x0020) => Some(s.study_date.clone()),
            (0x0008, 0x0030) => Some("101500".into()),
            (0x0008, 0x0050) => Some(s.accession_number.clone()),
            (0x0008, 0x1030) => Some(s.description.clone()),
            (0x0008, 0x0061) => Some(s.modality.clone()),
            (0x0008, 0x0090) => Some(String::new()),
            (0x0020, 0x0010) => Some("1".into()),
            (0x0020, 0x1206) => Some("1".into()),
            (0x0020, 0x1208) => Some(s.instances.len().to_string()),
            _ => None,
        };
        if study.is_some() || self.level == Level::Study {
            return study;
        }
        let series = match tag {
            (0x0020, 0x000E) => Some(s.series_instance_uid.clone()),
            (0x0008, 0x0060) => Some(s.modality.clone()),
            (0x0020, 0x0011) => Some("1".into()),
            (0x0008, 0x103E) => Some(s.description.clone()),
            (0x0020, 0x1209) => Some(s.instances.len().to_string()),
            _ => None,
        };
        if series.is_some() || self.level == Level::Series {
            return series;
        }
        let instance = s.instances.first()?;
        match tag {
            (0x0008, 0x0018) => Some(instance.sop_instance_uid.clone()),
            (0x0008, 0x0016) => Some(HONEY_SOP_CLASS.to_string()),
            (0x0020, 0x0013) => Some("1".into()),
            _ => None,
        }
    }
}

/// Whether `value` matches the query `pattern` for `tag`.
pub fn matches(tag: Tag, pattern: &str, value: &str) -> bool {
    let pattern = pattern.trim_matches(|c| c == ' ' || c == '\0');
    if pattern.is_empty() || pattern == "*" {
        return true;
    }
    if pattern.contains('\\') {
        return pattern.split('\\').any(|p| matches(tag, p, value));
    }
    let is_date_or_time = matches!(tag, (0x0008, 0x0020) | (0x0008, 0x0030) | (0x0010, 0x0030));
    if is_date_or_time && pattern.contains('-') {
        let (from, to) = pattern.split_once('-').unwrap_or((pattern, pattern));
        return (from.is_empty() || value >= from) && (to.is_empty() || value <= to);
    }
    let person_name = tag == (0x0010, 0x0010);
    let (pattern, value) = if person_name { (pattern.to_uppercase(), value.to_uppercase()) } else { (pattern.to_string(), value.to_string()) };
    if pattern.contains(['*', '?']) {
        return wildcard(pattern.as_bytes(), value.as_bytes());
    }
    pattern == value
}

/// `*` any run, `?` any one character; iterative, linear in practice.
fn wildcard(pattern: &[u8], value: &[u8]) -> bool {
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, v));
            p += 1;
        } else if let Some((sp, sv)) = star {
            p = sp + 1;
            v = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A matched record, owned (the token list may change while it is being answered).
#[derive(Debug, Clone)]
pub struct Found {
    pub patient: HoneyPatient,
    pub study: Option<usize>,
    /// The patient is a token's honey patient.
    pub token: bool,
}

impl Found {
    /// The record at `level`.
    pub fn record(&self, level: Level) -> Record<'_> {
        Record { patient: &self.patient, study: self.study, level, token: self.token }
    }
}

/// The synthetic cohort (token patients are passed in with each query, as the
/// registry changes while the decoy runs).
pub struct Archive {
    cohort: Vec<HoneyPatient>,
}

impl Archive {
    /// A cohort of `size` patients generated from `seed` (stable across restarts).
    pub fn new(size: usize, seed: u64, uid_root: &str) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let cohort = (0..size).map(|i| crate::token::generate_patient(&mut rng, uid_root, 1 + i % 3)).collect();
        Archive { cohort }
    }

    /// Every record at `level` matching all `keys` (tag, pattern), token patients first.
    pub fn query(&self, level: Level, keys: &[(Tag, String)], limit: usize, token_patients: &[HoneyPatient]) -> Vec<Found> {
        let mut out = Vec::new();
        let sources: [(&[HoneyPatient], bool); 2] = [(token_patients, true), (&self.cohort, false)];
        for (patients, token) in sources {
            for patient in patients.iter() {
                let studies: Vec<Option<usize>> = if level == Level::Patient { vec![None] } else { (0..patient.studies.len()).map(Some).collect() };
                for study in studies {
                    let record = Record { patient, study, level, token };
                    let hit = keys.iter().all(|(tag, pattern)| record.value(*tag).is_none_or(|v| matches(*tag, pattern, &v)));
                    if hit && out.len() < limit {
                        out.push(Found { patient: patient.clone(), study, token });
                    }
                }
            }
        }
        out
    }

    /// Patients in the cohort.
    pub fn cohort_size(&self) -> usize {
        self.cohort.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_matches() {
        let name = (0x0010, 0x0010);
        let date = (0x0008, 0x0020);
        let uid = (0x0020, 0x000D);
        for (tag, pattern, value, want) in [
            (name, "", "WALKER^Susan", true),
            (name, "*", "WALKER^Susan", true),
            (name, "walk*", "WALKER^Susan", true),
            (name, "W?LKER^*", "WALKER^Susan", true),
            (name, "PATEL*", "WALKER^Susan", false),
            (date, "20240101-20241231", "20240615", true),
            (date, "20250101-", "20240615", false),
            (date, "-20240101", "20200101", true),
            (uid, "1.2.3\\1.2.4", "1.2.4", true),
            (uid, "1.2.3", "1.2.30", false),
            ((0x0010, 0x0020), "9991234567 ", "9991234567", true),
        ] {
            assert_eq!(matches(tag, pattern, value), want, "{pattern} vs {value}");
        }
    }

    #[test]
    fn wildcards_are_linear_on_hostile_patterns() {
        let pattern = "*a".repeat(30) + "b";
        let value = "a".repeat(64);
        let t = std::time::Instant::now();
        assert!(!matches((0x0010, 0x0020), &pattern, &value));
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn the_cohort_is_stable_for_a_seed_and_answers_by_level() {
        let a = Archive::new(20, 7, "2.25");
        let b = Archive::new(20, 7, "2.25");
        assert_eq!(a.cohort, b.cohort);
        assert_eq!(a.query(Level::Patient, &[], 1000, &[]).len(), 20);
        let studies: usize = a.cohort.iter().map(|p| p.studies.len()).sum();
        assert_eq!(a.query(Level::Study, &[((0x0010, 0x0010), "*".into())], 1000, &[]).len(), studies);
        let first = &a.cohort[0];
        let by_id = a.query(Level::Study, &[((0x0010, 0x0020), first.nhs_number.clone())], 1000, &[]);
        assert_eq!(by_id.len(), first.studies.len());
    }
}
