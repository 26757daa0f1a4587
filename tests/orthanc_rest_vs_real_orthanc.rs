//! pacs-viewer's Orthanc REST API and DICOMweb side by side with Debian's real Orthanc
//! 1.10.1 and its DICOMweb plugin 1.7 holding the same honey patient: every instance the decoy serves is downloaded from
//! it and uploaded into the real server, then the same requests (with and without
//! credentials) must get the same status line, headers and body, after masking what
//! depends on the moment of storage (LastUpdate, IsStable, change dates, file UUIDs).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use common::real_pacs::dcmtk as run;
use common::*;

const AUTH: &str = "Authorization: Basic b3J0aGFuYzpvcnRoYW5j\r\n"; // orthanc:orthanc

/// The decoy's port, and how many requests were sent to it (each must be stored once).
static DECOY_PORT: AtomicU16 = AtomicU16::new(0);
static SENT_TO_DECOY: AtomicUsize = AtomicUsize::new(0);

/// One request to either server, counted when it goes to the decoy.
fn ask(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    if addr.port() == DECOY_PORT.load(Ordering::Relaxed) {
        SENT_TO_DECOY.fetch_add(1, Ordering::Relaxed);
    }
    http_raw(addr, request)
}

fn get(addr: SocketAddr, path: &str, auth: bool) -> Vec<u8> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{}\r\n", if auth { AUTH } else { "" });
    ask(addr, req.as_bytes())
}

fn json(addr: SocketAddr, path: &str) -> serde_json::Value {
    serde_json::from_slice(&response_shape(&get(addr, path, true)).2).unwrap()
}

/// The body with what depends on the moment of storage masked.
fn masked(body: &[u8], ports: &[(u16, u16)]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for key in ["LastUpdate", "Date", "FileUuid"] {
        let pattern = format!("\"{key}\" : \"");
        let mut from = 0;
        while let Some(i) = text[from..].find(&pattern) {
            let start = from + i + pattern.len();
            let end = start + text[start..].find('"').unwrap();
            text.replace_range(start..end, "…");
            from = start;
        }
    }
    text = text.replace("\"IsStable\" : false", "\"IsStable\" : …").replace("\"IsStable\" : true", "\"IsStable\" : …");
    for (decoy, real) in ports {
        text = text.replace(&format!(" : {decoy},"), &format!(" : {real},"));
    }
    text
}

