//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz): every parser that reads
//! attacker bytes, the configuration loader, and the encoders (round trip). Each
//! takes arbitrary bytes and must never panic; the encoders also check that what they
//! wrote reads back as exactly one record carrying the event's id.
// Fuzz entry points: a panic in their set-up is a finding for the fuzzer, not a
// decoy going down, so they may expect.
#![allow(clippy::expect_used)]

mod clinical;
mod stored;

pub use clinical::{fhir_search, hl7_message, mllp};
pub use stored::event_json;

use crate::event::{AttackerBytes, Event, EventId, EventKind, SshAuthMethod, Timestamp};
use crate::store::StoredEvent;

/// One DICOM PDU read off the wire (length checked before the body, then decoded).
pub fn dicom_pdu(bytes: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    runtime.block_on(async {
        let mut io = bytes;
        let mut buf = bytes::BytesMut::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        let _ = crate::decoy::dicom::pdu::read(&mut io, &mut buf, 16_384, deadline).await;
    });
}

/// A DIMSE command set.
pub fn dimse_command(bytes: &[u8]) {
    let _ = crate::decoy::dicom::dimse::decode(bytes);
}

/// The SSH client's identification and KEXINIT (HASSH).
pub fn ssh_client_hello(bytes: &[u8]) {
    let _ = crate::decoy::ssh::client_hello::parse(bytes);
}

/// The SSH transport's packet decoder over bytes as they arrive: unencrypted, and
/// with a cipher and MAC chosen by the first byte (keys fixed), the rest fed in two
/// pieces; then the identification-line rules of both families.
pub fn ssh_packet(bytes: &[u8]) {
    use crate::decoy::ssh::transport::{algorithms::*, kexinit::Direction, packet::*, version};
    let (choice, rest) = bytes.split_first().unwrap_or((&0, &[]));
    let ciphers = Cipher::ALL;
    let cipher = ciphers[usize::from(*choice) % ciphers.len()];
    let mac = if cipher.is_aead() { None } else { Some(Mac::ALL[usize::from(*choice / 16) % Mac::ALL.len()]) };
    let compression = if choice & 1 == 1 { Compression::Zlib } else { Compression::None };
    let (key_len, iv_len, _) = cipher.sizes();
    let mac_len = mac.map_or(0, |m| m.sizes().0);
    for keyed in [false, true] {
        let mut inbound = Inbound::new();
        if keyed {
            let dir = Direction { cipher, mac, compression };
            inbound.rekey(DirectionKeys::new(&dir, false, &vec![1; iv_len], &vec![2; key_len], &vec![3; mac_len]), false);
        }
        let (a, b) = rest.split_at(rest.len() / 2);
        let mut buf = bytes::BytesMut::new();
        for part in [a, b] {
            buf.extend_from_slice(part);
            while let Ok(Some(payload)) = inbound.open(&mut buf) {
                assert!(payload.len() <= MAX_PACKET as usize);
            }
        }
    }
    let _ = version::openssh_line(bytes);
    let _ = version::dropbear_line(bytes);
}

/// A client KEXINIT, negotiated against every built-in personality.
pub fn ssh_kexinit(bytes: &[u8]) {
    use crate::decoy::ssh::transport::kexinit::{negotiate, ClientKexInit};
    static PROPOSALS: std::sync::OnceLock<Vec<crate::decoy::ssh::transport::kexinit::Proposal>> = std::sync::OnceLock::new();
    let proposals = PROPOSALS.get_or_init(|| {
        crate::decoy::ssh::BUILT_IN_PERSONALITIES
            .iter()
            .filter_map(|(name, _)| crate::decoy::ssh::SshPersonality::built_in(name)?.ok())
            .map(|p| p.profile.proposal.clone())
            .collect()
    });
    if let Ok(client) = ClientKexInit::parse(bytes) {
        let _ = client.hassh_input();
        for proposal in proposals {
            for first in [true, false] {
                let _ = negotiate(proposal, &client, first);
            }
        }
    }
}

