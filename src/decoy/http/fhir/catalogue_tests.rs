use super::super::bundle::{searchset, BundleEntry, EntryMode, Page};
use super::super::node::{to_json, to_xml};
use super::super::search::parse;
use super::*;

fn catalogue(size: usize) -> Catalogue {
    let site = Site::default();
    let patients = crate::token::clinical::cohort(11, size, &site).into_iter().map(Arc::new).collect();
    Catalogue::for_site(patients, &site)
}

fn json(node: &Node) -> serde_json::Value {
    serde_json::from_str(&to_json(node, false)).unwrap()
}

#[test]
fn ids_are_one_shared_sequence_in_storage_order() {
    let c = catalogue(4);
    let p0 = &c.patients[0];
    let mut expected = vec![ResourceType::Patient];
    for st in 0..p0.studies.len() {
        expected.extend([ResourceType::Encounter, ResourceType::ImagingStudy]);
        if st == 0 {
            expected.extend([ResourceType::Observation, ResourceType::Observation]);
        }
    }
    let first: Vec<ResourceType> = (1..=expected.len()).map(|n| c.entries[n - 1].resource_type()).collect();
    assert_eq!(first, expected);
    for (i, e) in c.entries.iter().enumerate() {
        let id = (i + 1).to_string();
        assert_eq!(c.id(*e).as_deref(), Some(id.as_str()));
        assert_eq!(c.find(e.resource_type(), &id), Some(*e));
        let other = if e.resource_type() == ResourceType::Patient { ResourceType::Encounter } else { ResourceType::Patient };
        assert_eq!(c.find(other, &id), None);
        let node = c.render(*e).unwrap();
        assert_eq!(node.get("id").and_then(Node::as_str), Some(id.as_str()));
        assert_eq!(node.resource_type(), Some(e.resource_type().as_str()));
    }
    for bad in ["0", "01", "+1", " 1", "", "99999", "1.0"] {
        assert_eq!(c.find(ResourceType::Patient, bad), None, "{bad}");
    }
}

#[test]
fn the_same_patients_give_the_same_resources() {
    let (a, b) = (catalogue(5), catalogue(5));
    assert_eq!(a.len(), b.len());
    for e in &a.entries {
        assert_eq!(to_json(&a.render(*e).unwrap(), false), to_json(&b.render(*e).unwrap(), false));
    }
}

#[test]
fn a_patient_has_its_nhs_number_and_mrn_identifiers() {
    let c = catalogue(2);
    let p = &c.patients[0];
    let v = json(&c.render(Entry::Patient(0)).unwrap());
    assert_eq!(v["resourceType"], "Patient");
    assert_eq!(v["identifier"][0], serde_json::json!({"system": "https://fhir.nhs.uk/Id/nhs-number", "value": p.nhs_number}));
    assert_eq!(
        v["identifier"][1],
        serde_json::json!({"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
            "system": "https://ghr.nhs.uk/Id/mrn", "value": p.mrn})
    );
    assert_eq!(v["name"][0]["family"], p.family_name.as_str());
    assert_eq!(v["gender"], if p.sex == "F" { "female" } else { "male" });
    assert_eq!(v["birthDate"].as_str().unwrap().replace('-', ""), p.birth_date);
    assert_eq!(v["meta"]["versionId"], "1");
    assert!(v["text"]["div"].as_str().unwrap().contains(&format!("<b>{} </b>", p.family_name.to_uppercase())));
    let text = to_json(&c.render(Entry::Patient(0)).unwrap(), false);
    let order: Vec<&str> = text.split("\":").map(|k| k.rsplit('"').next().unwrap_or("")).collect();
    let pos = |k: &str| order.iter().position(|o| *o == k).unwrap();
    assert!(pos("resourceType") < pos("id") && pos("id") < pos("meta") && pos("meta") < pos("text") && pos("identifier") < pos("active"));
}

#[test]
fn studies_encounters_and_observations_reference_their_patient() {
    let c = catalogue(3);
    let study = json(&c.render(Entry::ImagingStudy(0, 0)).unwrap());
    let s = &c.patients[0].studies[0];
    assert_eq!(study["subject"]["reference"], "Patient/1");
    assert_eq!(study["encounter"]["reference"], "Encounter/2");
    assert_eq!(study["identifier"][0]["value"], format!("urn:oid:{}", s.study_instance_uid));
    assert_eq!(study["identifier"][1]["value"], s.accession_number.as_str());
    assert_eq!(study["numberOfSeries"], s.series.len());
    assert_eq!(study["series"][0]["uid"], s.series[0].series_instance_uid.as_str());
    assert_eq!(study["modality"][0]["code"], s.modality.as_str());
    let enc = json(&c.render(Entry::Encounter(0, 0)).unwrap());
    assert_eq!(enc["status"], "finished");
    assert!(["AMB", "EMER"].contains(&enc["class"]["code"].as_str().unwrap()));
    let weight = json(&c.render(Entry::Observation(0, Vital::Weight)).unwrap());
    assert_eq!(weight["code"]["coding"][0]["code"], "29463-7");
    assert_eq!(weight["valueQuantity"]["code"], "kg");
    assert_eq!(weight["encounter"]["reference"], "Encounter/2");
}

