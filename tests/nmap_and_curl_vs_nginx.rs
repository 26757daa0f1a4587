//! What an intruder's ordinary tools say of nginx-default and of a real Debian nginx
//! on loopback: `nmap -sV --script http-headers,http-methods,http-title` and
//! `curl --compressed` must report the same, apart from the date and the page's
//! modification time (and so its ETag), which differ by nature.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::tls_probes::nmap;
use common::*;

/// `curl --compressed -i`: header names in order with values (time-dependent ones
/// masked), then the decompressed body.
fn curl_compressed(port: u16) -> (Vec<String>, String) {
    let out = Command::new("curl").args(["-s", "-i", "--compressed", &format!("http://127.0.0.1:{port}/")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let masked = ["date", "last-modified", "etag"];
    let headers = head
        .lines()
        .map(|l| match l.split_once(':') {
            Some((name, _)) if masked.contains(&name.to_ascii_lowercase().as_str()) => format!("{name}: …"),
            _ => l.to_string(),
        })
        .collect();
    (headers, body.to_string())
}

#[test]
fn nmap_and_curl_say_the_same_of_nginx_default_as_of_a_real_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, real) = real_nginx::nginx(dir.path(), "");
    let port = real.port();
    let hw = Honeyward::start(dir.path(), &config("  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n"));
    let decoy = hw.addr("web").port();

    let scripts = "http-headers,http-methods,http-title";
    let dropped = ["Date:", "Last-Modified:", "ETag:"];
    let (real, ours) = (nmap(SocketAddr::from(([127, 0, 0, 1], port)), scripts, &dropped), nmap(hw.addr("web"), scripts, &dropped));
    assert!(real.iter().any(|l| l.contains("nginx 1.22.1")) && real.iter().any(|l| l.contains("Welcome to nginx!")), "{real:#?}");
    assert_eq!(ours, real, "nmap -sV with the http-headers, http-methods and http-title scripts");

    let (real, ours) = (curl_compressed(port), curl_compressed(decoy));
    assert!(real.0.iter().any(|h| h == "Content-Encoding: gzip"), "{:?}", real.0);
    assert_eq!(ours, real, "curl --compressed");
}
