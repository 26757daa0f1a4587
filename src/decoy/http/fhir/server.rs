//! HAPI FHIR's JPA server (7.4, FHIR 4.0.1) at run time, under `/fhir`: `/metadata`,
//! search (with HAPI's paging through `_getpages`), read and vread of Patient,
//! ImagingStudy, Encounter and Observation from the honey cohort, OperationOutcome for
//! what it refuses, JSON or XML by `_format` and `Accept`, and SMART on FHIR's
//! discovery document. A honey patient searched for or shown is a hit on its token.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::bundle::{outcome, searchset, BundleEntry, EntryMode, IssueCode, Page};
use super::capability::{capability_statement, Server};
use super::catalogue::{Catalogue, Entry};
use super::node::{to_json, to_xml, Node};
use super::search::{named_patient_values, parse, Format, Search, Summary};
use super::ResourceType;
use crate::decoy::http::answer::Answer;
use crate::decoy::{Built, Cohort};
use crate::event::TokenHit;
use crate::token::clinical::Site;
use crate::token::{Matcher, MaterialKind};

/// The server's base path.
pub const BASE_PATH: &str = "/fhir";
/// The HAPI FHIR version the server says it is.
pub const SOFTWARE_VERSION: &str = "7.4.0";
/// Searches kept for paging (HAPI keeps them in its database; the oldest go first).
const KEPT_SEARCHES: usize = 1_000;

/// What the server needs of a request.
#[derive(Debug, Clone, Copy)]
pub struct FhirRequest<'a> {
    pub method: &'a [u8],
    pub path: &'a str,
    pub query: &'a str,
    pub accept: Option<&'a str>,
    /// `scheme://host` the client reached (the base URL is this and [`BASE_PATH`]).
    pub origin: &'a str,
}

/// One decoy's FHIR server.
pub struct FhirServer {
    cohort: Arc<Cohort>,
    site: Site,
    catalogue: Built<Catalogue>,
    /// Paging ids and the searches they continue: (id, resource type, query).
    searches: Mutex<VecDeque<(String, ResourceType, String)>>,
    /// When the server started (the CapabilityStatement's date).
    started: String,
}

/// A random id of HAPI's shape: `len` letters and digits.
fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len).map(|_| char::from(ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()])).collect()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// The encoding asked for: `_format`, else `Accept` (XML only when it names XML and
/// not JSON), else JSON. HAPI's HTML view is answered as its JSON.
fn encoding(format: Option<Format>, accept: Option<&str>) -> Format {
    match format {
        Some(Format::Xml | Format::HtmlXml) => Format::Xml,
        Some(_) => Format::Json,
        None => match accept {
            Some(a) if a.contains("xml") && !a.contains("json") => Format::Xml,
            _ => Format::Json,
        },
    }
}

/// `_format` and `_pretty` of a query that did not parse as a search.
fn loose_controls(query: &str) -> (Option<Format>, bool) {
    let mut out = (None, false);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "_format" => out.0 = Format::parse(&v),
            "_pretty" => out.1 = v == "true",
            _ => {}
        }
    }
    out
}

/// A resource in the encoding asked for, as HAPI sends it.
fn encoded(status: u16, node: &Node, format: Format, pretty: bool) -> Answer {
    let (content_type, body) = match format {
        Format::Xml | Format::HtmlXml => ("application/fhir+xml;charset=utf-8", to_xml(node, pretty)),
        _ => ("application/fhir+json;charset=utf-8", to_json(node, pretty)),
    };
    let mut a = Answer { status, reason: String::new(), dynamic: true, ..Answer::ok(content_type.into(), Bytes::from(body)) };
    a.extra.push(("X-Powered-By".into(), format!("HAPI FHIR {SOFTWARE_VERSION} REST Server (FHIR Server; FHIR 4.0.1/R4)")));
    a.extra.push(("X-Request-ID".into(), random_id(16)));
    a
}

fn failure(status: u16, code: IssueCode, diagnostics: &str, format: Format, pretty: bool) -> Answer {
    encoded(status, &outcome(code, diagnostics), format, pretty)
}

impl FhirServer {
    pub fn new(cohort: Arc<Cohort>, site: Site) -> Self {
        FhirServer { cohort, site, catalogue: Built::default(), searches: Mutex::new(VecDeque::new()), started: now() }
    }

    /// The catalogue of the cohort and the token patients, rebuilt when either changes.
    fn catalogue(&self, tokens: &Matcher) -> Arc<Catalogue> {
        self.catalogue.get(tokens, &self.cohort, |all| Catalogue::for_site(all, &self.site))
    }

