//! The search parameters the server knows: each one's name, type, modifiers, and which
//! resource types have it.

use super::ResourceType;

/// A search parameter's type, which fixes how its values are read and matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Token,
    String,
    Date,
    Reference,
    Uri,
}

/// Every search parameter of the four resource types, and the common `_` ones that
/// filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamName {
    Id,
    LastUpdated,
    Profile,
    Security,
    Source,
    Tag,
    Active,
    Address,
    Birthdate,
    Category,
    Class,
    Code,
    Date,
    Email,
    Encounter,
    Family,
    Gender,
    Given,
    Identifier,
    Modality,
    Name,
    Patient,
    Phone,
    Started,
    Status,
    Subject,
    Telecom,
}

use ParamName as P;

/// (name, parameter, type, documentation as a CapabilityStatement describes it).
const TABLE: &[(&str, ParamName, ParamType, &str)] = &[
    ("_id", P::Id, ParamType::Token, "The ID of the resource"),
    ("_lastUpdated", P::LastUpdated, ParamType::Date, "Only return resources which were last updated as specified by the given range"),
    ("_profile", P::Profile, ParamType::Uri, "Search for resources which have the given profile"),
    ("_security", P::Security, ParamType::Token, "Search for resources which have the given security labels"),
    ("_source", P::Source, ParamType::Uri, "Search for resources which have the given source value (Resource.meta.source)"),
    ("_tag", P::Tag, ParamType::Token, "Search for resources which have the given tag"),
    ("active", P::Active, ParamType::Token, "Whether the patient record is active"),
    ("address", P::Address, ParamType::String, "A server defined search that may match any of the string fields in the Address"),
    ("birthdate", P::Birthdate, ParamType::Date, "The patient's date of birth"),
    ("category", P::Category, ParamType::Token, "The classification of the type of observation"),
    ("class", P::Class, ParamType::Token, "Classification of patient encounter"),
    ("code", P::Code, ParamType::Token, "The code of the observation type"),
    ("date", P::Date, ParamType::Date, "A date within the period the Encounter lasted, or the clinically relevant time of an observation"),
    ("email", P::Email, ParamType::Token, "A value in an email contact"),
    ("encounter", P::Encounter, ParamType::Reference, "The Encounter during which this resource was created"),
    ("family", P::Family, ParamType::String, "A portion of the family name of the patient"),
    ("gender", P::Gender, ParamType::Token, "Gender of the patient"),
    ("given", P::Given, ParamType::String, "A portion of the given name of the patient"),
    ("identifier", P::Identifier, ParamType::Token, "A patient identifier"),
    ("modality", P::Modality, ParamType::Token, "The modality of the series"),
    ("name", P::Name, ParamType::String, "A server defined search that may match any of the string fields in the HumanName"),
    ("patient", P::Patient, ParamType::Reference, "The subject that the resource is about (if patient)"),
    ("phone", P::Phone, ParamType::Token, "A value in a phone contact"),
    ("started", P::Started, ParamType::Date, "When the study was started"),
    ("status", P::Status, ParamType::Token, "The status of the resource"),
    ("subject", P::Subject, ParamType::Reference, "The subject of the resource"),
    ("telecom", P::Telecom, ParamType::Token, "The value in any kind of telecom details of the patient"),
];

/// The `_` parameters every resource type has.
const COMMON: &[ParamName] = &[P::Id, P::LastUpdated, P::Profile, P::Security, P::Source, P::Tag];

impl ParamName {
    /// The parameter a query names (`name` without modifier or chain).
    pub fn parse(name: &str) -> Option<ParamName> {
        TABLE.iter().find(|(n, ..)| *n == name).map(|(_, p, ..)| *p)
    }

    fn row(self) -> Option<&'static (&'static str, ParamName, ParamType, &'static str)> {
        TABLE.iter().find(|(_, p, ..)| *p == self)
    }

    /// The name as FHIR writes it.
    pub fn as_str(self) -> &'static str {
        self.row().map_or("", |r| r.0)
    }

    pub fn kind(self) -> ParamType {
        self.row().map_or(ParamType::Token, |r| r.2)
    }

    pub fn documentation(self) -> &'static str {
        self.row().map_or("", |r| r.3)
    }

    /// The resource type a reference parameter points at.
    pub fn target(self) -> Option<ResourceType> {
        match self {
            P::Patient | P::Subject => Some(ResourceType::Patient),
            P::Encounter => Some(ResourceType::Encounter),
            _ => None,
        }
    }
}

