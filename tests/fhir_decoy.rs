//! The FHIR R4 decoy (fhir-server: HAPI FHIR's JPA server over the honey cohort) read
//! by real FHIR clients: fhirclient (PyPI) reads the CapabilityStatement and searches
//! patients by NHS number; every resource it serves validates with fhir.resources'
//! FHIR 4.0.1 models; XML parses; a search naming a honey patient, a planted bearer
//! token and the client credentials posted to SMART's token endpoint are recorded as
//! what they are.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cli, config, eventually, http_raw, response_shape, Honeyward};

const DECOY: &str = "  - name: fhir\n    type: http\n    listen: 127.0.0.1:0\n    personality: fhir-server\n";

/// fhir.resources 6.4 (the last with FHIR 4.0.1 as its models) in its own directory:
/// it needs pydantic 1, which the rest of the suite's Python tools do not use.
fn r4_models() -> PathBuf {
    let dir = std::env::var("HONEYWARD_FHIR_R4_MODELS").map(PathBuf::from).unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
        Path::new(&home).join(".cache/honeyward-test/fhir-r4")
    });
    if !dir.join("fhir/resources").exists() {
        let out = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&dir)
            .args(["fhir.resources==6.4.0", "pydantic[email]<2"])
            .output()
            .expect("python3 -m pip (scripts/test.sh installs python3-pip)");
        assert!(dir.join("fhir/resources").exists(), "fhir.resources 6.4: {}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

fn events(dir: &Path) -> Vec<serde_json::Value> {
    let json = cli(dir, &["events", "list", "--json", "--kind", "http_request", "--limit", "1000", "-c", "honeyward.yaml"]);
    json.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn target(e: &serde_json::Value) -> &str {
    e["details"]["target"]["text"].as_str().unwrap_or_default()
}

#[test]
fn fhir_clients_read_valid_r4_resources_and_honey_patients_bearer_tokens_and_client_secrets_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), config(DECOY)).unwrap();
    cli(dir.path(), &["token", "create", "patient", "--label", "honey patient in the EPR", "--out", "patient.json", "-c", "honeyward.yaml"]);
    let tokens: serde_json::Value =
        serde_json::from_str(cli(dir.path(), &["token", "list", "--json", "-c", "honeyward.yaml"]).lines().next().unwrap()).unwrap();
    let patient = &tokens["facts"]["patient"];
    let (nhs, family) = (patient["nhs_number"].as_str().unwrap().to_string(), patient["family_name"].as_str().unwrap().to_string());
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let addr = hw.addr("fhir");
    let base = format!("http://{addr}/fhir");
    cli(
        dir.path(),
        &["token", "create", "bearer", "--label", "integration engine's FHIR token", "--endpoint", &base, "--plant", "kube/config", "-c", "honeyward.yaml"],
    );
    let kubeconfig = std::fs::read_to_string(dir.path().join("kube/config")).unwrap();
    let bearer = kubeconfig.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1200));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir/check.py");
    let out = Command::new("python3").args([script, &base, &nhs]).arg(r4_models()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "capability HAPI_FHIR_Server 7.4.0 4.0.1", "{text}");
    assert_eq!(lines[1], format!("search 1 {family} {nhs}"), "{text}");
    let validated: usize = lines[2].strip_prefix("validated ").unwrap().parse().unwrap();
    // The default cohort (40 patients) and the honey patient: a Patient, an Encounter and
    // an ImagingStudy per study, two vital signs each, and the Bundles they came in.
    assert!(validated > 41 * 5, "{text}");
    assert_eq!(lines[3], "xml ok", "{text}");

    // A planted bearer token, and client credentials posted to the token endpoint.
    let request = format!("GET /fhir/metadata HTTP/1.1\r\nHost: ehr-fhir\r\nAuthorization: Bearer {bearer}\r\nConnection: close\r\n\r\n");
    assert_eq!(response_shape(&http_raw(addr, request.as_bytes())).0, "HTTP/1.1 200 ");
    let form = "grant_type=client_credentials&client_id=epr-batch&client_secret=Winter2026%21";
    let post = format!("POST /oauth/token HTTP/1.1\r\nHost: ehr-fhir\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}", form.len());
    let (status, _, body) = response_shape(&http_raw(addr, post.as_bytes()));
    assert_eq!((status.as_str(), String::from_utf8_lossy(&body).contains("invalid_client")), ("HTTP/1.1 401 ", true));
    let smart = response_shape(&http_raw(addr, b"GET /fhir/.well-known/smart-configuration HTTP/1.1\r\nHost: ehr-fhir\r\nConnection: close\r\n\r\n"));
    // (Sent chunked, as Tomcat sends what the application writes.)
    let body = String::from_utf8_lossy(&smart.2).to_string();
    let smart: serde_json::Value = serde_json::from_str(&body[body.find('{').unwrap()..=body.rfind('}').unwrap()]).unwrap();
    assert_eq!(smart["token_endpoint"], "http://ehr-fhir/oauth/token");

    let read = String::from_utf8_lossy(&http_raw(addr, b"GET /fhir/Patient/1 HTTP/1.1\r\nHost: ehr-fhir\r\nConnection: close\r\n\r\n")).to_string();
    assert!(read.contains("\r\nETag: W/\"1\"\r\n") && read.contains("\r\nContent-Location: http://ehr-fhir/fhir/Patient/1/_history/1\r\n"), "{read}");
    // `_summary=count`: the total alone, the cohort and the honey patient.
    let counted =
        String::from_utf8_lossy(&http_raw(addr, b"GET /fhir/Patient?_summary=count HTTP/1.1\r\nHost: ehr-fhir\r\nConnection: close\r\n\r\n")).to_string();
    assert!(counted.contains("\"total\":41") && !counted.contains("\"entry\""), "{counted}");
    assert!(eventually(10, || events(dir.path()).iter().any(|e| target(e) == "/fhir/Patient/1")));
    let all = events(dir.path());
    let search = all.iter().find(|e| target(e).starts_with("/fhir/Patient?identifier=")).unwrap();
    assert_eq!((search["token"]["kind"].as_str(), search["severity"].as_str()), (Some("patient"), Some("critical")), "{search:#}");
    let with_bearer = all.iter().find(|e| e["details"]["credential"]["scheme"] == "bearer").unwrap();
    assert_eq!(with_bearer["token"]["kind"], "bearer", "{with_bearer:#}");
    let posted = all.iter().find(|e| target(e) == "/oauth/token").unwrap();
    assert_eq!(posted["details"]["credential"]["username"]["text"], "epr-batch", "{posted:#}");
    // A read of a patient of the cohort alone (ids start with the cohort) is no hit.
    let cohort = all.iter().find(|e| target(e) == "/fhir/Patient/1").unwrap();
    assert!(cohort.get("token").is_none(), "{cohort:#}");
}