    /// The answer to a request under [`BASE_PATH`] or SMART's discovery path, or None
    /// when the path is neither (the personality's routes then apply).
    pub fn answer(&self, tokens: &Matcher, r: &FhirRequest<'_>) -> Option<Answer> {
        if r.path == "/.well-known/smart-configuration" {
            return Some(self.smart(r.origin));
        }
        let rest = r.path.strip_prefix(BASE_PATH)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let (format, pretty) = loose_controls(r.query);
        let (format, pretty) = (encoding(format, r.accept), pretty);
        if segments == [".well-known", "smart-configuration"] {
            return Some(self.smart(r.origin));
        }
        let base = format!("{}{BASE_PATH}", r.origin);
        if r.method != b"GET" {
            let method = String::from_utf8_lossy(r.method);
            let diagnostics = format!("HAPI-0302: Server does not support {method} on this resource: {}", segments.join("/"));
            return Some(failure(405, IssueCode::NotSupported, &diagnostics, format, pretty));
        }
        let c = self.catalogue(tokens);
        Some(match segments.as_slice() {
            [] if !r.query.contains("_getpages=") => {
                let diagnostics =
                    "HAPI-0302: This is the base URL of FHIR server. Unable to handle this request, as it does not contain a resource type or operation name.";
                failure(400, IssueCode::Processing, diagnostics, format, pretty)
            }
            [] => match self.continued(r.query) {
                Some((t, query)) => self.search(tokens, &c, t, &query, r, &base),
                None => failure(410, IssueCode::Processing, "HAPI-0417: Search ID not found or has expired", format, pretty),
            },
            ["metadata"] => {
                let server = Server { software_version: SOFTWARE_VERSION, base: &base, date: &self.started };
                encoded(200, &capability_statement(&server), format, pretty)
            }
            [t, tail @ ..] => {
                let Some(t) = ResourceType::parse(t) else {
                    let diagnostics =
                        format!("HAPI-0302: Unknown resource type '{t}' - Server knows how to handle: [Encounter, ImagingStudy, Observation, Patient]");
                    return Some(failure(404, IssueCode::NotFound, &diagnostics, format, pretty));
                };
                match tail {
                    [] => self.search(tokens, &c, t, r.query, r, &base),
                    [id] => self.read(tokens, &c, t, id, None, (format, pretty), &base),
                    [id, "_history", version] => self.read(tokens, &c, t, id, Some(version), (format, pretty), &base),
                    _ => failure(400, IssueCode::Processing, &format!("HAPI-0358: Invalid request: {}", r.path), format, pretty),
                }
            }
        })
    }

    /// A search, or a page of one: the searchset, a hit for a honey patient named or
    /// shown.
    fn search(&self, tokens: &Matcher, c: &Catalogue, t: ResourceType, query: &str, r: &FhirRequest<'_>, base: &str) -> Answer {
        let s = match parse(t.as_str(), query) {
            Ok(s) => s,
            Err(e) => {
                let (format, pretty) = loose_controls(query);
                return failure(400, IssueCode::Processing, &e.to_string(), encoding(format, r.accept), pretty);
            }
        };
        let (format, pretty) = (encoding(s.format, r.accept), s.pretty.unwrap_or(false));
        let matched = c.search(&s);
        // `_summary=count` asks for the total alone.
        let count = if s.summary == Some(Summary::Count) { 0 } else { s.count };
        let page: Vec<Entry> = matched.iter().copied().skip(s.offset).take(count).collect();
        let included = c.includes(&s, &page);
        // Compact JSON copies each resource as written once; other forms build it.
        let cached = format == Format::Json && !pretty;
        let resource = |e: Entry| if cached { c.json(e).map(Node::Json) } else { c.render(e) };
        let entry = |e: Entry, mode| Some(BundleEntry { resource_type: e.resource_type(), id: c.id(e)?, resource: resource(e)?, mode });
        let mut entries: Vec<BundleEntry> = page.iter().filter_map(|e| entry(*e, EntryMode::Match)).collect();
        entries.extend(included.iter().filter_map(|e| entry(*e, EntryMode::Include)));
        let paging_id = s.getpages.clone().unwrap_or_else(|| self.remember(t, query));
        let self_link = if query.is_empty() { format!("{base}/{t}") } else { format!("{base}/{t}?{query}") };
        let (bundle_id, last_updated) = (uuid(), now());
        let format_name = s.format.map(|f| if matches!(f, Format::Xml | Format::HtmlXml) { "xml" } else { "json" });
        let p = Page {
            base,
            bundle_id: &bundle_id,
            last_updated: &last_updated,
            matched: matched.len(),
            show_total: true,
            offset: s.offset,
            count,
            self_link: &self_link,
            paging_id: &paging_id,
            format: format_name,
            pretty,
        };
        let mut answer = encoded(200, &searchset(&p, entries), format, pretty);
        answer.token = hit(tokens, c, &s, page.iter().chain(&included));
        answer
    }

