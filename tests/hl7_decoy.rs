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
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hl7/send.py");
    let out = Command::new("python3").arg(script).args([addr.ip().to_string(), addr.port().to_string()]).args(files).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn detail(e: &serde_json::Value, key: &str) -> String {
    let v = &e["details"][key];
    v["text"].as_str().or(v.as_str()).unwrap_or_default().to_string()
}

#[test]
fn adt_oru_and_a_pdq_query_get_mirths_acks_that_hl7apy_validates_and_each_message_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("honeyward.yaml"), config(DECOY)).unwrap();
    cli(dir.path(), &["token", "create", "patient", "--label", "honey patient in the PAS", "--out", "patient.json", "-c", "honeyward.yaml"]);
    let tokens = cli(dir.path(), &["token", "list", "--json", "-c", "honeyward.yaml"]);
    let nhs = tokens.split("\"nhs_number\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let addr = hw.addr("engine");
    let qbp = format!("MSH|^~\\&|PORTAL|WEB|MIRTH|HOSP|20261206101700||QBP^Q22^QBP_Q21|Q0001|P|2.5\rQPD|IHE PDQ Query|Q0001|@PID.3.1^{nhs}\rRCP|I\r");
    let files = [write(dir.path(), "adt", ADT), write(dir.path(), "oru", ORU), write(dir.path(), "qbp", &qbp)];
    let out = send(addr, &files);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["ack AA MSG00001 ACK^A01^ACK 2.5.1 valid", "ack AA LAB777 ACK^R01^ACK 2.5.1 valid", "ack AA Q0001 ACK^Q22^ACK 2.5 valid"],
        "{out}"
    );
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
    assert!(eventually(10, || bodies(&db, "hl7_message").len() == 4), "{:#?}", bodies(&db, "hl7_message"));
    let json = cli(dir.path(), &["events", "list", "--json", "--kind", "hl7_message", "-c", "honeyward.yaml"]);
    let events: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let adt = events.iter().find(|e| detail(e, "control_id") == "MSG00001").unwrap();
    assert_eq!(detail(adt, "message_type"), "ADT^A01^ADT_A01");
    assert_eq!((detail(adt, "sending"), detail(adt, "receiving")), ("EPIC/RAD".into(), "MIRTH/HOSP".into()));
    assert_eq!((detail(adt, "patient_ids"), detail(adt, "patient_names")), ("1234567".into(), "DOE^John".into()));
    assert_eq!((detail(adt, "segments"), detail(adt, "ack"), detail(adt, "version")), ("MSH,EVN,PID,PV1".into(), "AA".into(), "2.5.1".into()));
    assert!(adt.get("token").is_none());
    let query = events.iter().find(|e| detail(e, "control_id") == "Q0001").unwrap();
    assert_eq!(detail(query, "patient_ids"), nhs);
    assert_eq!(query["token"]["kind"], "patient", "{query:#}");
    assert_eq!(query["severity"], "critical");
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
