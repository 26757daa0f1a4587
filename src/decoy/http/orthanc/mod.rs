//! Orthanc's REST API for a signed-in client (the `orthanc` application of an HTTP
//! personality): `/system` with the configured AET and ports, `/statistics`, the
//! resource lists and resources (`/patients`, `/studies`, `/series`, `/instances`, their
//! children, statistics, simplified tags and files), `/changes`, `/tools/now`,
//! `/tools/generate-uid`, `/plugins` and the empty configuration lists, all answered
//! from the same honey cohort the DICOM decoy serves, laid out as Orthanc writes JSON.

mod catalogue;
mod dicomweb;
mod json;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};

use super::answer::Answer;
use crate::decoy::{Built, Cohort};
use crate::token::{Matcher, MaterialKind};
use catalogue::{Catalogue, Level, Place};

/// What `/system` says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub name: String,
    pub dicom_aet: String,
    pub dicom_port: u16,
    pub http_port: u16,
}

/// The REST application of one decoy.
pub struct Orthanc {
    pub cohort: Arc<Cohort>,
    pub system: System,
    catalogue: Built<Catalogue>,
    /// DCMTK's UID generator state: host id, process id, counter.
    uid_host: u32,
    uid_pid: u32,
    uid_counter: AtomicU32,
}

const JSON: &str = "application/json; charset=utf-8";
/// Most resources one list answers (Orthanc answers every one; a cap keeps a decoy's
/// answer bounded while staying far above what a cohort holds per patient).
const MAX_LISTED: usize = 20_000;

impl Orthanc {
    pub fn new(cohort: Arc<Cohort>, system: System) -> Self {
        let seed = rand::random::<u64>();
        Orthanc {
            cohort,
            system,
            catalogue: Built::default(),
            uid_host: 8_000_000 + (seed % 900_000) as u32,
            uid_pid: 900 + (seed >> 32) as u32 % 30_000,
            uid_counter: AtomicU32::new(300_000 + (seed >> 16) as u32 % 20_000),
        }
    }

    /// The catalogue of the token patients and the cohort, rebuilt when either changes.
    fn catalogue(&self, tokens: &Matcher) -> Arc<Catalogue> {
        self.catalogue.get(tokens, &self.cohort, Catalogue::new)
    }