    /// A read (or vread of version 1, the only one the server holds).
    #[allow(clippy::too_many_arguments)]
    fn read(&self, tokens: &Matcher, c: &Catalogue, t: ResourceType, id: &str, version: Option<&str>, (format, pretty): (Format, bool), base: &str) -> Answer {
        let found = c.find(t, id).filter(|_| version.is_none_or(|v| v == "1"));
        let Some((e, node)) = found.and_then(|e| Some((e, c.render(e)?))) else {
            let diagnostics = match version {
                Some(v) if c.find(t, id).is_some() => format!("HAPI-0979: Version \"{v}\" is not valid for resource {t}/{id}"),
                _ => format!("HAPI-2001: Resource {t}/{id} is not known"),
            };
            return failure(404, IssueCode::NotFound, &diagnostics, format, pretty);
        };
        let mut answer = encoded(200, &node, format, pretty);
        let modified = c.last_updated(e).and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        answer.extra.push(("Content-Location".into(), format!("{base}/{t}/{id}/_history/1")));
        answer.extra.push(("Last-Modified".into(), modified));
        answer.extra.push(("ETag".into(), "W/\"1\"".into()));
        answer.token = c.patient(e).and_then(|p| tokens.lookup(MaterialKind::PatientId, p.nhs_number.as_bytes()));
        answer
    }

    /// Keeps a search for its paging links; its id.
    fn remember(&self, t: ResourceType, query: &str) -> String {
        let id = uuid();
        let mut kept = self.searches.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() == KEPT_SEARCHES {
            kept.pop_front();
        }
        kept.push_back((id.clone(), t, query.to_string()));
        id
    }

    /// The search a paging link continues: its type, and its query with the link's
    /// offset, count, format and pretty-printing.
    fn continued(&self, query: &str) -> Option<(ResourceType, String)> {
        let mut id = None;
        let mut controls = Vec::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "_getpages" => id = Some(v.into_owned()),
                "_getpagesoffset" | "_count" | "_format" | "_pretty" => controls.push((k.into_owned(), v.into_owned())),
                _ => {}
            }
        }
        let id = id?;
        let kept = self.searches.lock().unwrap_or_else(|e| e.into_inner());
        let (_, t, original) = kept.iter().find(|(i, ..)| *i == id)?;
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(original.as_bytes()) {
            if !matches!(k.as_ref(), "_count" | "_format" | "_pretty" | "_offset" | "_getpagesoffset") {
                q.append_pair(&k, &v);
            }
        }
        for (k, v) in &controls {
            q.append_pair(k, v);
        }
        q.append_pair("_getpages", &id);
        Some((*t, q.finish()))
    }

    /// SMART App Launch's discovery document (authorisation at the same origin).
    fn smart(&self, origin: &str) -> Answer {
        let doc = serde_json::json!({
            "authorization_endpoint": format!("{origin}/oauth/authorize"),
            "capabilities": ["launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric", "context-ehr-patient", "sso-openid-connect", "permission-patient", "permission-user"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "issuer": origin,
            "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "patient/*.read", "user/*.read", "system/*.read", "offline_access"],
            "token_endpoint": format!("{origin}/oauth/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        });
        Answer { reason: String::new(), dynamic: true, ..Answer::ok("application/json".into(), Bytes::from(doc.to_string())) }
    }
}

/// The token of the first honey patient the search names (identifier, name, birth
/// date) or its answer shows.
fn hit<'a>(tokens: &Matcher, c: &Catalogue, s: &Search, shown: impl Iterator<Item = &'a Entry>) -> Option<TokenHit> {
    let named = named_patient_values(s).into_iter().find_map(|v| tokens.lookup(MaterialKind::PatientId, v.as_bytes()));
    named.or_else(|| {
        let mut seen: Vec<&str> = Vec::new();
        shown.filter_map(|e| c.patient(*e)).find_map(|p| {
            if seen.contains(&p.nhs_number.as_str()) {
                return None;
            }
            seen.push(&p.nhs_number);
            tokens.lookup(MaterialKind::PatientId, p.nhs_number.as_bytes())
        })
    })
}
