//! The identification exchange (RFC 4253 §4.2) the way the imitated product does it:
//! what it sends first, which client lines it accepts, and its exact reaction to
//! everything else (measured against Debian 12's OpenSSH 9.2p1 and Dropbear 2022.83).

use super::io::{Io, ReadError};

/// The server software whose behaviour a personality imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// OpenSSH's sshd: banner first, KEXINIT after the client's line; plain-text
    /// errors for bad lines; DISCONNECT messages for some protocol errors.
    Openssh,
    /// Dropbear: banner and KEXINIT at once; one line of at most 255 characters;
    /// never a DISCONNECT or an error text, only a close.
    Dropbear,
}

/// OpenSSH's SSH_MAX_BANNER_LEN.
const OPENSSH_MAX_LINE: usize = 8192;
/// Dropbear reads at most this many characters (CRs not counted) of the ident.
const DROPBEAR_MAX_LINE: usize = 255;

/// What the server does with the client's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A usable identification (CR LF stripped).
    Accept(Vec<u8>),
    /// Refuse: write `text` (plain, not a packet) when there is one, then close.
    Refuse { text: Option<&'static str> },
}

/// Judges a complete line (without its LF) as OpenSSH's sshd does.
pub fn openssh_line(raw: &[u8]) -> Verdict {
    const INVALID: Verdict = Verdict::Refuse { text: Some("Invalid SSH identification string.") };
    // A CR must be followed by LF (here: only trailing CRs may appear); NUL is refused.
    let end = raw.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
    let line = &raw[..end];
    if line.contains(&0) || line.contains(&b'\r') || line.len() <= 4 || line.len() > OPENSSH_MAX_LINE || !line.starts_with(b"SSH-") {
        return INVALID;
    }
    // SSH-<int>.<int>-<software>, software non-empty.
    let rest = &line[4..];
    let Some((major, rest)) = split_number(rest, b'.') else { return INVALID };
    let Some((minor, software)) = split_number(rest, b'-') else { return INVALID };
    if software.is_empty() {
        return INVALID;
    }
    if !(major == 2 || (major == 1 && minor == 99)) {
        return Verdict::Refuse { text: Some("Protocol major versions differ.") };
    }
    // Version scanners the real server answers with silence.
    let software_str = String::from_utf8_lossy(software);
    if software_str.starts_with("Probe-") || software_str.contains("SSH_Version_Mapper") {
        return Verdict::Refuse { text: None };
    }
    Verdict::Accept(line.to_vec())
}

/// Decimal digits up to `sep`: (number, the rest after `sep`).
fn split_number(s: &[u8], sep: u8) -> Option<(u64, &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    let digits = &s[..i];
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((std::str::from_utf8(digits).ok()?.parse().ok()?, &s[i + 1..]))
}

/// Judges an ident as Dropbear does (CRs already removed).
pub fn dropbear_line(line: &[u8]) -> Verdict {
    if line.starts_with(b"SSH-2.") || line.starts_with(b"SSH-1.99-") {
        Verdict::Accept(line.to_vec())
    } else {
        Verdict::Refuse { text: None }
    }
}

/// Reads the client's identification. `Ok(Verdict)`; read errors (EOF, cap) end the
/// connection with nothing sent, as both servers do. Bytes are consumed one at a time
/// up to where the real server stops reading, so what it would leave unread (and
/// then reset the connection over) stays unread here too.
pub async fn read_client(io: &mut Io, family: Family) -> Result<Verdict, ReadError> {
    let mut line = Vec::new();
    let mut cr = false;
    loop {
        let mut consumed = 0;
        let mut verdict = None;
        for &b in io.buffered() {
            consumed += 1;
            match family {
                Family::Openssh => {
                    if b == b'\n' {
                        verdict = Some(openssh_line(&line));
                    } else if b == b'\r' {
                        cr = true;
                    } else if cr || b == 0 || line.len() >= OPENSSH_MAX_LINE {
                        // A CR not followed by LF, a NUL, or the 8193rd byte.
                        verdict = Some(Verdict::Refuse { text: Some("Invalid SSH identification string.") });
                    } else {
                        line.push(b);
                    }
                }
                Family::Dropbear => {
                    if b == b'\n' {
                        verdict = Some(dropbear_line(&line));
                    } else if b != b'\r' {
                        line.push(b);
                        if line.len() == DROPBEAR_MAX_LINE {
                            verdict = Some(dropbear_line(&line));
                        }
                    }
                }
            }
            if verdict.is_some() {
                break;
            }
        }
        io.consume(consumed);
        if let Some(v) = verdict {
            return Ok(v);
        }
        io.fill().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssh_reacts_to_each_line_as_measured() {
        let invalid = Verdict::Refuse { text: Some("Invalid SSH identification string.") };
        let major = Verdict::Refuse { text: Some("Protocol major versions differ.") };
        let table: &[(&[u8], &Verdict)] = &[
            (b"GET / HTTP/1.0\r", &invalid),
            (b"", &invalid),
            (b"\r", &invalid),
            (b"SSH-", &invalid),
            (b"SSH-2.0-", &invalid),
            (b"SSH-2.0x-y", &invalid),
            (b"SSH-2-x", &invalid),
            (b"SSH-2.0-a\0b", &invalid),
            (b"SSH-2.0-a\rb", &invalid),
            (b"SSH-1.5-x\r", &major),
            (b"SSH-3.0-x", &major),
            (b"SSH-2.0-Probe-x\r", &Verdict::Refuse { text: None }),
            (b"SSH-2.0-SSH_Version_Mapper", &Verdict::Refuse { text: None }),
        ];
        for (line, want) in table {
            assert_eq!(openssh_line(line), **want, "{:?}", String::from_utf8_lossy(line));
        }
        for ok in [&b"SSH-1.99-x"[..], b"SSH-02.00-x", b"SSH-2.0-OpenSSH_9.2p1\r\r", b"SSH-2.0-\x01\x1b\x7f\xff"] {
            assert!(matches!(openssh_line(ok), Verdict::Accept(_)), "{ok:?}");
        }
        assert_eq!(openssh_line(b"SSH-2.0-x\r"), Verdict::Accept(b"SSH-2.0-x".to_vec()));
    }

    #[test]
    fn dropbear_accepts_only_ssh_2_and_1_99() {
        assert!(matches!(dropbear_line(b"SSH-2.0-x"), Verdict::Accept(_)));
        assert!(matches!(dropbear_line(b"SSH-1.99-x"), Verdict::Accept(_)));
        for bad in [&b"SSH-1.5-x"[..], b"SSH-", b"hello", b"GET / HTTP/1.0"] {
            assert_eq!(dropbear_line(bad), Verdict::Refuse { text: None });
        }
    }
}
