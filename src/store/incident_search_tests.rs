use std::collections::BTreeSet;

use super::*;
use crate::event::{EventId, Story};

fn incident(n: u64, severity: Severity, source: &str, decoy: &str, token: Option<&str>, events: u64) -> Incident {
    Incident {
        id: EventId::new(),
        sensor: "ward-7".into(),
        source: source.parse().ok(),
        first: Timestamp::from_micros(n as i64 * 60_000_000),
        last: Timestamp::from_micros(n as i64 * 60_000_000 + 1),
        severity,
        events,
        first_seq: n,
        last_seq: n,
        decoys: BTreeSet::from([decoy.to_string()]),
        kinds: BTreeSet::new(),
        techniques: BTreeSet::new(),
        token: token.map(str::to_string),
        suppressed: false,
        story: Story::default(),
    }
}

fn store(incidents: &[Incident]) -> (tempfile::TempDir, StoreReader) {
    let dir = tempfile::tempdir().expect("dir");
    let r = StoreReader::open(&dir.path().join("s.db"), true).expect("store");
    assert!(r.save_incidents(0, 1, incidents, &[]).expect("saved"));
    (dir, r)
}

fn found(r: &StoreReader, q: &IncidentSearch) -> Vec<u64> {
    r.search_incidents(q).expect("search").iter().map(|i| i.first_seq).collect()
}

#[test]
fn each_filter_narrows_and_each_order_sorts() {
    let all = [
        incident(1, Severity::Medium, "10.20.14.7", "pacs-ssh", None, 500),
        incident(2, Severity::Critical, "10.20.14.9", "ehr-portal", Some("tok-ab12 (backup 100% svc)"), 20),
        incident(3, Severity::High, "192.0.2.5", "pacs-dicom", None, 90),
        incident(4, Severity::Low, "2001:db8::5", "pacs-ssh", None, 1),
    ];
    let (_dir, r) = store(&all);
    r.ack_incident(&all[2].id, "analyst", None).expect("ack");
    let q = IncidentSearch::default;
    assert_eq!(found(&r, &q()), [4, 3, 2, 1], "last seen first");
    assert_eq!(found(&r, &IncidentSearch { order: IncidentOrder::Severity, ..q() }), [2, 3, 1, 4]);
    assert_eq!(found(&r, &IncidentSearch { order: IncidentOrder::Events, ..q() }), [1, 3, 2, 4]);
    assert_eq!(found(&r, &IncidentSearch { severities: vec![Severity::High, Severity::Critical], ..q() }), [3, 2]);
    assert_eq!(found(&r, &IncidentSearch { unacknowledged: true, ..q() }), [4, 2, 1]);
    assert_eq!(found(&r, &IncidentSearch { decoy: Some("pacs-ssh".into()), ..q() }), [4, 1]);
    assert_eq!(found(&r, &IncidentSearch { decoy: Some("pacs".into()), ..q() }), Vec::<u64>::new(), "a decoy's whole name");
    assert_eq!(found(&r, &IncidentSearch { token: Some("100% svc".into()), ..q() }), [2]);
    assert_eq!(found(&r, &IncidentSearch { token: Some("10_".into()), ..q() }), Vec::<u64>::new(), "LIKE's own characters are literal");
    assert_eq!(found(&r, &IncidentSearch { source: Cidr::parse("10.20.14.0/24"), ..q() }), [2, 1]);
    assert_eq!(found(&r, &IncidentSearch { source: Cidr::parse("2001:db8::/32"), limit: 1, ..q() }), [4]);
    let at = |m: i64| Some(Timestamp::from_micros(m * 60_000_000));
    assert_eq!(found(&r, &IncidentSearch { since: at(2), until: at(3), ..q() }), [3, 2]);
    assert_eq!(found(&r, &IncidentSearch { limit: 2, ..q() }), [4, 3]);
    assert_eq!(r.severity_counts(None).expect("counts"), [0, 1, 1, 1, 1]);
}

#[test]
fn words_are_found_in_the_title_and_summary() {
    let mut guessing = incident(1, Severity::Medium, "10.0.0.1", "pacs-ssh", None, 3);
    guessing.story.absorb(&{
        let mut e = crate::event::Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::from_micros(0),
            sensor: "ward-7".into(),
            decoy: Some("pacs-ssh".into()),
            source: Some("10.0.0.1:40000".parse().expect("address")),
            destination: None,
            session: None,
            kind: crate::event::EventKind::SshCommand { line: crate::event::AttackerBytes::new("id"), exec: false },
            token: None,
        };
        e.decoy = Some("pacs-ssh".into());
        e
    });
    let (_dir, r) = store(&[guessing, incident(2, Severity::Low, "10.0.0.2", "web", None, 1)]);
    let words = |t: &str| found(&r, &IncidentSearch { text: Some(t.into()), ..Default::default() });
    assert_eq!(words("ran 1 command"), [1]);
    assert_eq!(words("10.0.0.2"), [2], "the source address too");
    assert_eq!(words("nothing like this"), Vec::<u64>::new());
}

#[test]
fn a_large_incidents_events_read_back_whole_and_in_order_from_its_source_only() {
    use crate::event::{AttackerBytes, Event, EventKind, Remote};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.db");
    let mut conn = crate::store::open_connection(&path, crate::config::StoreSync::Normal, true).expect("store");
    let event = |n: u64, from: &str| Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::from_micros(n as i64),
        sensor: "ward-7".into(),
        decoy: Some("pacs-ssh".into()),
        source: Some(Remote(format!("{from}:4022").parse().expect("addr"))),
        destination: None,
        session: None,
        kind: EventKind::SshCommand { line: AttackerBytes::new(format!("echo {n} \"é\"")), exec: false },
        token: None,
    };
    // More than one thread's share (the parallel path), another source interleaved.
    let batch: Vec<Event> = (0..6_000).map(|n| event(n, if n % 6 == 5 { "192.0.2.9" } else { "10.20.14.7" })).collect();
    crate::store::commit(&mut conn, &batch, &mut Vec::new()).expect("committed");
    let r = StoreReader::open(&path, true).expect("reader");
    let mut i = incident(1, Severity::High, "10.20.14.7", "pacs-ssh", None, 5_000);
    i.last_seq = 6_000;
    let read = r.incident_candidates(&i, 50_000).expect("read");
    let expected: Vec<&Event> = batch.iter().filter(|e| e.source.map(|s| s.0.ip()) == i.source).collect();
    assert_eq!(read.len(), 5_000);
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq), "in commit order");
    assert!(read.iter().zip(&expected).all(|(got, want)| &got.event == *want), "the same events");
    assert_eq!(r.incident_candidates(&i, 10).expect("read").len(), 10, "at most the limit");
}
