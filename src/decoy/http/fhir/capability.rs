//! The CapabilityStatement `GET [base]/metadata` answers: a HAPI FHIR JPA server that
//! holds the four resource types, each with the search parameters the parser accepts.

use super::node::{strings, Node};
use super::params::{params_of, ParamName, ParamType};
use super::ResourceType;

/// What the statement names: the software version (`7.4.0`), the server's base URL,
/// and its date (when the server started, `2024-03-05T10:15:22+00:00`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server<'a> {
    pub software_version: &'a str,
    pub base: &'a str,
    pub date: &'a str,
}

/// Interactions each resource type offers, in the order HAPI lists them.
const INTERACTIONS: &[&str] = &["update", "patch", "delete", "read", "vread", "history-instance", "history-type", "create", "search-type"];

/// The common search parameters listed for every type (besides its own).
const COMMON: &[ParamName] = &[ParamName::Id, ParamName::LastUpdated, ParamName::Profile, ParamName::Security, ParamName::Source, ParamName::Tag];

fn type_name(t: ParamType) -> &'static str {
    match t {
        ParamType::Token => "token",
        ParamType::String => "string",
        ParamType::Date => "date",
        ParamType::Reference => "reference",
        ParamType::Uri => "uri",
    }
}

fn resource(t: ResourceType) -> Node {
    let params: Vec<Node> = COMMON
        .iter()
        .chain(params_of(t))
        .map(|p| Node::object().with("name", p.as_str()).with("type", type_name(p.kind())).with("documentation", p.documentation()))
        .collect();
    let includes: Vec<String> =
        std::iter::once("*".to_string()).chain(params_of(t).iter().filter(|p| p.target().is_some()).map(|p| format!("{t}:{}", p.as_str()))).collect();
    let revincludes: Vec<String> = ResourceType::ALL
        .into_iter()
        .flat_map(|source| params_of(source).iter().filter(move |p| p.target() == Some(t)).map(move |p| format!("{source}:{}", p.as_str())))
        .collect();
    Node::object()
        .with("type", t.as_str())
        .with("profile", format!("http://hl7.org/fhir/StructureDefinition/{t}"))
        .with("interaction", INTERACTIONS.iter().map(|code| Node::object().with("code", *code)).collect::<Vec<_>>())
        .with("versioning", "versioned-update")
        .with("readHistory", true)
        .with("updateCreate", true)
        .with("conditionalCreate", true)
        .with("conditionalRead", "full-support")
        .with("conditionalUpdate", true)
        .with("conditionalDelete", "multiple")
        .with("searchInclude", strings(&includes))
        .with_opt("searchRevInclude", Some(strings(&revincludes)))
        .with("searchParam", params)
}

/// The CapabilityStatement.
pub fn capability_statement(server: &Server) -> Node {
    let system = ["transaction", "batch", "search-system", "history-system"];
    Node::resource("CapabilityStatement")
        .with("id", "1")
        .with("name", "RestServer")
        .with("status", "active")
        .with("date", server.date)
        .with("publisher", "Not provided")
        .with("kind", "instance")
        .with("software", Node::object().with("name", "HAPI FHIR Server").with("version", server.software_version))
        .with("implementation", Node::object().with("description", "HAPI FHIR").with("url", server.base))
        .with("fhirVersion", "4.0.1")
        .with("format", strings(&["application/fhir+xml", "xml", "application/fhir+json", "json", "html/json", "html/xml"]))
        .with("patchFormat", strings(&["application/fhir+json", "application/fhir+xml", "application/json-patch+json", "application/xml-patch+xml"]))
        .with(
            "rest",
            vec![Node::object()
                .with("mode", "server")
                .with("resource", ResourceType::ALL.into_iter().map(resource).collect::<Vec<_>>())
                .with("interaction", system.iter().map(|code| Node::object().with("code", *code)).collect::<Vec<_>>())],
        )
}

#[cfg(test)]
mod tests {
    use super::super::node::to_json;
    use super::super::params::valid_names;
    use super::*;

    #[test]
    fn the_statement_names_hapi_the_version_and_the_base() {
        let s = capability_statement(&Server { software_version: "7.4.0", base: "https://pacs.example/fhir", date: "2024-03-05T10:15:22+00:00" });
        let v: serde_json::Value = serde_json::from_str(&to_json(&s, false)).unwrap();
        assert_eq!(v["software"]["name"], "HAPI FHIR Server");
        assert_eq!(v["software"]["version"], "7.4.0");
        assert_eq!(v["implementation"]["url"], "https://pacs.example/fhir");
        assert_eq!(v["fhirVersion"], "4.0.1");
        assert_eq!(v["rest"][0]["resource"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn every_type_lists_exactly_the_search_parameters_the_parser_accepts() {
        let s = capability_statement(&Server { software_version: "7.4.0", base: "b", date: "d" });
        let v: serde_json::Value = serde_json::from_str(&to_json(&s, false)).unwrap();
        for r in v["rest"][0]["resource"].as_array().unwrap() {
            let t = ResourceType::parse(r["type"].as_str().unwrap()).unwrap();
            let mut names: Vec<&str> = r["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            names.sort_unstable();
            assert_eq!(names, valid_names(t), "{t}");
            for name in names {
                assert!(super::super::search::parse(t.as_str(), &format!("{name}:missing=true")).is_ok(), "{t} {name}");
            }
        }
        assert_eq!(v["rest"][0]["resource"][0]["searchRevInclude"][0], "ImagingStudy:patient");
    }
}