/// A client's key-exchange message(s), answered by the server side of the method the
/// first byte picks (group exchange takes two messages: the input split in half).
pub fn ssh_kex_reply(bytes: &[u8]) {
    use crate::decoy::ssh::transport::{algorithms::*, hostkey::HostKey, kex::*};
    static HOST: std::sync::OnceLock<HostKey> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        let key = ssh_key::PrivateKey::random(&mut rand::rng(), ssh_key::Algorithm::Ed25519).expect("key");
        HostKey::from_private(&key).expect("host key")
    });
    let (choice, rest) = bytes.split_first().unwrap_or((&0, &[]));
    let kex = Kex::ALL[usize::from(*choice) % Kex::ALL.len()];
    let moduli = dh::Moduli::default();
    let transcript = Transcript { v_c: b"SSH-2.0-x", v_s: b"SSH-2.0-y", i_c: b"c", i_s: b"s" };
    let mut server = ServerKex::new(kex, HostKeyAlg::Ed25519, 256);
    let (a, b) = rest.split_at(rest.len() / 2);
    for part in [a, b] {
        match server.step(part, &transcript, host, &moduli) {
            Ok(Step::Send(_)) => continue,
            Ok(Step::Done(f)) => {
                assert!(!f.h.is_empty() && !f.k.is_empty());
                break;
            }
            Err(_) => break,
        }
    }
}

/// A USERAUTH_REQUEST judged by both families, and a public key's fingerprint and
/// signature check on what it carries.
pub fn ssh_userauth(bytes: &[u8]) {
    use crate::decoy::ssh::auth::{parse, Acceptance, AuthState, Method};
    use crate::decoy::ssh::transport::version::Family;
    let Ok(req) = parse(bytes) else { return };
    for family in [Family::Openssh, Family::Dropbear] {
        let mut state = AuthState::new(family, 6, true);
        for acceptance in [Acceptance::No, Acceptance::KeyOk, Acceptance::Yes, Acceptance::No] {
            let _ = state.judge(&req, acceptance);
        }
    }
    if let Method::Publickey { algorithm, blob, hostbound, signature } = &req.method {
        let _ = crate::decoy::ssh::userkey::fingerprint(blob);
        if let Some(sig) = signature {
            let _ = crate::decoy::ssh::userkey::verify(b"session", &req, algorithm, blob, *hostbound, sig);
        }
    }
}