    /// The methods Orthanc allows on `path` (its 405's `Allow`), when the API has it.
    pub fn allowed(&self, tokens: &Matcher, path: &str) -> Option<&'static str> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["changes"] => Some("GET,DELETE"),
            ["instances"] => Some("GET,POST"),
            ["system" | "statistics" | "plugins" | "modalities" | "peers" | "jobs" | "exports"] | ["tools", "now" | "now-local" | "generate-uid"] => {
                Some("GET")
            }
            [level] => Level::parse(level).map(|_| "GET"),
            [level, id] => self.catalogue(tokens).find(Level::parse(level)?, id).map(|_| "GET,DELETE"),
            [level, id, _] => self.catalogue(tokens).find(Level::parse(level)?, id).map(|_| "GET"),
            _ => None,
        }
    }

    /// The answer to `GET path?query` from a signed-in client, or None when the path is
    /// not part of the API (the personality's routes and 404 then apply).
    pub fn answer(&self, tokens: &Matcher, path: &str, query: &str, host: Option<&str>) -> Option<Answer> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let param = |name: &str| query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v).or((kv == name).then_some("")));
        let json_answer = |v: Value| Answer::ok(JSON.into(), Bytes::from(json::styled(&v)));
        let text = |t: String| Answer::ok("text/plain".into(), Bytes::from(t));
        match segments.as_slice() {
            ["system"] => Some(json_answer(json!({
                "ApiVersion": 16, "CheckRevisions": false, "DatabaseBackendPlugin": null, "DatabaseVersion": 6,
                "DicomAet": self.system.dicom_aet, "DicomPort": self.system.dicom_port, "HttpPort": self.system.http_port,
                "IsHttpServerSecure": true, "Name": self.system.name, "PluginsEnabled": true, "StorageAreaPlugin": null, "Version": "1.10.1",
            }))),
            ["statistics"] => {
                let c = self.catalogue(tokens);
                let size: u64 = c.listed[Level::Instances as usize].iter().map(|p| c.file_size(*p)).sum();
                let count = |l: Level| c.listed[l as usize].len();
                Some(json_answer(json!({
                    "CountInstances": count(Level::Instances), "CountPatients": count(Level::Patients), "CountSeries": count(Level::Series),
                    "CountStudies": count(Level::Studies), "TotalDiskSize": size.to_string(), "TotalDiskSizeMB": size >> 20,
                    "TotalUncompressedSize": size.to_string(), "TotalUncompressedSizeMB": size >> 20,
                })))
            }
            ["tools", "now"] | ["tools", "now-local"] => Some(text(chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string())),
            ["tools", "generate-uid"] => {
                let Some(level) = param("level") else { return Some(empty(404)) };
                let level = match level {
                    "patient" => 1,
                    "study" => 2,
                    "series" => 3,
                    "instance" => 4,
                    _ => return Some(empty(400)),
                };
                let counter = self.uid_counter.fetch_add(1, Ordering::Relaxed);
                Some(text(format!("1.2.276.0.7230010.3.1.{level}.{}.{}.{}.{counter}", self.uid_host, self.uid_pid, chrono::Utc::now().timestamp())))
            }
            ["plugins"] => Some(json_answer(json!(["explorer.js", "dicom-web"]))),
            ["dicom-web", rest @ ..] => {
                let c = self.catalogue(tokens);
                let base = format!("http://{}/dicom-web", host.unwrap_or("localhost"));
                let (mut answer, shown) = dicomweb::answer(&c, rest, query, &base, path)?;
                // A honey patient among those shown is a hit on its token.
                let mut seen: Vec<usize> = shown;
                seen.dedup();
                answer.token = seen.iter().filter_map(|&p| c.patients.get(p)).find_map(|p| tokens.lookup(MaterialKind::PatientId, p.nhs_number.as_bytes()));
                Some(answer)
            }
            ["modalities"] | ["peers"] | ["jobs"] => Some(json_answer(json!([]))),
            ["exports"] => Some(json_answer(json!({"Done": true, "Exports": [], "Last": 0}))),
            ["changes"] => {
                let c = self.catalogue(tokens);
                let since = param("since").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                let limit = param("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(100).min(10_000);
                Some(json_answer(changes(&c, since, limit)))
            }
            [level] => {
                let level = Level::parse(level)?;
                let c = self.catalogue(tokens);
                let since = param("since").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                let limit = param("limit").and_then(|v| v.parse::<usize>().ok()).filter(|&l| l > 0).unwrap_or(MAX_LISTED).min(MAX_LISTED);
                let places: Vec<Place> = c.listed[level as usize].iter().skip(since).take(limit).copied().collect();
                Some(json_answer(list(&c, &places, param("expand").is_some())))
            }
            [level, id, rest @ ..] => {
                let level = Level::parse(level)?;
                let c = self.catalogue(tokens);
                let Some(place) = c.find(level, id) else { return Some(empty(404)) };
                // A honey patient's resource read is a hit on its token.
                let token = c.patients.get(place.patient()).and_then(|p| tokens.lookup(MaterialKind::PatientId, p.nhs_number.as_bytes()));
                let answer = match rest {
                    [] => json_answer(c.resource(place)?),
                    ["statistics"] => json_answer(statistics(&c, place)),
                    ["file"] => {
                        let (p, st, se, n) = c.instance(place)?;
                        let mut a = Answer::ok("application/dicom".into(), Bytes::from(crate::token::instance_file(p, st, se, n).ok()?));
                        a.extra.push(("Content-Disposition".into(), format!("filename=\"{}.dcm\"", catalogue::file_uuid(id))));
                        a
                    }
                    ["simplified-tags"] => json_answer(simplified_tags(&c, place)?),
                    [child] => {
                        let places = descendants(&c, place, Level::parse(child)?);
                        json_answer(list(&c, &places, true))
                    }
                    _ => return None,
                };
                Some(Answer { token, ..answer })
            }
            _ => None,
        }
    }
}

/// Orthanc's answer to a method its REST API does not route (anything but GET, POST,
/// PUT and DELETE: HEAD, OPTIONS, ...): a bare 404.
pub fn unrouted_method() -> Answer {
    empty(404)
}

/// Orthanc's answer for an unknown resource: the status alone, no body, no type.
fn empty(status: u16) -> Answer {
    let reason = if status == 404 { "Not Found" } else { "Bad Request" };
    Answer { status, reason: reason.into(), ..Answer::ok(String::new(), Bytes::new()) }
}

/// A resource list: identifiers, or the resources themselves with `expand`.
fn list(c: &Catalogue, places: &[Place], expand: bool) -> Value {
    let items = places.iter().take(MAX_LISTED).filter_map(|&p| if expand { c.resource(p) } else { c.id(p).map(Value::String) });
    Value::Array(items.collect())
}

