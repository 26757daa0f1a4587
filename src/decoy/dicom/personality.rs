//! DICOM personalities: the identity a PACS shows in its A-ASSOCIATE-AC (implementation
//! class UID and version name, max PDU, user items and their order), its AE title and
//! called-AE policy, the services it offers and the transfer syntaxes it prefers.

use serde::Deserialize;

use crate::config::UnknownAeQueries;
use crate::decoy::error::PersonalityError;

fn answer() -> UnknownAeQueries {
    UnknownAeQueries::Answer
}

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("orthanc", include_str!("../../../decoys/dicom-orthanc.yaml")),
    ("dcm4chee", include_str!("../../../decoys/dicom-dcm4chee.yaml")),
    ("dcmtk-storescp", include_str!("../../../decoys/dicom-dcmtk-storescp.yaml")),
];

/// Verification SOP class.
pub const VERIFICATION: &str = "1.2.840.10008.1.1";
/// The DICOM application context.
pub const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
/// Prefix of every storage SOP class.
const STORAGE_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.";

/// Query/retrieve SOP classes: (UID, information model, service).
pub const QUERY_RETRIEVE: &[(&str, Model, Service)] = &[
    ("1.2.840.10008.5.1.4.1.2.1.1", Model::PatientRoot, Service::Find),
    ("1.2.840.10008.5.1.4.1.2.1.2", Model::PatientRoot, Service::Move),
    ("1.2.840.10008.5.1.4.1.2.1.3", Model::PatientRoot, Service::Get),
    ("1.2.840.10008.5.1.4.1.2.2.1", Model::StudyRoot, Service::Find),
    ("1.2.840.10008.5.1.4.1.2.2.2", Model::StudyRoot, Service::Move),
    ("1.2.840.10008.5.1.4.1.2.2.3", Model::StudyRoot, Service::Get),
];

/// Query/retrieve information model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    PatientRoot,
    StudyRoot,
}

/// A DIMSE service a personality offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Echo,
    Store,
    Find,
    Get,
    Move,
}

/// How an unknown called AE title is treated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum CalledAe {
    /// Accept whatever the caller names (Orthanc's and storescp's default).
    Any,
    /// Reject titles other than ours with this A-ASSOCIATE-RJ (result, source, reason).
    Reject { result: u8, source: u8, reason: u8 },
}

/// What the product does with a peer that breaks the protocol (an unknown PDU type,
/// garbage, a length over the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Malformed {
    /// A-ABORT from the service provider with the PS3.8 reason (the standard; dcm4che).
    Abort,
    /// Reset the connection (DCMTK and so Orthanc: captured on loopback).
    Reset,
}

/// A user information item of the AC, in the personality's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AcItem {
    MaxLength,
    ImplementationClassUid,
    ImplementationVersionName,
    /// SCP/SCU role selection answers (for C-GET), when the requestor asked.
    RoleSelection,
}

/// A DICOM personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DicomPersonality {
    pub name: String,
    /// Our AE title (also the default for the decoy's `ae_title`).
    pub ae_title: String,
    pub implementation_class_uid: String,
    #[serde(default)]
    pub implementation_version_name: Option<String>,
    /// Max PDU length we announce and enforce on receive (0 = unlimited, announced as 0).
    pub max_pdu_length: u32,
    /// User information items of the AC, in order.
    pub ac_items: Vec<AcItem>,
    pub called_ae: CalledAe,
    pub services: Vec<Service>,
    /// Transfer syntaxes accepted, most preferred first.
    pub transfer_syntaxes: Vec<String>,
    /// Transfer syntaxes accepted for storage SOP classes, most preferred first, when
    /// they differ (Orthanc takes every compressed syntax DCMTK knows). Default: as above.
    #[serde(default)]
    pub storage_transfer_syntaxes: Option<Vec<String>>,
    /// The result of a storage context none of whose transfer syntaxes is accepted
    /// (Orthanc: 3, abstract syntax not supported). Default 4, as DCMTK answers.
    #[serde(default)]
    pub storage_no_transfer_syntax_result: Option<u8>,
    /// ARTIM: seconds to wait for an A-ASSOCIATE-RQ (and between PDUs).
    pub artim_timeout_seconds: u64,
    /// Seconds an established association may stay silent before the product ends it,
    /// used unless the decoy sets `limits.idle_timeout_seconds`. None: that limit.
    #[serde(default)]
    pub idle_timeout_seconds: Option<u64>,
    pub malformed: Malformed,
    /// The transfer syntax written in a rejected context's result (DCMTK always
    /// writes implicit VR little endian; none: the first one proposed).
    #[serde(default)]
    pub rejected_transfer_syntax: Option<String>,
    /// Send an A-ABORT to an association left idle past the timeout (Orthanc does;
    /// storescp just closes).
    #[serde(default)]
    pub idle_abort: bool,
    /// Queries and retrieves from calling AEs the product does not know, in its default
    /// configuration (the decoy's `unknown_ae_queries` overrides it).
    #[serde(default = "answer")]
    pub unknown_ae_queries: UnknownAeQueries,
}