/// The parameters of a resource type besides the common ones, alphabetically.
pub fn params_of(resource: ResourceType) -> &'static [ParamName] {
    match resource {
        ResourceType::Patient => &[P::Active, P::Address, P::Birthdate, P::Email, P::Family, P::Gender, P::Given, P::Identifier, P::Name, P::Phone, P::Telecom],
        ResourceType::ImagingStudy => &[P::Encounter, P::Identifier, P::Modality, P::Patient, P::Started, P::Status, P::Subject],
        ResourceType::Encounter => &[P::Class, P::Date, P::Identifier, P::Patient, P::Status, P::Subject],
        ResourceType::Observation => &[P::Category, P::Code, P::Date, P::Encounter, P::Identifier, P::Patient, P::Status, P::Subject],
    }
}

/// Whether `resource` has the search parameter.
pub fn has_param(resource: ResourceType, param: ParamName) -> bool {
    COMMON.contains(&param) || params_of(resource).contains(&param)
}

/// Every parameter name of a resource type, sorted as HAPI lists them in its
/// unknown-parameter message (`_` names first).
pub fn valid_names(resource: ResourceType) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COMMON.iter().chain(params_of(resource)).map(|p| p.as_str()).collect();
    names.sort_unstable();
    names
}

/// A search modifier (`name:modifier=value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Missing,
    Exact,
    Contains,
    Text,
    Not,
    Above,
    Below,
    In,
    NotIn,
    OfType,
    Identifier,
    /// A reference parameter's target type (`subject:Patient=1`).
    Type(ResourceType),
}

impl Modifier {
    /// The modifier `text` names on a parameter of type `kind`, if that type allows it.
    pub fn parse(text: &str, kind: ParamType) -> Option<Modifier> {
        let m = match text {
            "missing" => Modifier::Missing,
            "exact" => Modifier::Exact,
            "contains" => Modifier::Contains,
            "text" => Modifier::Text,
            "not" => Modifier::Not,
            "above" => Modifier::Above,
            "below" => Modifier::Below,
            "in" => Modifier::In,
            "not-in" => Modifier::NotIn,
            "of-type" => Modifier::OfType,
            "identifier" => Modifier::Identifier,
            other => Modifier::Type(ResourceType::parse(other)?),
        };
        let allowed = match kind {
            ParamType::String => matches!(m, Modifier::Missing | Modifier::Exact | Modifier::Contains),
            ParamType::Token => {
                matches!(
                    m,
                    Modifier::Missing | Modifier::Text | Modifier::Not | Modifier::Above | Modifier::Below | Modifier::In | Modifier::NotIn | Modifier::OfType
                )
            }
            ParamType::Date => m == Modifier::Missing,
            ParamType::Reference => matches!(m, Modifier::Missing | Modifier::Identifier | Modifier::Type(_)),
            ParamType::Uri => matches!(m, Modifier::Missing | Modifier::Above | Modifier::Below),
        };
        allowed.then_some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_round_trips_through_its_name() {
        for (name, p, kind, doc) in TABLE {
            assert_eq!(ParamName::parse(name), Some(*p));
            assert_eq!((p.as_str(), p.kind(), p.documentation()), (*name, *kind, *doc));
        }
        assert_eq!(ParamName::parse("Name"), None);
    }

    #[test]
    fn the_valid_list_is_sorted_with_the_common_parameters_first() {
        let names = valid_names(ResourceType::Patient);
        assert_eq!(&names[..3], &["_id", "_lastUpdated", "_profile"]);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.contains(&"birthdate") && !names.contains(&"modality"));
    }

    #[test]
    fn modifiers_are_accepted_only_on_parameter_types_that_have_them() {
        assert_eq!(Modifier::parse("exact", ParamType::String), Some(Modifier::Exact));
        assert_eq!(Modifier::parse("exact", ParamType::Token), None);
        assert_eq!(Modifier::parse("Patient", ParamType::Reference), Some(Modifier::Type(ResourceType::Patient)));
        assert_eq!(Modifier::parse("Patient", ParamType::String), None);
        assert_eq!(Modifier::parse("missing", ParamType::Date), Some(Modifier::Missing));
        assert_eq!(Modifier::parse("bogus", ParamType::Token), None);
    }
}
