//! What scanners and TLS fingerprinting tools see of a server on loopback, for
//! side-by-side tests of the decoys and the real products: nmap's report, JARM's raw
//! answers (pyjarm),
//! and what `openssl s_client -msg` received (records, lengths, alerts, parameters,
//! JA3S).

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `nmap -sV --script SCRIPTS`'s report without the lines naming the scan, the time or
/// the port, nor those containing any of `dropped` (values that differ by nature).
pub fn nmap(addr: SocketAddr, scripts: &str, dropped: &[&str]) -> Vec<String> {
    let out = Command::new("nmap")
        .args(["-Pn", "-sV", "-p", &addr.port().to_string(), "--script", scripts, "127.0.0.1"])
        .output()
        .expect("nmap must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&out.stdout).replace(&addr.port().to_string(), "PORT");
    let skip = ["Starting Nmap", "Nmap done", "Host is up", "scan report", "Service detection performed"];
    let mut lines: Vec<String> =
        text.lines().filter(|l| !l.trim().is_empty() && !skip.iter().chain(dropped).any(|s| l.contains(s))).map(|l| l.trim_end().to_string()).collect();
    // Scripts print in the order they finish.
    lines.sort();
    lines
}

/// pyjarm's raw answers to its ten probes (cipher|version|ALPN|extensions each).
pub fn jarm(addr: SocketAddr, dir: &std::path::Path) -> String {
    let list = dir.join(format!("jarm-{}.txt", addr.port()));
    std::fs::write(&list, format!("{addr}\n")).unwrap();
    let out = Command::new("pyjarm").arg("-d").arg("-i").arg(&list).output().expect("pyjarm must be installed: scripts/test.sh installs it");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let raw = text.lines().find_map(|l| l.split_once("Raw JARM: ").map(|(_, r)| r.to_string()));
    raw.unwrap_or_else(|| panic!("no raw JARM in\n{text}"))
}

/// What `openssl s_client -msg ARGS` saw of the server: every record and message it
/// received (type and length, but for signed ones), alerts, the negotiated parameters, and the JA3S of the
/// ServerHello (version, suite, extensions in order).
pub fn s_client(addr: SocketAddr, args: &[&str]) -> Vec<String> {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-msg"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl must be installed");
    // Long enough for the server's tickets after the handshake, then end of input.
    std::thread::sleep(Duration::from_millis(250));
    let _ = child.stdin.take().map(|mut s| s.flush());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let kept = ["Protocol  :", "Cipher is", "Server Temp Key", "Peer signature", "ALPN", "lifetime hint", "Secure Renegotiation", "alert number"];
    let mut seen: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("<<<") {
            // An ECDSA signature's DER length varies from one handshake to the next.
            let signed = line.ends_with("CertificateVerify") || line.ends_with("ServerKeyExchange");
            seen.push(if signed { line.split(" [length").next().unwrap_or(line).to_string() } else { line.to_string() });
        } else if kept.iter().any(|k| line.contains(k)) {
            // Error lines start with the client's thread id.
            seen.push(line.split_once(":error:").map_or(line, |(_, rest)| rest).trim().to_string());
        }
    }
    if let Some(hello) = server_hello(&text) {
        seen.push(ja3s(&hello));
    }
    seen
}

/// The ServerHello's bytes, from `-msg`'s hex dump.
fn server_hello(text: &str) -> Option<Vec<u8>> {
    let start = text.find("ServerHello\n")? + "ServerHello\n".len();
    let hex: String = text[start..].lines().take_while(|l| l.starts_with("    ")).collect::<Vec<_>>().join("").split_whitespace().collect();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// JA3S: `version,cipher,extension-extension-...` in decimal.
fn ja3s(hello: &[u8]) -> String {
    let u16_at = |i: usize| u16::from_be_bytes([hello[i], hello[i + 1]]);
    let version = u16_at(4);
    let mut i = 4 + 2 + 32;
    i += 1 + hello[i] as usize;
    let cipher = u16_at(i);
    i += 3;
    let mut extensions = Vec::new();
    if i + 2 <= hello.len() {
        let end = i + 2 + u16_at(i) as usize;
        i += 2;
        while i + 4 <= end {
            extensions.push(u16_at(i).to_string());
            i += 4 + u16_at(i + 2) as usize;
        }
    }
    format!("JA3S {version},{cipher},{}", extensions.join("-"))
}
