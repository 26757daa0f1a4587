//! nginx-default over HTTPS beside a real Debian nginx with HTTPS turned on as a Debian
//! admin does (Debian's nginx.conf TLS lines, `listen ... ssl http2`), both with the
//! decoy's own certificate: what a scanner, a TLS fingerprinting probe and an h2
//! client see must be the same.
//!
//! - `nmap -sV --script ssl-enum-ciphers,http-title`: the same report;
//! - JARM (pyjarm's ten probes): the same raw answers, so the same fingerprint;
//! - 32 `openssl s_client` probes (versions, suites, groups, signature algorithms,
//!   ALPN, SNI, tickets and resumption, encrypt-then-MAC): the same records
//!   and lengths from the server, the same JA3S, alerts, keys and ticket lifetime;
//! - plain HTTP sent to the TLS port: the same raw answers, recorded and tagged;
//! - h2 by ALPN (`nghttp`): the same frames, HEADERS lengths included, the same
//!   headers and data (the h2 frame level in detail: `h2_frames_vs_real_nginx.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::tls_probes::{jarm, nmap, s_client};
use common::*;

const DECOY: &str = "  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    tls: {common_name: intranet.example-trust.nhs.uk, organisation: Example NHS Trust}\n";

/// The decoy and a real nginx with the decoy's certificate and key.
fn both(dir: &std::path::Path) -> (Honeyward, Reaped, SocketAddr, SocketAddr) {
    let hw = Honeyward::start(dir, &config(DECOY));
    let state = dir.join("honeyward-state/http/web");
    let nginx_dir = dir.join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let (nginx, real) = real_nginx::nginx_tls(&nginx_dir, &state.join("cert.pem"), &state.join("key.pem"));
    let decoy = hw.addr("web");
    (hw, nginx, real, decoy)
}

#[test]
fn scanners_and_tls_fingerprints_see_the_same_server_as_a_real_debian_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let (_hw, _nginx, real, decoy) = both(dir.path());

    let (theirs, ours) = (nmap(real, "ssl-enum-ciphers,http-title", &[]), nmap(decoy, "ssl-enum-ciphers,http-title", &[]));
    assert!(theirs.iter().any(|l| l.contains("TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8")), "{theirs:#?}");
    assert!(theirs.iter().any(|l| l.contains("nginx 1.22.1")), "{theirs:#?}");
    assert_eq!(ours, theirs, "nmap -sV --script ssl-enum-ciphers,http-title");

    let (theirs, ours) = (jarm(real, dir.path()), jarm(decoy, dir.path()));
    assert!(theirs.contains("|0303|h2|"), "{theirs}");
    assert_eq!(ours, theirs, "JARM's raw answers");

    let probes: &[&[&str]] = &[
        &[],
        &["-tls1_2"],
        &["-tls1_3"],
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
        &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"],
        &["-tls1_2", "-cipher", "AES128-SHA"],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384"],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-CAMELLIA128-SHA256"],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-ARIA128-GCM-SHA256"],
        &["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"],
        &["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"],
        &["-groups", "P-384:X25519"],
        &["-groups", "P-521"],
        &["-groups", "X448:P-256"],
        &["-groups", "ffdhe2048"],
        &["-tls1_2", "-groups", "P-521:P-256"],
        &["-tls1_2", "-groups", "ffdhe2048"],
        &["-alpn", "h2,http/1.1"],
        &["-alpn", "http/1.1,h2"],
        &["-alpn", "http/1.0"],
        &["-alpn", "spdy/3"],
        &["-tls1_2", "-alpn", "h2"],
        &["-sigalgs", "RSA-PSS+SHA256:ECDSA+SHA384:ECDSA+SHA256"],
        &["-tls1_2", "-sigalgs", "ECDSA+SHA512:ECDSA+SHA256"],
        &["-tls1_2", "-sigalgs", "ECDSA+SHA1", "-cipher", "DEFAULT@SECLEVEL=0"],
        &["-noservername"],
        &["-servername", "pacs.example-trust.nhs.uk"],
        &["-tls1_2", "-no_ticket"],
        &["-tls1_2", "-reconnect"],
        &["-reconnect"],
        &["-tls1_2", "-no_etm", "-cipher", "ECDHE-ECDSA-AES128-SHA"],
    ];
    // The fingerprints README.md records.
    assert!(s_client(real, &[]).contains(&"JA3S 771,4866,43-51".to_string()));
    assert!(s_client(real, &["-tls1_2"]).contains(&"JA3S 771,49196,65281-11-35-23".to_string()));
    for args in probes {
        let (theirs, ours) = (s_client(real, args), s_client(decoy, args));
        assert!(!theirs.is_empty(), "{args:?}");
        assert_eq!(ours, theirs, "openssl s_client {args:?}");
    }
}

#[test]
fn plain_http_on_the_tls_port_is_told_off_as_nginx_does_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _nginx, real, decoy) = both(dir.path());
    let requests: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: intranet\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: intranet\r\n\r\n",
        b"GET /index.html HTTP/1.0\r\n\r\n",
        b"GET /\r\n",
        b"POST /login HTTP/1.1\r\nHost: intranet\r\nContent-Length: 5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET /../etc/passwd HTTP/1.1\r\nHost: intranet\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: intranet\r\n\r\n",
    ];
    for request in requests {
        let (theirs, ours) = (dateless(&http_raw(real, request)), dateless(&http_raw(decoy, request)));
        assert!(!theirs.is_empty(), "{}", String::from_utf8_lossy(request));
        assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(request));
    }
    let told_off = http_raw(decoy, requests[0]);
    assert!(String::from_utf8_lossy(&told_off).contains("The plain HTTP request was sent to HTTPS port"));

    let db = hw.store();
    let tagged =
        |db: &rusqlite::Connection| bodies(db, "http_request").iter().filter(|e| e["details"]["tags"].to_string().contains("plain-http-on-tls-port")).count();
    assert!(eventually(10, || tagged(&db) == 6), "{} tagged", tagged(&db));
    // Every request stored once: seven that parse and the one sent again, and the
    // HTTP/2.0 request line as the bytes that came.
    assert!(eventually(10, || count_kind(&db, "http_request") == 8), "{} stored", count_kind(&db, "http_request"));
    assert!(eventually(10, || count_kind(&db, "data_received") == 1));
}