/// A TLS client's ALPN list; an HTTP/1 request head, then the credentials in it (basic,
/// bearer, SigV4, forms).
pub fn http_request(bytes: &[u8]) {
    use crate::decoy::http::static_file::{decide, multipart, Conditions, Outcome, Validators};
    // The HTTPS decoys read the client's ALPN list before any request: what they pick
    // is one of their own protocols.
    let (limits, alpn) = nginx_default();
    let picked = crate::decoy::http::tls::alpn_select(alpn, bytes);
    assert!(picked.is_none_or(|p| [&b"h2"[..], b"http/1.1", b"http/1.0", b"http/0.9"].contains(&p)));
    // The head scanner with nginx-default's limits (refusing a bad method byte at
    // once), fed all at once and then byte by byte: both ways give the same verdict.
    let whole = crate::decoy::http::h1::HeadScan::default().advance(bytes, limits);
    let mut scan = crate::decoy::http::h1::HeadScan::default();
    let piecewise = (1..=bytes.len()).find_map(|n| scan.advance(&bytes[..n], limits));
    assert_eq!(whole, piecewise);
    if let Ok((request, _)) = crate::decoy::http::h1::parse_head(bytes, 100) {
        let _ = crate::decoy::http::request::credential(&request);
        let _ = crate::decoy::http::request::headers(&request);
        let _ = crate::decoy::http::request::form_login(bytes, "username", "password");
        // What nginx-default reads of a static page's request: the path it routes,
        // Accept-Encoding, conditions and ranges (over a file whose length comes from
        // the input); every part it answers lies inside the file.
        if let Some(path) = crate::decoy::http::request::normalise_path(request.path()) {
            assert!(path.starts_with(b"/") && !path.windows(4).any(|w| w == b"/../"));
        }
        let _ = request.header("accept-encoding").map(crate::decoy::http::gzip::accepted);
        let len = u64::from(bytes.first().copied().unwrap_or(0)) * 7;
        let c = Conditions {
            if_match: request.header("if-match"),
            if_unmodified_since: request.header("if-unmodified-since"),
            if_none_match: request.header("if-none-match"),
            if_modified_since: request.header("if-modified-since"),
            if_range: request.header("if-range"),
            range: request.header("range"),
        };
        if let Outcome::Partial(parts) = decide(&c, &Validators { etag: "\"6b13d9d8-267\"", modified_unix: 1_796_463_064 }, len) {
            assert!(parts.iter().all(|&(start, end)| start < end && end <= len));
            let body = vec![b'x'; len as usize];
            let _ = multipart("00000000000000000001", "text/html", &body, &parts);
        }
        // ehr-login's application: the session cookie, the form's token and username.
        let mut posted = request.clone();
        posted.body.kept = bytes.to_vec();
        let portal = portal();
        let _ = portal.render(&posted, "{csrf}{message}", None);
        let _ = portal.attempt(&posted, request.header("user-agent").unwrap_or_default(), std::net::Ipv4Addr::LOCALHOST.into());
        // pacs-viewer's REST API on the path and query as sent.
        let target = String::from_utf8_lossy(&request.target);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (orthanc, tokens) = orthanc();
        let _ = orthanc.allowed(tokens, path);
        let _ = orthanc.answer(tokens, path, query, Some("pacs"));
    }
}

/// The h2 connection (frames, HPACK, flow control) over bytes as they arrive: after
/// the client preface (unless the first byte says otherwise) the input is fed in pieces
/// whose sizes come from the input; each request is answered with a body whose length
/// comes from the input. What the decoy writes must be well-formed frames, and no body
/// handed out may pass the cap. Then the HPACK decoder alone, and the encoder's output
/// read back.
pub fn h2_connection(bytes: &[u8]) {
    use crate::decoy::http::h2::conn::{Conn, Limits, Ready};
    use crate::decoy::http::h2::{frame, hpack};
    let (first, rest) = bytes.split_first().unwrap_or((&0, &[]));
    let limits = Limits { max_field_bytes: 8192, max_list_bytes: 32_768, max_body_bytes: 4096, body_kept: 1024 };
    let mut conn = Conn::new(limits);
    let mut input = Vec::with_capacity(rest.len() + frame::PREFACE.len());
    if first & 1 == 0 {
        input.extend_from_slice(frame::PREFACE);
    }
    input.extend_from_slice(rest);
    let step = usize::from(first >> 1).max(1);
    let mut buf = bytes::BytesMut::new();
    let mut ready = Vec::new();
    let mut out = Vec::new();
    let reads_body = |target: &[u8]| target.len() % 2 == 0;
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        let failed = conn.receive(&mut buf, &mut ready, &reads_body).is_err();
        for r in ready.drain(..) {
            if let Ready::Request(id, req) = r {
                assert!(req.body.bytes <= limits.max_body_bytes);
                let response = crate::decoy::http::message::Response {
                    status: 200 + u16::from(*first % 5),
                    reason: "OK".into(),
                    headers: vec![("Server".into(), "nginx".into()), ("X-Len".into(), req.target.len().to_string())],
                    body: bytes::Bytes::from(vec![b'x'; usize::from(*first) * 97]),
                    head_only: false,
                    close: false,
                    raw: None,
                };
                conn.answer(id, &response);
            }
        }
        if failed {
            conn.queue_goaway();
        }
        out.append(&mut conn.out);
        if failed {
            break;
        }
    }
    let mut written = &out[..];
    while !written.is_empty() {
        let head = frame::Head::parse(written).expect("whole frames only");
        written = written.get(frame::HEADER_BYTES + head.length..).expect("whole frames only");
    }
    let _ = hpack::Decoder::new(8192, 32_768).decode(bytes);
    let text = String::from_utf8_lossy(rest);
    let headers = vec![("x-fuzz".to_string(), text.to_string()), ("Date".to_string(), text.to_string())];
    let block = hpack::encode_response(200, &headers, true);
    assert!(hpack::Decoder::new(usize::MAX, usize::MAX).decode(&block).is_ok());
}

