//! The h2 frames of nginx-default over HTTPS beside those of a real Debian nginx, for
//! ordinary requests and for the broken, hostile and odd frame sequences that h2
//! fingerprinting tools and fuzzers send: every frame the client receives (type, flags,
//! stream, payload; the header block with Date, Last-Modified and ETag masked) must be
//! the same, and so must the way the connection ends.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

const DECOY: &str = "  - name: web\n    type: http\n    listen: 127.0.0.1:0\n    personality: nginx-default\n    tls: {common_name: intranet.example-trust.nhs.uk, organisation: Example NHS Trust}\n";

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One frame.
fn f(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A header block of literals without indexing, raw strings (lengths under 127).
fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        out.push(0);
        out.push(n.len() as u8);
        out.extend_from_slice(n.as_bytes());
        out.push(v.len() as u8);
        out.extend_from_slice(v.as_bytes());
    }
    out
}

const GET: &[(&str, &str)] = &[(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", "/")];

fn get(stream: u32) -> Vec<u8> {
    f(1, 0x5, stream, &block(GET))
}

fn with(extra: &[(&str, &str)]) -> Vec<u8> {
    let mut fields = GET.to_vec();
    fields.extend_from_slice(extra);
    f(1, 0x5, 1, &block(&fields))
}

fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let payload: Vec<u8> = params.iter().flat_map(|(i, v)| i.to_be_bytes().into_iter().chain(v.to_be_bytes())).collect();
    f(4, 0, 0, &payload)
}

/// What the client received after sending the preface, an empty SETTINGS and
/// `frames`: one line per frame, then how the connection ended.
fn exchange(addr: SocketAddr, frames: &[u8]) -> Vec<String> {
    let mut builder = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls()).unwrap();
    builder.set_verify(openssl::ssl::SslVerifyMode::NONE);
    builder.set_alpn_protos(b"\x02h2").unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(800))).unwrap();
    let mut tls = builder.build().configure().unwrap().verify_hostname(false).connect("localhost", tcp).unwrap();
    let mut out = PREFACE.to_vec();
    out.extend(f(4, 0, 0, &[]));
    out.extend_from_slice(frames);
    tls.write_all(&out).unwrap();
    let (got, end) = read_until_quiet(&mut tls);
    let mut lines = describe(&got);
    lines.push(end.to_string());
    lines
}

