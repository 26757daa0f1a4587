//! The transfer syntaxes each DICOM personality accepts, per SOP class, swept side by
//! side with the real product on loopback (Debian's Orthanc 1.10.1 and DCMTK 3.6.7's
//! storescp): one context per transfer syntax, and the result and transfer syntax of
//! every context in the A-ASSOCIATE-AC must be the same; so must the syntax chosen
//! from a context that proposes many, in every order of preference.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

const P: &str = "1.2.840.10008.1.2";

/// 18 transfer syntaxes a modality or a scanner might propose: uncompressed, deflate,
/// big endian, JPEG, JPEG-LS, JPEG 2000, MPEG, RLE.
fn eighteen() -> Vec<String> {
    let tail =
        ["", ".1", ".1.99", ".2", ".4.50", ".4.51", ".4.57", ".4.70", ".4.80", ".4.81", ".4.90", ".4.91", ".4.92", ".4.93", ".4.100", ".4.102", ".4.103", ".5"];
    tail.iter().map(|t| format!("{P}{t}")).collect()
}

/// Ones some products do not know: private, retired JPEG processes, HTJ2K, the newer
/// encapsulated uncompressed, JPIP, MPEG variants, and not a transfer syntax at all.
fn unusual() -> Vec<String> {
    let tail = [".4.54", ".4.66", ".4.94", ".4.95", ".4.101", ".4.104", ".4.108", ".4.201", ".4.202", ".1.98", ".6.1", ".4.200"];
    let mut v: Vec<String> = tail.iter().map(|t| format!("{P}{t}")).collect();
    v.push("1.2.3.4.5".into());
    v
}

const SOP_CLASSES: &[(&str, &str)] = &[
    ("CT storage", "1.2.840.10008.5.1.4.1.1.2"),
    ("MR storage", "1.2.840.10008.5.1.4.1.1.4"),
    ("secondary capture", "1.2.840.10008.5.1.4.1.1.7"),
    ("mammography", "1.2.840.10008.5.1.4.1.1.1.2"),
    ("verification", "1.2.840.10008.1.1"),
    ("study root find", "1.2.840.10008.5.1.4.1.2.2.1"),
    ("patient root get", "1.2.840.10008.5.1.4.1.2.1.3"),
    ("study root move", "1.2.840.10008.5.1.4.1.2.2.2"),
];

/// (result, transfer syntax) of each context of the A-ASSOCIATE-AC, in order; the
/// PDU type alone when the answer is not an AC.
fn results(addr: SocketAddr, called: &str, contexts: &[(u8, &str, &[&str])]) -> Vec<(u8, String)> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&dicom_associate_rq(called, "SWEEP", 1, "1.2.840.10008.3.1.1.1", contexts)).unwrap();
    let mut head = [0u8; 6];
    s.read_exact(&mut head).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(head[2..6].try_into().unwrap()) as usize];
    s.read_exact(&mut body).unwrap();
    if head[0] != 2 {
        return vec![(head[0], String::new())];
    }
    let mut out = Vec::new();
    let mut p = 68;
    while p + 4 <= body.len() {
        let len = u16::from_be_bytes([body[p + 2], body[p + 3]]) as usize;
        if body[p] == 0x21 {
            let ts_len = u16::from_be_bytes([body[p + 10], body[p + 11]]) as usize;
            out.push((body[p + 6], String::from_utf8_lossy(&body[p + 12..p + 12 + ts_len]).trim_end_matches('\0').to_string()));
        }
        p += 4 + len;
    }
    out
}

/// One context per transfer syntax.
fn sweep(addr: SocketAddr, called: &str, sop: &str, syntaxes: &[String]) -> Vec<(u8, String)> {
    let each: Vec<[&str; 1]> = syntaxes.iter().map(|t| [t.as_str()]).collect();
    let contexts: Vec<(u8, &str, &[&str])> = each.iter().enumerate().map(|(i, t)| (2 * i as u8 + 1, sop, &t[..])).collect();
    results(addr, called, &contexts)
}

/// The syntaxes a server takes from one context proposing `syntaxes`, most preferred
/// first: ask, drop what it chose, ask again.
fn preference(addr: SocketAddr, called: &str, sop: &str, mut syntaxes: Vec<String>) -> Vec<String> {
    let mut order = Vec::new();
    while !syntaxes.is_empty() {
        let proposed: Vec<&str> = syntaxes.iter().map(String::as_str).collect();
        let answer = results(addr, called, &[(1, sop, &proposed)]);
        let Some((0, chosen)) = answer.first().cloned() else { break };
        syntaxes.retain(|t| *t != chosen);
        order.push(chosen);
    }
    order
}

fn compare(decoy: SocketAddr, real: SocketAddr, called: &str) -> usize {
    let mut compared = 0;
    for (name, sop) in SOP_CLASSES {
        for set in [eighteen(), unusual()] {
            let (want, got) = (sweep(real, called, sop, &set), sweep(decoy, called, sop, &set));
            assert_eq!(got, want, "{called}: {name}, each of {set:?}");
            compared += set.len();
        }
        let mut all = eighteen();
        all.extend(unusual());
        all.reverse();
        assert_eq!(preference(decoy, called, sop, all.clone()), preference(real, called, sop, all), "{called}: {name}, order of preference");
    }
    // Padding: DCMTK drops a trailing NUL but keeps spaces, so it does not know a
    // space-padded UID.
    let padded: &[(u8, &str, &[&str])] = &[
        (1, "1.2.840.10008.1.1 ", &["1.2.840.10008.1.2\0"]),
        (3, "1.2.840.10008.1.1\0", &["1.2.840.10008.1.2 "]),
        (5, "1.2.840.10008.5.1.4.1.1.2 ", &["1.2.840.10008.1.2.1 "]),
        (7, " 1.2.840.10008.1.1", &["1.2.840.10008.1.2\0"]),
        (9, "1.2.840.10008.5.1.4.1.1.7\0", &["1.2.840.10008.1.2.1\0", "1.2.840.10008.1.2 "]),
    ];
    assert_eq!(results(decoy, called, padded), results(real, called, padded), "{called}: padded UIDs");
    compared + padded.len()
}

#[test]
fn every_sop_class_accepts_the_same_transfer_syntaxes_as_the_real_orthanc_and_storescp() {
    let dir = tempfile::tempdir().unwrap();
    let (_orthanc, _, real_orthanc) = real_pacs::orthanc(dir.path(), "\"Name\": \"PACS\"");
    let (_storescp, real_storescp) = real_pacs::storescp(dir.path());

    let decoys = "  - name: orthanc\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n  - name: storescp\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: dcmtk-storescp\n";
    let hw = Honeyward::start(dir.path(), &config(decoys));
    let compared = compare(hw.addr("orthanc"), real_orthanc, "ORTHANC") + compare(hw.addr("storescp"), real_storescp, "STORESCP");
    eprintln!("{compared} contexts compared");
}
