//! The console's doors, with curl: nothing but the sign-in page, static files and
//! /metrics without a session; password sign-in only when enabled; every form needs
//! the session's CSRF token and a same-origin request; a sign-up link works once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::process::Command;

use common::console::{set_password, Curl};
use common::*;

#[test]
fn without_a_session_only_sign_in_is_reachable_and_every_form_needs_its_csrf_token_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    // A fixed port: `console invite` prints links with the configured address.
    let yaml = config(&tcp_decoy("banner", "")) + &format!("console:\n  listen: 127.0.0.1:{}\n  password_login: true\n", free_port());
    let hw = Honeyward::start(dir.path(), &yaml);
    let base = format!("http://localhost:{}", hw.addr("console").port());
    let jar = dir.path().join("cookies.txt");
    let curl = Curl { jar: &jar };

    for page in ["/incidents", "/tokens", "/health", "/sinks", "/incidents/x"] {
        let (code, _) = curl.run(&[&format!("{base}{page}")]);
        assert_eq!(code, 303, "{page} redirects to sign-in");
    }
    let (code, _) = curl.run(&["-X", "POST", "-d", "kind=bearer&label=x", &format!("{base}/tokens")]);
    assert_eq!(code, 401, "no token without a session");
    assert_eq!(curl.run(&[&format!("{base}/login")]).0, 200);
    assert_eq!(curl.run(&[&format!("{base}/metrics")]).0, 200);

    // A short password is refused; a good one creates the account.
    assert!(!set_password(dir.path(), "duty-analyst", "short").status.success());
    assert!(set_password(dir.path(), "duty-analyst", "a long enough passphrase").status.success());
    let (code, body) = curl.run(&["-d", "account=duty-analyst&password=wrong+password+here", &format!("{base}/login/password")]);
    assert!(code == 200 && body.contains("Wrong account or password"), "{code} {body}");
    let (code, _) = curl.run(&["-d", "account=duty-analyst&password=a+long+enough+passphrase", &format!("{base}/login/password")]);
    assert_eq!(code, 303, "signed in");
    let cookies = std::fs::read_to_string(&jar).unwrap();
    let line = cookies.lines().find(|l| l.contains("hw_session")).unwrap();
    assert!(line.starts_with("#HttpOnly_"), "HttpOnly session cookie: {line}");
    let (code, page) = curl.run(&[&format!("{base}/tokens")]);
    assert_eq!(code, 200);
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // Forms: no token, a wrong one, a foreign origin: refused. The right one: the file.
    let form = |token: &str| format!("csrf={token}&kind=bearer&label=k8s+deployer&template=kubeconfig&endpoint=http%3A%2F%2F10.0.0.5%3A8080");
    assert_eq!(curl.run(&["-d", "kind=bearer&label=x", &format!("{base}/tokens")]).0, 403);
    assert_eq!(curl.run(&["-d", &form("forged"), &format!("{base}/tokens")]).0, 403);
    assert_eq!(curl.run(&["-H", "Origin: http://evil.example", "-d", &form(&csrf), &format!("{base}/tokens")]).0, 403);
    let (code, file) = curl.run(&["-H", &format!("Origin: {base}"), "-d", &form(&csrf), &format!("{base}/tokens")]);
    assert_eq!(code, 200);
    assert!(file.contains("kind: Config") && file.contains("server: http://10.0.0.5:8080"), "{file}");
    assert!(cli(dir.path(), &["token", "list"]).contains("k8s deployer"));

    // Sign-up links: one use, then refused.
    let link = String::from_utf8(
        Command::new(BIN).args(["console", "invite", "second-analyst", "-c", "honeyward.yaml"]).current_dir(dir.path()).output().unwrap().stdout,
    )
    .unwrap();
    assert!(link.trim().starts_with(&format!("{base}/enrol?invite=")), "{link}");
    assert_eq!(curl.run(&[link.trim()]).0, 200);
    assert_eq!(curl.run(&[&format!("{base}/enrol?invite=not-a-real-invite")]).0, 403);

    // Sign out ends the session for good.
    assert_eq!(curl.run(&["-d", &format!("csrf={csrf}"), &format!("{base}/logout")]).0, 303);
    assert_eq!(curl.run(&[&format!("{base}/tokens")]).0, 303);
}

#[test]
fn password_sign_in_is_off_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &(config(&tcp_decoy("banner", "")) + "console:\n  listen: 127.0.0.1:0\n"));
    let base = format!("http://localhost:{}", hw.addr("console").port());
    assert!(set_password(dir.path(), "analyst", "a long enough passphrase").status.success());
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "account=analyst&password=a+long+enough+passphrase", &format!("{base}/login/password")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
    let login = Command::new("curl").args(["-s", &format!("{base}/login")]).output().unwrap();
    assert!(!String::from_utf8_lossy(&login.stdout).contains("password"), "no password form");
}

