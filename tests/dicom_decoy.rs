//! The DICOM decoy with DCMTK's real clients (echoscu, findscu, getscu, movescu,
//! storescu, dcmdump) and, for `dcmtk-storescp`, side by side with a real storescp:
//! the A-ASSOCIATE-AC, C-ECHO-RSP and A-RELEASE-RP bytes must be identical.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::real_pacs::dcmtk as run;
use common::*;

fn dicom_decoy(name: &str, personality: &str, extra: &str) -> String {
    // DCMTK's tools call as FINDSCU, GETSCU, MOVESCU: answer them whatever the AE.
    format!("  - name: {name}\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: {personality}\n    cohort_size: 12\n    unknown_ae_queries: answer\n{extra}")
}

fn port(addr: SocketAddr) -> String {
    addr.port().to_string()
}

/// An A-ASSOCIATE-RQ as echoscu sends it: Verification, implicit VR little endian,
/// max PDU 16384, DCMTK 3.6.7's implementation class UID and version name.
fn echo_rq(called: &str) -> Vec<u8> {
    rq(called, 1, "1.2.840.10008.3.1.1.1", &[(1, "1.2.840.10008.1.1", &["1.2.840.10008.1.2"])])
}

fn rq(called: &str, version: u16, application_context: &str, contexts: &[(u8, &str, &[&str])]) -> Vec<u8> {
    dicom_associate_rq(called, "ECHOSCU", version, application_context, contexts)
}

/// echoscu's C-ECHO-RQ on presentation context 1.
fn echo_pdata() -> Vec<u8> {
    let el = |e: u16, v: &[u8]| [&0u16.to_le_bytes()[..], &e.to_le_bytes(), &(v.len() as u32).to_le_bytes(), v].concat();
    let fields =
        [el(0x0002, b"1.2.840.10008.1.1\0"), el(0x0100, &0x0030u16.to_le_bytes()), el(0x0110, &1u16.to_le_bytes()), el(0x0800, &0x0101u16.to_le_bytes())]
            .concat();
    let command = [el(0x0000, &(fields.len() as u32).to_le_bytes()), fields].concat();
    let pdv = [&((command.len() + 2) as u32).to_be_bytes()[..], &[1u8, 3], &command].concat();
    [&[4u8, 0][..], &(pdv.len() as u32).to_be_bytes(), &pdv].concat()
}

fn read_one(s: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 6];
    s.read_exact(&mut head).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(head[2..6].try_into().unwrap()) as usize];
    s.read_exact(&mut body).unwrap();
    [&head[..], &body].concat()
}

/// Sends `rq`, then each of `then` in turn, and returns every PDU answered.
fn exchange(addr: SocketAddr, rq: &[u8], then: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(rq).unwrap();
    let mut out = vec![read_one(&mut s)];
    for pdu in then {
        s.write_all(pdu).unwrap();
        out.push(read_one(&mut s));
    }
    out
}