fn describe(mut bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    while bytes.len() >= 9 {
        let len = usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        let (kind, flags) = (bytes[3], bytes[4]);
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
        let Some(payload) = bytes.get(9..9 + len) else {
            lines.push(format!("partial frame {kind}"));
            break;
        };
        let shown = match kind {
            1 | 9 => masked(payload),
            _ => payload.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let name = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
            .get(usize::from(kind))
            .copied()
            .unwrap_or("?");
        // A header block's length depends on the masked values; its fields are shown.
        let shown_len = if kind == 1 { "-".to_string() } else { len.to_string() };
        lines.push(format!("{name} flags={flags:#04x} stream={stream} len={shown_len} {shown}"));
        bytes = &bytes[9 + len..];
    }
    lines
}

/// A header block as nginx writes it, with the values of Date (0x61), Last-Modified
/// (0x6c) and ETag (a literal whose Huffman-coded name is 0x83 2a 47 37) masked.
fn masked(mut block: &[u8]) -> String {
    let mut out = String::new();
    let string = |b: &mut &[u8]| -> Vec<u8> {
        let len = usize::from(b[0] & 0x7f);
        assert!(len < 127, "long strings are not expected here");
        let s = b[..1 + len].to_vec();
        *b = &b[1 + len..];
        s
    };
    while let Some(&first) = block.first() {
        if first & 0x80 != 0 || first == 0x20 {
            out += &format!("{first:02x} ");
            block = &block[1..];
        } else if first & 0xc0 == 0x40 {
            block = &block[1..];
            let value = string(&mut block);
            let shown = if first == 0x61 || first == 0x6c { "<time>".to_string() } else { hex(&value) };
            out += &format!("{first:02x}:{shown} ");
        } else {
            block = &block[1..];
            let name = string(&mut block);
            let value = string(&mut block);
            let shown = if name == [0x83, 0x2a, 0x47, 0x37] { "<etag>".to_string() } else { hex(&value) };
            out += &format!("{}={shown} ", hex(&name));
        }
    }
    out
}

/// The continuation bytes of an HPACK integer past its prefix.
fn hpack_int(mut rest: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn broken_and_hostile_h2_frames_get_the_answers_nginx_gives() {
    let dir = tempfile::tempdir().unwrap();
    let hw = Honeyward::start(dir.path(), &config(DECOY));
    let state = dir.path().join("honeyward-state/http/web");
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let (_nginx, real) = real_nginx::nginx_tls(&nginx_dir, &state.join("cert.pem"), &state.join("key.pem"));
    let decoy = hw.addr("web");

    let post = |body: &[u8], end: bool| {
        let mut out = f(1, 0x4, 1, &block(&[(":method", "POST"), (":scheme", "https"), (":authority", "localhost"), (":path", "/")]));
        out.extend(f(0, if end { 1 } else { 0 }, 1, body));
        out
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a GET", get(1)),
        ("two GETs and a HEAD", [get(1), get(3), with(&[(":method", "HEAD")]).splice(5..9, 5u32.to_be_bytes()).collect::<Vec<u8>>()].concat()),
        ("a 404", f(1, 0x5, 1, &block(&[(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", "/nope")]))),
        ("a table size in SETTINGS", [settings(&[(1, 4096)]), get(1)].concat()),
        ("a small peer frame size and window", [settings(&[(4, 100), (5, 16384)]), get(1)].concat()),
        ("a window of 0, then opened", [settings(&[(4, 0)]), get(1), f(8, 0, 1, &1000u32.to_be_bytes())].concat()),
        ("PING", f(6, 0, 0, b"12345678")),
        ("PING ACK", f(6, 1, 0, b"12345678")),
        ("PING of 7 bytes", f(6, 0, 0, b"1234567")),
        ("PING on a stream", f(6, 0, 1, b"12345678")),
        ("SETTINGS on a stream", f(4, 0, 1, &[])),
        ("SETTINGS of 5 bytes", f(4, 0, 0, &[0, 3, 0, 0, 0])),
        ("SETTINGS ACK with a payload", f(4, 1, 0, &[0, 3, 0, 0, 0, 1])),
        ("SETTINGS with flags 0x81", f(4, 0x81, 0, &[])),
        ("a window over 2^31-1", settings(&[(4, 1 << 31)])),
        ("a frame size under 16384", settings(&[(5, 100)])),
        ("ENABLE_PUSH 2", settings(&[(2, 2)])),
        ("an unknown setting", settings(&[(0x99, 1)])),
        ("WINDOW_UPDATE of 0", f(8, 0, 0, &0u32.to_be_bytes())),
        ("WINDOW_UPDATE of 0 on an idle stream", f(8, 0, 1, &0u32.to_be_bytes())),
        ("WINDOW_UPDATE on an idle stream", f(8, 0, 7, &1u32.to_be_bytes())),
        ("WINDOW_UPDATE over 2^31-1", f(8, 0, 0, &0x7fff_ffffu32.to_be_bytes())),
        ("WINDOW_UPDATE of 3 bytes", f(8, 0, 0, &[0, 0, 1])),
        ("HEADERS on an even stream", get(2)),
        ("HEADERS on stream 0", get(0)),
        ("HEADERS on a closed stream", [get(3), get(1)].concat()),
        ("HEADERS on itself dependent", f(1, 0x25, 1, &[[0, 0, 0, 1, 16].as_slice(), &block(GET)].concat())),
        ("HEADERS padded and with priority", f(1, 0x2d, 1, &[[2, 0, 0, 0, 0, 16].as_slice(), &block(GET), &[0, 0]].concat())),
        ("HEADERS with a pad too long", f(1, 0x0d, 1, &[200, 0x82])),
        ("HEADERS empty", f(1, 0x5, 1, &[])),
        ("HEADERS, then CONTINUATION", [f(1, 0x1, 1, &block(&GET[..2])), f(9, 0x4, 1, &block(&GET[2..]))].concat()),
        ("HEADERS, then PING", [f(1, 0x1, 1, &block(&GET[..2])), f(6, 0, 0, b"12345678")].concat()),
        ("CONTINUATION alone", f(9, 0x4, 1, &block(GET))),
        ("DATA on stream 0", f(0, 1, 0, b"x")),
        ("DATA on an idle stream", f(0, 1, 1, b"x")),
        ("DATA padded, empty", f(0, 0x9, 1, &[])),
        ("DATA with a pad too long", [get(1), f(0, 0x9, 1, &[5, 1])].concat()),
        ("DATA after END_STREAM", [get(1), f(0, 1, 1, b"x")].concat()),
        ("a POST with a body", post(b"user=a&pass=b", true)),
        ("a POST whose body never ends", post(b"user=a", false)),
        ("RST_STREAM on an idle stream", f(3, 0, 1, &8u32.to_be_bytes())),
        ("RST_STREAM of 3 bytes", f(3, 0, 1, &[0, 0, 8])),
        ("RST_STREAM on stream 0", f(3, 0, 0, &8u32.to_be_bytes())),
        ("PRIORITY of 4 bytes", f(2, 0, 1, &[0, 0, 0, 0])),
        ("PRIORITY on stream 0", f(2, 0, 0, &[0, 0, 0, 3, 16])),
        ("PRIORITY on an idle stream", [f(2, 0, 5, &[0, 0, 0, 0, 16]), get(1)].concat()),
        ("PUSH_PROMISE", f(5, 4, 1, &[0, 0, 0, 2, 0x82])),
        ("GOAWAY, then a GET", [f(7, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]), get(1)].concat()),
        ("GOAWAY of 7 bytes", f(7, 0, 0, &[0; 7])),
        ("an unknown frame type", [f(0x20, 0xff, 1, b"anything"), get(1)].concat()),
        ("an index past the tables", f(1, 0x5, 1, &[0x82, 0x87, 0x84, 0xff, 0x10])),
        ("an index of 0", f(1, 0x5, 1, &[0x80])),
        ("a block ending inside a field", f(1, 0x5, 1, &[0x40])),
        ("a table size over 4096", f(1, 0x5, 1, &[0x3f, 0xe2, 0x1f])),
        ("a header in upper case", with(&[("X-Up", "1")])),
        ("a header with an underscore", with(&[("x_y", "1")])),
        ("a value with a line break", with(&[("x", "a\nb")])),
        ("an unknown pseudo-header", with(&[(":foo", "1")])),
        ("a second :path", with(&[(":path", "/x")])),
        ("Host beside :authority", with(&[("host", "x")])),
        ("no :authority", f(1, 0x5, 1, &block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]))),
        ("connection and te: gzip", with(&[("connection", "close"), ("te", "gzip")])),
        ("transfer-encoding: gzip", with(&[("transfer-encoding", "gzip")])),
        ("a content-length on an ended stream", with(&[("content-length", "3")])),
        ("a lower-case method", f(1, 0x5, 1, &block(&[(":method", "get"), (":scheme", "https"), (":authority", "localhost"), (":path", "/")]))),
        ("a path of *", f(1, 0x5, 1, &block(&[(":method", "OPTIONS"), (":scheme", "https"), (":authority", "localhost"), (":path", "*")]))),
        ("a path above the root", f(1, 0x5, 1, &block(&[(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", "/../x")]))),
        ("a CONTINUATION flood", {
            let field = block(&[("x-flood", &"a".repeat(100))]);
            let mut out = f(1, 0x1, 1, &block(GET));
            for _ in 0..450 {
                out.extend(f(9, 0, 1, &field));
            }
            out
        }),
        ("an HPACK bomb", {
            // One 4,000-byte entry in the dynamic table, then referred to 20 times.
            let mut b = vec![0x40, 0x01, b'x', 0x7f];
            b.extend(hpack_int(4000 - 127));
            b.extend(std::iter::repeat_n(b'a', 4000));
            b.extend(std::iter::repeat_n(0xbe, 20));
            [f(1, 0x5, 1, &[block(GET), b].concat())].concat()
        }),
        ("an unknown method", f(1, 0x5, 1, &block(&[(":method", "FOO"), (":scheme", "https"), (":authority", "localhost"), (":path", "/")]))),
    ];
    // Sixteen at a time, well inside the decoy's connections per source.
    let outcomes: Vec<(String, Vec<String>, Vec<String>)> = cases
        .chunks(16)
        .flat_map(|chunk| {
            std::thread::scope(|s| {
                let handles: Vec<_> =
                    chunk.iter().map(|(name, frames)| s.spawn(move || (name.to_string(), exchange(decoy, frames), exchange(real, frames)))).collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
            })
        })
        .collect();
    // What nginx does in a few of them, so that the comparison cannot pass vacuously.
    let expect = [
        ("a CONTINUATION flood", "GOAWAY flags=0x00 stream=0 len=8 000000010000000b"),
        ("an HPACK bomb", "GOAWAY flags=0x00 stream=0 len=8 000000010000000b"),
        ("a header in upper case", "RST_STREAM flags=0x00 stream=1 len=4 00000001"),
        ("a POST whose body never ends", "RST_STREAM flags=0x00 stream=1 len=4 00000000"),
        ("PING", "PING flags=0x01 stream=0 len=8 3132333435363738"),
    ];
    for (case, line) in expect {
        let theirs = &outcomes.iter().find(|(name, _, _)| name == case).unwrap().2;
        assert!(theirs.iter().any(|l| l == line), "{case}: {theirs:#?}");
    }
    let mut differences = Vec::new();
    for (name, ours, theirs) in &outcomes {
        assert!(theirs[0].starts_with("SETTINGS flags=0x00 stream=0 len=18"), "{name}: {theirs:#?}");
        if ours != theirs {
            differences.push(format!("{name}:\n  nginx {theirs:#?}\n  decoy {ours:#?}"));
        }
    }
    assert!(differences.is_empty(), "{} of {} cases differ:\n{}", differences.len(), cases.len(), differences.join("\n"));

    // Every answered stream is stored once (a request, or the raw header block of one
    // refused with a 400/501 page), and so is each of the two streams reset unanswered.
    let answered: usize = outcomes.iter().map(|(_, ours, _)| ours.iter().filter(|l| l.starts_with("HEADERS")).count()).sum();
    let reset = outcomes.iter().filter(|(_, ours, _)| ours.iter().any(|l| l.starts_with("RST_STREAM") && l.ends_with("00000001"))).count();
    assert_eq!(reset, 2);
    let db = hw.store();
    let stored = || count_kind(&db, "http_request") + count_kind(&db, "data_received");
    assert!(eventually(10, || stored() == (answered + reset) as i64), "{} stored, {answered} answered and {reset} reset", stored());
    let posts: Vec<serde_json::Value> = bodies(&db, "http_request").into_iter().filter(|e| e["details"]["method"]["text"] == "POST").collect();
    assert_eq!(posts.len(), 2, "both POSTs stored");
    let mut sizes: Vec<u64> = posts.iter().map(|e| e["details"]["body_bytes"].as_u64().unwrap_or(0)).collect();
    sizes.sort();
    assert_eq!(sizes, [6, 13], "with their bodies, the one that never ended too: {posts:#?}");
}
