//! The synthetic cohort as the PACS-like decoys (DICOM archive, Orthanc REST) serve
//! it: generated from the token matcher's cohort seed and regenerated when that seed
//! changes (a sensor learns the shared seed with its first token index).

use std::sync::{Arc, RwLock};

use crate::config::CohortConfig;
use crate::token::clinical::{self, Site};
use crate::token::{HoneyPatient, Matcher};

/// A cohort of a fixed size and site, cached for the current seed.
pub struct Cohort {
    size: usize,
    site: Site,
    cached: RwLock<(u64, Arc<Vec<Arc<HoneyPatient>>>)>,
}

impl std::fmt::Debug for Cohort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cohort").field("size", &self.size).field("site", &self.site).finish_non_exhaustive()
    }
}

impl Cohort {
    /// A cohort of `size` patients scanned at `site`.
    pub fn new(size: usize, site: Site) -> Self {
        Cohort { size, site, cached: RwLock::new((0, Arc::new(Vec::new()))) }
    }

    /// The patients generated from `seed`.
    pub fn patients(&self, seed: u64) -> Arc<Vec<Arc<HoneyPatient>>> {
        {
            let current = self.cached.read().unwrap_or_else(|p| p.into_inner());
            if current.0 == seed && current.1.len() == self.size {
                return Arc::clone(&current.1);
            }
        }
        let fresh: Arc<Vec<Arc<HoneyPatient>>> = Arc::new(clinical::cohort(seed, self.size, &self.site).into_iter().map(Arc::new).collect());
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = (seed, Arc::clone(&fresh));
        fresh
    }

    /// The cohort a configuration describes, or with this decoy's own size and UID
    /// root where it sets them.
    pub fn of(config: &CohortConfig, size: Option<usize>, uid_root: Option<&str>) -> Self {
        let site = Site {
            uid_root: uid_root.unwrap_or(&config.uid_root).to_string(),
            institution_name: config.institution_name.clone(),
            site_code: config.site_code.clone(),
        };
        Cohort::new(size.unwrap_or(config.patients), site)
    }

    /// Patients in the cohort.
    pub fn size(&self) -> usize {
        self.size
    }
}

/// What a decoy builds from the cohort and the token patients together (Orthanc's and
/// the FHIR server's catalogues), kept until the cohort seed or the tokens change.
pub struct Built<T> {
    cached: RwLock<Option<BuiltFrom<T>>>,
}

/// A built value and what it was built from: the cohort seed and the token patients.
type BuiltFrom<T> = (u64, Arc<Vec<HoneyPatient>>, Arc<T>);

impl<T> Default for Built<T> {
    fn default() -> Self {
        Built { cached: RwLock::new(None) }
    }
}

impl<T> Built<T> {
    /// The value for the current seed and token patients: the cohort's patients first,
    /// then the tokens' (so that adding a token does not renumber the cohort).
    pub fn get(&self, tokens: &Matcher, cohort: &Cohort, build: impl FnOnce(Vec<Arc<HoneyPatient>>) -> T) -> Arc<T> {
        let (seed, patients) = (tokens.cohort_seed(), tokens.patients());
        if let Some((s, p, v)) = self.cached.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if *s == seed && Arc::ptr_eq(p, &patients) {
                return Arc::clone(v);
            }
        }
        let mut all: Vec<Arc<HoneyPatient>> = cohort.patients(seed).iter().cloned().collect();
        all.extend(patients.iter().cloned().map(Arc::new));
        let built = Arc::new(build(all));
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some((seed, patients, Arc::clone(&built)));
        built
    }
}