/// An answer as text, its Date masked.
fn dateless(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    text.lines().map(|l| if l.starts_with("Date: ") { "Date: …" } else { l }).collect::<Vec<_>>().join("\n")
}

/// What a client sending `bytes` gets back, and how the connection ends: closed,
/// reset, or still open after 2 s.
fn outcome(addr: SocketAddr, bytes: &[u8]) -> (String, &'static str) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
    let _ = s.write_all(bytes);
    let (got, end) = read_until_quiet(&mut s);
    (dateless(&got), end)
}

#[test]
fn broken_tls_records_end_as_they_end_with_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let (_hw, _nginx, real, decoy) = both(dir.path());
    let cases: &[&[u8]] = &[
        b"\x16\x03\x01\x00\x05hello",                            // a record that is no hello: alert
        b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", // a hello cut short: decode_error
        b"\x16\x02\x00\x00\x05hello",                            // an unknown record version: closed
        b"\x17\x03\x03\x00\x05hello",                            // not a handshake: read as HTTP, 400
        b"\x15\x03\x03\x00\x02\x02\x28",                         // an alert first: read as HTTP, 400
    ];
    for case in cases {
        assert_eq!(outcome(decoy, case), outcome(real, case), "{case:?}");
    }
    // Known difference (README): a record header announcing more than TLS allows gets
    // record_overflow at once from the OpenSSL here; Debian's 3.0 waits for the bytes.
}

/// `nghttp -nv`'s account of one request: frames received (types, lengths, flags,
/// settings and window values) and the response's headers and data, without Date,
/// Last-Modified and ETag, in order. Those three values are left out of the HEADERS
/// frame's length too: a Huffman-coded date is a byte longer or shorter with the
/// second it was sent in, so two servers asked a second apart may differ by one.
fn nghttp(addr: SocketAddr, path: &str, extra: &[&str]) -> Vec<String> {
    let out = Command::new("nghttp")
        .args(["-nv"])
        .args(extra)
        .arg(format!("https://{addr}{path}"))
        .output()
        .expect("nghttp must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = Vec::new();
    let mut receiving = false;
    let mut varying = 0;
    for line in text.lines() {
        // The frame header lines start with a timestamp; what follows a frame is indented.
        let body = line.split_once("] ").map_or(line, |(_, rest)| rest).trim();
        if line.starts_with('[') {
            receiving = body.starts_with("recv");
            if !receiving {
                continue;
            }
            if let Some((_, value)) = ["date: ", "last-modified: ", "etag: "].iter().find_map(|name| body.split_once(name)) {
                varying += hpack_value_len(value);
                continue;
            }
            if let Some(rest) = body.strip_prefix("recv HEADERS frame <length=") {
                let (length, tail) = rest.split_once(',').expect("a HEADERS frame line has flags");
                let length: usize = length.parse().expect("a HEADERS frame length is a number");
                lines.push(format!("recv HEADERS frame <length={} (without date, last-modified, etag),{tail}", length - varying));
                varying = 0;
                continue;
            }
            lines.push(body.to_string());
        } else if receiving && !line.trim().is_empty() {
            lines.push(body.to_string());
        }
    }
    lines
}

/// The bytes an HPACK string literal of `value` takes as nginx writes it: Huffman-coded
/// when shorter, after a 7-bit-prefix length.
fn hpack_value_len(value: &str) -> usize {
    let raw = value.len();
    let coded = octets::huffman_encoding_len::<false>(value.as_bytes()).ok().filter(|&n| n > 0 && n < raw).unwrap_or(raw);
    coded + if coded < 127 { 1 } else { 2 }
}

#[test]
fn h2_clients_get_nginxs_settings_headers_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let (hw, _nginx, real, decoy) = both(dir.path());
    let cases: &[(&str, &[&str])] = &[
        ("/", &[]),
        ("/", &["-H", "accept-encoding: gzip"]),
        ("/nope", &["-H", "accept-encoding: gzip"]),
        ("/", &["-H", ":method: HEAD"]),
        ("/", &["-H", "range: bytes=0-99"]),
        ("/index.nginx-debian.html", &[]),
    ];
    for (path, extra) in cases {
        let theirs = nghttp(real, path, extra);
        let ours = nghttp(decoy, path, extra);
        assert!(theirs.iter().any(|l| l.contains("SETTINGS_MAX_FRAME_SIZE(0x05):16777215")), "{theirs:#?}");
        // The response's headers in order; the server's frames as a set, as when they
        // arrive among the answers depends on timing.
        let split = |lines: &[String]| {
            let (headers, mut frames): (Vec<String>, Vec<String>) = lines.iter().cloned().partition(|l| l.starts_with("recv (stream_id="));
            frames.sort();
            (headers, frames)
        };
        assert_eq!(split(&ours), split(&theirs), "nghttp {path} {extra:?}:\nnginx {theirs:#?}\ndecoy {ours:#?}");
    }
    // Every h2 request stored once.
    let db = hw.store();
    assert!(eventually(10, || count_kind(&db, "http_request") == cases.len() as i64), "{} stored", count_kind(&db, "http_request"));
}
