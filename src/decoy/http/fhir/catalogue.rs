//! Every resource of a set of honey patients under the id HAPI's JPA server would have
//! given it (one sequence shared by all types: "1", "2", … in the order stored),
//! findable by type and id, searchable, each rendered as a [`Node`].

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use chrono::{Duration, NaiveDateTime};

use super::matching::{compare, token, Fact, Facts, Matcher};
use super::node::Node;
use super::params::ParamName;
use super::resource::{self as r, Hospital, Vital};
use super::search::Search;
use super::ResourceType;
use crate::token::clinical::Site;
use crate::token::HoneyPatient;

/// Where a resource comes from: indexes of its patient and study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    Patient(usize),
    Encounter(usize, usize),
    ImagingStudy(usize, usize),
    Observation(usize, Vital),
}

impl Entry {
    pub fn resource_type(self) -> ResourceType {
        match self {
            Entry::Patient(_) => ResourceType::Patient,
            Entry::Encounter(..) => ResourceType::Encounter,
            Entry::ImagingStudy(..) => ResourceType::ImagingStudy,
            Entry::Observation(..) => ResourceType::Observation,
        }
    }

    fn patient_index(self) -> usize {
        match self {
            Entry::Patient(p) | Entry::Encounter(p, _) | Entry::ImagingStudy(p, _) | Entry::Observation(p, _) => p,
        }
    }
}

/// The ids of one patient's resources.
#[derive(Debug, Default)]
struct PatientIds {
    patient: usize,
    /// Per study: (Encounter, ImagingStudy).
    studies: Vec<(usize, usize)>,
    observations: Vec<(Vital, usize)>,
}

/// The server's resources.
pub struct Catalogue {
    pub patients: Vec<Arc<HoneyPatient>>,
    pub hospital: Hospital,
    /// Every resource in storage order: resource id `n` is `entries[n - 1]`.
    entries: Vec<Entry>,
    ids: Vec<PatientIds>,
    /// Each resource's search facts (its patient's included), worked out on first use.
    facts: Vec<OnceLock<Option<Facts>>>,
    /// Each resource as compact JSON, written on first use.
    json: Vec<OnceLock<Option<Arc<str>>>>,
}

impl Catalogue {
    /// The resources of `patients` (the cohort, then token patients), stored patient by
    /// patient: the Patient, then per study its Encounter and ImagingStudy, the vital
    /// signs after the first study's.
    pub fn new(patients: Vec<Arc<HoneyPatient>>, hospital: Hospital) -> Self {
        let mut entries = Vec::new();
        let mut ids = Vec::with_capacity(patients.len());
        for (p, patient) in patients.iter().enumerate() {
            let mut mine = PatientIds::default();
            entries.push(Entry::Patient(p));
            mine.patient = entries.len();
            for st in 0..patient.studies.len() {
                entries.push(Entry::Encounter(p, st));
                entries.push(Entry::ImagingStudy(p, st));
                mine.studies.push((entries.len() - 1, entries.len()));
                if st == 0 {
                    for vital in Vital::ALL {
                        entries.push(Entry::Observation(p, vital));
                        mine.observations.push((vital, entries.len()));
                    }
                }
            }
            ids.push(mine);
        }
        let facts = (0..entries.len()).map(|_| OnceLock::new()).collect();
        let json = (0..entries.len()).map(|_| OnceLock::new()).collect();
        Catalogue { patients, hospital, entries, ids, facts, json }
    }

    /// The catalogue of a site's patients.
    pub fn for_site(patients: Vec<Arc<HoneyPatient>>, site: &Site) -> Self {
        Catalogue::new(patients, Hospital { site_code: site.site_code.clone(), institution_name: site.institution_name.clone() })
    }

    /// Resources of every type.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The resource of type `t` with id `id` (ids as HAPI writes them: no leading zeros).
    pub fn find(&self, t: ResourceType, id: &str) -> Option<Entry> {
        let n: usize = id.parse().ok()?;
        if n.to_string() != id || n == 0 {
            return None;
        }
        self.entries.get(n - 1).copied().filter(|e| e.resource_type() == t)
    }