#[test]
fn the_dcmtk_storescp_personality_answers_association_echo_and_release_byte_for_byte_like_a_real_storescp() {
    let dir = tempfile::tempdir().unwrap();
    let port_real = free_port();
    let storescp = Reaped(
        Command::new("storescp")
            .args(["--output-directory"])
            .arg(dir.path())
            .arg(port_real.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("storescp (dcmtk)"),
    );
    let real: SocketAddr = ([127, 0, 0, 1], port_real).into();
    assert!(eventually(10, || TcpStream::connect(real).is_ok()));
    let hw = Honeyward::start(dir.path(), &config(&dicom_decoy("scp", "dcmtk-storescp", "")));
    let decoy = hw.addr("scp");
    let release = vec![5u8, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    for called in ["STORESCP", "ANY-SCP"] {
        let rq = echo_rq(called);
        let then = [echo_pdata(), release.clone()];
        assert_eq!(exchange(decoy, &rq, &then), exchange(real, &rq, &then), "A-ASSOCIATE-AC, C-ECHO-RSP and A-RELEASE-RP for called AE {called}");
    }
    // Contexts storescp refuses (query/retrieve: 3; a compressed-only transfer syntax:
    // 4), NUL-padded UIDs, a foreign application context and protocol version 2.
    let explicit: &[&str] = &["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"];
    let cases = [
        rq(
            "ANY-SCP",
            1,
            "1.2.840.10008.3.1.1.1",
            &[(1, "1.2.840.10008.5.1.4.1.2.2.1", explicit), (3, "1.2.840.10008.1.1", explicit), (5, "1.2.840.10008.5.1.4.1.1.2", &["1.2.840.10008.1.2.4.50"])],
        ),
        rq("ANY-SCP", 1, "1.2.3.4", &[(1, "1.2.840.10008.1.1", explicit)]),
        // UIDs padded to even length with NUL, as some toolkits send them.
        rq("ANY-SCP", 1, "1.2.840.10008.3.1.1.1", &[(1, "1.2.840.10008.1.1\0", &["1.2.840.10008.1.2\0"]), (3, "1.2.840.10008.5.1.4.1.1.2\0", explicit)]),
        rq("ANY-SCP", 2, "1.2.840.10008.3.1.1.1", &[(1, "1.2.840.10008.1.1", explicit)]),
    ];
    for (i, rq) in cases.iter().enumerate() {
        assert_eq!(exchange(decoy, rq, &[]), exchange(real, rq, &[]), "case {i}");
    }
    // After A-ASSOCIATE-RJ and after A-RELEASE-RP the close is the peer's: both wait.
    let still_open = |addr: SocketAddr, rq: &[u8], then: &[Vec<u8>]| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(rq).unwrap();
        read_one(&mut s);
        for pdu in then {
            s.write_all(pdu).unwrap();
            read_one(&mut s);
        }
        s.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
        let mut byte = [0u8; 1];
        matches!(s.read(&mut byte), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
    };
    let rejected = &cases[3];
    assert!(still_open(real, rejected, &[]) && still_open(decoy, rejected, &[]), "open after A-ASSOCIATE-RJ");
    let released = [echo_pdata(), release.clone()];
    assert!(still_open(real, &echo_rq("ANY-SCP"), &released) && still_open(decoy, &echo_rq("ANY-SCP"), &released), "open after A-RELEASE-RP");
    let (real_d, decoy_d) = (run("echoscu", &["-d", "127.0.0.1", &port_real.to_string()]), run("echoscu", &["-d", "127.0.0.1", &port(decoy)]));
    let theirs = |out: &str| out.lines().filter(|l| l.contains("Their ") || l.contains("Accepted Transfer")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(theirs(&decoy_d), theirs(&real_d));
    assert!(decoy_d.contains("Their Implementation Class UID:    1.2.276.0.7230010.3.0.3.6.7"), "{decoy_d}");
    drop(storescp);
}

#[test]
fn echoscu_sees_each_personalitys_identity_and_dcm4chee_rejects_an_unknown_called_ae() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = [dicom_decoy("orthanc", "orthanc", ""), dicom_decoy("dcm4chee", "dcm4chee", ""), dicom_decoy("scp", "dcmtk-storescp", "")].concat();
    let hw = Honeyward::start(dir.path(), &config(&decoys));
    for (name, uid, version) in [
        ("orthanc", "1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367"),
        ("dcm4chee", "1.2.40.0.13.1.3", "dcm4che-5.31.0"),
        ("scp", "1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367"),
    ] {
        let called = if name == "dcm4chee" { "DCM4CHEE" } else { "ANY-SCP" };
        let out = run("echoscu", &["-d", "-aec", called, "127.0.0.1", &port(hw.addr(name))]);
        assert!(
            out.contains(&format!("Their Implementation Class UID:    {uid}")) && out.contains(&format!("Their Implementation Version Name: {version}")),
            "{name}: {out}"
        );
        assert!(out.contains("Received Echo Response (Success)"), "{out}");
    }
    let wrong = run("echoscu", &["-v", "-aec", "WRONGAE", "127.0.0.1", &port(hw.addr("dcm4chee"))]);
    assert!(wrong.contains("Result: Rejected Permanent, Source: Service User") && wrong.contains("Reason: Called AE Title Not Recognized"), "{wrong}");
    assert!(run("echoscu", &["-v", "-aec", "WRONGAE", "127.0.0.1", &port(hw.addr("orthanc"))]).contains("Received Echo Response (Success)"));

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_association") == 5));
    let assocs = bodies(&db, "dicom_association");
    let rejected = assocs.iter().find(|a| a["details"]["accepted"] == false).expect("the rejection is recorded");
    assert_eq!(rejected["details"]["called_ae"]["text"], "WRONGAE");
    assert_eq!(rejected["details"]["calling_ae"]["text"], "ECHOSCU");
    assert_eq!(rejected["details"]["implementation_class_uid"]["text"], "1.2.276.0.7230010.3.0.3.6.7", "the peer's software is recorded");
    assert!(eventually(10, || count_kind(&db, "dicom_command") == 4), "four C-ECHOs");
}

#[test]
fn findscu_lists_the_honey_cohort_and_a_honey_patient_token_raises_a_critical_hit() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&dicom_decoy("pacs", "orthanc", "")));
    let out = cli(dir.path(), &["token", "create", "patient", "--label", "honey patient in the radiology export", "--studies", "2", "--out", "patient.json"]);
    assert!(out.contains("created tok-"), "{out}");
    let token = cli(dir.path(), &["token", "list", "--json"]);
    let nhs = token.split("\"nhs_number\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1200));
    let addr = port(hw.addr("pacs"));

    let all = run("findscu", &["-v", "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientName=*", "-k", "PatientID", "127.0.0.1", &addr]);
    assert_eq!(all.matches("(Pending)").count(), 13, "12 synthetic patients and the token's: {all}");
    assert!(all.contains("Find Response (Success)"));
    let one = run(
        "findscu",
        &[
            "-v",
            "-S",
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            &format!("PatientID={nhs}"),
            "-k",
            "StudyInstanceUID",
            "-k",
            "StudyDescription",
            "127.0.0.1",
            &addr,
        ],
    );
    assert_eq!(one.matches("(Pending)").count(), 2, "the token patient's two studies: {one}");
    let none = run("findscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID=0000000000", "127.0.0.1", &addr]);
    assert_eq!(none.matches("(Pending)").count(), 0);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_command") == 3));
    let cmds = bodies(&db, "dicom_command");
    assert_eq!(cmds[0]["details"]["matches"], 13);
    assert_eq!(cmds[1]["token"]["label"], "honey patient in the radiology export");
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "dicom_command"]);
    let hit: serde_json::Value = json.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|v| v.get("token").is_some()).unwrap();
    assert_eq!(hit["severity"], "critical");
    assert_eq!(hit["attack"]["id"], "T1213");
    assert!(cmds[1]["details"]["keys"].as_array().unwrap().iter().any(|k| k["keyword"] == "PatientID" && k["value"]["text"] == nhs.as_str()));
    assert!(cmds[2].get("token").is_none());
}

