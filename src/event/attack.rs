//! MITRE ATT&CK techniques that honeyward observations map to.

use serde::{Serialize, Serializer};

/// A MITRE ATT&CK (Enterprise) technique or sub-technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    /// T1046: a connection to or a banner grab of a decoy.
    NetworkServiceDiscovery,
}

impl Technique {
    /// The ATT&CK identifier, e.g. `T1046`.
    pub fn id(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "T1046",
        }
    }

    /// The ATT&CK name.
    pub fn name(self) -> &'static str {
        match self {
            Technique::NetworkServiceDiscovery => "Network Service Discovery",
        }
    }
}

impl Serialize for Technique {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Technique", 2)?;
        st.serialize_field("id", self.id())?;
        st.serialize_field("name", self.name())?;
        st.end()
    }
}
