//! `cohort:` section: the synthetic patients every PACS-like decoy serves (DICOM
//! archive and the Orthanc web personality alike), and the site they were scanned at.

use schemars::JsonSchema;
use serde::Deserialize;

use super::checker::Checker;
use super::spanned::At;

/// `cohort:` section.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    /// Synthetic patients besides the honey-patient tokens (0..=10000, default 40).
    pub patients: Option<At<u64>>,
    /// DICOM UID root of their studies and series (default 2.25, UUID-derived UIDs).
    pub uid_root: Option<At<String>>,
    /// Institution Name on every study (default "General Hospital").
    pub institution_name: Option<At<String>>,
    /// 2 to 5 capital letters or digits that accession numbers and station names start
    /// with, as a trust's RIS numbers them (default GHR: GHR24012345, GHRCT01).
    pub site_code: Option<At<String>>,
}

/// The cohort the decoys serve; generated from a seed derived from the token key, so
/// every decoy and sensor of one controller serves the same patients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortConfig {
    pub patients: usize,
    pub uid_root: String,
    pub institution_name: String,
    pub site_code: String,
}

impl Default for CohortConfig {
    fn default() -> Self {
        CohortConfig { patients: 40, uid_root: "2.25".into(), institution_name: "General Hospital".into(), site_code: "GHR".into() }
    }
}

impl Checker<'_> {
    pub(super) fn cohort(&mut self, raw: RawCohort) -> CohortConfig {
        let d = CohortConfig::default();
        let institution_name = raw.institution_name.map_or(d.institution_name, |n| {
            if n.value.trim().is_empty() || n.value.len() > 64 || n.value.contains('\\') || n.value.chars().any(char::is_control) {
                self.error(
                    n.position,
                    format!("institution name {:?} is not usable", n.value),
                    "1 to 64 characters, no backslash, e.g. St Elsewhere NHS Trust",
                );
            }
            n.value
        });
        let site_code = raw.site_code.map_or(d.site_code, |c| {
            if !(2..=5).contains(&c.value.len()) || !c.value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                self.error(c.position, format!("site code {:?} is not usable", c.value), "2 to 5 capital letters or digits, e.g. RXH");
            }
            c.value
        });
        CohortConfig {
            patients: self.number(&raw.patients, "patients", d.patients as u64, 0..=10_000) as usize,
            uid_root: self.uid_root(raw.uid_root).unwrap_or(d.uid_root),
            institution_name,
            site_code,
        }
    }

    /// A UID root that can prefix generated UIDs: digits and dots, no empty or
    /// zero-led components, at most 24 characters (so UIDs stay within 64).
    pub(super) fn uid_root(&mut self, raw: Option<At<String>>) -> Option<String> {
        let r = raw?;
        let root = &r.value;
        let ok = !root.is_empty()
            && root.len() <= 24
            && root.split('.').all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && (c == "0" || !c.starts_with('0')));
        if !ok {
            self.error(
                r.position,
                format!("{root:?} is not a DICOM UID root"),
                "digits and dots, at most 24 characters, e.g. 2.25 or 1.2.826.0.1.3680043.10.543",
            );
        }
        Some(r.value)
    }
}
