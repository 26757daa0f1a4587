//! SSH_MSG_KEXINIT (RFC 4253 §7.1): the server's proposal as the personality orders
//! it, the client's proposal as read off the wire, and the negotiation between them
//! (the client's first choice the server also lists, per list).

use super::algorithms::{Cipher, Compression, HostKeyAlg, Kex, KexEntry, KexMarker, Mac};
use super::msg;
use super::wire::{NameList, Put, Reader, WireError};

/// The server's side of the negotiation, in the personality's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub kex: Vec<KexEntry>,
    pub host_keys: Vec<HostKeyAlg>,
    pub ciphers: Vec<Cipher>,
    pub macs: Vec<Mac>,
    pub compression: Vec<Compression>,
}

impl Proposal {
    /// The KEXINIT payload (message number included) with this cookie.
    pub fn encode(&self, cookie: [u8; 16]) -> Vec<u8> {
        let kex: Vec<&str> = self.kex.iter().map(|k| k.name()).collect();
        let host_keys: Vec<&str> = self.host_keys.iter().map(|h| h.name()).collect();
        let ciphers: Vec<&str> = self.ciphers.iter().map(|c| c.name()).collect();
        let macs: Vec<&str> = self.macs.iter().map(|m| m.name()).collect();
        let compression: Vec<&str> = self.compression.iter().map(|c| c.name()).collect();
        let mut out = Vec::with_capacity(1024);
        out.put_u8(msg::KEXINIT);
        out.extend_from_slice(&cookie);
        out.put_name_list(&kex);
        out.put_name_list(&host_keys);
        for list in [&ciphers, &ciphers, &macs, &macs, &compression, &compression] {
            out.put_name_list(list);
        }
        out.put_name_list::<&str>(&[]);
        out.put_name_list::<&str>(&[]);
        out.put_bool(false); // first_kex_packet_follows
        out.put_u32(0); // reserved
        out
    }

    /// HASSHServer: hex MD5 of `kex;ciphers;macs;compression` (server to client lists).
    pub fn hassh_server(&self) -> String {
        use md5::{Digest, Md5};
        let join = |names: Vec<&str>| names.join(",");
        let text = [
            join(self.kex.iter().map(|k| k.name()).collect()),
            join(self.ciphers.iter().map(|c| c.name()).collect()),
            join(self.macs.iter().map(|m| m.name()).collect()),
            join(self.compression.iter().map(|c| c.name()).collect()),
        ]
        .join(";");
        Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn has_marker(&self, marker: KexMarker) -> bool {
        self.kex.contains(&KexEntry::Marker(marker))
    }
}

/// The client's KEXINIT, borrowed from its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKexInit<'a> {
    pub kex: NameList<'a>,
    pub host_keys: NameList<'a>,
    pub ciphers_c2s: NameList<'a>,
    pub ciphers_s2c: NameList<'a>,
    pub macs_c2s: NameList<'a>,
    pub macs_s2c: NameList<'a>,
    pub compression_c2s: NameList<'a>,
    pub compression_s2c: NameList<'a>,
    pub first_kex_follows: bool,
}

impl<'a> ClientKexInit<'a> {
    /// Parses a KEXINIT payload (starting with its message number).
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8()? != msg::KEXINIT {
            return Err(WireError::Malformed);
        }
        r.bytes(16)?; // cookie
        let kex = r.name_list()?;
        let host_keys = r.name_list()?;
        let ciphers_c2s = r.name_list()?;
        let ciphers_s2c = r.name_list()?;
        let macs_c2s = r.name_list()?;
        let macs_s2c = r.name_list()?;
        let compression_c2s = r.name_list()?;
        let compression_s2c = r.name_list()?;
        r.name_list()?; // languages
        r.name_list()?;
        let first_kex_follows = r.bool()?;
        r.u32()?; // reserved; anything may follow (RFC 4253 allows extension data)
        Ok(ClientKexInit { kex, host_keys, ciphers_c2s, ciphers_s2c, macs_c2s, macs_s2c, compression_c2s, compression_s2c, first_kex_follows })
    }

    /// HASSH: `kex;ciphers;macs;compression` from the client-to-server lists.
    pub fn hassh_input(&self) -> Vec<u8> {
        [self.kex.0, self.ciphers_c2s.0, self.macs_c2s.0, self.compression_c2s.0].join(&b';')
    }
}

/// One direction's algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    pub cipher: Cipher,
    /// None for AEAD ciphers, which need no MAC.
    pub mac: Option<Mac>,
    pub compression: Compression,
}

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub kex: Kex,
    pub host_key: HostKeyAlg,
    pub c2s: Direction,
    pub s2c: Direction,
    /// Both sides asked for strict key exchange (only looked at in the first KEX).
    pub strict: bool,
    /// The client announced `ext-info-c` (it wants SSH_MSG_EXT_INFO).
    pub ext_info: bool,
    /// The client sent a guessed first kex packet that must be ignored.
    pub ignore_guess: bool,
}

