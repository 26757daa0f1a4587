//! The connection driven by hand: flow control, stream limits, floods.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::decoy::http::message::Response;

const LIMITS: Limits = Limits { max_field_bytes: 8192, max_list_bytes: 32_768, max_body_bytes: 1 << 20, body_kept: 1024 };

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    out.extend([kind, flags]);
    out.extend(stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// GET / as literals without indexing.
fn get(stream: u32, end_stream: bool) -> Vec<u8> {
    let mut block = Vec::new();
    for (n, v) in [(":method", "GET"), (":scheme", "https"), (":authority", "a"), (":path", "/")] {
        block.extend([0, n.len() as u8]);
        block.extend(n.as_bytes());
        block.push(v.len() as u8);
        block.extend(v.as_bytes());
    }
    frame(1, if end_stream { 0x5 } else { 0x4 }, stream, &block)
}

/// Feeds `bytes` (after the preface); returns the requests handed out.
fn feed(conn: &mut Conn, bytes: &[u8]) -> (Vec<Ready>, Result<(), Closed>) {
    let mut buf = BytesMut::from(bytes);
    let mut ready = Vec::new();
    let result = conn.receive(&mut buf, &mut ready, &|_| false);
    (ready, result)
}

fn opened() -> Conn {
    let mut conn = Conn::new(LIMITS);
    let (_, result) = feed(&mut conn, frame::PREFACE);
    assert!(result.is_ok());
    conn.out.clear();
    conn
}

/// The frames in `out` as (type, flags, stream, length).
fn frames(out: &[u8]) -> Vec<(u8, u8, u32, usize)> {
    let mut rest = out;
    let mut v = Vec::new();
    while let Some(h) = Head::parse(rest) {
        v.push((rest[3], h.flags, h.stream, h.length));
        rest = &rest[frame::HEADER_BYTES + h.length..];
    }
    v
}

fn ok_with(body_bytes: usize) -> Response {
    Response {
        status: 200,
        reason: "OK".into(),
        headers: vec![("Server".into(), "nginx".into())],
        body: Bytes::from(vec![b'x'; body_bytes]),
        head_only: false,
        close: false,
        raw: None,
    }
}

#[test]
fn a_body_waits_for_the_peers_window_and_goes_in_8k_chunks() {
    let mut conn = opened();
    let mut settings = frame(4, 0, 0, &[0, 4, 0, 0, 0x27, 0x10]); // INITIAL_WINDOW_SIZE 10000
    settings.extend(get(1, true));
    let (ready, _) = feed(&mut conn, &settings);
    assert_eq!(ready.len(), 1);
    conn.out.clear();
    conn.answer(1, &ok_with(20_000));
    assert_eq!(frames(&conn.out)[1..], [(0, 0, 1, 8192), (0, 0, 1, 1808)]);
    assert!(conn.blocked());
    conn.out.clear();
    feed(&mut conn, &frame(8, 0, 1, &20_000u32.to_be_bytes())).1.unwrap();
    assert_eq!(frames(&conn.out), [(0, 0, 1, 8192), (0, 1, 1, 1808)]);
    assert!(conn.idle() && !conn.blocked());
}

#[test]
fn the_129th_open_stream_is_refused() {
    let mut conn = opened();
    let opening: Vec<u8> = (0..129u32).flat_map(|i| get(2 * i + 1, false)).collect();
    feed(&mut conn, &opening).1.unwrap();
    assert_eq!(frames(&conn.out).last(), Some(&(3, 0, 257, 4)));
    assert_eq!(&conn.out[conn.out.len() - 4..], &[0, 0, 0, 7], "REFUSED_STREAM");
    assert_eq!(conn.streams.len(), 128);
}

#[test]
fn the_1000th_request_says_goaway_and_later_ones_are_ignored() {
    let mut conn = opened();
    for i in 0..1000u32 {
        let (ready, result) = feed(&mut conn, &get(2 * i + 1, true));
        result.unwrap();
        assert_eq!(ready.len(), 1);
        conn.answer(2 * i + 1, &ok_with(0));
    }
    assert!(conn.going_away());
    let goaway = frames(&conn.out).into_iter().filter(|f| f.0 == 7).count();
    assert_eq!(goaway, 1);
    let (ready, result) = feed(&mut conn, &get(2001, true));
    assert!(ready.is_empty() && result.is_ok());
}

#[test]
fn a_flood_of_frames_without_payload_gets_goaway() {
    let mut conn = opened();
    // Unknown settings: 16 KiB frames that carry nothing, 8 MiB of them.
    let flood = frame(4, 0, 0, &[0x77u8; 6 * 2730]);
    let mut result = Ok(());
    for _ in 0..600 {
        result = feed(&mut conn, &flood).1;
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(Closed(ErrorCode::NoError)));
}

#[test]
fn a_body_nginx_would_not_read_stops_at_the_first_window() {
    let mut conn = opened();
    let mut bytes = get(1, false);
    bytes.extend(frame(0, 0, 1, &[b'a'; 16_384]));
    bytes.extend(frame(0, 0, 1, &[b'a'; 16_384]));
    bytes.extend(frame(0, 0, 1, &[b'a'; 16_384]));
    let (ready, _) = feed(&mut conn, &bytes);
    assert!(ready.is_empty());
    let (ready, _) = feed(&mut conn, &frame(0, 0, 1, &[b'a'; 16_384]));
    assert!(matches!(&ready[..], [Ready::Request(1, r)] if r.body.bytes == 65_536 && r.body.over_cap));
    // More than the window on that stream is reset.
    feed(&mut conn, &frame(0, 0, 1, b"x")).1.unwrap();
    assert_eq!(frames(&conn.out).last(), Some(&(3, 0, 1, 4)));
}