/// NTLMSSP as a Windows decoy reads it: NEGOTIATE, AUTHENTICATE, the AV pairs of a
/// CHALLENGE answered to the input's flags and of the client's NTLMv2 blob, and the
/// NTLMv2 check and hashcat line over whatever response the input holds; and as the
/// poisoner canary reads a poisoner's CHALLENGE and answers it.
pub fn ntlmssp(bytes: &[u8]) {
    use crate::decoy::ntlm::{message, v2};
    if let Ok(n) = message::parse_negotiate(bytes) {
        let host = message::Host {
            target: message::Target::Domain,
            netbios_computer: n.workstation.clone(),
            netbios_domain: n.domain.clone(),
            dns_computer: String::new(),
            dns_domain: String::new(),
            dns_tree: String::new(),
            version: message::Version { major: 10, minor: 0, build: 17763, ntlm_revision: 15 },
        };
        let c = message::challenge(message::windows_flags(n.flags, message::Target::Domain), [0; 8], &host, 0);
        assert!(message::av_pairs(&c).len() <= c.len() / 4);
    }
    let _ = message::av_pairs(bytes);
    // The poisoner canary reads a poisoner's CHALLENGE and answers it.
    if let Ok(ch) = crate::decoy::ntlm::client::parse_challenge(bytes) {
        let auth = crate::decoy::ntlm::client::authenticate(&ch, &[1; 16], "svc_backup", "NHSTRUST", "PACS-BACKUP02", [2; 8], 0);
        assert!(message::parse_authenticate(&auth).is_ok(), "what the canary sends parses");
    }
    if let Ok(a) = message::parse_authenticate(bytes) {
        let _ = v2::verify(&v2::nt_hash("x"), &a.user, &a.domain, &[0; 8], &a.nt_response);
        let _ = v2::hashcat_5600(&a.user, &a.domain, &[0; 8], &a.nt_response);
        let _ = v2::blob_time_and_challenge(&a.nt_response);
        let _ = a.nt_response.get(44..).map(message::av_pairs);
    }
}

