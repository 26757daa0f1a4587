//! One intruder from one address, as a hospital SOC analyst met it: 20 SSH password
//! guesses (paramiko), a login with a planted credential and five commands (OpenSSH
//! with sshpass), a scan of the portal with a Log4Shell probe, a canary URL and a
//! planted AWS key (curl and raw requests), and a PACS query naming a honey patient
//! (DCMTK findscu). It is one critical incident whose summary names the token, its
//! plant, the login, the commands, the scan and the patient; the CLI, the console list
//! and page agree on it; a Slack webhook gets one message.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::console::{set_password, Curl};
use common::receiver::{receiver, requests};
use common::*;

const PASSWORD: &str = "Tarrow-Bensil-Quade52!";

/// Text as the console's HTML writes it, read back.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// A created token's id, from `token create`'s output.
fn token_id(out: &str) -> String {
    out.split_whitespace().find(|w| w.starts_with("tok-")).unwrap().trim_end_matches([':', ',']).to_string()
}

#[test]
fn one_intruder_across_ssh_web_and_pacs_is_one_critical_incident_told_in_one_summary_and_one_chat_message() {
    let dir = tempfile::tempdir().unwrap();
    let chat = receiver(dir.path(), "chat", &[]);
    let decoys = "  - name: pacs-ssh\n    type: ssh\n    listen: 127.0.0.1:0\n    failure_delay_ms: 0\n    accept: tokens\n  - name: ehr-portal\n    type: http\n    listen: 127.0.0.1:0\n  - name: pacs-dicom\n    type: dicom\n    listen: 127.0.0.1:0\n    personality: orthanc\n    unknown_ae_queries: answer\n";
    let yaml = config(decoys)
        + &format!(
            "  - name: soc-chat\n    type: webhook\n    format: slack\n    url: http://127.0.0.1:{}/services/T000/B000/XXXX\n    allow_private_addresses: true\n    allow_plain_http: true\n    filter: {{min_severity: high}}\nconsole:\n  listen: 127.0.0.1:{}\n  password_login: true\n",
            chat.port,
            free_port()
        );
    let hw = Honeyward::start(dir.path(), &yaml);
    let (ssh, web, pacs) = (hw.addr("pacs-ssh"), hw.addr("ehr-portal"), hw.addr("pacs-dicom"));

    std::fs::create_dir_all(dir.path().join("plants")).unwrap();
    let created = cli(
        dir.path(),
        &[
            "token",
            "create",
            "ssh-password",
            "--label",
            "backup svc",
            "--username",
            "svc_ris",
            "--password",
            PASSWORD,
            "--plant",
            "plants/.bash_history",
            "--host",
            "pacs-ws-12",
            "--note",
            "backup svc",
        ],
    );
    let ssh_token = token_id(&created);
    let url_token =
        token_id(&cli(dir.path(), &["token", "create", "url", "--label", "intranet link", "--endpoint", &format!("http://{web}"), "--out", "links.html"]));
    let aws_token = token_id(&cli(dir.path(), &["token", "create", "aws-key", "--label", "ci key", "--out", "credentials"]));
    let patient_token = token_id(&cli(dir.path(), &["token", "create", "patient", "--label", "honey patient 1", "--studies", "2"]));
    let listed = cli(dir.path(), &["token", "list", "--json"]);
    let nhs = listed.split("\"nhs_number\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1200));

    // 20 guesses, 5 on each of 4 connections (the decoy closes after 6 like sshd).
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ssh_clients/paramiko_passwords.py");
    for _ in 0..4 {
        let out = Command::new("python3").args([script, "127.0.0.1", &ssh.port().to_string(), "root", "5"]).output().expect("python3 with paramiko");
        assert!(String::from_utf8_lossy(&out.stdout).matches("denied").count() == 5, "{}", String::from_utf8_lossy(&out.stdout));
    }
    // The planted credential, and five commands.
    for command in ["id", "uname -a", "cat /etc/passwd", "ls -la /srv", "w"] {
        let out = Command::new("sshpass")
            .args(["-p", PASSWORD, "ssh", "-p", &ssh.port().to_string(), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
            .arg(format!("svc_ris@{}", ssh.ip()))
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .expect("sshpass and ssh");
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // A scan of the portal with a Log4Shell probe, the canary URL, the AWS key.
    for path in ["/", "/admin", "/login", "/wp-login.php", "/.git/config", "/server-status", "/api/v1", "/backup.zip"] {
        assert!(Command::new("curl").args(["-s", "-o", "/dev/null", &format!("http://{web}{path}")]).status().unwrap().success());
    }
    http_raw(web, b"GET /?q=${jndi:ldap://127.0.0.1:1389/a} HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n");
    let links = std::fs::read_to_string(dir.path().join("links.html")).unwrap();
    let url = links.split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(Command::new("curl").args(["-s", "-o", "/dev/null", &url]).status().unwrap().success());
    let credentials = std::fs::read_to_string(dir.path().join("credentials")).unwrap();
    let key_id = credentials.lines().find_map(|l| l.strip_prefix("aws_access_key_id")).unwrap().trim_start_matches([' ', '=']).trim().to_string();
    let signed = format!(
        "GET /?list-type=2 HTTP/1.1\r\nHost: portal\r\nAuthorization: AWS4-HMAC-SHA256 Credential={key_id}/20261207/eu-west-2/s3/aws4_request, SignedHeaders=host, Signature=00ff\r\nConnection: close\r\n\r\n"
    );
    http_raw(web, signed.as_bytes());
    // The PACS, asked for the honey patient.
    let found = Command::new("findscu")
        .args(["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", &format!("PatientID={nhs}"), "-k", "StudyInstanceUID", "127.0.0.1", &pacs.port().to_string()])
        .output()
        .expect("findscu (dcmtk)");
    assert!(found.status.success());

    let db = hw.store();
    let hits = || db.query_row("SELECT count(*) FROM events WHERE body LIKE '%\"token\":{%'", [], |r| r.get::<_, i64>(0)).unwrap();
    // Five logins, the canary URL, the AWS key and the patient query.
    let expected_hits = 8;
    assert!(eventually(15, || hits() >= expected_hits && count_kind(&db, "ssh_command") == 5), "token hits stored: {}", hits());
    std::thread::sleep(Duration::from_millis(1500));

    // One incident, critical, told in one sentence.
    let listed = cli(dir.path(), &["incidents", "list", "--json"]);
    let incidents: Vec<serde_json::Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(incidents.len(), 1, "one intruder, one incident: {listed}");
    let incident = &incidents[0];
    assert_eq!(incident["severity"], "critical");
    let (id, title, summary) = (incident["id"].as_str().unwrap(), incident["title"].as_str().unwrap(), incident["summary"].as_str().unwrap());
    assert_eq!(title, "Planted SSH password used: backup svc and 3 more tokens");
    for part in [
        "127.0.0.1 guessed 20 SSH passwords, logged in to pacs-ssh as svc_ris with SSH password ".to_string(),
        format!("{ssh_token} (planted in "),
        ".bash_history on pacs-ws-12: backup svc), ran 5 commands; scanned ehr-portal (".into(),
        "Log4Shell probe".into(),
        format!("queried pacs-dicom (1 query, 2 records answered) including honey patient {patient_token} (honey patient 1)"),
        format!("used canary URL {url_token}"),
        format!("used AWS key {aws_token}"),
    ] {
        assert!(summary.contains(&part), "{part:?} in {summary}");
    }

    // The CLI's text and the console say the same.
    let shown = cli(dir.path(), &["incidents", "show", id]);
    assert!(shown.contains(title) && shown.contains(summary), "{shown}");
    let events = incident["events"].as_u64().unwrap();
    assert!(shown.lines().next().unwrap().contains(&format!("{events} events")), "{shown}");
    assert!(set_password(dir.path(), "duty-analyst", "a long enough passphrase").status.success());
    let jar = dir.path().join("cookies.txt");
    let curl = Curl { jar: &jar };
    let base = format!("http://localhost:{}", hw.addr("console").port());
    assert_eq!(curl.run(&["-d", "account=duty-analyst&password=a+long+enough+passphrase", &format!("{base}/login/password")]).0, 303);
    let (status, list) = curl.run(&[&format!("{base}/incidents")]);
    assert_eq!(status, 200);
    let list = unescaped(&list);
    assert_eq!(list.matches("<tr class=\"sev-").count(), 1, "the list shows one row: {list}");
    assert!(list.contains(title) && list.contains(summary), "{list}");
    let (status, page) = curl.run(&[&format!("{base}/incidents/{id}")]);
    assert_eq!(status, 200);
    let page = unescaped(&page);
    let first_screen = &page[..page.find("<h2").unwrap_or(page.len())];
    assert!(first_screen.contains(&format!("<h1>{title}</h1>")) && first_screen.contains(summary), "summary first: {first_screen}");
    assert!(first_screen.contains(&ssh_token) && first_screen.contains("on pacs-ws-12"), "the token and its plant: {first_screen}");

    // The token's page links the incident with its hits; revoking needs the box ticked.
    let (status, token_page) = curl.run(&[&format!("{base}/tokens/{ssh_token}")]);
    assert_eq!(status, 200);
    assert!(token_page.contains(&format!("href=\"/incidents/{id}\"")) && token_page.contains("5 in 1 incident(s)"), "{token_page}");
    let csrf = token_page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let revoke = |body: String| curl.run(&["-H", &format!("Origin: {base}"), "-d", &body, &format!("{base}/tokens/{ssh_token}/revoke")]).0;
    assert_eq!(revoke(format!("csrf={csrf}")), 400, "not without confirming");
    assert!(cli(dir.path(), &["token", "list"]).lines().any(|l| l.contains(&ssh_token) && l.contains("active")));
    assert_eq!(revoke(format!("csrf={csrf}&confirm=yes")), 303);

    // One chat message: the incident reached `high` when the planted password let the
    // intruder in, and nothing after that was news.
    assert!(eventually(10, || !requests(&chat).is_empty()));
    std::thread::sleep(Duration::from_secs(2));
    let messages = requests(&chat);
    assert_eq!(messages.len(), 1, "one message: {:?}", messages.iter().map(|m| String::from_utf8_lossy(&m.3).into_owned()).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&messages[0].3).into_owned();
    assert!(text.contains("Planted SSH password used: backup svc from 127.0.0.1") && text.contains(id), "{text}");
    assert!(text.contains("guessed 20 SSH passwords, logged in to pacs-ssh as svc_ris"), "the summary so far: {text}");
}
