//! Details of DICOM events: presentation contexts proposed in an association and the
//! keys of a query, as the attacker sent them.

use serde::{Deserialize, Serialize};

use super::AttackerBytes;

/// One presentation context of an A-ASSOCIATE-RQ and what the decoy answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DicomContext {
    pub id: u8,
    /// Abstract syntax (SOP class UID) proposed.
    pub abstract_syntax: AttackerBytes,
    /// Transfer syntaxes proposed, in order.
    pub transfer_syntaxes: Vec<AttackerBytes>,
    /// 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported,
    /// 4 transfer syntaxes not supported.
    pub result: u8,
}

/// One key of a query or retrieve identifier: `(gggg,eeee)` and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DicomKey {
    /// `gggg,eeee`.
    pub tag: String,
    /// The dictionary keyword when known (`PatientName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    pub value: AttackerBytes,
}

/// The names of the SOP classes a PACS is commonly asked about (DICOM PS3.6 registry),
/// for showing a query by what it is rather than by its UID.
const SOP_CLASSES: &[(&str, &str)] = &[
    ("1.2.840.10008.1.1", "Verification"),
    ("1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve – FIND"),
    ("1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Query/Retrieve – MOVE"),
    ("1.2.840.10008.5.1.4.1.2.1.3", "Patient Root Query/Retrieve – GET"),
    ("1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve – FIND"),
    ("1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve – MOVE"),
    ("1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve – GET"),
    ("1.2.840.10008.5.1.4.1.2.3.1", "Patient/Study Only Query/Retrieve – FIND"),
    ("1.2.840.10008.5.1.4.31", "Modality Worklist – FIND"),
    ("1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage – For Presentation"),
    ("1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage – For Presentation"),
    ("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"),
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"),
    ("1.2.840.10008.5.1.4.1.1.128", "Positron Emission Tomography Image Storage"),
];

/// The name of a SOP class, if it is one the table knows.
pub fn sop_class_name(uid: &str) -> Option<&'static str> {
    let uid = uid.trim_end_matches(['\0', ' ']);
    SOP_CLASSES.iter().find(|(u, _)| *u == uid).map(|(_, name)| *name)
}