/// A client's side of an SMB connection, framed as on port 445 (4-byte NetBIOS header,
/// then the message), fed message by message to a connection of one of the built-in
/// personalities (the first byte chooses: Windows Server 2022, Samba, or Windows 7
/// with SMB1); every AUTHENTICATE is answered and described as the decoy does.
pub fn smb_connection(bytes: &[u8]) {
    use crate::decoy::smb::{conn, step, wire, SmbPersonality, BUILT_IN_PERSONALITIES};
    static PERSONALITIES: std::sync::OnceLock<Vec<std::sync::Arc<SmbPersonality>>> = std::sync::OnceLock::new();
    let all = PERSONALITIES.get_or_init(|| {
        [1, 2, 3].iter().map(|&i| std::sync::Arc::new(SmbPersonality::parse(BUILT_IN_PERSONALITIES[i].1).expect("built-in personalities parse"))).collect()
    });
    let Some((&choice, bytes)) = bytes.split_first() else { return };
    let p = &all[usize::from(choice) % all.len()];
    let host = crate::decoy::ntlm::Host {
        target: crate::decoy::ntlm::Target::Domain,
        netbios_computer: "FS01".into(),
        netbios_domain: "TRUST".into(),
        dns_computer: "fs01.trust.local".into(),
        dns_domain: "trust.local".into(),
        dns_tree: "trust.local".into(),
        version: crate::decoy::ntlm::Version { major: 10, minor: 0, build: 20348, ntlm_revision: 15 },
    };
    let mut c = conn::SmbConn::new(std::sync::Arc::clone(p), std::sync::Arc::new(host), [7; 16], 0);
    let entry =
        |path: &str, data: &[u8]| crate::decoy::smb::share::Entry { path: path.split('/').map(String::from).collect(), data: data.into(), patient: None };
    let source = crate::decoy::smb::share::ShareSource {
        name: "Radiology".into(),
        entries: vec![entry("Reports/q3.csv", b"a,b\n"), entry("x.txt", &[7; 70_000])],
        patients: false,
    };
    let view = std::sync::Arc::new(crate::decoy::smb::share::View::new(&[source], &[], 133_000_000_000_000_000));
    // The session id the decoy last handed out (a SESSION_SETUP answer's).
    let mut session: Option<u64> = None;
    let mut rest = bytes;
    while let Some(head) = rest.get(..4) {
        let (_, len) = wire::frame_header([head[0], head[1], head[2], head[3]]);
        let Some(message) = rest.get(4..4 + len) else { break };
        rest = &rest[4 + len..];
        // Session ids are random: a message naming session 1 is put in the last one made.
        let mut message = message.to_vec();
        if let (Some(id), Some(field)) = (session, message.get_mut(40..48)) {
            if field == &1u64.to_le_bytes()[..] {
                field.copy_from_slice(&id.to_le_bytes());
            }
        }
        for step in c.on_message(&message) {
            match step {
                step::Step::Login(login) => {
                    let attempt = crate::decoy::ntlm::login::Attempt { auth: &login.auth, server_challenge: login.server_challenge };
                    let _ = attempt.event("smb", String::new(), false);
                    // Half the inputs are let in, so the honey share's commands are fuzzed too.
                    let reply = if choice & 0x80 != 0 { c.accept_login(&login, &[9; 16], std::sync::Arc::clone(&view)) } else { c.answer_login(&login).0 };
                    assert!(wire::Header::read(&reply).is_some(), "every answer is an SMB2 message");
                }
                step::Step::Touch { kind, .. } => assert_eq!(kind.name(), "smb_file"),
                step::Step::Login1(l) => {
                    let (auth, _, how) = *l;
                    let _ = c.answer_login1(&auth, &how);
                }
                step::Step::Quarantine { data, .. } => assert!(data.len() <= 1 << 20),
                step::Step::Send(reply) => {
                    assert!(!reply.is_empty());
                    if reply.get(12..14) == Some(&[1, 0][..]) {
                        session = reply.get(40..48).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).filter(|&id| id != 0).or(session);
                    }
                }
                step::Step::Emit(_) => {}
                step::Step::Close => return,
            }
        }
    }
}

/// What an RDP client sends before TLS and inside it: an X.224 Connection Request
/// (TPKT framed) and a CredSSP TSRequest (with the NTLMSSP message in it).
pub fn rdp(bytes: &[u8]) {
    use crate::decoy::rdp::{credssp, x224};
    if let Some(head) = bytes.get(..4) {
        let _ = x224::tpkt_length([head[0], head[1], head[2], head[3]]);
    }
    if let Ok(cr) = x224::parse_connection_request(bytes) {
        assert!(cr.cookie.is_none_or(|c| c.len() <= x224::MAX_COOKIE));
    }
    let _ = credssp::element_length(bytes);
    if let Ok(t) = credssp::parse(bytes) {
        if let Some(m) = t.nego_token.and_then(crate::decoy::ntlm::spnego::ntlmssp) {
            let _ = crate::decoy::ntlm::parse_negotiate(m);
            let _ = crate::decoy::ntlm::parse_authenticate(m);
        }
    }
}

/// An answer to the poisoner canary's questions, read as each protocol (LLMNR, NBT-NS,
/// mDNS) would read it.
pub fn poison_answer(bytes: &[u8]) {
    use crate::decoy::poison::wire::{parse_response, Protocol};
    for p in [Protocol::Llmnr, Protocol::Nbns, Protocol::Mdns] {
        if let Some(a) = parse_response(p, bytes) {
            assert!(a.addresses.len() <= 16);
        }
    }
}