#[test]
fn a_controllers_console_lists_its_enrolled_sensors() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let yaml = format!("sensor:\n  name: controller-1\nstore:\n  path: honeyward.db\n  sync: normal\ncontroller:\n  listen: 127.0.0.1:{port}\nconsole:\n  listen: 127.0.0.1:0\n  password_login: true\n");
    std::fs::write(dir.path().join("honeyward.yaml"), &yaml).unwrap();
    cli(dir.path(), &["controller", "enrol", "ward-9-sensor", "-c", "honeyward.yaml", "--out", "ward-9.json"]);
    assert!(set_password(dir.path(), "soc", "a long enough passphrase").status.success());
    let hw = Honeyward::spawn(dir.path(), &["controller", "-c", "honeyward.yaml"]);
    let base = format!("http://localhost:{}", hw.addr("console").port());
    let jar = dir.path().join("cookies.txt");
    let curl = Curl { jar: &jar };
    assert_eq!(curl.run(&["-d", "account=soc&password=a+long+enough+passphrase", &format!("{base}/login/password")]).0, 303);
    let (code, page) = curl.run(&[&format!("{base}/health")]);
    assert_eq!(code, 200);
    assert!(page.contains("ward-9-sensor") && page.contains("silent"), "{page}");
}

#[test]
fn a_page_reached_through_another_host_name_is_refused_as_dns_rebinding() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &(config(&tcp_decoy("banner", "")) + "console:\n  listen: 127.0.0.1:0\n"));
    let addr = hw.addr("console");
    let get = |path: &str, host: &str| {
        let response = http_raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
        String::from_utf8_lossy(&response[..12.min(response.len())]).into_owned()
    };
    let port = addr.port();
    // A page on attacker.example whose name now points at 127.0.0.1 sends its own name.
    assert_eq!(get("/login", &format!("attacker.example:{port}")), "HTTP/1.1 421");
    assert_eq!(get("/static/console.js", "attacker.example"), "HTTP/1.1 421");
    assert_eq!(get("/login", &format!("localhost:{port}")), "HTTP/1.1 200", "the console's own name");
    assert_eq!(get("/login", &format!("127.0.0.1:{port}")), "HTTP/1.1 200", "its listen address");
    assert_eq!(get("/metrics", &format!("attacker.example:{port}")), "HTTP/1.1 200", "scrapers use whatever name they were given");
}

#[test]
fn a_password_flood_is_slowed_per_address_and_the_decoys_keep_answering() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(&tcp_decoy("banner", "")) + "console:\n  listen: 127.0.0.1:0\n  password_login: true\n";
    let hw = Honeyward::start(dir.path(), &yaml);
    assert!(set_password(dir.path(), "duty-analyst", "a long enough passphrase").status.success());
    let url = format!("http://localhost:{}/login/password", hw.addr("console").port());
    let banner = hw.addr("banner");
    let banner_latency = || {
        let started = std::time::Instant::now();
        let mut s = std::net::TcpStream::connect(banner).unwrap();
        let mut first = [0u8; 5];
        std::io::Read::read_exact(&mut s, &mut first).unwrap();
        started.elapsed()
    };
    let idle = (0..5).map(|_| banner_latency()).max().unwrap();

    // 12 addresses, 5 wrong passwords each, all at once.
    let flood: Vec<_> = (0..12)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let out = Command::new("curl")
                    .args(["-s", "-o", "/dev/null", "-w", "%{http_code}\n", "--interface", &format!("127.0.0.{}", 10 + i)])
                    .args(["-d", "account=duty-analyst&password=wrong+guess+here", &format!("{url}?n=[1-5]")])
                    .output()
                    .unwrap();
                String::from_utf8(out.stdout).unwrap()
            })
        })
        .collect();
    let during = (0..20)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            banner_latency()
        })
        .max()
        .unwrap();
    let codes: Vec<String> = flood.into_iter().map(|t| t.join().unwrap()).collect();
    eprintln!("banner latency: idle {idle:?}, during the password flood {during:?}");
    for c in &codes {
        let c: Vec<&str> = c.lines().collect();
        assert_eq!(c[..3], ["200", "200", "200"], "three wrong passwords are answered as wrong");
        assert!(c[3..].iter().all(|code| *code == "429"), "then the address must wait: {c:?}");
    }
    assert!(during < std::time::Duration::from_secs(1), "the decoy kept answering during the flood ({during:?})");
    // Another address with the right password is not held back.
    let ok = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", "127.0.0.200"])
        .args(["-d", "account=duty-analyst&password=a+long+enough+passphrase", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "303");
}
