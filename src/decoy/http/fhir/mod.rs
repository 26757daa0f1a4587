//! A HAPI FHIR (R4, 4.0.1) JPA server as an intruder sees it, serving the honey patients:
//! the ordered element tree and its JSON and XML forms (`node`), the search request
//! parser and matcher (`search`, `params`, `date`, `matching`), and the resources, bundles,
//! outcomes and capability statement built from the cohort (`catalogue`, `resource`,
//! `bundle`, `capability`), and the server that answers requests with them (`server`).

pub mod bundle;
pub mod capability;
pub mod catalogue;
pub mod date;
pub mod matching;
pub mod node;
pub mod params;
pub mod resource;
pub mod search;
mod server;

pub use server::{FhirRequest, FhirServer};

/// The resource types the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Patient,
    ImagingStudy,
    Encounter,
    Observation,
}

impl ResourceType {
    pub const ALL: [ResourceType; 4] = [ResourceType::Patient, ResourceType::ImagingStudy, ResourceType::Encounter, ResourceType::Observation];

    /// The type a path segment or `resourceType` names (case-sensitive, as FHIR's are).
    pub fn parse(name: &str) -> Option<ResourceType> {
        ResourceType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::ImagingStudy => "ImagingStudy",
            ResourceType::Encounter => "Encounter",
            ResourceType::Observation => "Observation",
        }
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
