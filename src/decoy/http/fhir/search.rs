//! The FHIR search request: the query string of `GET [base]/[type]?…`, attacker input,
//! read into typed criteria and result controls within fixed caps, in linear time.

use super::date::{date, DateValue};
use super::params::{has_param, valid_names, Modifier, ParamName, ParamType};
use super::ResourceType;

/// Longest query string read.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// Most parameters in one query.
pub const MAX_PARAMETERS: usize = 64;
/// Longest parameter value, after percent-decoding.
pub const MAX_VALUE_BYTES: usize = 1024;
/// Most values (comma-separated ORs) over all criteria: matching costs values × resources.
pub const MAX_VALUES: usize = 256;
/// Page size when `_count` is not given, and the largest one served.
pub const DEFAULT_COUNT: usize = 20;
pub const MAX_COUNT: usize = 500;

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub resource: ResourceType,
    /// Every criterion must match (repeated parameters AND); within one, any value (OR).
    pub criteria: Vec<Criterion>,
    /// Page size, clamped to [`MAX_COUNT`].
    pub count: usize,
    /// First match of the page (`_getpagesoffset`, or `_offset`).
    pub offset: usize,
    pub format: Option<Format>,
    pub pretty: Option<bool>,
    pub summary: Option<Summary>,
    pub elements: Vec<String>,
    pub sort: Vec<Sort>,
    pub include: Vec<String>,
    pub revinclude: Vec<String>,
    pub total: Option<Total>,
    /// HAPI's paging: the search id a next link names (`_getpages`), and `_bundletype`.
    pub getpages: Option<String>,
    pub bundle_type: Option<String>,
}

/// One search parameter as given: `name[:modifier][.chained]=value,value…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub name: ParamName,
    pub modifier: Option<Modifier>,
    /// A chained search on the referenced patient (`subject.name=…`,
    /// `patient.identifier=…`): the patient's parameter and its modifier; the values
    /// are then that parameter's.
    pub chain: Option<(ParamName, Option<Modifier>)>,
    pub values: Vec<Value>,
}

/// One value of a criterion, typed by its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `[system]|code`: `system` None when no `|` was given (any system), `Some("")` for
    /// `|code` (no system).
    Token {
        system: Option<String>,
        code: String,
    },
    Str(String),
    Date(DateValue),
    /// A reference's type (when given) and id.
    Reference {
        resource: Option<String>,
        id: String,
    },
    /// `:missing=true|false`.
    Missing(bool),
}

/// The answer's encoding (`_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    /// HAPI's browsable HTML, of the JSON or the XML.
    HtmlJson,
    HtmlXml,
}

impl Format {
    /// The encoding a `_format` value names (None: unrecognised, the default applies).
    pub fn parse(value: &str) -> Option<Format> {
        // An unescaped `+` in the query reads as a space: `application/fhir+json`.
        match value.split(';').next().unwrap_or("").trim().replace(' ', "+").as_str() {
            "json" | "application/json" | "application/fhir+json" | "application/json+fhir" => Some(Format::Json),
            "xml" | "text/xml" | "application/xml" | "application/fhir+xml" | "application/xml+fhir" => Some(Format::Xml),
            "html" | "text/html" | "html/json" => Some(Format::HtmlJson),
            "html/xml" => Some(Format::HtmlXml),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    True,
    False,
    Count,
    Text,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    None,
    Estimate,
    Accurate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub name: ParamName,
    pub descending: bool,
}

/// What a value should have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Date,
    Count,
    Offset,
    Boolean,
    Reference,
    Summary,
    Total,
    SortParameter,
}

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("HAPI-0302: Unknown resource type '{0}' - Server knows how to handle: [Encounter, ImagingStudy, Observation, Patient]")]
    UnknownResource(String),
    #[error("HAPI-0389: Request query string of {bytes} bytes exceeds the limit of {MAX_QUERY_BYTES}")]
    QueryTooLong { bytes: usize },
    #[error("HAPI-0389: Request has more than {MAX_PARAMETERS} parameters")]
    TooManyParameters,
    #[error("HAPI-0389: Value of parameter \"{name}\" exceeds {MAX_VALUE_BYTES} bytes")]
    ValueTooLong { name: String },
    #[error("HAPI-0389: Request has more than {MAX_VALUES} search values")]
    TooManyValues,
    #[error("HAPI-0524: Unknown search parameter \"{name}\" for resource type \"{resource}\". Valid search parameters for this search are: [{}]", .valid.join(", "))]
    UnknownParameter { resource: &'static str, name: String, valid: Vec<&'static str> },
    #[error("HAPI-1223: Invalid modifier \":{modifier}\" for search parameter \"{name}\"")]
    BadModifier { name: String, modifier: String },
    #[error("{}", bad_value(.name, .value, .expected))]
    BadValue { name: String, value: String, expected: Expected },
}

