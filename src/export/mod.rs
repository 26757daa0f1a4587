//! Sharing what the decoys saw: STIX 2.1 bundles for other organisations' threat
//! intelligence platforms, an ATT&CK Navigator layer, incidents as CSV. All are pure
//! functions of the incidents (no event bodies), so no honey patient, credential or
//! command an attacker typed can leave through them.

pub mod csv;
pub mod navigator;
pub mod stix;
