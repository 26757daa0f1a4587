//! The synthetic cohort as the PACS-like decoys (DICOM archive, Orthanc REST) serve
//! it: generated from the token matcher's cohort seed and regenerated when that seed
//! changes (a sensor learns the shared seed with its first token index).

use std::sync::{Arc, RwLock};

use crate::token::clinical::{self, Site};
use crate::token::HoneyPatient;

/// A cohort of a fixed size and site, cached for the current seed.
pub struct Cohort {
    size: usize,
    site: Site,
    cached: RwLock<(u64, Arc<Vec<Arc<HoneyPatient>>>)>,
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

    /// Patients in the cohort.
    pub fn size(&self) -> usize {
        self.size
    }
}
