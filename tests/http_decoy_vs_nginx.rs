//! The `nginx-default` personality against a real Debian nginx started on loopback by
//! the test: same status lines, header names in the same order (Date and ETag values
//! aside), same bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::net::{SocketAddr, TcpStream};

use common::*;

#[test]
fn nginx_default_answers_like_a_real_debian_nginx() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("htpasswd"), "admin:$apr1$x$y\n").unwrap();
    // The stock personality plus what the nginx config adds: a basic-auth realm and a redirect.
    let personality = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/decoys/nginx-default.yaml")).unwrap()
        + "  - {path: /secure/*, realm: Restricted}\n  - {path: /go, status: 302, location: /login}\n";
    std::fs::write(dir.path().join("nginx-auth.yaml"), personality).unwrap();
    let (nginx, real) = real_nginx::nginx(
        dir.path(),
        " location /secure/ { auth_basic \"Restricted\"; auth_basic_user_file {dir}/htpasswd; }\n location /go { return 302 /login; }",
    );

    let hw = Honeyward::start(
        dir.path(),
        &config(&format!("  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: {}\n", dir.path().join("nginx-auth.yaml").display())),
    );
    let decoy = hw.addr("web");
    let requests: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b",
        b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"get / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"GET /secure/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /secure/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46eA==\r\nConnection: close\r\n\r\n",
        b"GET /go HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        // A byte no method has, answered at once (no line end ever comes).
        b"\x16\x03\x01\x00\x05hello",
        b"GET\x01",
        b"\r\nget /",
        b"\x17\x03\x03\x00\x05",
    ];
    let too_many_headers: Vec<u8> =
        [&b"GET / HTTP/1.1\r\nHost: x\r\n"[..], &(0..10_000).flat_map(|i| format!("X-{i}: a\r\n").into_bytes()).collect::<Vec<u8>>(), b"\r\n"].concat();
    let long_uri: Vec<u8> = [&b"GET /"[..], &[b'a'; 9000], b" HTTP/1.1\r\nHost: x\r\n\r\n"].concat();
    let long_header: Vec<u8> = [&b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: "[..], &[b'a'; 9000], b"\r\n\r\n"].concat();
    let requests: Vec<&[u8]> = requests.iter().copied().chain([&too_many_headers[..], &long_uri[..], &long_header[..]]).collect();
    for req in &requests {
        let (want, got) = (response_shape(&http_raw(real, req)), response_shape(&http_raw(decoy, req)));
        assert_eq!(got, want, "request {:?}", String::from_utf8_lossy(&req[..req.len().min(120)]));
    }

    // A static file's HTTP semantics: ranges, conditions, paths, versions, body limits.
    let close = |extra: &str| format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").into_bytes();
    let mut semantics: Vec<Vec<u8>> = [
        "Range: bytes=0-9\r\n",
        "Range: bytes=-5\r\n",
        "Range: bytes=600-\r\n",
        "Range: bytes=0-700\r\n",
        "Range: bytes= 0-1\r\n",
        "Range: bytes=0-1,5-6\r\n",
        "Range: bytes=9999-\r\n",
        "Range: bytes=5-2\r\n",
        "Range: bytes=abc\r\n",
        "Range: bytes=0-1,,5-6\r\n",
        "Range: bytes=0-400,300-600\r\n",
        "Range: items=0-5\r\n",
        "If-Match: \"nope\"\r\n",
        "If-Match: *\r\n",
        "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n",
        "If-None-Match: \"other\"\r\n",
        "If-None-Match: *\r\n",
        "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n",
        "If-Range: \"nope\"\r\nRange: bytes=0-3\r\n",
        "Content-Length: 2000000\r\n",
        "Accept-Encoding: gzip, deflate, br\r\n",
        "Accept-Encoding: GZIP\r\n",
        "Accept-Encoding: gzip;q=0\r\n",
        "Accept-Encoding: gzip;q=0.5\r\n",
        "Accept-Encoding: x-gzip\r\n",
        "Accept-Encoding: *\r\n",
        "Accept-Encoding: gzip\r\nVia: 1.1 proxy\r\n",
        "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n",
    ]
    .iter()
    .map(|h| close(h))
    .collect();
    for raw in [
        &b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nRange: bytes=0-5\r\n\r\n"[..],
        b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nRange: bytes=0-5\r\n\r\n",
        b"GET /../ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /%2e%2e/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /a/../ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET //index.nginx-debian.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /./index.nginx-debian.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/3.0\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
        b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
        b"GET /secure/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
        b"GET / HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n",
    ] {
        semantics.push(raw.to_vec());
    }
    let big_chunk = [&b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n"[..], &vec![b'a'; 0x200000], b"\r\n0\r\n\r\n"].concat();
    semantics.push(big_chunk);
    // Each server's own validators (its file's time): conditions that match them.
    let validators = |addr: SocketAddr| {
        let head = String::from_utf8(http_raw(addr, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).unwrap();
        let field = |name: &str| head.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().to_string();
        (field("ETag:"), field("Last-Modified:"))
    };
    let matching = |(etag, modified): (String, String)| -> Vec<Vec<u8>> {
        [
            format!("If-None-Match: {etag}\r\n"),
            format!("If-None-Match: W/{etag}, \"x\"\r\n"),
            format!("If-Modified-Since: {modified}\r\n"),
            format!("If-Modified-Since: {modified}\r\nIf-None-Match: \"other\"\r\n"),
            format!("If-Match: {etag}\r\n"),
            format!("If-Unmodified-Since: {modified}\r\n"),
            format!("If-Range: {etag}\r\nRange: bytes=0-3\r\n"),
            format!("If-Range: {modified}\r\nRange: bytes=0-3\r\n"),
            format!("Accept-Encoding: gzip\r\nIf-None-Match: W/{etag}\r\n"),
        ]
        .iter()
        .map(|h| close(h))
        .collect()
    };
    let (theirs, ours) = (matching(validators(real)), matching(validators(decoy)));
    let mut count = requests.len();
    for req in semantics.iter().map(|r| (r, r)).chain(theirs.iter().zip(ours.iter())) {
        let (want, got) = (response_shape(&http_raw(real, req.0)), response_shape(&http_raw(decoy, req.1)));
        assert_eq!(got, want, "request {:?}", String::from_utf8_lossy(&req.1[..req.1.len().min(160)]));
        count += 1;
    }
    // From here on, every request the decoy answers is recorded exactly once (an
    // answered Expect request's late body is discarded, not taken for a request).
    let db = hw.store();
    // Earlier requests' events may still be on their way to the store: wait until settled.
    let mut recorded_before = count_kind(&db, "http_request");
    loop {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let now = count_kind(&db, "http_request");
        if now == recorded_before {
            break;
        }
        recorded_before = now;
    }
    // Expect: 100-continue: what arrives before the body is sent, and the answer.
    let expect = |addr: SocketAddr, head: &str| {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_millis(500))).unwrap();
        let mut before = vec![0u8; 4096];
        let n = s.read(&mut before).unwrap_or(0);
        before.truncate(n);
        let _ = s.write_all(b"abc");
        s.set_read_timeout(Some(std::time::Duration::from_secs(1))).unwrap();
        let mut after = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = s.read(&mut chunk) {
            after.extend_from_slice(&chunk[..n]);
        }
        let interim = before.strip_prefix(&b"HTTP/1.1 100 Continue\r\n\r\n"[..]).is_some();
        let answered_first = !interim && !before.is_empty();
        let whole = [if interim { &before[25..] } else { &before[..] }, &after[..]].concat();
        (interim, answered_first, response_shape(&whole))
    };
    for head in [
        "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        "POST /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        "GET /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    ] {
        assert_eq!(expect(decoy, head), expect(real, head), "{head:?}");
        count += 1;
    }
    // HTTP/0.9 simple requests: the body alone, byte for byte.
    for simple in [&b"GET /\r\n"[..], b"GET /nope\r\n", b"POST /\r\n", b"GET /index.nginx-debian.html\r\n", b"GET /../\r\n"] {
        assert_eq!(http_raw(decoy, simple), http_raw(real, simple), "{:?}", String::from_utf8_lossy(simple));
        count += 1;
    }
    // 4 Expect requests and 5 simple ones.
    assert!(eventually(10, || count_kind(&db, "http_request") == recorded_before + 9), "{}", count_kind(&db, "http_request") - recorded_before);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(count_kind(&db, "http_request"), recorded_before + 9, "each recorded once");
    eprintln!("{count} requests answered alike");
    assert!(count >= 60);
    drop(nginx);
}
