//! The HL7 v2 decoy (Mirth Connect's MLLP listener) driven by real HL7 clients: the
//! `hl7` package's MLLP client and its `mllp_send`, the acknowledgements checked with
//! hl7apy. ADT^A01, ORU^R01 and QBP^Q22 round trips, every message stored once with
//! its fields, a query for a honey patient a hit on its token, and broken or
//! oversized frames recorded without holding the connection's memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{bodies, cli, config, eventually, Honeyward};

const DECOY: &str = "  - name: engine\n    type: hl7\n    listen: 127.0.0.1:0\n";
const ADT: &str = "MSH|^~\\&|EPIC|RAD|MIRTH|HOSP|20261206101500||ADT^A01^ADT_A01|MSG00001|P|2.5.1\rEVN|A01|20261206101500\rPID|1||1234567^^^HOSP^MR||DOE^John||19700101|M\rPV1|1|I\r";
const ORU: &str =
    "MSH|^~\\&|LAB|PATH|MIRTH|HOSP|20261206101600||ORU^R01^ORU_R01|LAB777|P|2.5.1\rPID|1||7654321^^^HOSP^MR||ROE^Ann\rOBR|1|||CBC\rOBX|1|NM|HGB||13.5|g/dL\r";

fn write(dir: &Path, name: &str, message: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, message).unwrap();
    path.display().to_string()
}

fn send(addr: SocketAddr, files: &[String]) -> String {
    send_with(&[], addr, files)
}