#[test]
fn pacs_viewer_answers_orthancs_rest_api_like_a_real_orthanc_holding_the_same_patient() {
    let dir = tempfile::tempdir().unwrap();
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap().trim().to_uppercase();
    let settings =
        format!("\"Name\": \"{host}\", \"DicomAet\": \"PACS01\", \"AuthenticationEnabled\": true, \"RegisteredUsers\": {{\"orthanc\": \"orthanc\"}}");
    let (_orthanc, real, real_dicom) = real_pacs::orthanc(dir.path(), &settings);
    let (http, dicom) = (real.port(), real_dicom.port());

    // No synthetic cohort: the archive holds the token's honey patient alone, as the
    // real server will.
    // Fixed ports: /system reports the configured ones.
    let decoys = format!(
        "  - name: viewer\n    type: http\n    listen: 127.0.0.1:{}\n    personality: pacs-viewer\n  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:{}\n    ae_title: PACS01\n    known_aes: [FINDSCU]\n",
        free_port(),
        free_port()
    );
    let hw = Honeyward::start(dir.path(), &format!("{}cohort:\n  patients: 0\n", config(&decoys)));
    let (decoy, pacs) = (hw.addr("viewer"), hw.addr("pacs"));
    DECOY_PORT.store(decoy.port(), Ordering::Relaxed);
    cli(dir.path(), &["token", "create", "http-basic", "--label", "orthanc admin", "--username", "orthanc", "--password", "orthanc"]);
    cli(dir.path(), &["token", "create", "patient", "--label", "honey patient on the PACS", "--studies", "2"]);
    std::thread::sleep(Duration::from_millis(1200));

    // Every instance the decoy lists, downloaded from it and stored in the real server
    // in the decoy's order (Orthanc lists resources in the order they were stored).
    let instances: Vec<String> = serde_json::from_value(json(decoy, "/instances")).unwrap();
    assert!(!instances.is_empty());
    for id in &instances {
        let file = response_shape(&get(decoy, &format!("/instances/{id}/file"), true)).2;
        let mut upload = format!("POST /instances HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {}\r\n\r\n", file.len()).into_bytes();
        upload.extend_from_slice(&file);
        let (status, _, body) = response_shape(&ask(real, &upload));
        assert_eq!(status, "HTTP/1.1 200 OK", "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains(id.as_str()), "the real server names the instance as the decoy does");
    }

    let mut paths: Vec<String> = [
        "/system",
        "/statistics",
        "/patients",
        "/studies",
        "/series",
        "/patients?expand",
        "/studies?expand",
        "/series?expand",
        "/instances?since=2&limit=3",
        "/changes",
        "/changes?since=3&limit=4",
        "/plugins",
        "/modalities",
        "/peers",
        "/jobs",
        "/exports",
        "/tools/generate-uid",
        "/patients/00000000-00000000-00000000-00000000-00000000",
        "/nope",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let patient: Vec<String> = serde_json::from_value(json(decoy, "/patients")).unwrap();
    let studies: Vec<String> = serde_json::from_value(json(decoy, "/studies")).unwrap();
    let series: Vec<String> = serde_json::from_value(json(decoy, "/series")).unwrap();
    for p in &patient {
        paths.extend(["", "/studies", "/series", "/statistics"].map(|s| format!("/patients/{p}{s}")));
    }
    for s in &studies {
        paths.extend(["", "/series", "/statistics"].map(|x| format!("/studies/{s}{x}")));
    }
    for s in &series {
        paths.extend(["", "/statistics"].map(|x| format!("/series/{s}{x}")));
        let inside: Vec<String> =
            json(decoy, &format!("/series/{s}"))["Instances"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        for i in [inside.first().unwrap(), inside.last().unwrap()] {
            paths.extend(["", "/simplified-tags", "/file"].map(|x| format!("/instances/{i}{x}")));
        }
    }
    let ports = [(pacs.port(), dicom), (decoy.port(), http)];
    let mut compared = 0;
    for path in &paths {
        for auth in [true, false] {
            let (want, got) = (response_shape(&get(real, path, auth)), response_shape(&get(decoy, path, auth)));
            let (want_body, got_body) = (masked(&want.2, &[]), masked(&got.2, &ports));
            assert_eq!((&got.0, &got.1), (&want.0, &want.1), "GET {path} (credentials: {auth})");
            assert!(got_body == want_body, "GET {path} (credentials: {auth})\n--- decoy\n{got_body}\n--- Orthanc\n{want_body}");
            compared += 1;
        }
    }
    eprintln!("{compared} requests compared with the real Orthanc");
    assert!(compared >= 60, "{compared} requests compared");
    // Other methods: writes refused with Orthanc's Allow, HEAD unknown to Orthanc.
    let patient_path = format!("/patients/{}", patient[0]);
    for (method, path) in [
        ("HEAD", "/system"),
        ("DELETE", "/system"),
        ("POST", "/patients"),
        ("PUT", "/instances"),
        ("POST", "/changes"),
        ("PUT", patient_path.as_str()),
        ("POST", "/tools/now"),
        ("OPTIONS", "/system"),
        ("HEAD", "/patients"),
    ] {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: 0\r\n\r\n");
        let (want, got) = (ask(real, req.as_bytes()), ask(decoy, req.as_bytes()));
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{method} {path}");
    }
    // Compressed as Orthanc compresses: the same bytes, where nothing is masked.
    let file = format!("/instances/{}/file", instances[0]);
    for path in ["/statistics", "/plugins", "/exports", "/patients", "/studies", "/series", "/nope", file.as_str()] {
        for coding in ["gzip", "deflate", "gzip, deflate", "gzip;q=1", "br"] {
            let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{AUTH}Accept-Encoding: {coding}\r\n\r\n");
            let (want, got) = (response_shape(&ask(real, req.as_bytes())), response_shape(&ask(decoy, req.as_bytes())));
            assert_eq!(got, want, "GET {path} accepting {coding}");
        }
    }
    // The clock and the UID generator have Orthanc's formats.
    let now = String::from_utf8(response_shape(&get(decoy, "/tools/now", true)).2).unwrap();
    assert!(now.len() == 15 && now.as_bytes()[8] == b'T', "{now}");
    let uid = String::from_utf8(response_shape(&get(decoy, "/tools/generate-uid?level=study", true)).2).unwrap();
    assert!(uid.starts_with("1.2.276.0.7230010.3.1.2.") && uid.split('.').count() == 12, "{uid}");

    // The DICOM decoy answers C-FIND for the same patient with the same facts.
    let facts = json(decoy, &format!("/patients/{}", patient[0]))["MainDicomTags"].clone();
    let found = run(
        "findscu",
        &[
            "-v",
            "-S",
            "-k",
            "QueryRetrieveLevel=PATIENT",
            "-k",
            &format!("PatientID={}", facts["PatientID"].as_str().unwrap()),
            "-k",
            "PatientName",
            "-k",
            "PatientBirthDate",
            "-k",
            "NumberOfPatientRelatedStudies",
            "127.0.0.1",
            &pacs.port().to_string(),
        ],
    );
    for key in ["PatientName", "PatientBirthDate"] {
        // DICOM pads odd-length values with a space.
        let value = facts[key].as_str().unwrap();
        assert!(found.contains(&format!("[{value}]")) || found.contains(&format!("[{value} ]")), "{key} in {found}");
    }
    let count = found.lines().filter(|l| l.contains("NumberOfPatientRelatedStudies") && l.contains('[')).find_map(|l| l.split('[').nth(1)?.split(']').next());
    assert_eq!(count.map(str::trim), Some(studies.len().to_string().as_str()), "as many studies: {found}");

    dicomweb_answers_as_the_plugin_does(decoy, real, pacs, &studies);
    // A DICOMweb answer showing the honey patient is a hit on its token.
    let db = hw.store();
    let hit = |target: &str| {
        let like = format!("%\"target\":{{\"text\":\"{target}\"}}%\"token\":{{%\"kind\":\"patient\"%");
        db.query_row("SELECT count(*) FROM events WHERE body LIKE ?1", [like], |r| r.get::<_, i64>(0)).unwrap()
    };
    assert!(eventually(10, || hit("/dicom-web/studies") >= 2), "QIDO-RS answers naming the honey patient are token hits");
    assert_eq!(hit("/dicom-web/studies/1.2.3/series"), 0, "an empty answer is not");

    // Every request the decoy answered is stored exactly once.
    let sent = SENT_TO_DECOY.load(Ordering::Relaxed) as i64;
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") >= sent), "{} of {sent} stored", count_kind(&db, "http_request"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count_kind(&db, "http_request"), sent, "each request stored once");
}

/// A raw GET with a Host naming the server as a client would.
fn get_web(addr: SocketAddr, path: &str, auth: bool) -> Vec<u8> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: pacs.trust.local\r\n{}\r\n", if auth { AUTH } else { "" });
    ask(addr, req.as_bytes())
}

/// The multipart boundary of a WADO-RS retrieval (two random UUIDs) masked.
fn boundary_masked(response: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some(at) = text.find("boundary=") else { return response.to_vec() };
    let boundary: String = text[at + 9..].chars().take_while(|c| *c != '\r').collect();
    text.replace(&boundary, "BOUNDARY").into_bytes()
}

/// QIDO-RS and WADO-RS under /dicom-web/: the same bytes from the decoy and the real
/// plugin (a retrieval's boundary masked), dicomweb-client's reading of both the same,
/// and the DICOM decoy's C-FIND agreeing patient by patient.
fn dicomweb_answers_as_the_plugin_does(decoy: SocketAddr, real: SocketAddr, pacs: SocketAddr, studies: &[String]) {
    let mut paths: Vec<String> = ["/dicom-web/studies", "/dicom-web/series", "/dicom-web/instances?limit=3", "/dicom-web/series?limit=3&offset=2"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    paths.extend(["/dicom-web/studies/1.2.3", "/dicom-web/studies/1.2.3/metadata", "/dicom-web/studies/1.2.3/series", "/dicom-web/nope"].map(String::from));
    for s in studies {
        let tags = json(decoy, &format!("/studies/{s}"));
        let (st, pid) =
            (tags["MainDicomTags"]["StudyInstanceUID"].as_str().unwrap().to_string(), tags["PatientMainDicomTags"]["PatientID"].as_str().unwrap().to_string());
        let date = tags["MainDicomTags"]["StudyDate"].as_str().unwrap().to_string();
        paths.extend([
            format!("/dicom-web/studies?PatientID={pid}"),
            format!("/dicom-web/studies?StudyDate={date}-"),
            format!("/dicom-web/studies/{st}/series"),
            format!("/dicom-web/studies/{st}/instances?limit=2"),
            format!("/dicom-web/studies/{st}/metadata"),
        ]);
        let series: Vec<serde_json::Value> =
            serde_json::from_slice(&response_shape(&get_web(decoy, &format!("/dicom-web/studies/{st}/series"), true)).2).unwrap();
        let se = series.last().unwrap()["0020000E"]["Value"][0].as_str().unwrap().to_string();
        paths.extend([
            format!("/dicom-web/studies/{st}/series/{se}/metadata"),
            format!("/dicom-web/studies/{st}/series/{se}/instances"),
            format!("/dicom-web/studies/{st}/series/{se}"),
        ]);
        let instances: Vec<serde_json::Value> =
            serde_json::from_slice(&response_shape(&get_web(decoy, &format!("/dicom-web/studies/{st}/series/{se}/instances"), true)).2).unwrap();
        let sop = instances[0]["00080018"]["Value"][0].as_str().unwrap();
        paths.extend([format!("/dicom-web/studies/{st}/series/{se}/instances/{sop}"), format!("/dicom-web/studies/{st}/series/{se}/instances/{sop}/metadata")]);
    }
    for path in &paths {
        for auth in [true, false] {
            let (want, got) = (boundary_masked(&get_web(real, path, auth)), boundary_masked(&get_web(decoy, path, auth)));
            let at = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
            let around = |b: &[u8]| String::from_utf8_lossy(&b[at.saturating_sub(200)..(at + 200).min(b.len())]).into_owned();
            assert!(got == want, "GET {path} (credentials: {auth}) differs at byte {at}\n--- decoy\n{}\n--- Orthanc\n{}", around(&got), around(&want));
        }
    }
    eprintln!("{} DICOMweb requests compared with the real plugin", paths.len() * 2);

    // dicomweb-client reads the same from both; findscu on the DICOM decoy agrees.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dicomweb/search.py");
    let search = |addr: SocketAddr| {
        let out = Command::new("python3").args([script, &format!("http://{addr}/dicom-web"), "orthanc", "orthanc"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let (from_decoy, from_real) = (search(decoy), search(real));
    assert_eq!(from_decoy, from_real);
    // Its requests: the studies, then each study's series and metadata.
    SENT_TO_DECOY.fetch_add(1 + 2 * studies.len(), Ordering::Relaxed);
    // (DICOM pads an odd-length UID with a NUL, which findscu prints as it is.)
    let found = run(
        "findscu",
        &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID", "-k", "StudyInstanceUID", "-k", "StudyDate", "127.0.0.1", &pacs.port().to_string()],
    )
    .replace('\0', " ");
    let web_studies: Vec<Vec<&str>> = from_decoy.lines().filter(|l| l.starts_with("study ")).map(|l| l.split(' ').collect()).collect();
    assert_eq!(web_studies.len(), studies.len(), "{from_decoy}");
    for study in &web_studies {
        for value in &study[1..4] {
            assert!(found.contains(&format!("[{value}]")) || found.contains(&format!("[{value} ]")), "{value} from DICOMweb, not from C-FIND:\n{found}");
        }
    }
}