/// (Study Instance UID, instances) of the study with the fewest instances, as
/// findscu lists them.
fn smallest_study(addr: &str) -> (String, usize) {
    let list =
        run("findscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "-k", "NumberOfStudyRelatedInstances", "127.0.0.1", addr]);
    let value = |l: &str| l.split('[').nth(1).and_then(|v| v.split(']').next()).map(|v| v.trim_end_matches(['\0', ' ']).to_string());
    let mut studies: Vec<(String, usize)> = Vec::new();
    for l in list.lines() {
        match (value(l), studies.last_mut()) {
            (Some(uid), _) if l.contains("StudyInstanceUID") => studies.push((uid, 0)),
            (Some(n), Some(last)) if l.contains("NumberOfStudyRelatedInstances") => last.1 = n.parse().unwrap(),
            _ => {}
        }
    }
    studies.into_iter().min_by_key(|(_, n)| *n).expect("findscu listed studies")
}

#[test]
fn getscu_retrieves_valid_files_and_storescu_objects_are_quarantined_until_the_quota_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&dicom_decoy("pacs", "orthanc", "    quarantine_max_objects: 1\n")));
    let addr = port(hw.addr("pacs"));
    let (uid, instances) = smallest_study(&addr);
    let out_dir = dir.path().join("retrieved");
    std::fs::create_dir_all(&out_dir).unwrap();
    let got = run(
        "getscu",
        &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("StudyInstanceUID={uid}"), "-od", out_dir.to_str().unwrap(), "127.0.0.1", &addr],
    );
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), instances, "every instance of the study: {got}");
    let dump = run("dcmdump", &[files[0].to_str().unwrap()]);
    assert!(dump.contains("MONOCHROME2") && dump.contains(&uid), "{dump}");

    let first = run("storescu", &["-v", "127.0.0.1", &addr, files[0].to_str().unwrap()]);
    assert!(first.contains("Received Store Response (Success)"), "{first}");
    // A different object: the quota (one object) is full.
    let other = dir.path().join("other.dcm");
    cli(dir.path(), &["token", "create", "patient", "--label", "x", "--template", "dicom", "--out", other.to_str().unwrap()]);
    let second = run("storescu", &["-v", "127.0.0.1", &addr, other.to_str().unwrap()]);
    assert!(second.contains("Received Store Response (Refused: OutOfResources)"), "{second}");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_store") == 2));
    let stores = bodies(&db, "dicom_store");
    assert_eq!(stores[0]["details"]["quarantined"], true);
    assert_eq!(stores[1]["details"]["quarantined"], false);
    let sha = stores[0]["details"]["sha256"].as_str().unwrap();
    assert!(dir.path().join(format!("honeyward-state/dicom/pacs/quarantine/{sha}.dcm")).exists());
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "dicom_store"]);
    assert!(json.contains("\"T1105\""), "{json}");
}

