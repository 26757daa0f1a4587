//! The decoy's archive: a seeded synthetic cohort plus every `patient` token's honey
//! patient, flattened into query records at PATIENT/STUDY/SERIES/IMAGE level and
//! matched as C-FIND does (universal, single value, `*`/`?` wildcards, date ranges,
//! UID lists). Pure functions over strings; nothing here reads the network.

use std::sync::Arc;

use crate::decoy::cohort::Cohort;
use crate::token::{HoneyPatient, Series, Study, HONEY_SOP_CLASS};

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

/// One record: a patient, and at lower levels one of its studies, series, instances.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub patient: &'a HoneyPatient,
    pub study: Option<usize>,
    pub series: Option<usize>,
    /// Instance Number (from 1).
    pub instance: Option<u32>,
    pub level: Level,
    /// The patient comes from a token (a hit), not the cohort.
    pub token: bool,
}

/// (group, element) of the attributes the archive knows.
pub type Tag = (u16, u16);

impl<'a> Record<'a> {
    /// The study the record is in (at STUDY level and below).
    pub fn study(&self) -> Option<&'a Study> {
        self.patient.studies.get(self.study?)
    }

    /// The series the record is in (at SERIES level and below).
    pub fn series(&self) -> Option<&'a Series> {
        self.study()?.series.get(self.series?)
    }

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
            (0x0020, 0x1202) => Some(p.studies.iter().map(|s| s.series.len()).sum::<usize>().to_string()),
            (0x0020, 0x1204) => Some(p.studies.iter().map(Study::instance_count).sum::<u32>().to_string()),
            _ => None,
        };
        if patient.is_some() {
            return patient;
        }
        let s = self.study()?;
        let study = match tag {
            (0x0020, 0x000D) => Some(s.study_instance_uid.clone()),
            (0x0008, 0x0020) => Some(s.study_date.clone()),
            (0x0008, 0x0030) => Some(s.study_time.clone()),
            (0x0008, 0x0050) => Some(s.accession_number.clone()),
            (0x0008, 0x1030) => Some(s.description.clone()),
            (0x0008, 0x0061) => Some(s.modalities()),
            (0x0008, 0x0080) => Some(s.institution_name.clone()),
            (0x0008, 0x0090) => Some(s.referring_physician.clone()),
            (0x0020, 0x0010) => Some(s.accession_number.clone()),
            (0x0020, 0x1206) => Some(s.series.len().to_string()),
            (0x0020, 0x1208) => Some(s.instance_count().to_string()),
            _ => None,
        };
        if study.is_some() || self.level == Level::Study {
            return study;
        }
        let series = self.series()?;
        let in_series = match tag {
            (0x0020, 0x000E) => Some(series.series_instance_uid.clone()),
            (0x0008, 0x0060) => Some(series.modality.clone()),
            (0x0020, 0x0011) => Some(series.number.to_string()),
            (0x0008, 0x103E) => Some(series.description.clone()),
            (0x0018, 0x0015) => Some(s.body_part.clone()),
            (0x0008, 0x1010) => Some(s.station_name.clone()),
            (0x0020, 0x1209) => Some(series.instance_count.to_string()),
            _ => None,
        };
        if in_series.is_some() || self.level == Level::Series {
            return in_series;
        }
        let number = self.instance?;
        match tag {
            (0x0008, 0x0018) => series.instance_uid(number),
            (0x0008, 0x0016) => Some(HONEY_SOP_CLASS.to_string()),
            (0x0020, 0x0013) => Some(number.to_string()),
            _ => None,
        }
    }

    /// Whether every key the record knows a value for matches it.
    fn fits(&self, keys: &[(Tag, String)]) -> bool {
        keys.iter().all(|(tag, pattern)| self.value(*tag).is_none_or(|v| matches(*tag, pattern, &v)))
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
    pub patient: Arc<HoneyPatient>,
    pub study: Option<usize>,
    pub series: Option<usize>,
    pub instance: Option<u32>,
    /// The patient is a token's honey patient.
    pub token: bool,
}

impl Found {
    /// The record at `level`.
    pub fn record(&self, level: Level) -> Record<'_> {
        Record { patient: &self.patient, study: self.study, series: self.series, instance: self.instance, level, token: self.token }
    }
}

/// The instance numbers of `series` an IMAGE-level query can match: those its SOP
/// Instance UID key names, when it names them plainly, else all.
fn candidate_instances(series: &Series, keys: &[(Tag, String)]) -> Vec<u32> {
    let named = keys.iter().find(|(tag, p)| *tag == (0x0008, 0x0018) && !p.trim().is_empty() && !p.contains(['*', '?']));
    match named {
        Some((_, uids)) => uids.split('\\').filter_map(|u| series.instance_number(u.trim_matches(|c| c == ' ' || c == '\0'))).collect(),
        None => (1..=series.instance_count).collect(),
    }
}

