//! The `samba-debian12` personality side by side with Debian 12's real smbd (4.17),
//! configured as a standalone server FILESRV01 that maps no one to guest: the same
//! requests go to both and the answers are compared byte for byte, with only what
//! differs per connection masked (the time, the 3.1.1 salt, session ids, the NTLM
//! challenge and its timestamp). Then smbclient, impacket and nmap's SMB scripts are
//! run against both and must print the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::{config, real_smb, Honeyward};

/// A real smbd (map to guest = never) and a samba-debian12 decoy named like it.
fn side_by_side() -> (tempfile::TempDir, common::Reaped, Honeyward, SocketAddr, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let (smbd, real) = real_smb::smbd(&dir.path().join("smbd"), "   map to guest = never\n");
    let decoy =
        "  - name: fs\n    type: smb\n    listen: 127.0.0.1:0\n    personality: samba-debian12\n    netbios_name: FILESRV01\n    dns_domain: trust.local\n";
    let hw = Honeyward::start(dir.path(), &config(decoy));
    let addr = hw.addr("fs");
    (dir, smbd, hw, real, addr)
}

fn hex(b: &[u8]) -> String {
    b.chunks(16).map(|l| l.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn frame(m: &[u8]) -> Vec<u8> {
    [&[0u8][..], &(m.len() as u32).to_be_bytes()[1..], m].concat()
}

/// Sends each message in turn on one connection and returns each answer (None when
/// the server closed instead), putting the first answer's session id into later
/// messages (as a client does between SESSION_SETUP legs).
fn exchange(addr: SocketAddr, messages: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut session = [0u8; 8];
    let mut out = Vec::new();
    for m in messages {
        let mut m = m.clone();
        if m.starts_with(b"\xfeSMB") && m[12] == 1 && m[40..48] == [0; 8] && session != [0; 8] {
            m[40..48].copy_from_slice(&session);
        }
        if s.write_all(&frame(&m)).is_err() {
            out.push(None);
            break;
        }
        let mut head = [0u8; 4];
        if s.read_exact(&mut head).is_err() {
            out.push(None);
            break;
        }
        let mut body = vec![0u8; usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3])];
        s.read_exact(&mut body).unwrap();
        if body.starts_with(b"\xfeSMB") && body[12] == 1 && body[40..48] != [0; 8] {
            session.copy_from_slice(&body[40..48]);
        }
        out.push(Some(body));
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// Blanks what differs per connection: NEGOTIATE's time and 3.1.1 salt; a session id;
/// the NTLM challenge and its timestamp.
fn mask(mut m: Vec<u8>) -> Vec<u8> {
    if !m.starts_with(b"\xfeSMB") {
        return m;
    }
    let ok = m[8..12] == [0; 4] || m[8..12] == [0x16, 0, 0, 0xc0];
    match m[12] {
        0 if ok && m.len() > 128 => {
            m[104..112].fill(0);
            let mut at = u32::from_le_bytes(m[124..128].try_into().unwrap()) as usize;
            while at != 0 && at + 8 <= m.len() {
                let (kind, len) = (u16_at(&m, at), u16_at(&m, at + 2));
                if kind == 1 {
                    m[at + 14..at + 46].fill(0);
                }
                at = (at + 8 + len + 7) & !7;
            }
        }
        1 => {
            m[40..48].fill(0);
            if let Some(n) = m.windows(8).position(|w| w == b"NTLMSSP\0") {
                m[n + 24..n + 32].fill(0);
                let (len, off) = (u16_at(&m, n + 40), u16_at(&m, n + 44));
                let mut at = n + off;
                while at + 4 <= n + off + len {
                    let (id, l) = (u16_at(&m, at), u16_at(&m, at + 2));
                    if id == 7 {
                        m[at + 4..at + 12].fill(0);
                    }
                    if id == 0 {
                        break;
                    }
                    at += 4 + l;
                }
            }
        }
        _ => {}
    }
    m
}

/// An SMB2 NEGOTIATE: message id, dialects, capabilities, the usual 3.1.1 contexts.
fn negotiate(dialects: &[u16], capabilities: u32, contexts: bool) -> Vec<u8> {
    let mut m = unhex("fe534d42 40000000 00000000 00000100 00000000 00000000 00000000 00000000 fffe0000 00000000 00000000 00000000");
    m.resize(64, 0);
    m.extend(36u16.to_le_bytes());
    m.extend((dialects.len() as u16).to_le_bytes());
    m.extend(1u16.to_le_bytes());
    m.extend([0, 0]);
    m.extend(capabilities.to_le_bytes());
    m.extend([0x11; 16]);
    let ctx_at = (100 + 2 * dialects.len() + 7) & !7;
    let list: Vec<(u16, Vec<u8>)> = if contexts {
        let mut preauth = unhex("0100 2000 0100");
        preauth.extend(0..32u8);
        vec![(1, preauth), (2, unhex("0400 0200 0100 0400 0300")), (8, unhex("0300 0200 0100 0000"))]
    } else {
        Vec::new()
    };
    m.extend((if list.is_empty() { 0 } else { ctx_at } as u32).to_le_bytes());
    m.extend((list.len() as u16).to_le_bytes());
    m.extend([0, 0]);
    for d in dialects {
        m.extend(d.to_le_bytes());
    }
    for (kind, data) in list {
        m.resize((m.len() + 7) & !7, 0);
        m.extend(kind.to_le_bytes());
        m.extend((data.len() as u16).to_le_bytes());
        m.extend([0; 4]);
        m.extend(data);
    }
    m
}

/// A SESSION_SETUP carrying a Windows 10 client's NTLM NEGOTIATE in SPNEGO.
fn session_setup_ntlm() -> Vec<u8> {
    unhex(
        "fe534d42 40000000 00000000 01000100 00000000 00000000 01000000 00000000
         fffe0000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
         19000001 01000000 00000000 58004a00 00000000 00000000 60480606 2b060105
         0502a03e 303ca00e 300c060a 2b060104 01823702 020aa22a 04284e54 4c4d5353
         50000100 00009782 08e20000 00000000 00000000 00000000 00000a00 614a0000
         000f",
    )
}

fn smb1_negotiate(dialects: &[&str]) -> Vec<u8> {
    let mut m = unhex("ff534d42 72000000 001843c8 00000000 00000000 00000000 0000fffe 00000000");
    m.push(0);
    let bytes: Vec<u8> = dialects.iter().flat_map(|d| [&[2u8][..], d.as_bytes(), &[0]].concat()).collect();
    m.extend((bytes.len() as u16).to_le_bytes());
    m.extend(bytes);
    m
}

#[test]
fn negotiate_and_the_ntlm_challenge_are_answered_byte_for_byte_as_debians_smbd_answers_them() {
    let (_dir, _smbd, _hw, real, decoy) = side_by_side();
    let all = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("every dialect, a Windows client's capabilities and contexts", vec![negotiate(&all, 0x7f, true)]),
        ("every dialect, no capabilities (nmap)", vec![negotiate(&all, 0, true)]),
        ("3.1.1 without contexts", vec![negotiate(&[0x0311], 0x7f, false)]),
        ("only 2.0.2", vec![negotiate(&[0x0202], 0, false)]),
        ("only 2.1", vec![negotiate(&[0x0210], 0, false)]),
        ("only 3.0.2, capabilities", vec![negotiate(&[0x0302], 0x7f, false)]),
        ("no dialect the server knows", vec![negotiate(&[0x0222], 0, false)]),
        ("no dialects", vec![negotiate(&[], 0, false)]),
        (
            "SMB1 with SMB 2.??? then SMB2",
            vec![smb1_negotiate(&["PC NETWORK PROGRAM 1.0", "LANMAN1.0", "NT LM 0.12", "SMB 2.002", "SMB 2.???"]), {
                let mut n = negotiate(&all, 0x7f, true);
                n[24] = 1;
                n
            }],
        ),
        ("SMB1 with SMB 2.002 only", vec![smb1_negotiate(&["NT LM 0.12", "SMB 2.002"])]),
        ("SMB1 only (nmap's probe)", vec![smb1_negotiate(&["NT LM 0.12", ""])]),
        ("a second NEGOTIATE", vec![negotiate(&all, 0x7f, true), negotiate(&all, 0x7f, true)]),
        ("SESSION_SETUP before NEGOTIATE", vec![session_setup_ntlm()]),
        ("the NTLM CHALLENGE", vec![negotiate(&all, 0x7f, true), session_setup_ntlm()]),
    ];
    let mut differences = Vec::new();
    for (name, messages) in &cases {
        let theirs: Vec<Option<Vec<u8>>> = exchange(real, messages).into_iter().map(|m| m.map(mask)).collect();
        let ours: Vec<Option<Vec<u8>>> = exchange(decoy, messages).into_iter().map(|m| m.map(mask)).collect();
        if theirs != ours {
            let show = |v: &[Option<Vec<u8>>]| v.iter().map(|m| m.as_deref().map_or("(closed)".to_string(), hex)).collect::<Vec<_>>().join("\n--\n");
            differences.push(format!("{name}:\nsmbd:\n{}\ndecoy:\n{}", show(&theirs), show(&ours)));
        }
    }
    assert!(differences.is_empty(), "{} of {} cases differ:\n{}", differences.len(), cases.len(), differences.join("\n\n"));
}

fn smbclient(addr: SocketAddr, user: &str) -> (String, Option<i32>) {
    let out = Command::new("smbclient")
        .args(["-L", &format!("//{}", addr.ip()), "-p", &addr.port().to_string(), "-U", user])
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    (format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)), out.status.code())
}