/// The resources of `level` under `place` in the order Orthanc's REST API lists them:
/// level by level, each resource's children put in front of those gathered so far,
/// so a patient's series come last study first.
fn descendants(c: &Catalogue, place: Place, level: Level) -> Vec<Place> {
    let mut current = vec![place];
    while current.first().is_some_and(|p| Level::of(*p) != level) {
        let mut next: Vec<Place> = Vec::new();
        for p in &current {
            let mut children = c.children(*p);
            children.extend(next);
            next = children;
        }
        if next.is_empty() {
            return Vec::new();
        }
        current = next;
    }
    current
}

/// `/{level}/{id}/statistics`.
fn statistics(c: &Catalogue, place: Place) -> Value {
    let instances = c.below(place, Level::Instances);
    let size: u64 = instances.iter().map(|p| c.file_size(*p)).sum();
    let mut v = json!({
        "DicomDiskSize": size.to_string(), "DicomDiskSizeMB": size >> 20, "DicomUncompressedSize": size.to_string(),
        "DicomUncompressedSizeMB": size >> 20, "DiskSize": size.to_string(), "DiskSizeMB": size >> 20,
        "UncompressedSize": size.to_string(), "UncompressedSizeMB": size >> 20,
    });
    let counts = [("CountStudies", Level::Studies), ("CountSeries", Level::Series), ("CountInstances", Level::Instances)];
    for (key, level) in
        counts.into_iter().filter(|(_, l)| !matches!((place, l), (Place::Study(..), Level::Studies) | (Place::Series(..), Level::Studies | Level::Series)))
    {
        v[key] = json!(c.below(place, level).len());
    }
    v
}

/// `/instances/{id}/simplified-tags`: every attribute by keyword, pixel data null.
fn simplified_tags(c: &Catalogue, place: Place) -> Option<Value> {
    use dicom_core::dictionary::DataDictionary as _;
    let (p, st, se, n) = c.instance(place)?;
    let obj = crate::token::instance_dataset(p, st, se, n)?;
    let mut map = serde_json::Map::new();
    for elem in &obj {
        let tag = elem.header().tag;
        let Some(entry) = dicom_dictionary_std::StandardDataDictionary.by_tag(tag) else { continue };
        let value = if tag == dicom_dictionary_std::tags::PIXEL_DATA {
            Value::Null
        } else {
            Value::String(elem.to_str().map(|s| s.trim_end_matches([' ', '\0']).to_string()).unwrap_or_default())
        };
        map.insert(entry.alias.to_string(), value);
    }
    Some(Value::Object(map))
}

/// The change log as Orthanc kept it while the archive filled: per instance stored
/// `NewInstance`, and for the first of a series, study or patient `NewSeries`,
/// `NewStudy`, `NewPatient`; `since` and `limit` page it.
fn changes(c: &Catalogue, since: usize, limit: usize) -> Value {
    let mut out = Vec::new();
    let mut seq = 0usize;
    let mut done = true;
    'all: for (p, patient) in c.patients.iter().enumerate() {
        for (st, study) in patient.studies.iter().enumerate() {
            for (se, series) in study.series.iter().enumerate() {
                for n in 1..=series.instance_count {
                    let mut entries = vec![("NewInstance", "Instance", "instances", Place::Instance(p, st, se, n))];
                    if n == 1 {
                        entries.push(("NewSeries", "Series", "series", Place::Series(p, st, se)));
                        if se == 0 {
                            entries.push(("NewStudy", "Study", "studies", Place::Study(p, st)));
                            if st == 0 {
                                entries.push(("NewPatient", "Patient", "patients", Place::Patient(p)));
                            }
                        }
                    }
                    // Stored when the study was sent, whatever the resource.
                    let date = c.last_update(Place::Study(p, st));
                    for (change, kind, segment, place) in entries {
                        seq += 1;
                        if seq <= since {
                            continue;
                        }
                        if out.len() == limit {
                            done = false;
                            break 'all;
                        }
                        let Some(id) = c.id(place) else { continue };
                        out.push(json!({"ChangeType": change, "Date": date, "ID": id, "Path": format!("/{segment}/{id}"), "ResourceType": kind, "Seq": seq}));
                    }
                }
            }
        }
    }
    let last = out.last().and_then(|v| v["Seq"].as_u64()).unwrap_or(since as u64);
    json!({"Changes": out, "Done": done, "Last": last})
}
