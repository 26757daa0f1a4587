//! The `rdp` decoy's wire formats (the decoy itself comes next).

pub mod credssp;
pub mod x224;