impl DicomPersonality {
    /// A built-in personality by name.
    pub fn built_in(name: &str) -> Option<Result<Self, PersonalityError>> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, yaml)| Self::parse(yaml))
    }

    /// Parses and checks a personality's text.
    pub fn parse(yaml: &str) -> Result<Self, PersonalityError> {
        let p: DicomPersonality = marked_yaml::from_yaml(0, yaml)?;
        if p.ae_title.is_empty() || p.ae_title.len() > 16 {
            return Err(PersonalityError::Invalid(format!("personality {}: ae_title must be 1 to 16 characters", p.name)));
        }
        if p.max_pdu_length != 0 && p.max_pdu_length < 4096 {
            return Err(PersonalityError::Invalid(format!("personality {}: max_pdu_length must be 0 or at least 4096", p.name)));
        }
        if p.transfer_syntaxes.is_empty() {
            return Err(PersonalityError::Invalid(format!("personality {}: list at least one transfer syntax", p.name)));
        }
        Ok(p)
    }

    /// The result for a proposed context: (result, transfer syntax chosen).
    /// 0 accepted, 3 abstract syntax not supported, 4 no transfer syntax supported.
    pub fn negotiate<'a>(&'a self, abstract_syntax: &str, proposed: &'a [String]) -> (u8, &'a str) {
        let rejected = || self.rejected_transfer_syntax.as_deref().or(proposed.first().map(|s| s.as_str())).unwrap_or("");
        if !self.supports(abstract_syntax) {
            return (3, rejected());
        }
        let storage = is_storage(abstract_syntax);
        let ours = self.storage_transfer_syntaxes.as_ref().filter(|_| storage).unwrap_or(&self.transfer_syntaxes);
        match ours.iter().find(|ours| proposed.iter().any(|p| p == *ours)) {
            Some(ts) => (0, ts.as_str()),
            None if storage => (self.storage_no_transfer_syntax_result.unwrap_or(4), rejected()),
            None => (4, rejected()),
        }
    }

    fn supports(&self, abstract_syntax: &str) -> bool {
        let offers = |s: Service| self.services.contains(&s);
        if abstract_syntax == VERIFICATION {
            return offers(Service::Echo);
        }
        if let Some((_, _, service)) = QUERY_RETRIEVE.iter().find(|(uid, _, _)| *uid == abstract_syntax) {
            return offers(*service);
        }
        is_storage(abstract_syntax) && offers(Service::Store)
    }
}

/// A storage SOP class UID: under the storage root, digits and dots only (a UID with
/// a space in it is no SOP class DCMTK knows).
fn is_storage(uid: &str) -> bool {
    uid.starts_with(STORAGE_PREFIX) && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The information model and service of a query/retrieve SOP class.
pub fn query_retrieve(sop_class: &str) -> Option<(Model, Service)> {
    QUERY_RETRIEVE.iter().find(|(uid, _, _)| *uid == sop_class).map(|(_, m, s)| (*m, *s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_personality_parses() {
        for (name, _) in BUILT_IN {
            let p = DicomPersonality::built_in(name).unwrap().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
            assert!(p.services.contains(&Service::Echo));
        }
    }

    #[test]
    fn negotiation_follows_services_and_transfer_syntax_preference() {
        let p = DicomPersonality::built_in("dcmtk-storescp").unwrap().unwrap();
        let ts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let both = ts(&["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"]);
        assert_eq!(p.negotiate(VERIFICATION, &both).0, 0);
        assert_eq!(p.negotiate("1.2.840.10008.5.1.4.1.1.2", &both).0, 0, "CT storage");
        assert_eq!(p.negotiate("1.2.840.10008.5.1.4.1.2.2.1", &both).0, 3, "storescp answers no queries");
        assert_eq!(p.negotiate(VERIFICATION, &ts(&["1.2.3.4"])).0, 4);
        let o = DicomPersonality::built_in("orthanc").unwrap().unwrap();
        assert_eq!(o.negotiate("1.2.840.10008.5.1.4.1.2.2.1", &both).0, 0);
    }
}
