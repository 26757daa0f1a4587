//! Queries from a calling AE a PACS does not know, side by side with a stock Debian
//! Orthanc 1.10.1 (no modalities configured): C-FIND, C-GET and C-MOVE are aborted,
//! C-ECHO and C-STORE answered, by the real server and the orthanc personality alike;
//! a decoy that lists the AE in `known_aes` answers it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use common::real_pacs::dcmtk as run;
use common::*;

/// What a DCMTK tool reports of the outcome: its status and abort lines.
fn outcome(text: &str) -> Vec<String> {
    let wanted = ["Response (", "Aborted", "Failed"];
    text.lines().filter(|l| wanted.iter().any(|w| l.contains(w))).map(|l| l.trim().to_string()).collect()
}

fn tools(port: u16, file: &str) -> Vec<(&'static str, Vec<String>)> {
    let port = port.to_string();
    let p = port.as_str();
    vec![
        ("findscu", outcome(&run("findscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "127.0.0.1", p]))),
        ("getscu", outcome(&run("getscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", "127.0.0.1", p]))),
        (
            "movescu",
            outcome(&run("movescu", &["-v", "-S", "-aem", "ELSEWHERE", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", "127.0.0.1", p])),
        ),
        ("echoscu", outcome(&run("echoscu", &["-v", "127.0.0.1", p]))),
        ("storescu", outcome(&run("storescu", &["-v", "127.0.0.1", p, file]))),
    ]
}

#[test]
fn queries_from_an_unknown_calling_ae_are_aborted_as_a_stock_orthanc_aborts_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_orthanc, _, real) = real_pacs::orthanc(dir.path(), "");
    let decoys = "  - name: stock\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n  - name: knows\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n    known_aes: [FINDSCU]\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));
    let file = dir.path().join("honey.dcm");
    cli(dir.path(), &["token", "create", "patient", "--label", "honey", "--template", "dicom", "--out", file.to_str().unwrap()]);

    let (real, decoy) = (tools(real.port(), file.to_str().unwrap()), tools(hw.addr("stock").port(), file.to_str().unwrap()));
    for ((tool, want), (_, got)) in real.iter().zip(&decoy) {
        assert_eq!(got, want, "{tool}");
    }
    assert!(real[0].1.iter().any(|l| l.contains("Peer Aborted")), "the real Orthanc aborts an unknown AE's C-FIND: {:?}", real[0].1);
    assert!(real[3].1.iter().any(|l| l.contains("Success")) && real[4].1.iter().any(|l| l.contains("Success")), "echo and store are answered");

    let known = run("findscu", &["-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "127.0.0.1", &hw.addr("knows").port().to_string()]);
    assert!(known.contains("Received Final Find Response (Success)"), "{known}");

    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "dicom_command").iter().any(|c| c["details"]["status"] == 0x0124)));
    let refused = bodies(&db, "dicom_release");
    assert!(refused.iter().any(|r| r["details"]["how"] == "abort-sent" && r["details"]["reason"].as_str().unwrap_or("").contains("does not know")));
}