#[test]
fn searches_find_patients_by_identifier_name_and_birth_date() {
    let c = catalogue(20);
    let p = c.patients[7].clone();
    let id = c.id(Entry::Patient(7)).unwrap();
    let found = |q: &str| -> Vec<String> { c.search(&parse("Patient", q).unwrap()).into_iter().filter_map(|e| c.id(e)).collect() };
    assert_eq!(found(&format!("identifier=https://fhir.nhs.uk/Id/nhs-number|{}", p.nhs_number)), vec![id.clone()]);
    assert_eq!(found(&format!("identifier=https://ghr.nhs.uk/Id/mrn|{}", p.mrn)), vec![id.clone()]);
    assert!(found(&format!("family={}", &p.family_name[..3].to_lowercase())).contains(&id));
    let birth = format!("{}-{}-{}", &p.birth_date[..4], &p.birth_date[4..6], &p.birth_date[6..]);
    assert!(found(&format!("birthdate={birth}&given={}", p.given_name)).contains(&id));
    assert_eq!(found("").len(), 20);
    let sorted = found("_sort=-birthdate");
    assert_eq!(sorted.len(), 20);
    let births: Vec<String> = sorted.iter().map(|i| c.patient(c.find(ResourceType::Patient, i).unwrap()).unwrap().birth_date.clone()).collect();
    assert!(births.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn searches_of_studies_follow_chains_and_references() {
    let c = catalogue(10);
    let p = &c.patients[3];
    let pid = c.id(Entry::Patient(3)).unwrap();
    let studies = |q: &str| c.search(&parse("ImagingStudy", q).unwrap());
    assert_eq!(studies(&format!("subject.identifier={}", p.nhs_number)).len(), p.studies.len());
    assert_eq!(studies(&format!("patient=Patient/{pid}")).len(), p.studies.len());
    assert_eq!(studies(&format!("identifier={}", p.studies[0].accession_number)), vec![Entry::ImagingStudy(3, 0)]);
    let all_ct = studies("modality=CT");
    assert!(all_ct.iter().all(|e| matches!(e, Entry::ImagingStudy(pi, st) if c.patients[*pi].studies[*st].modality == "CT")));
    let obs = c.search(&parse("Observation", &format!("patient={pid}&code=http://loinc.org|8302-2")).unwrap());
    assert_eq!(obs, vec![Entry::Observation(3, Vital::Height)]);
}

#[test]
fn includes_add_the_patient_and_revincludes_the_studies() {
    let c = catalogue(3);
    let s = parse("ImagingStudy", "_id=3&_include=ImagingStudy:subject").unwrap();
    let hits = c.search(&s);
    assert_eq!(hits.len(), 1);
    assert_eq!(c.includes(&s, &hits), vec![Entry::Patient(0)]);
    let s = parse("Patient", "_id=1&_revinclude=ImagingStudy:patient").unwrap();
    let hits = c.search(&s);
    assert_eq!(c.includes(&s, &hits).len(), c.patients[0].studies.len());
}

#[test]
fn a_bundle_of_patients_pages_and_its_xml_wraps_each_resource() {
    let c = catalogue(6);
    let s = parse("Patient", "_count=2").unwrap();
    let hits = c.search(&s);
    let page = Page {
        base: "https://pacs.example/fhir",
        bundle_id: "b1",
        last_updated: "2024-03-05T10:15:22.123+00:00",
        matched: hits.len(),
        show_total: true,
        offset: 0,
        count: s.count,
        self_link: "https://pacs.example/fhir/Patient?_count=2",
        paging_id: "p1",
        format: None,
        pretty: false,
    };
    let entries: Vec<BundleEntry> = hits
        .iter()
        .take(s.count)
        .map(|e| BundleEntry { resource_type: e.resource_type(), id: c.id(*e).unwrap(), resource: c.render(*e).unwrap(), mode: EntryMode::Match })
        .collect();
    let b = searchset(&page, entries);
    let v = json(&b);
    assert_eq!(v["total"], 6);
    assert_eq!(v["entry"].as_array().unwrap().len(), 2);
    assert_eq!(v["link"][1]["url"], "https://pacs.example/fhir?_getpages=p1&_getpagesoffset=2&_count=2&_bundletype=searchset");
    let xml = to_xml(&b, true);
    assert!(xml.starts_with("<Bundle xmlns=\"http://hl7.org/fhir\">"), "{xml}");
    assert_eq!(xml.matches("<resource>").count(), 2);
    assert!(xml.contains("<resource>\n         <Patient xmlns=\"http://hl7.org/fhir\">"), "{xml}");
    assert!(xml.contains("<div xmlns=\"http://www.w3.org/1999/xhtml\">"));
}