fn bad_value(name: &str, value: &str, expected: &Expected) -> String {
    match expected {
        Expected::Date => format!("HAPI-1882: Invalid date/time format: \"{value}\""),
        Expected::Count | Expected::Offset => format!("HAPI-1924: Invalid {name} value: \"{value}\""),
        Expected::Boolean => format!("HAPI-1925: Invalid boolean value for parameter \"{name}\": \"{value}\""),
        Expected::Reference => format!("HAPI-1931: Invalid reference for parameter \"{name}\": \"{value}\""),
        Expected::Summary => format!("HAPI-1926: Invalid _summary value: \"{value}\""),
        Expected::Total => format!("HAPI-1927: Invalid _total parameter value: \"{value}\". Valid values are: none, estimate, accurate"),
        Expected::SortParameter => format!("HAPI-1437: Unknown _sort parameter value \"{value}\""),
    }
}

/// The search `query` (the raw text after `?`) asks of `resource_type`.
pub fn parse(resource_type: &str, query: &str) -> Result<Search, SearchError> {
    let resource = ResourceType::parse(resource_type).ok_or_else(|| SearchError::UnknownResource(truncate(resource_type)))?;
    if query.len() > MAX_QUERY_BYTES {
        return Err(SearchError::QueryTooLong { bytes: query.len() });
    }
    let mut s = Search {
        resource,
        criteria: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
        format: None,
        pretty: None,
        summary: None,
        elements: Vec::new(),
        sort: Vec::new(),
        include: Vec::new(),
        revinclude: Vec::new(),
        total: None,
        getpages: None,
        bundle_type: None,
    };
    let (mut seen, mut values, mut count_seen, mut offset_seen) = (0, 0, false, false);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        seen += 1;
        if seen > MAX_PARAMETERS {
            return Err(SearchError::TooManyParameters);
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(SearchError::ValueTooLong { name: truncate(&name) });
        }
        let bad = |expected| SearchError::BadValue { name: name.to_string(), value: value.to_string(), expected };
        match &*name {
            "_count" if !count_seen => {
                count_seen = true;
                s.count = value.trim().parse::<usize>().map_err(|_| bad(Expected::Count))?.min(MAX_COUNT);
            }
            "_getpagesoffset" | "_offset" if !offset_seen => {
                offset_seen = true;
                s.offset = value.trim().parse::<usize>().map_err(|_| bad(Expected::Offset))?;
            }
            "_format" => s.format = s.format.or(Format::parse(&value)),
            "_pretty" => s.pretty = s.pretty.or(Some(&*value == "true")),
            "_summary" => s.summary = Some(summary(&value).ok_or_else(|| bad(Expected::Summary))?),
            "_total" => s.total = Some(total(&value).ok_or_else(|| bad(Expected::Total))?),
            "_elements" => s.elements.extend(value.split(',').map(str::trim).filter(|e| !e.is_empty()).map(String::from)),
            "_include" => s.include.push(value.to_string()),
            "_revinclude" => s.revinclude.push(value.to_string()),
            "_getpages" => s.getpages = Some(value.to_string()),
            "_bundletype" => s.bundle_type = Some(value.to_string()),
            "_sort" => {
                for key in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                    let (descending, key) = key.strip_prefix('-').map_or((false, key), |k| (true, k));
                    let name = ParamName::parse(key).filter(|p| has_param(resource, *p)).ok_or_else(|| bad(Expected::SortParameter))?;
                    s.sort.push(Sort { name, descending });
                }
            }
            "_count" | "_getpagesoffset" | "_offset" => {}
            _ if value.is_empty() => {}
            _ => {
                let c = criterion(resource, &name, &value)?;
                values += c.values.len();
                if values > MAX_VALUES {
                    return Err(SearchError::TooManyValues);
                }
                s.criteria.push(c);
            }
        }
    }
    Ok(s)
}