/// The list in which no common algorithm was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoCommon {
    #[error("no matching key exchange method found")]
    Kex,
    #[error("no matching host key type found")]
    HostKey,
    #[error("no matching cipher found")]
    Cipher,
    #[error("no matching MAC found")]
    Mac,
    #[error("no matching compression method found")]
    Compression,
}

/// The client's first name that `pick` accepts from the server's list.
fn choose<T: Copy>(client: NameList<'_>, server: &[T], pick: impl Fn(&[u8]) -> Option<T>, eq: impl Fn(&T, &T) -> bool) -> Option<T> {
    client.names().filter_map(pick).find(|c| server.iter().any(|s| eq(s, c)))
}

fn direction(server: &Proposal, ciphers: NameList<'_>, macs: NameList<'_>, compression: NameList<'_>) -> Result<Direction, NoCommon> {
    let cipher = choose(ciphers, &server.ciphers, Cipher::from_name, PartialEq::eq).ok_or(NoCommon::Cipher)?;
    let mac = if cipher.is_aead() { None } else { Some(choose(macs, &server.macs, Mac::from_name, PartialEq::eq).ok_or(NoCommon::Mac)?) };
    let compression = choose(compression, &server.compression, Compression::from_name, PartialEq::eq).ok_or(NoCommon::Compression)?;
    Ok(Direction { cipher, mac, compression })
}

/// Negotiates (RFC 4253 §7.1). `first_kex` is true for the connection's first key
/// exchange, the only one in which the strict-KEX and ext-info markers count.
pub fn negotiate(server: &Proposal, client: &ClientKexInit<'_>, first_kex: bool) -> Result<Negotiated, NoCommon> {
    let server_kex: Vec<Kex> = server.kex.iter().filter_map(|e| if let KexEntry::Method(k) = e { Some(*k) } else { None }).collect();
    let kex = choose(client.kex, &server_kex, Kex::from_name, PartialEq::eq).ok_or(NoCommon::Kex)?;
    let host_key = choose(client.host_keys, &server.host_keys, HostKeyAlg::from_name, PartialEq::eq).ok_or(NoCommon::HostKey)?;
    let c2s = direction(server, client.ciphers_c2s, client.macs_c2s, client.compression_c2s)?;
    let s2c = direction(server, client.ciphers_s2c, client.macs_s2c, client.compression_s2c)?;
    let strict = first_kex && server.has_marker(KexMarker::StrictS) && client.kex.contains("kex-strict-c-v00@openssh.com");
    let ext_info = first_kex && client.kex.contains("ext-info-c");
    let ignore_guess = client.first_kex_follows && !guess_is_right(server, client);
    Ok(Negotiated { kex, host_key, c2s, s2c, strict, ext_info, ignore_guess })
}