    /// Every resource of a type, in id order.
    pub fn listed(&self, t: ResourceType) -> impl Iterator<Item = Entry> + '_ {
        self.entries.iter().copied().filter(move |e| e.resource_type() == t)
    }

    /// The index of a resource in `entries` (its id less one).
    fn index(&self, e: Entry) -> Option<usize> {
        let ids = self.ids.get(e.patient_index())?;
        let n = match e {
            Entry::Patient(_) => ids.patient,
            Entry::Encounter(_, st) => ids.studies.get(st)?.0,
            Entry::ImagingStudy(_, st) => ids.studies.get(st)?.1,
            Entry::Observation(_, v) => ids.observations.iter().find(|(w, _)| *w == v)?.1,
        };
        n.checked_sub(1)
    }

    /// The resource as compact JSON, written once.
    pub fn json(&self, e: Entry) -> Option<Arc<str>> {
        let slot = self.json.get(self.index(e)?)?;
        slot.get_or_init(|| self.render(e).map(|n| Arc::from(super::node::to_json(&n, false)))).clone()
    }

    /// The resource's facts with its patient's, worked out once.
    fn cached_facts(&self, i: usize, e: Entry) -> Option<&Facts> {
        self.facts.get(i)?.get_or_init(|| self.facts_with(e, true)).as_ref()
    }

    /// A resource's id.
    pub fn id(&self, e: Entry) -> Option<String> {
        self.index(e).map(|i| (i + 1).to_string())
    }

    /// The honey patient a resource is about.
    pub fn patient(&self, e: Entry) -> Option<&HoneyPatient> {
        self.patients.get(e.patient_index()).map(|p| &**p)
    }

    fn study_id_pair(&self, p: usize, st: usize) -> Option<(String, String)> {
        let (e, i) = self.ids.get(p)?.studies.get(st)?;
        Some((e.to_string(), i.to_string()))
    }

    /// When the resource was stored (its `meta.lastUpdated`).
    pub fn last_updated(&self, e: Entry) -> NaiveDateTime {
        let Some(p) = self.patient(e) else { return NaiveDateTime::default() };
        let study_at = |st: usize| p.studies.get(st).and_then(r::study_time).unwrap_or_else(|| r::first_time(p));
        match e {
            Entry::Patient(_) => r::stored_at(r::first_time(p), &format!("Patient/{}", p.nhs_number)),
            Entry::Encounter(_, st) => r::stored_at(study_at(st), &format!("Encounter/{}", p.studies.get(st).map_or("", |s| &s.study_instance_uid))),
            // Sent by the modality after the visit was opened.
            Entry::ImagingStudy(_, st) => {
                r::stored_at(study_at(st) + Duration::minutes(30), &format!("ImagingStudy/{}", p.studies.get(st).map_or("", |s| &s.study_instance_uid)))
            }
            Entry::Observation(_, v) => r::stored_at(r::first_time(p), &format!("Observation/{}/{v:?}", p.nhs_number)),
        }
    }

    /// The resource as the server returns it.
    pub fn render(&self, e: Entry) -> Option<Node> {
        let p = self.patient(e)?;
        let id = self.id(e)?;
        let patient_id = self.id(Entry::Patient(e.patient_index()))?;
        let at = self.last_updated(e);
        Some(match e {
            Entry::Patient(_) => r::patient(p, &id, &self.hospital, at),
            Entry::Encounter(_, st) => r::encounter(p.studies.get(st)?, &id, &patient_id, &self.hospital, at),
            Entry::ImagingStudy(pi, st) => {
                let (encounter_id, _) = self.study_id_pair(pi, st)?;
                r::imaging_study(p.studies.get(st)?, &id, &patient_id, &encounter_id, at)
            }
            Entry::Observation(pi, v) => {
                let encounter = self.study_id_pair(pi, 0).map(|(e, _)| e);
                r::observation(p, v, &id, &patient_id, encounter.as_deref(), at)
            }
        })
    }

    /// The resource's facts, and its patient's when `with_patient`.
    fn facts_with(&self, e: Entry, with_patient: bool) -> Option<Facts> {
        let p = self.patient(e)?;
        let mut f = Facts::default();
        f.add(ParamName::Id, token("", &self.id(e)?));
        let stored = self.last_updated(e);
        f.add(ParamName::LastUpdated, Fact::Date { start: stored, end: stored + Duration::milliseconds(1) });
        if let Entry::Patient(_) = e {
            self.patient_facts(p, &mut f);
            return Some(f);
        }
        let patient_id = self.id(Entry::Patient(e.patient_index()))?;
        for name in [ParamName::Patient, ParamName::Subject] {
            f.add(name, Fact::Reference { resource: ResourceType::Patient, id: patient_id.clone() });
        }
        let encounter = |st: usize| self.study_id_pair(e.patient_index(), st).map(|(id, _)| Fact::Reference { resource: ResourceType::Encounter, id });
        match e {
            Entry::Patient(_) => {}
            Entry::Encounter(_, st) => {
                let study = p.studies.get(st)?;
                let at = r::study_time(study).unwrap_or_else(|| r::first_time(p));
                let (code, display) = r::encounter_class(at);
                let (start, end) = r::encounter_period(at);
                f.add(ParamName::Identifier, token(&self.hospital.visit_system(), &r::visit_number(study)));
                f.add(ParamName::Status, token("http://hl7.org/fhir/encounter-status", "finished"));
                f.add(ParamName::Class, Fact::Token { system: r::ACT_CODE.into(), code: code.into(), display: display.into() });
                f.add(ParamName::Date, Fact::Date { start, end });
            }
            Entry::ImagingStudy(_, st) => {
                let study = p.studies.get(st)?;
                f.add(ParamName::Identifier, token("urn:dicom:uid", &format!("urn:oid:{}", study.study_instance_uid)));
                f.add(ParamName::Identifier, Fact::Token { system: String::new(), code: study.accession_number.clone(), display: "Accession ID".into() });
                for m in r::modalities(study) {
                    f.add(ParamName::Modality, token(r::DCM, m));
                }
                f.add(ParamName::Status, token("http://hl7.org/fhir/imagingstudy-status", "available"));
                f.extend_opt(ParamName::Encounter, encounter(st));
                if let Some(at) = r::study_time(study) {
                    f.add(ParamName::Started, Fact::Date { start: at, end: at + Duration::seconds(1) });
                }
            }
            Entry::Observation(_, v) => {
                let (code, display, _) = v.code();
                f.add(ParamName::Status, token("http://hl7.org/fhir/observation-status", "final"));
                f.add(ParamName::Category, Fact::Token { system: r::OBSERVATION_CATEGORY.into(), code: "vital-signs".into(), display: "Vital Signs".into() });
                f.add(ParamName::Code, Fact::Token { system: r::LOINC.into(), code: code.into(), display: display.into() });
                f.extend_opt(ParamName::Encounter, encounter(0));
                let at = r::first_time(p);
                f.add(ParamName::Date, Fact::Date { start: at, end: at + Duration::seconds(1) });
            }
        }
        if with_patient {
            let mut pf = Facts::default();
            pf.add(ParamName::Id, token("", &patient_id));
            self.patient_facts(p, &mut pf);
            f.patient = Some(Box::new(pf));
        }
        Some(f)
    }

    fn patient_facts(&self, p: &HoneyPatient, f: &mut Facts) {
        f.add(ParamName::Identifier, Fact::Token { system: r::NHS_NUMBER_SYSTEM.into(), code: p.nhs_number.clone(), display: "NHS Number".into() });
        f.add(ParamName::Identifier, Fact::Token { system: self.hospital.mrn_system(), code: p.mrn.clone(), display: "Medical record number".into() });
        f.add(ParamName::Active, token("", "true"));
        for name in [&p.family_name, &p.given_name, &format!("{} {}", p.given_name, p.family_name)] {
            f.add(ParamName::Name, Fact::Str(name.clone()));
        }
        f.add(ParamName::Family, Fact::Str(p.family_name.clone()));
        f.add(ParamName::Given, Fact::Str(p.given_name.clone()));
        let gender = r::gender(&p.sex);
        f.add(ParamName::Gender, Fact::Token { system: r::GENDER.into(), code: gender.into(), display: capitalised(gender) });
        if let Some(born) = r::birth_date(p).and_then(|b| b.and_hms_opt(0, 0, 0)) {
            f.add(ParamName::Birthdate, Fact::Date { start: born, end: born + Duration::days(1) });
        }
    }

    /// The resources a search matches, in the order it asks for.
    pub fn search(&self, s: &Search) -> Vec<Entry> {
        let matcher = Matcher::new(s);
        let mut hits: Vec<(Entry, &Facts)> = (0..self.entries.len())
            .filter_map(|i| {
                let e = *self.entries.get(i)?;
                (e.resource_type() == s.resource).then_some(())?;
                Some((e, self.cached_facts(i, e)?))
            })
            .filter(|(_, f)| matcher.matches(f))
            .collect();
        if !s.sort.is_empty() {
            hits.sort_by(|(_, a), (_, b)| compare(a, b, &s.sort));
        }
        hits.into_iter().map(|(e, _)| e).collect()
    }

    /// The resources `_include` and `_revinclude` add to a page of matches
    /// (`Source:parameter[:Target]`, or `*`), each once and none already matched.
    pub fn includes(&self, s: &Search, matched: &[Entry]) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        let mut seen: HashSet<Entry> = matched.iter().copied().collect();
        let mut add = |e: Entry, out: &mut Vec<Entry>| {
            if seen.insert(e) {
                out.push(e);
            }
        };
        for spec in &s.include {
            let Some(params) = include_params(spec, s.resource) else { continue };
            for m in matched {
                let Some(f) = self.facts_with(*m, false) else { continue };
                for (_, fact) in f.fields.iter().filter(|(n, _)| params.contains(n)) {
                    if let Fact::Reference { resource, id } = fact {
                        if let Some(e) = self.find(*resource, id) {
                            add(e, &mut out);
                        }
                    }
                }
            }
        }
        for spec in &s.revinclude {
            let Some((source, param)) = spec.split_once(':').and_then(|(t, p)| Some((ResourceType::parse(t)?, ParamName::parse(p.split(':').next()?)?))) else {
                continue;
            };
            let targets: HashSet<String> = matched.iter().filter(|e| e.resource_type() == s.resource).filter_map(|e| self.id(*e)).collect();
            for e in self.listed(source) {
                let Some(f) = self.facts_with(e, false) else { continue };
                let points = f
                    .fields
                    .iter()
                    .any(|(n, fact)| *n == param && matches!(fact, Fact::Reference { resource, id } if *resource == s.resource && targets.contains(id)));
                if points {
                    add(e, &mut out);
                }
            }
        }
        out
    }
}

/// The reference parameters an `_include` value follows from `resource`.
fn include_params(spec: &str, resource: ResourceType) -> Option<Vec<ParamName>> {
    let all = vec![ParamName::Patient, ParamName::Subject, ParamName::Encounter];
    if spec == "*" {
        return Some(all);
    }
    let mut parts = spec.split(':');
    let source = ResourceType::parse(parts.next()?)?;
    let param = parts.next()?;
    if source != resource {
        return None;
    }
    if param == "*" {
        return Some(all);
    }
    let p = ParamName::parse(param).filter(|p| p.target().is_some())?;
    Some(vec![p])
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl Facts {
    fn extend_opt(&mut self, name: ParamName, fact: Option<Fact>) {
        if let Some(f) = fact {
            self.add(name, f);
        }
    }
}

#[cfg(test)]
#[path = "catalogue_tests.rs"]
mod tests;