fn summary(value: &str) -> Option<Summary> {
    Some(match value {
        "true" => Summary::True,
        "false" => Summary::False,
        "count" => Summary::Count,
        "text" => Summary::Text,
        "data" => Summary::Data,
        _ => return None,
    })
}

fn total(value: &str) -> Option<Total> {
    Some(match value {
        "none" => Total::None,
        "estimate" => Total::Estimate,
        "accurate" => Total::Accurate,
        _ => return None,
    })
}

/// At most 200 characters of attacker text, for error messages.
fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

/// `name[:modifier][.chain[:modifier]]` and its values.
fn criterion(resource: ResourceType, raw_name: &str, raw_value: &str) -> Result<Criterion, SearchError> {
    let unknown = || SearchError::UnknownParameter { resource: resource.as_str(), name: truncate(raw_name), valid: valid_names(resource) };
    let (head, chained) = match raw_name.split_once('.') {
        Some((h, c)) => (h, Some(c)),
        None => (raw_name, None),
    };
    let (name, modifier) = split_modifier(head);
    let name = ParamName::parse(name).filter(|p| has_param(resource, *p)).ok_or_else(unknown)?;
    let modifier = modifier_of(name, modifier, raw_name)?;
    let chain = match chained {
        None => None,
        Some(c) => {
            if name.target() != Some(ResourceType::Patient) || !matches!(modifier, None | Some(Modifier::Type(ResourceType::Patient))) {
                return Err(unknown());
            }
            let (cname, cmod) = split_modifier(c);
            let cname = ParamName::parse(cname).filter(|p| has_param(ResourceType::Patient, *p)).ok_or_else(unknown)?;
            Some((cname, modifier_of(cname, cmod, raw_name)?))
        }
    };
    let (param, value_modifier) = chain.unwrap_or((name, modifier));
    let values =
        split_unescaped(raw_value, ',').take(MAX_VALUES + 1).map(|v| value(param, value_modifier, v, raw_name, raw_value)).collect::<Result<Vec<_>, _>>()?;
    Ok(Criterion { name, modifier, chain, values })
}

fn split_modifier(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((n, m)) => (n, Some(m)),
        None => (name, None),
    }
}

fn modifier_of(name: ParamName, modifier: Option<&str>, raw_name: &str) -> Result<Option<Modifier>, SearchError> {
    let Some(m) = modifier else { return Ok(None) };
    Modifier::parse(m, name.kind()).map(Some).ok_or_else(|| SearchError::BadModifier { name: truncate(raw_name), modifier: truncate(m) })
}

