//! One honey cohort behind every clinical door: the DICOM archive (findscu), the HL7
//! engine (a PDQ query over MLLP), the FHIR server, Orthanc's REST API and its
//! DICOMweb answer for the same patients with the same identifiers, names, birth dates
//! and studies; touching the honey patient through each door is a critical hit on its
//! token, and `token show` names every door it was touched through.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::real_pacs::dcmtk as run;
use common::*;

const DECOYS: &str = "  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:0\n    unknown_ae_queries: answer\n  - name: engine\n    type: hl7\n    listen: 127.0.0.1:0\n  - name: fhir\n    type: http\n    listen: 127.0.0.1:0\n    personality: fhir-server\n  - name: viewer\n    type: http\n    listen: 127.0.0.1:0\n    personality: pacs-viewer\n";
const AUTH: &str = "Authorization: Basic b3J0aGFuYzpvcnRoYW5j\r\n"; // orthanc:orthanc

/// A GET's body as JSON (de-chunked when the server chunks it).
fn get_json(addr: SocketAddr, path: &str, auth: &str) -> serde_json::Value {
    let raw = http_raw(addr, format!("GET {path} HTTP/1.1\r\nHost: door\r\n{auth}Connection: close\r\n\r\n").as_bytes());
    let (status, headers, body) = response_shape(&raw);
    assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
    let text = String::from_utf8_lossy(&body).to_string();
    let text = if headers.iter().any(|h| h == "Transfer-Encoding") { dechunk(&text) } else { text };
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

fn dechunk(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

/// The PID of the answer to an IHE PDQ query for `nhs`.
fn pdq(addr: SocketAddr, nhs: &str) -> Vec<String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let q = format!("\x0bMSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101700||QBP^Q22^QBP_Q21|Q1|P|2.5\rQPD|IHE PDQ Query|Q1|@PID.3.1^{nhs}\rRCP|I\r\x1c\r");
    s.write_all(q.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    while !reply.ends_with(b"\x1c\r") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply).to_string();
    let pid = text.split('\r').find(|seg| seg.starts_with("PID|")).unwrap_or_else(|| panic!("{text:?}"));
    pid.split('|').map(String::from).collect()
}

/// `(0010,0010) PN [SMITH^Jane]` → `SMITH^Jane`.
fn dicom_value(found: &str, tag: &str) -> String {
    // The last line with a value: the answer, not the query findscu echoes first.
    let line = found.lines().rfind(|l| l.contains(tag) && l.contains('[')).unwrap_or_else(|| panic!("{tag} in {found}"));
    line.split('[').nth(1).unwrap().split(']').next().unwrap().trim_end_matches([' ', '\0']).to_string()
}

#[test]
fn every_door_answers_from_one_cohort_and_each_touch_of_the_honey_patient_is_a_hit_naming_its_door() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), config(DECOYS)).unwrap();
    cli(
        dir.path(),
        &["token", "create", "patient", "--label", "honey patient on every system", "--studies", "2", "--out", "patient.json", "-c", "honeyward.yaml"],
    );
    cli(dir.path(), &["token", "create", "http-basic", "--label", "orthanc admin", "--username", "orthanc", "--password", "orthanc", "-c", "honeyward.yaml"]);
    let token: serde_json::Value =
        serde_json::from_str(cli(dir.path(), &["token", "list", "--json", "-c", "honeyward.yaml"]).lines().find(|l| l.contains("\"patient\"")).unwrap())
            .unwrap();
    let id = token["id"].as_str().unwrap().to_string();
    let p = &token["facts"]["patient"];
    let s = |k: &str| p[k].as_str().unwrap().to_string();
    let (nhs, family, given, born) = (s("nhs_number"), s("family_name"), s("given_name"), s("birth_date"));
    let studies: Vec<String> = p["studies"].as_array().unwrap().iter().map(|st| st["study_instance_uid"].as_str().unwrap().to_string()).collect();
    let hw = Honeyward::start(dir.path(), &config(DECOYS));
    let dicom_name = format!("{}^{given}", family.to_uppercase());

    // DICOM: C-FIND at patient and study level.
    let pacs = hw.addr("pacs").port().to_string();
    let found = run(
        "findscu",
        &["-v", "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", &format!("PatientID={nhs}"), "-k", "PatientName", "-k", "PatientBirthDate", "127.0.0.1", &pacs],
    );
    assert_eq!((dicom_value(&found, "(0010,0010)"), dicom_value(&found, "(0010,0030)")), (dicom_name.clone(), born.clone()));
    // HL7: the PDQ answer's PID.
    let pid = pdq(hw.addr("engine"), &nhs);
    assert_eq!(
        (pid[3].split('^').next().unwrap(), pid[5].as_str(), pid[7].as_str()),
        (nhs.as_str(), format!("{}^{given}^^^^^L", family.to_uppercase()).as_str(), born.as_str())
    );
    // FHIR: the Patient, and its ImagingStudies' study UIDs.
    let fhir = hw.addr("fhir");
    let bundle = get_json(fhir, &format!("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}"), "");
    let patient = &bundle["entry"][0]["resource"];
    let fhir_born = format!("{}{}{}", &born[..4], &born[4..6], &born[6..]);
    assert_eq!(patient["birthDate"].as_str().unwrap().replace('-', ""), fhir_born);
    assert_eq!((patient["name"][0]["family"].as_str().unwrap(), patient["name"][0]["given"][0].as_str().unwrap()), (family.as_str(), given.as_str()));
    let pid_fhir = patient["id"].as_str().unwrap();
    let imaging = get_json(fhir, &format!("/fhir/ImagingStudy?patient=Patient/{pid_fhir}"), "");
    let mut fhir_studies: Vec<String> = imaging["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["identifier"][0]["value"].as_str().unwrap().trim_start_matches("urn:oid:").to_string())
        .collect();
    // DICOMweb and Orthanc's REST API on pacs-viewer.
    let viewer = hw.addr("viewer");
    let web = get_json(viewer, &format!("/dicom-web/studies?PatientID={nhs}"), AUTH);
    let mut web_studies: Vec<String> = web.as_array().unwrap().iter().map(|st| st["0020000D"]["Value"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(web[0]["00100010"]["Value"][0]["Alphabetic"], dicom_name.as_str());
    assert_eq!(web[0]["00100030"]["Value"][0], born.as_str());
    let patients = get_json(viewer, "/patients?expand", AUTH);
    let rest = patients.as_array().unwrap().iter().find(|x| x["MainDicomTags"]["PatientID"] == nhs.as_str()).unwrap().clone();
    assert_eq!(
        (rest["MainDicomTags"]["PatientName"].as_str().unwrap(), rest["MainDicomTags"]["PatientBirthDate"].as_str().unwrap()),
        (dicom_name.as_str(), born.as_str())
    );
    let orthanc_id = rest["ID"].as_str().unwrap().to_string();
    get_json(viewer, &format!("/patients/{orthanc_id}"), AUTH);
    let (mut want, mut dicom_studies) = (studies.clone(), Vec::new());
    let at_study =
        run("findscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("PatientID={nhs}"), "-k", "StudyInstanceUID", "127.0.0.1", &pacs]);
    for line in at_study.lines().filter(|l| l.contains("(0020,000d)") && l.contains('[')) {
        dicom_studies.push(line.split('[').nth(1).unwrap().split(']').next().unwrap().trim_end_matches([' ', '\0']).to_string());
    }
    for list in [&mut want, &mut fhir_studies, &mut web_studies, &mut dicom_studies] {
        list.sort();
    }
    assert_eq!((&fhir_studies, &web_studies, &dicom_studies), (&want, &want, &want), "the same studies through every door");

    // A patient of the cohort alone is the same person through each door too.
    let first = get_json(fhir, "/fhir/Patient/1", "");
    let cohort_nhs = first["identifier"][0]["value"].as_str().unwrap().to_string();
    let found = run(
        "findscu",
        &["-v", "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", &format!("PatientID={cohort_nhs}"), "-k", "PatientBirthDate", "127.0.0.1", &pacs],
    );
    assert_eq!(dicom_value(&found, "(0010,0030)"), first["birthDate"].as_str().unwrap().replace('-', ""));
    assert_eq!(pdq(hw.addr("engine"), &cohort_nhs)[7], first["birthDate"].as_str().unwrap().replace('-', ""));

    // Each door that touched the honey patient raised a hit on its token, and the token
    // names them.
    let doors = ["pacs", "engine", "fhir", "viewer"];
    let shown = || -> serde_json::Value { serde_json::from_str(&cli(dir.path(), &["token", "show", &id, "-c", "honeyward.yaml"])).unwrap() };
    assert!(eventually(10, || doors.iter().all(|d| shown()["hits_by_decoy"].as_array().unwrap().iter().any(|h| h["decoy"] == *d))), "{:#}", shown());
    for hit in shown()["hits_by_decoy"].as_array().unwrap() {
        assert!(hit["hits"].as_u64().unwrap() >= 1 && hit["first"].is_string(), "{hit}");
    }
    let listed = cli(dir.path(), &["events", "list", "--json", "--limit", "1000", "-c", "honeyward.yaml"]);
    let events: Vec<serde_json::Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut critical: Vec<&str> =
        events.iter().filter(|e| e["token"]["id"] == id.as_str() && e["severity"] == "critical").filter_map(|e| e["decoy"].as_str()).collect();
    critical.sort();
    critical.dedup();
    assert_eq!(critical, ["engine", "fhir", "pacs", "viewer"], "a critical hit through every door");
}