/// Every record at `level` under `patient` that matches `keys`, pushed onto `out`
/// until it holds `limit`; a level's keys prune everything below it.
fn walk(patient: &Arc<HoneyPatient>, token: bool, level: Level, keys: &[(Tag, String)], limit: usize, out: &mut Vec<Found>) {
    let at = |study, series, instance, level| Record { patient, study, series, instance, level, token };
    let found = |study, series, instance| Found { patient: Arc::clone(patient), study, series, instance, token };
    if !at(None, None, None, Level::Patient).fits(keys) {
        return;
    }
    if level == Level::Patient {
        return out.push(found(None, None, None));
    }
    for (st, study) in patient.studies.iter().enumerate() {
        if out.len() >= limit || !at(Some(st), None, None, Level::Study).fits(keys) {
            continue;
        }
        if level == Level::Study {
            out.push(found(Some(st), None, None));
            continue;
        }
        for (se, series) in study.series.iter().enumerate() {
            if out.len() >= limit || !at(Some(st), Some(se), None, Level::Series).fits(keys) {
                continue;
            }
            if level == Level::Series {
                out.push(found(Some(st), Some(se), None));
                continue;
            }
            for n in candidate_instances(series, keys) {
                if out.len() < limit && at(Some(st), Some(se), Some(n), Level::Image).fits(keys) {
                    out.push(found(Some(st), Some(se), Some(n)));
                }
            }
        }
    }
}

/// The archive: the shared synthetic cohort; token patients are passed in with each
/// query, as the registry changes while the decoy runs.
pub struct Archive {
    pub cohort: Arc<Cohort>,
}

impl Archive {
    pub fn new(cohort: Arc<Cohort>) -> Self {
        Archive { cohort }
    }

    /// Every record at `level` matching all `keys` (tag, pattern), token patients
    /// first, then the cohort of `seed`; at most `limit`.
    pub fn query(&self, level: Level, keys: &[(Tag, String)], limit: usize, token_patients: &[HoneyPatient], seed: u64) -> Vec<Found> {
        let mut out = Vec::new();
        for patient in token_patients {
            walk(&Arc::new(patient.clone()), true, level, keys, limit, &mut out);
        }
        for patient in self.cohort.patients(seed).iter() {
            if out.len() >= limit {
                break;
            }
            walk(patient, false, level, keys, limit, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::clinical::Site;

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
        let a = Archive::new(Arc::new(Cohort::new(20, Site::default())));
        let b = Archive::new(Arc::new(Cohort::new(20, Site::default())));
        assert_eq!(a.cohort.patients(7), b.cohort.patients(7));
        assert_ne!(a.cohort.patients(7), a.cohort.patients(8), "a new seed is a new cohort");
        let cohort = a.cohort.patients(7);
        assert_eq!(a.query(Level::Patient, &[], 1000, &[], 7).len(), 20);
        let studies: usize = cohort.iter().map(|p| p.studies.len()).sum();
        assert_eq!(a.query(Level::Study, &[((0x0010, 0x0010), "*".into())], 1000, &[], 7).len(), studies);
        let first = &cohort[0];
        let by_id = a.query(Level::Study, &[((0x0010, 0x0020), first.nhs_number.clone())], 1000, &[], 7);
        assert_eq!(by_id.len(), first.studies.len());
        let series: usize = first.studies.iter().map(|s| s.series.len()).sum();
        assert_eq!(a.query(Level::Series, &[((0x0010, 0x0020), first.nhs_number.clone())], 1000, &[], 7).len(), series);
    }

    #[test]
    fn an_image_query_by_instance_uid_finds_that_instance_alone() {
        let a = Archive::new(Arc::new(Cohort::new(10, Site::default())));
        let cohort = a.cohort.patients(3);
        let series = &cohort[4].studies[0].series[0];
        let uid = series.instance_uid(series.instance_count).unwrap();
        let found = a.query(Level::Image, &[((0x0008, 0x0018), uid.clone())], 1000, &[], 3);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].record(Level::Image).value((0x0008, 0x0018)), Some(uid));
        assert_eq!(found[0].record(Level::Image).value((0x0020, 0x0013)), Some(series.instance_count.to_string()));
        let all = a.query(Level::Image, &[((0x0020, 0x000E), series.series_instance_uid.clone())], 10_000, &[], 3);
        assert_eq!(all.len() as u32, series.instance_count);
        assert_eq!(a.query(Level::Image, &[], 7, &[], 3).len(), 7, "the limit holds");
    }
}