/// RFC 4253 as OpenSSH and Dropbear read it: a guess is right when the first names
/// of the client's kex and host-key lists are the first names of the server's. With
/// Dropbear's `kexguess2` (both sides list it) it is enough that the server supports
/// the client's first names.
fn guess_is_right(server: &Proposal, client: &ClientKexInit<'_>) -> bool {
    let first_kex = client.kex.names().next().unwrap_or_default();
    let first_host_key = client.host_keys.names().next().unwrap_or_default();
    if server.has_marker(KexMarker::KexGuess2) && client.kex.contains(KexMarker::KexGuess2.name()) {
        let kex_ok = server.kex.iter().any(|k| matches!(k, KexEntry::Method(m) if m.name().as_bytes() == first_kex));
        return kex_ok && server.host_keys.iter().any(|h| h.name().as_bytes() == first_host_key);
    }
    server.kex.first().is_some_and(|k| k.name().as_bytes() == first_kex) && server.host_keys.first().is_some_and(|h| h.name().as_bytes() == first_host_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn debian12() -> Proposal {
        let kex = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com";
        Proposal {
            kex: kex.split(',').map(|n| KexEntry::from_name(n).unwrap()).collect(),
            host_keys: vec![HostKeyAlg::RsaSha512, HostKeyAlg::RsaSha256, HostKeyAlg::EcdsaNistp256, HostKeyAlg::Ed25519],
            ciphers: vec![Cipher::Chacha20Poly1305, Cipher::Aes128Ctr, Cipher::Aes192Ctr, Cipher::Aes256Ctr, Cipher::Aes128Gcm, Cipher::Aes256Gcm],
            macs: Mac::ALL.to_vec(),
            compression: vec![Compression::None, Compression::ZlibOpenSsh],
        }
    }

    fn client(kex: &str, host_keys: &str, ciphers: &str, macs: &str, follows: bool) -> Vec<u8> {
        let mut p = vec![msg::KEXINIT];
        p.extend([9u8; 16]);
        for list in [kex, host_keys, ciphers, ciphers, macs, macs, "none", "none", "", ""] {
            p.put_string(list.as_bytes());
        }
        p.put_bool(follows);
        p.put_u32(0);
        p
    }

    #[test]
    fn the_encoded_proposal_parses_back_and_has_the_known_hassh_server() {
        let proposal = debian12();
        let payload = proposal.encode([0; 16]);
        let parsed = ClientKexInit::parse(&payload).unwrap();
        assert_eq!(parsed.kex.names().count(), proposal.kex.len());
        assert!(!parsed.first_kex_follows);
        // Measured from Debian 12's sshd 9.2p1-2+deb12u10 on loopback.
        assert_eq!(proposal.hassh_server(), "425d29fe50d8e4f5e37efb6e24bcf660");
    }

    #[test]
    fn the_clients_first_choice_that_the_server_lists_wins() {
        let payload = client(
            "ext-info-c,kex-strict-c-v00@openssh.com,nope,curve25519-sha256,ecdh-sha2-nistp256",
            "ssh-ed25519,rsa-sha2-512",
            "aes256-gcm@openssh.com,aes128-ctr",
            "hmac-sha1",
            false,
        );
        let c = ClientKexInit::parse(&payload).unwrap();
        let n = negotiate(&debian12(), &c, true).unwrap();
        assert_eq!(n.kex, Kex::Curve25519Sha256);
        assert_eq!(n.host_key, HostKeyAlg::Ed25519);
        assert_eq!(n.c2s, Direction { cipher: Cipher::Aes256Gcm, mac: None, compression: Compression::None });
        assert!(n.strict && n.ext_info && !n.ignore_guess);
        assert!(!negotiate(&debian12(), &c, false).unwrap().strict, "markers count only in the first key exchange");
    }

    #[test]
    fn nothing_in_common_names_the_list() {
        let table = [
            (client("diffie-hellman-group1-sha1", "ssh-ed25519", "aes128-ctr", "hmac-sha1", false), NoCommon::Kex),
            (client("curve25519-sha256", "ssh-dss", "aes128-ctr", "hmac-sha1", false), NoCommon::HostKey),
            (client("curve25519-sha256", "ssh-ed25519", "3des-cbc", "hmac-sha1", false), NoCommon::Cipher),
            (client("curve25519-sha256", "ssh-ed25519", "aes128-ctr", "hmac-md5", false), NoCommon::Mac),
        ];
        for (payload, want) in table {
            assert_eq!(negotiate(&debian12(), &ClientKexInit::parse(&payload).unwrap(), true), Err(want));
        }
    }

    /// A guess is right only when both sides' lists start with the same names (dbclient
    /// guesses curve25519 and ssh-ed25519; Debian's sshd lists sntrup761 and rsa first).
    #[test]
    fn a_wrong_guess_is_ignored_and_a_right_one_kept() {
        let guess = |kex: &str, hk: &str, server: &Proposal| {
            let payload = client(kex, hk, "aes128-ctr", "hmac-sha1", true);
            negotiate(server, &ClientKexInit::parse(&payload).unwrap(), true).unwrap().ignore_guess
        };
        let d12 = debian12();
        assert!(guess("curve25519-sha256,kexguess2@matt.ucc.asn.au", "ssh-ed25519", &d12), "dbclient against sshd: ignored");
        assert!(!guess("sntrup761x25519-sha512,curve25519-sha256", "rsa-sha2-512,ssh-ed25519", &d12));
        assert!(guess("sntrup761x25519-sha512", "ssh-ed25519,rsa-sha2-512", &d12));
        let dropbear = Proposal {
            kex: ["curve25519-sha256", "ecdh-sha2-nistp256", "kexguess2@matt.ucc.asn.au"].iter().map(|n| KexEntry::from_name(n).unwrap()).collect(),
            host_keys: vec![HostKeyAlg::Ed25519, HostKeyAlg::EcdsaNistp256],
            ..d12.clone()
        };
        assert!(guess("ecdh-sha2-nistp256,curve25519-sha256", "ssh-ed25519", &dropbear), "without kexguess2 the firsts must match");
        assert!(
            !guess("ecdh-sha2-nistp256,curve25519-sha256,kexguess2@matt.ucc.asn.au", "ecdsa-sha2-nistp256", &dropbear),
            "with kexguess2 supported firsts are enough"
        );
        assert!(!guess("curve25519-sha256", "ssh-ed25519", &dropbear));
        assert!(guess("curve25519-sha256", "ecdsa-sha2-nistp256", &dropbear));
    }

    #[test]
    fn truncated_kexinit_is_an_error() {
        let payload = client("curve25519-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha1", false);
        for cut in 0..payload.len() {
            assert!(ClientKexInit::parse(&payload[..cut]).is_err());
        }
    }
}