#[test]
fn nmap_dicom_ping_reports_a_dicom_service_with_each_personalitys_called_ae_policy() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = [dicom_decoy("orthanc", "orthanc", ""), dicom_decoy("dcm4chee", "dcm4chee", "")].concat();
    let hw = Honeyward::start(dir.path(), &config(&decoys));
    // `+` runs the script on any port (its rule only knows 104, 4242, 11112, ...).
    let scan = |name: &str| run("nmap", &["-Pn", "-p", &port(hw.addr(name)), "--script", "+dicom-ping", "127.0.0.1"]);
    let orthanc = scan("orthanc");
    assert!(orthanc.contains("DICOM Service Provider discovered!") && orthanc.contains("Any AET is accepted"), "{orthanc}");
    let dcm4chee = scan("dcm4chee");
    assert!(dcm4chee.contains("DICOM Service Provider discovered!") && dcm4chee.contains("Called AET check enabled"), "{dcm4chee}");
}

#[test]
fn movescu_sends_instances_only_to_a_mapped_destination_and_is_refused_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("received");
    std::fs::create_dir_all(&received).unwrap();
    let port_real = free_port();
    let storescp = Reaped(
        Command::new("storescp")
            .arg("--output-directory")
            .arg(&received)
            .arg(port_real.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("storescp"),
    );
    assert!(eventually(10, || TcpStream::connect(("127.0.0.1", port_real)).is_ok()));
    let extra = format!("    move_destinations:\n      ARCHIVE2: 127.0.0.1:{port_real}\n");
    let hw = Honeyward::start(dir.path(), &config(&dicom_decoy("pacs", "orthanc", &extra)));
    let addr = port(hw.addr("pacs"));
    let (uid, instances) = smallest_study(&addr);

    let moved =
        run("movescu", &["-v", "-S", "-aem", "ARCHIVE2", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("StudyInstanceUID={uid}"), "127.0.0.1", &addr]);
    assert!(moved.contains("Received Final Move Response (Success)"), "{moved}");
    assert!(eventually(10, || std::fs::read_dir(&received).unwrap().count() == instances), "the real storescp received every instance");
    let refused =
        run("movescu", &["-v", "-S", "-aem", "ATTACKER", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("StudyInstanceUID={uid}"), "127.0.0.1", &addr]);
    assert!(refused.contains("Received Final Move Response (Refused: MoveDestinationUnknown)"), "{refused}");
    drop(storescp);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "dicom_command") == 3));
    let cmds = bodies(&db, "dicom_command");
    assert_eq!((cmds[1]["details"]["move_destination"]["text"].as_str(), cmds[1]["details"]["status"].as_u64()), (Some("ARCHIVE2"), Some(0)));
    assert_eq!((cmds[2]["details"]["move_destination"]["text"].as_str(), cmds[2]["details"]["status"].as_u64()), (Some("ATTACKER"), Some(0xA801)));
}