fn impacket(addr: SocketAddr, domain: &str, user: &str, password: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smb/impacket_login.py");
    let out = Command::new("python3").args([script, &addr.ip().to_string(), &addr.port().to_string(), domain, user, password]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// nmap's SMB scripts, which need `smbport` on a port other than 445 or 139: each
/// script's lines, in script order (nmap prints them in the order they finish), with
/// the date lines (the servers' clocks) removed.
fn nmap(addr: SocketAddr) -> Vec<Vec<String>> {
    let port = addr.port().to_string();
    let out = Command::new("nmap")
        .args(["-Pn", "-n", "-p", &port, "--script", "smb-protocols,smb2-security-mode,smb2-capabilities,smb2-time,smb-os-discovery"])
        .args(["--script-args", &format!("smbport={port}"), "127.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut scripts: Vec<Vec<String>> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('|')).filter(|l| !l.contains("date:")) {
        let starts_script = line.starts_with("| ") && !line.starts_with("|  ");
        match scripts.last_mut() {
            Some(script) if !starts_script => script.push(line.to_string()),
            _ => scripts.push(vec![line.to_string()]),
        }
    }
    scripts.sort();
    scripts
}

/// `nmap -sV`'s account of the port: the service and version columns (the port number
/// left out).
fn nmap_version(addr: SocketAddr) -> String {
    let port = addr.port().to_string();
    let out = Command::new("nmap").args(["-sV", "-Pn", "-n", "-p", &port, "127.0.0.1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with(&format!("{port}/tcp"))).unwrap_or_default();
    line.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
}

#[test]
fn smbclient_impacket_and_nmap_see_the_same_server_in_the_decoy_as_in_debians_smbd() {
    let (_dir, _smbd, _hw, real, decoy) = side_by_side();
    let (theirs, ours) = (smbclient(real, "TRUST\\alice%wrong"), smbclient(decoy, "TRUST\\alice%wrong"));
    assert!(theirs.0.contains("NT_STATUS_LOGON_FAILURE"), "{theirs:?}");
    assert_eq!(ours, theirs, "smbclient with a wrong password");
    let (theirs, ours) = (impacket(real, "TRUST", "alice", "wrong"), impacket(decoy, "TRUST", "alice", "wrong"));
    assert!(theirs.contains("STATUS_LOGON_FAILURE") && theirs.contains("Windows 6.1 Build 0"), "{theirs}");
    assert_eq!(ours, theirs, "impacket with a wrong password");
    let (theirs, ours) = (nmap(real), nmap(decoy));
    assert!(theirs.iter().flatten().any(|l| l.contains("Message signing enabled but not required")), "{theirs:?}");
    assert_eq!(ours, theirs, "nmap's SMB scripts");
    // Version detection takes the better part of a minute: both at once.
    let theirs = std::thread::spawn(move || nmap_version(real));
    let ours = nmap_version(decoy);
    let theirs = theirs.join().unwrap();
    assert!(theirs.starts_with("open "), "{theirs}");
    assert_eq!(ours, theirs, "nmap -sV");
}