fn send_with(options: &[&str], addr: SocketAddr, files: &[String]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hl7/send.py");
    let out = Command::new("python3").arg(script).args(options).args([addr.ip().to_string(), addr.port().to_string()]).args(files).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn detail(e: &serde_json::Value, key: &str) -> String {
    let v = &e["details"][key];
    v["text"].as_str().or(v.as_str()).unwrap_or_default().to_string()
}

/// The honey patient a new `patient` token holds: (NHS number, MRN, family name, birth date).
fn honey_patient(dir: &Path) -> (String, String, String, String) {
    cli(dir, &["token", "create", "patient", "--label", "honey patient in the PAS", "--out", "patient.json", "-c", "honeyward.yaml"]);
    let tokens = cli(dir, &["token", "list", "--json", "-c", "honeyward.yaml"]);
    let token: serde_json::Value = serde_json::from_str(tokens.lines().next().unwrap()).unwrap();
    let p = &token["facts"]["patient"];
    let s = |k: &str| p[k].as_str().unwrap().to_string();
    (s("nhs_number"), s("mrn"), s("family_name"), s("birth_date"))
}

#[test]
fn adt_oru_and_patient_queries_get_replies_that_hl7apy_validates_and_each_message_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), config(DECOY)).unwrap();
    let (nhs, mrn, family, _) = honey_patient(dir.path());
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let addr = hw.addr("engine");
    let messages = [
        ("adt", ADT.to_string()),
        ("oru", ORU.to_string()),
        // IHE PDQ by NHS number, then by family name and birth date.
        ("pdq", format!("MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101700||QBP^Q22^QBP_Q21|Q0001|P|2.5\rQPD|IHE PDQ Query|Q0001|@PID.3.1^{nhs}\rRCP|I\r")),
        (
            "pdq-name",
            // (hl7apy reads QPD-3 as one value, so one parameter here: the unit tests
            // cover name and birth date together.)
            format!(
                "MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101701||QBP^Q22^QBP_Q21|Q0002|P|2.5\rQPD|IHE PDQ Query|Q0002|@PID.5.1.1^{}\rRCP|I|10^RD\r",
                family.to_lowercase()
            ),
        ),
        // Get demographics by MRN; the original-mode query by NHS number.
        ("q21", format!("MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101702||QBP^Q21^QBP_Q21|Q0003|P|2.5.1\rQPD|IHE PIX Query|Q0003|{mrn}^^^GHR^MR\rRCP|I\r")),
        ("a19", format!("MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101703||QRY^A19|Q0004|P|2.3\rQRD|20261206101703|R|I|Q0004|||10^RD|{nhs}|DEM\r")),
        // A query naming nobody, and one naming a patient who is not there.
        ("pdq-empty", "MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101704||QBP^Q22^QBP_Q21|Q0005|P|2.5\rQPD|IHE PDQ Query|Q0005\rRCP|I\r".to_string()),
        (
            "pdq-none",
            "MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101705||QBP^Q22^QBP_Q21|Q0006|P|2.5\rQPD|IHE PDQ Query|Q0006|@PID.3.1^0000000000\rRCP|I\r".to_string(),
        ),
    ];
    let files: Vec<String> = messages.iter().map(|(name, m)| write(dir.path(), name, m)).collect();
    let out = send(addr, &files);
    let honey = format!("{}^", family.to_uppercase());
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), messages.len(), "{out}");
    let expect = [
        ("AA", "MSG00001", "ACK^A01^ACK", "2.5.1", "valid", "0"),
        ("AA", "LAB777", "ACK^R01^ACK", "2.5.1", "valid", "0"),
        ("AA", "Q0001", "RSP^K22^RSP_K21", "2.5", "valid", "1"),
        ("AA", "Q0002", "RSP^K22^RSP_K21", "2.5", "valid", "1+"),
        ("AA", "Q0003", "RSP^K21^RSP_K21", "2.5.1", "valid", "1"),
        ("AA", "Q0004", "ADR^A19", "2.3", "tolerant", "1"),
        ("AE", "Q0005", "RSP^K22^RSP_K21", "2.5", "valid", "0"),
        ("AA", "Q0006", "RSP^K22^RSP_K21", "2.5", "valid", "0"),
    ];
    for (line, (code, id, kind, version, validity, pids)) in lines.iter().zip(expect) {
        // Mirth echoes the control id in its own MSH-10.
        assert_eq!(line[1..7], [code, id, kind, id, version, validity], "{out}");
        // Token patients come first; another patient of the cohort may share a family name.
        assert!(line[7] == pids || (pids == "1+" && line[7] != "0"), "{out}");
        if pids != "0" {
            assert_eq!(line[8], nhs, "{out}");
            assert!(line[9].starts_with(&honey), "{out}");
        }
    }
    // mllp_send, the package's command line, sends a framed file and gets the same ACK.
    let framed = write(dir.path(), "adt.mllp", &format!("\x0b{ADT}\x1c\r"));
    let cli_out = Command::new("python3")
        .args(["-c", "import sys, hl7.client; sys.argv[0] = 'mllp_send'; hl7.client.mllp_send()"])
        .args(["--port", &addr.port().to_string(), "--file", &framed, "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&cli_out.stdout).replace('\r', "\n");
    assert!(text.contains("MSA|AA|MSG00001"), "{text}{}", String::from_utf8_lossy(&cli_out.stderr));

    let db = hw.store();
    let stored = messages.len() + 1;
    assert!(eventually(10, || bodies(&db, "hl7_message").len() == stored), "{:#?}", bodies(&db, "hl7_message"));
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "hl7_message", "-c", "honeyward.yaml"]);
    let events: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let adt = events.iter().find(|e| detail(e, "control_id") == "MSG00001").unwrap();
    assert_eq!(detail(adt, "message_type"), "ADT^A01^ADT_A01");
    assert_eq!((detail(adt, "sending"), detail(adt, "receiving")), ("EPIC/RAD".into(), "MIRTH/HOSP".into()));
    assert_eq!((detail(adt, "patient_ids"), detail(adt, "patient_names")), ("1234567".into(), "DOE^John".into()));
    assert_eq!((detail(adt, "segments"), detail(adt, "ack"), detail(adt, "version")), ("MSH,EVN,PID,PV1".into(), "AA".into(), "2.5.1".into()));
    assert!(adt.get("token").is_none());
    // Every query that named or was answered with the honey patient is a hit on its token.
    for id in ["Q0001", "Q0002", "Q0003", "Q0004"] {
        let query = events.iter().find(|e| detail(e, "control_id") == id).unwrap();
        assert_eq!((query["token"]["kind"].as_str(), query["severity"].as_str()), (Some("patient"), Some("critical")), "{query:#}");
        let matches = query["details"]["matches"].as_u64().unwrap();
        assert!(matches == 1 || (id == "Q0002" && matches > 1), "{query:#}");
    }
    assert_eq!(detail(events.iter().find(|e| detail(e, "control_id") == "Q0001").unwrap(), "patient_ids"), nhs);
    for (id, ack) in [("Q0005", "AE"), ("Q0006", "AA")] {
        let query = events.iter().find(|e| detail(e, "control_id") == id).unwrap();
        assert!(query.get("token").is_none() && detail(query, "ack") == ack && query["details"]["matches"] == 0, "{query:#}");
    }
}