/// A SPNEGO token as the SMB and RDP decoys read one, and the NTLMSSP message in it.
pub fn spnego(bytes: &[u8]) {
    use crate::decoy::ntlm::spnego;
    if let Ok(t) = spnego::parse(bytes) {
        assert!(t.mech_types.len() <= 32);
    }
    let _ = spnego::ntlmssp(bytes);
}

/// What a client writes to the srvsvc pipe (DCE/RPC binds and requests, in as many
/// writes as the first byte says): every answer is whole PDUs, within the cap.
pub fn srvsvc(bytes: &[u8]) {
    use crate::decoy::smb::srvsvc::{Pipe, ShareEntry};
    let shares = [ShareEntry { name: "Radiology".into(), kind: 0, remark: "scans".into() }];
    let Some((&pieces, rest)) = bytes.split_first() else { return };
    let mut pipe = Pipe::default();
    let step = rest.len() / usize::from(pieces.clamp(1, 8)) + 1;
    for chunk in rest.chunks(step) {
        if pipe.write(chunk, &shares).is_err() {
            return;
        }
    }
    let out = pipe.read(usize::MAX);
    let mut at = 0;
    while at < out.len() {
        let len = out.get(at + 8..at + 10).map_or(0, |l| usize::from(u16::from_le_bytes([l[0], l[1]])));
        assert!(len >= 16 && at + len <= out.len(), "answers are whole PDUs");
        at += len;
    }
}

/// nginx-default's HTTP/1 limits and its ALPN list, as a decoy with default limits
/// gets them.
fn nginx_default() -> &'static (crate::decoy::http::h1::H1Limits, Vec<u8>) {
    static NGINX: std::sync::OnceLock<(crate::decoy::http::h1::H1Limits, Vec<u8>)> = std::sync::OnceLock::new();
    NGINX.get_or_init(|| {
        let p = crate::decoy::http::HttpPersonality::built_in("nginx-default").and_then(Result::ok).expect("nginx-default parses");
        let alpn = p.tls.alpn_wire(p.http2);
        let rt = crate::decoy::http::HttpRuntime::new(std::sync::Arc::new(p));
        let limits = crate::config::ConnectionLimits {
            max_connections: 1,
            max_connections_per_source: 1,
            idle_timeout: std::time::Duration::from_secs(30),
            idle_timeout_set: false,
            session_timeout: std::time::Duration::from_secs(300),
            max_session_bytes: 1 << 20,
        };
        (rt.h1_limits(&limits), alpn)
    })
}

fn portal() -> &'static crate::decoy::http::portal::Portal {
    static PORTAL: std::sync::OnceLock<crate::decoy::http::portal::Portal> = std::sync::OnceLock::new();
    PORTAL.get_or_init(|| {
        let p = crate::decoy::http::HttpPersonality::built_in("ehr-login").and_then(Result::ok).and_then(|p| p.portal);
        crate::decoy::http::portal::Portal::new(p.unwrap_or_else(|| unreachable!("ehr-login has a portal")))
    })
}

/// pacs-viewer's REST API over a small cohort, and a matcher kept across inputs (the
/// catalogue is rebuilt only when the matcher's patients change).
fn orthanc() -> &'static (crate::decoy::http::orthanc::Orthanc, crate::token::Matcher) {
    static ORTHANC: std::sync::OnceLock<(crate::decoy::http::orthanc::Orthanc, crate::token::Matcher)> = std::sync::OnceLock::new();
    ORTHANC.get_or_init(|| {
        let system = crate::decoy::http::orthanc::System { name: "PACS".into(), dicom_aet: "ORTHANC".into(), dicom_port: 4242, http_port: 8042 };
        let orthanc =
            crate::decoy::http::orthanc::Orthanc::new(std::sync::Arc::new(crate::decoy::Cohort::new(3, crate::token::clinical::Site::default())), system);
        (orthanc, crate::token::Matcher::empty())
    })
}