/// One value of a parameter, by its type and modifier.
fn value(param: ParamName, modifier: Option<Modifier>, text: &str, name: &str, whole: &str) -> Result<Value, SearchError> {
    let bad = |expected| SearchError::BadValue { name: truncate(name), value: truncate(whole), expected };
    if modifier == Some(Modifier::Missing) {
        return match text {
            "true" => Ok(Value::Missing(true)),
            "false" => Ok(Value::Missing(false)),
            _ => Err(bad(Expected::Boolean)),
        };
    }
    Ok(match (param.kind(), modifier) {
        (ParamType::Token, Some(Modifier::Text)) | (ParamType::String | ParamType::Uri, _) => Value::Str(unescape(text)),
        (ParamType::Token, _) | (ParamType::Reference, Some(Modifier::Identifier)) => token(text),
        (ParamType::Date, _) => Value::Date(date(text).ok_or_else(|| bad(Expected::Date))?),
        (ParamType::Reference, m) => {
            let (resource, id) = reference(&unescape(text)).ok_or_else(|| bad(Expected::Reference))?;
            let resource = match m {
                Some(Modifier::Type(t)) => Some(t.as_str().to_string()),
                _ => resource,
            };
            Value::Reference { resource, id }
        }
    })
}

/// `[system]|code`.
fn token(text: &str) -> Value {
    match first_unescaped(text, '|') {
        Some(i) => Value::Token { system: Some(unescape(text.get(..i).unwrap_or(""))), code: unescape(text.get(i + 1..).unwrap_or("")) },
        None => Value::Token { system: None, code: unescape(text) },
    }
}

/// A reference value: `ID`, `Type/ID`, `Type/ID/_history/N`, or a URL ending in one.
fn reference(text: &str) -> Option<(Option<String>, String)> {
    let text = text.trim();
    let mut segments: Vec<&str> = text.rsplitn(5, '/').collect();
    segments.reverse();
    // Drop a version: …/Type/ID/_history/N
    if segments.len() >= 4 && segments.get(segments.len() - 2) == Some(&"_history") {
        segments.truncate(segments.len() - 2);
    }
    let id = *segments.last()?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return None;
    }
    let resource = segments.len().checked_sub(2).and_then(|i| segments.get(i)).map(|t| t.to_string());
    if resource.as_deref().is_some_and(|t| t.is_empty() || !t.chars().all(|c| c.is_ascii_alphabetic())) {
        return None;
    }
    Some((resource, id.to_string()))
}

/// Byte index of the first `sep` not escaped by a backslash.
fn first_unescaped(text: &str, sep: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == sep => return Some(i),
            _ => {}
        }
    }
    None
}

/// The pieces of `text` between unescaped `sep`s (escapes kept: see [`unescape`]).
fn split_unescaped(text: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match first_unescaped(r, sep) {
            Some(i) => {
                rest = r.get(i + sep.len_utf8()..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// FHIR's search escapes (`\,`, `\|`, `\$`, `\\`) undone.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(n @ (',' | '|' | '$' | '\\'))) => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The identifiers, names and birth dates a search names, so that the caller can
/// record them and look up honey-patient tokens: a Patient search's; the patient's
/// through a chain (`subject.identifier=…`) or a `:identifier` reference; and any
/// resource's `identifier` values (study UIDs without `urn:oid:`, accessions).
/// Deduplicated, in query order.
pub fn named_patient_values(search: &Search) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in &search.criteria {
        let param = match (search.resource, c.chain, c.modifier) {
            (_, Some((p, _)), _) => p,
            (_, None, Some(Modifier::Identifier)) if c.name.target() == Some(ResourceType::Patient) => ParamName::Identifier,
            (ResourceType::Patient, None, _) | (_, None, None | Some(Modifier::Not)) => c.name,
            _ => continue,
        };
        if !matches!(param, ParamName::Identifier | ParamName::Name | ParamName::Family | ParamName::Given | ParamName::Birthdate) {
            continue;
        }
        for v in &c.values {
            let text = match v {
                Value::Token { code, .. } => code.strip_prefix("urn:oid:").unwrap_or(code).to_string(),
                Value::Str(s) => s.clone(),
                Value::Date(d) => d.text(),
                Value::Reference { .. } | Value::Missing(_) => continue,
            };
            if !text.is_empty() && seen.insert(text.clone()) {
                out.push(text);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