#[test]
fn rhapsody_and_a_generic_listener_stamp_their_own_replies_and_a_message_without_a_type_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = "  - name: rhapsody\n    type: hl7\n    personality: rhapsody\n    listen: 127.0.0.1:0\n  - name: generic\n    type: hl7\n    personality: generic-2.5.1\n    listen: 127.0.0.1:0\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));
    let files = [write(dir.path(), "adt", ADT), write(dir.path(), "adt23", &ADT.replace("|2.5.1\r", "|2.3\r"))];
    let rhapsody = send(hw.addr("rhapsody"), &files);
    let generic = send(hw.addr("generic"), &files);
    let fields = |out: &str| out.lines().map(|l| l.split(' ').map(String::from).collect::<Vec<_>>()).collect::<Vec<_>>();
    for (out, versions) in [(&rhapsody, ["2.5.1", "2.3"]), (&generic, ["2.5.1", "2.5.1"])] {
        let lines = fields(out);
        for (line, version) in lines.iter().zip(versions) {
            // The engine's own control id (a counter), the message's in MSA-2.
            assert_eq!((line[1].as_str(), line[2].as_str(), line[5].as_str()), ("AA", "MSG00001", version), "{out}");
            assert!(line[4] != "MSG00001" && line[4].parse::<u64>().is_ok(), "{out}");
        }
        assert_eq!(lines[1][4].parse::<u64>().unwrap(), lines[0][4].parse::<u64>().unwrap() + 1, "{out}");
    }
    // No message type, and a version that is not HL7 v2: AR with the error's code.
    let mut s = TcpStream::connect(hw.addr("generic")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for (message, code) in
        [("MSH|^~\\&|A|B|C|D|2026|||X1|P|2.5\r", "200^Unsupported message type"), ("MSH|^~\\&|A|B|C|D|2026||ADT^A01|X2|P|3.0\r", "203^Unsupported version id")]
    {
        s.write_all(format!("\x0b{message}\x1c\r").as_bytes()).unwrap();
        let mut reply = [0u8; 4096];
        let n = s.read(&mut reply).unwrap();
        let text = String::from_utf8_lossy(&reply[..n]).to_string();
        assert!(text.contains("\rMSA|AR|X") && text.contains(&format!("ERR|||{code}^HL70357|E|")), "{text:?}");
    }
}

#[test]
fn broken_and_oversized_frames_are_recorded_and_the_connection_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let mut s = TcpStream::connect(hw.addr("engine")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A message without a start block, then a 10 MB frame, then a good message.
    s.write_all(format!("{ADT}\x1c\r").as_bytes()).unwrap();
    let mut big = vec![0x0b];
    big.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    big.extend([0x1c, 0x0d]);
    s.write_all(&big).unwrap();
    s.write_all(format!("\x0b{ORU}\x1c\r").as_bytes()).unwrap();
    let mut reply = [0u8; 4096];
    let n = s.read(&mut reply).unwrap();
    let text = String::from_utf8_lossy(&reply[..n]).to_string();
    assert!(text.starts_with("\x0bMSH|^~\\&|MIRTH|HOSP|LAB|PATH|") && text.contains("MSA|AA|LAB777\r"), "{text:?}");
    s.write_all(b"\x0bMSH|^~\\&|cut off").unwrap();
    drop(s);
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "hl7_message").len() == 4), "{:#?}", bodies(&db, "hl7_message"));
    let events = bodies(&db, "hl7_message");
    let framing: Vec<String> = events.iter().map(|e| detail(e, "framing")).collect();
    assert_eq!(framing, ["no start block", "oversized", "message", "unterminated"]);
    assert_eq!(events[1]["details"]["bytes"], 10 * 1024 * 1024);
    assert_eq!(events[0]["details"]["bytes"], ADT.len() + 2);
}

#[test]
fn mllp_over_tls_answers_inside_tls_and_a_plain_client_on_the_tls_port_is_recorded_as_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = "  - name: engine\n    type: hl7\n    listen: 127.0.0.1:0\n    tls: {common_name: mirth01.trust.local}\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));
    let files = [write(dir.path(), "adt", ADT)];
    let out = send_with(&["--tls"], hw.addr("engine"), &files);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("tls TLSv1.") && lines[0].ends_with("certificate"), "{out}");
    assert!(lines[1].starts_with("reply AA MSG00001 ACK^A01^ACK MSG00001 2.5.1 valid"), "{out}");
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "hl7_message").len() == 1));
    // A client that speaks plain MLLP gets no reply: the handshake fails.
    let mut s = TcpStream::connect(hw.addr("engine")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("\x0b{ADT}\x1c\r").as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    assert!(!String::from_utf8_lossy(&reply).contains("MSA|"), "{reply:?}");
    assert_eq!(bodies(&db, "hl7_message").len(), 1);
}
