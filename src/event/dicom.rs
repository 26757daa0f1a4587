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
