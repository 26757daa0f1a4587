//! The client's identification line and KEXINIT, read from the first bytes of the
//! connection (russh does not expose them), and its HASSH: the MD5 of
//! `kex;ciphers;macs;compression` from the client's lists, which fingerprints the
//! client software (OpenSSH, paramiko, libssh, scanners...).

use md5::{Digest, Md5};

/// Most bytes kept from the start of a connection to find the client's KEXINIT.
pub const CAPTURE_BYTES: usize = 64 * 1024;
/// Longest identification line accepted (RFC 4253: 255 including CR LF).
const MAX_ID_LINE: usize = 255;
const SSH_MSG_KEXINIT: u8 = 20;

/// What the client said before key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The identification line without CR LF, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10`.
    pub version: Vec<u8>,
    /// `kex;ciphers;macs;compression` (client to server), the HASSH input.
    pub algorithms: Vec<u8>,
    /// Hex MD5 of `algorithms`.
    pub hassh: String,
}

/// HASSH of a `kex;ciphers;macs;compression` string: hex MD5.
pub fn hassh(algorithms: &[u8]) -> String {
    Md5::digest(algorithms).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads one SSH name-list (u32 length + bytes) at `*at`.
fn name_list<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(buf.get(*at..*at + 4)?.try_into().ok()?) as usize;
    let list = buf.get(*at + 4..(*at + 4).checked_add(len)?)?;
    *at += 4 + len;
    Some(list)
}

/// Parses the start of a client's stream; `None` until (or unless) both the
/// identification line and a whole KEXINIT packet are there.
pub fn parse(buf: &[u8]) -> Option<ClientHello> {
    // Lines before the identification line are allowed; find the one starting "SSH-".
    let mut start = 0;
    let (version, after) = loop {
        let rest = buf.get(start..)?;
        let nl = rest.iter().take(MAX_ID_LINE + 1).position(|&b| b == b'\n')?;
        let line = rest.get(..nl)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"SSH-") {
            break (line.to_vec(), start + nl + 1);
        }
        start += nl + 1;
    };
    // Binary packet: u32 length, u8 padding length, payload (unencrypted at this point).
    let packet_len = u32::from_be_bytes(buf.get(after..after + 4)?.try_into().ok()?) as usize;
    if packet_len > CAPTURE_BYTES {
        return None;
    }
    let packet = buf.get(after + 4..after + 4 + packet_len)?;
    let payload = packet.get(1..)?;
    if payload.first() != Some(&SSH_MSG_KEXINIT) {
        return None;
    }
    let mut at = 1 + 16; // message number, cookie
    let kex = name_list(payload, &mut at)?;
    let _host_keys = name_list(payload, &mut at)?;
    let ciphers = name_list(payload, &mut at)?;
    let _ciphers_s2c = name_list(payload, &mut at)?;
    let macs = name_list(payload, &mut at)?;
    let _macs_s2c = name_list(payload, &mut at)?;
    let compression = name_list(payload, &mut at)?;
    let algorithms = [kex, ciphers, macs, compression].join(&b';');
    let hassh = hassh(&algorithms);
    Some(ClientHello { version, algorithms, hassh })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kexinit(lists: [&str; 10]) -> Vec<u8> {
        let mut payload = vec![SSH_MSG_KEXINIT];
        payload.extend([7u8; 16]);
        for l in lists {
            payload.extend((l.len() as u32).to_be_bytes());
            payload.extend(l.as_bytes());
        }
        payload.extend([0, 0, 0, 0, 0]); // first_kex_follows, reserved
        let mut packet = vec![4u8];
        packet.extend(payload);
        packet.extend([0u8; 4]);
        let mut out = (packet.len() as u32).to_be_bytes().to_vec();
        out.extend(packet);
        out
    }

    #[test]
    fn hassh_of_a_known_kexinit() {
        let mut stream = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n".to_vec();
        stream.extend(kexinit([
            "curve25519-sha256,ext-info-c",
            "ssh-ed25519",
            "aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ]));
        let hello = parse(&stream).unwrap();
        assert_eq!(hello.version, b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10");
        assert_eq!(hello.algorithms, b"curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none");
        let expected: String = Md5::digest(b"curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hello.hassh, expected);
        // Every truncation is "not yet", never a panic.
        for cut in 0..stream.len() {
            assert!(parse(&stream[..cut]).is_none());
        }
    }

    #[test]
    fn hostile_prefixes_never_panic() {
        use rand::RngExt;
        let mut rng = rand::rng();
        for _ in 0..2000 {
            let len = rng.random_range(0..600);
            let mut buf: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if rng.random_bool(0.5) {
                let mut s = b"SSH-2.0-x\r\n".to_vec();
                s.append(&mut buf);
                buf = s;
            }
            let _ = parse(&buf);
        }
        assert!(parse(&[b'A'; 300]).is_none(), "an endless line is not an identification");
    }
}
