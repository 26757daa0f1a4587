//! Fuzz entry points of the clinical decoys: the MLLP framer, the HL7 v2 parser with
//! its acknowledgements and query answers, and the FHIR search parser and matcher.
// A panic in their set-up is a finding for the fuzzer, not a decoy going down.
#![allow(clippy::expect_used)]

/// An MLLP stream cut into as many reads as the first byte says: every message comes
/// out within the cap, and framing it again reads back the same.
pub fn mllp(bytes: &[u8]) {
    use crate::decoy::hl7::mllp::{frame, Deframer, Frame, KEPT};
    let Some((&pieces, rest)) = bytes.split_first() else { return };
    let mut d = Deframer::new(1024);
    let step = rest.len() / usize::from(pieces.clamp(1, 16)) + 1;
    let mut frames: Vec<Frame> = rest.chunks(step).flat_map(|c| d.push(c)).collect();
    frames.extend(d.finish());
    for f in frames {
        match f {
            Frame::Message(m) => {
                assert!(m.len() <= 1024);
                let mut again = Deframer::new(1024);
                assert_eq!(again.push(&frame(&m)), vec![Frame::Message(m)]);
            }
            Frame::Stray { kept, length } | Frame::Oversized { kept, length } => assert!(kept.len() <= KEPT && kept.len() <= length),
        }
    }
}

/// An HL7 v2 message as the decoy reads it: delimiters, segments, the summary, the
/// ACK in each code, which must read back as an ACK with the same control id, and,
/// for a patient query, its criteria and the answer naming a patient, which must read
/// back with one PID.
pub fn hl7_message(bytes: &[u8]) {
    use crate::decoy::hl7::{ack, message, query, response};
    let Ok(m) = message::parse(bytes) else { return };
    assert!(m.segments.len() <= message::MAX_SEGMENTS);
    let summary = m.summary();
    let stamp = ack::Stamp::echo("20261206101500");
    if let Some((kind, criteria)) = query::query(&m) {
        assert!(criteria.limit <= query::MAX_ANSWERED && criteria.ids.len() <= 8);
        static PATIENT: std::sync::OnceLock<crate::token::HoneyPatient> = std::sync::OnceLock::new();
        let p = PATIENT.get_or_init(|| crate::token::clinical::cohort(1, 1, &crate::token::clinical::Site::default()).pop().expect("one patient"));
        let reply = response::respond(&m, kind, &criteria, &[p], &stamp, "GHR");
        let back = message::parse(&reply).expect("an answer parses");
        assert_eq!(back.all(b"PID").count(), usize::from(!criteria.is_empty()), "one PID per patient");
    }
    for code in [ack::AckCode::Accept, ack::AckCode::Error, ack::AckCode::Reject] {
        let a = ack::ack(&m, code, &stamp, Some((ack::Problem::InternalError, "fuzz")));
        let back = message::parse(&a).expect("an ACK parses");
        let back = back.summary();
        assert_eq!(back.message_type, "ACK");
        assert_eq!(back.control_id, summary.control_id, "the control id is echoed");
    }
}

/// A FHIR search query (the first byte picks the resource type, the rest is the query
/// string): parsed, its named values taken, run against a small catalogue with its
/// includes, and the first matches written as JSON and XML; a refusal has a message.
pub fn fhir_search(bytes: &[u8]) {
    use crate::decoy::http::fhir::{node, search, ResourceType};
    let Some((&pick, rest)) = bytes.split_first() else { return };
    let resource = ResourceType::ALL[usize::from(pick) % ResourceType::ALL.len()];
    let query = String::from_utf8_lossy(rest);
    let s = match search::parse(resource.as_str(), &query) {
        Ok(s) => s,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(s.criteria.len() <= search::MAX_PARAMETERS && s.count <= search::MAX_COUNT);
    assert!(s.criteria.iter().map(|c| c.values.len()).sum::<usize>() <= search::MAX_VALUES);
    let _ = search::named_patient_values(&s);
    let catalogue = fhir_catalogue();
    let hits = catalogue.search(&s);
    let page = &hits[..hits.len().min(s.count).min(3)];
    let _ = catalogue.includes(&s, page);
    for e in page {
        let r = catalogue.render(*e).expect("a matched resource renders");
        serde_json::from_str::<serde_json::Value>(&node::to_json(&r, s.pretty.unwrap_or(false))).expect("the JSON parses");
        let _ = node::to_xml(&r, s.pretty.unwrap_or(false));
    }
}

/// The FHIR decoy's resources of a small cohort.
fn fhir_catalogue() -> &'static crate::decoy::http::fhir::catalogue::Catalogue {
    static CATALOGUE: std::sync::OnceLock<crate::decoy::http::fhir::catalogue::Catalogue> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let site = crate::token::clinical::Site::default();
        let patients = crate::token::clinical::cohort(5, 8, &site).into_iter().map(std::sync::Arc::new).collect();
        crate::decoy::http::fhir::catalogue::Catalogue::for_site(patients, &site)
    })
}