/// What a browser sends the console in a passkey ceremony: CBOR (attestation object,
/// COSE key), client data JSON, authenticator data and a signature, all attacker's.
pub fn webauthn(bytes: &[u8]) {
    use crate::console::webauthn::{verify_assertion, verify_registration, Assertion, RelyingParty, StoredKey, ES256, RS256};
    let _ = crate::console::cbor::decode(bytes);
    let rp = RelyingParty { id: "localhost".into(), origin: "http://localhost:9080".into() };
    let third = bytes.len() / 3;
    let (a, rest) = bytes.split_at(third);
    let (b, c) = rest.split_at(third);
    let _ = verify_registration(&rp, b"challenge", a, b);
    let _ =
        verify_registration(&rp, b"challenge", b"{\"type\":\"webauthn.create\",\"challenge\":\"Y2hhbGxlbmdl\",\"origin\":\"http://localhost:9080\"}", bytes);
    let answer = Assertion { client_data_json: a, authenticator_data: b, signature: c };
    let _ = verify_assertion(&rp, b"challenge", &answer, &StoredKey { algorithm: ES256, public_key: &[4; 65], sign_count: 0 });
    let _ = verify_assertion(&rp, b"challenge", &answer, &StoredKey { algorithm: RS256, public_key: c, sign_count: 0 });
}

/// The configuration loader.
pub fn config(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = crate::config::parse_str("fuzz.yaml", text);
    }
}

/// Every encoder over an event whose attacker fields are `bytes`: one line each, the
/// event id readable back, JSON formats parse.
pub fn encoders(bytes: &[u8]) {
    use crate::config::EventFormat;
    let split = bytes.len() / 2;
    let stored = StoredEvent {
        seq: 1,
        event: Event {
            claimed_time: None,
            id: EventId::new(),
            time: Timestamp::from_micros(1_795_883_913_123_456),
            sensor: "fuzz".into(),
            decoy: Some("ssh".into()),
            source: Some("203.0.113.9:40022".parse().expect("addr")),
            destination: None,
            session: None,
            kind: EventKind::SshAuth {
                method: SshAuthMethod::Password,
                username: AttackerBytes::new(bytes[..split].to_vec()),
                password: Some(AttackerBytes::new(bytes[split..].to_vec())),
                key_fingerprint: None,
                key_algorithm: None,
                accepted: false,
                methods_tried: None,
            },
            token: None,
        },
    };
    for format in [EventFormat::Json, EventFormat::Rfc5424, EventFormat::Cef, EventFormat::Leef, EventFormat::Ecs, EventFormat::Ocsf] {
        let mut out = Vec::new();
        crate::sink::format::encode_line(format, &stored, &mut out);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "{format:?}: one line");
        let line = &out[..out.len() - 1];
        assert_eq!(crate::sink::format::event_id_in_line(line), Some(stored.event.id), "{format:?}: id reads back");
        if matches!(format, EventFormat::Json | EventFormat::Ecs | EventFormat::Ocsf) {
            let v: serde_json::Value = serde_json::from_slice(line).expect("valid JSON");
            assert!(v.is_object());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_entry_point_takes_garbage() {
        for input in [
            &b""[..],
            b"\x01\x00\x00\x00\x00\x44",
            b"SSH-2.0-x\r\n\0\0\0\x10",
            b"GET / HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n",
            b"decoys: [1",
            b"\xff\xfe\"]\\\n\x1b",
        ] {
            super::dicom_pdu(input);
            super::dimse_command(input);
            super::ssh_client_hello(input);
            super::ssh_packet(input);
            super::ssh_kexinit(input);
            super::ssh_kex_reply(input);
            super::ssh_userauth(input);
            super::http_request(input);
            super::config(input);
            super::encoders(input);
            super::webauthn(input);
        }
    }
}
