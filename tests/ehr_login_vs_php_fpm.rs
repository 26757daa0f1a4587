//! ehr-login beside the real thing it imitates: Debian's nginx passing the portal's
//! pages to Debian's PHP-FPM, where a few lines of PHP render the same template with a
//! PHP session and a CSRF token of the same form. Raw answers must be the same after
//! masking the date, the session id and the token (whose form must match): status
//! line, headers and their order, the framing (chunked to HTTP/1.1 clients, to the
//! close for HTTP/1.0, none for HEAD, gzip'd in chunks), and the page; and the icon,
//! a static file nginx serves.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Read;

use common::*;

/// The portal as a PHP developer writes it: a session, a token per session, the
/// template with the token and (for a POST without the session's token) the
/// "session expired" message, exactly as the personality words it.
const PAGE_PHP: &str = r#"<?php
session_start();
if (empty($_SESSION['csrf'])) {
    $_SESSION['csrf'] = rtrim(strtr(base64_encode(random_bytes(24)), '+/', '-_'), '=');
}
$message = '';
if ($_SERVER['REQUEST_METHOD'] === 'POST' && ($_POST['csrf_token'] ?? '') !== $_SESSION['csrf']) {
    $message = file_get_contents(__DIR__ . '/expired.html');
}
echo str_replace(['{csrf}', '{message}'], [$_SESSION['csrf'], $message], file_get_contents(__DIR__ . '/ehr-login.html'));
"#;

/// The raw answer with its date, session id and token masked, chunks undone and a
/// gzip'd body inflated (the compressed bytes differ with the token); the chunk
/// sizes are kept as a list.
fn masked(raw: &[u8]) -> (String, Vec<usize>) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut body = raw[end + 4..].to_vec();
    let mut chunks = Vec::new();
    if head.contains("Transfer-Encoding: chunked") {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
            chunks.push(size);
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = plain;
    }
    if head.contains("Content-Encoding: gzip") {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut inflated).unwrap();
        body = inflated;
        // The compressed size differs with the token; that there is one chunk of data
        // and the last one is what is compared.
        chunks.iter_mut().filter(|c| **c > 0).for_each(|c| *c = 1);
    }
    let mut text = head + "\r\n\r\n" + &String::from_utf8_lossy(&body);
    // A static file's time (and the ETag's, its first half) is the file's own.
    for (marker, len) in [("Date: ", 29), ("Last-Modified: ", 29), ("ETag: \"", 8), ("PHPSESSID=", 26), ("name=\"csrf_token\" value=\"", 32)] {
        if let Some(at) = text.find(marker) {
            let start = at + marker.len();
            let value = &text[start..start + len];
            if marker.starts_with("PHPSESSID") {
                assert!(value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)), "PHP's session id form: {value}");
            } else if marker.starts_with("name=") {
                assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "token: {value}");
            }
            text.replace_range(start..start + len, "…");
        }
    }
    (text, chunks)
}

#[test]
fn ehr_login_answers_as_nginx_with_php_fpm_does() {
    let dir = tempfile::tempdir().unwrap();
    let php_dir = dir.path().join("php");
    std::fs::create_dir_all(&php_dir).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/decoys/ehr-login.yaml")).unwrap();
    let expired = yaml.lines().find_map(|l| l.trim().strip_prefix("expired_message: ")).unwrap();
    std::fs::write(php_dir.join("expired.html"), expired).unwrap();
    std::fs::copy(format!("{root}/templates/http/ehr-login.html"), php_dir.join("ehr-login.html")).unwrap();
    std::fs::write(php_dir.join("page.php"), PAGE_PHP).unwrap();
    let _fpm = real_nginx::php_fpm(&php_dir);
    // The icon is a static file nginx serves.
    std::fs::create_dir_all(php_dir.join("static")).unwrap();
    std::fs::copy(format!("{root}/templates/http/ehr-favicon.ico"), php_dir.join("static/favicon.ico")).unwrap();
    let icon = "location = /favicon.ico { root {dir}/static; }\n";
    let (_nginx, real) = real_nginx::nginx_php(&php_dir, &["/", "/login"], &php_dir.join("page.php"), icon);
    let hw = Honeyward::start(dir.path(), &config("  - name: portal\n    type: http\n    listen: 127.0.0.1:0\n    personality: ehr-login\n"));
    let decoy = hw.addr("portal");

    let requests: &[&[u8]] = &[
        b"GET /login HTTP/1.1\r\nHost: ehr\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: ehr\r\nConnection: close\r\n\r\n",
        b"GET /login HTTP/1.0\r\n\r\n",
        b"HEAD /login HTTP/1.1\r\nHost: ehr\r\n\r\n",
        b"GET /login HTTP/1.1\r\nHost: ehr\r\nAccept-Encoding: gzip, deflate\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: ehr\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 28\r\n\r\nusername=dr.jones&password=x",
        b"GET /nope.php HTTP/1.1\r\nHost: ehr\r\n\r\n",
        b"GET /favicon.ico HTTP/1.1\r\nHost: ehr\r\nAccept-Encoding: gzip\r\n\r\n",
        b"POST /favicon.ico HTTP/1.1\r\nHost: ehr\r\nContent-Length: 0\r\n\r\n",
    ];
    for request in requests {
        let (theirs, ours) = (masked(&http_raw(real, request)), masked(&http_raw(decoy, request)));
        assert!(theirs.0.starts_with("HTTP/1.1 "), "{}", theirs.0);
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(request));
    }
    // Every request stored once, the sign-in with its credentials.
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == requests.len() as i64), "{} stored", count_kind(&db, "http_request"));
    let sign_in = bodies(&db, "http_request").into_iter().find(|e| e["details"]["method"]["text"] == "POST" && e["details"]["target"]["text"] == "/login");
    assert_eq!(sign_in.unwrap()["details"]["credential"]["username"]["text"], "dr.jones");
}
