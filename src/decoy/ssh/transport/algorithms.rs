//! The closed sets of algorithm names this transport can complete, each with its
//! wire name. A personality may list only these (plus the kex-list markers), so a
//! decoy never offers what it cannot finish.

macro_rules! named {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident = $name:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty { $($(#[$vdoc])* $variant,)+ }

        impl $ty {
            /// Every member, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)+];

            /// The wire name.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name,)+ }
            }

            /// The member with this wire name.
            pub fn from_name(name: &[u8]) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.name().as_bytes() == name)
            }
        }
    };
}

named! {
    /// Key exchange methods.
    Kex {
        Mlkem768X25519Sha256 = "mlkem768x25519-sha256",
        Sntrup761X25519Sha512 = "sntrup761x25519-sha512",
        Sntrup761X25519Sha512OpenSsh = "sntrup761x25519-sha512@openssh.com",
        Curve25519Sha256 = "curve25519-sha256",
        Curve25519Sha256LibSsh = "curve25519-sha256@libssh.org",
        EcdhNistp256 = "ecdh-sha2-nistp256",
        EcdhNistp384 = "ecdh-sha2-nistp384",
        EcdhNistp521 = "ecdh-sha2-nistp521",
        DhGexSha256 = "diffie-hellman-group-exchange-sha256",
        DhGexSha1 = "diffie-hellman-group-exchange-sha1",
        DhGroup16Sha512 = "diffie-hellman-group16-sha512",
        DhGroup18Sha512 = "diffie-hellman-group18-sha512",
        DhGroup14Sha256 = "diffie-hellman-group14-sha256",
        DhGroup14Sha1 = "diffie-hellman-group14-sha1",
        DhGroup1Sha1 = "diffie-hellman-group1-sha1",
    }
}

named! {
    /// Names in a server's kex list that are signals, not methods.
    KexMarker {
        /// RFC 8308: the server understands EXT_INFO (OpenSSH 9.6+ sends it).
        ExtInfoS = "ext-info-s",
        /// OpenSSH strict key exchange (the Terrapin countermeasure).
        StrictS = "kex-strict-s-v00@openssh.com",
        /// Dropbear's relaxed first-kex-packet guess rule.
        KexGuess2 = "kexguess2@matt.ucc.asn.au",
    }
}

named! {
    /// Host key signature algorithms.
    HostKeyAlg {
        Ed25519 = "ssh-ed25519",
        EcdsaNistp256 = "ecdsa-sha2-nistp256",
        RsaSha512 = "rsa-sha2-512",
        RsaSha256 = "rsa-sha2-256",
        /// RSA with SHA-1 (legacy personalities only).
        SshRsa = "ssh-rsa",
    }
}

named! {
    /// Ciphers.
    Cipher {
        Chacha20Poly1305 = "chacha20-poly1305@openssh.com",
        Aes128Ctr = "aes128-ctr",
        Aes192Ctr = "aes192-ctr",
        Aes256Ctr = "aes256-ctr",
        Aes128Gcm = "aes128-gcm@openssh.com",
        Aes256Gcm = "aes256-gcm@openssh.com",
        Aes128Cbc = "aes128-cbc",
        Aes192Cbc = "aes192-cbc",
        Aes256Cbc = "aes256-cbc",
        TripleDesCbc = "3des-cbc",
    }
}

named! {
    /// Message authentication codes (`-etm` variants MAC the ciphertext).
    Mac {
        Umac64Etm = "umac-64-etm@openssh.com",
        Umac128Etm = "umac-128-etm@openssh.com",
        HmacSha256Etm = "hmac-sha2-256-etm@openssh.com",
        HmacSha512Etm = "hmac-sha2-512-etm@openssh.com",
        HmacSha1Etm = "hmac-sha1-etm@openssh.com",
        Umac64 = "umac-64@openssh.com",
        Umac128 = "umac-128@openssh.com",
        HmacSha256 = "hmac-sha2-256",
        HmacSha512 = "hmac-sha2-512",
        HmacSha1 = "hmac-sha1",
    }
}

named! {
    /// Compression.
    Compression {
        None = "none",
        /// zlib started after authentication succeeds.
        ZlibOpenSsh = "zlib@openssh.com",
        /// zlib from the first encrypted packet.
        Zlib = "zlib",
    }
}

impl Cipher {
    /// (key bytes, IV bytes, block size) as the key derivation and padding need them.
    pub fn sizes(self) -> (usize, usize, usize) {
        match self {
            Cipher::Chacha20Poly1305 => (64, 0, 8),
            Cipher::Aes128Ctr | Cipher::Aes128Cbc => (16, 16, 16),
            Cipher::Aes192Ctr | Cipher::Aes192Cbc => (24, 16, 16),
            Cipher::Aes256Ctr | Cipher::Aes256Cbc => (32, 16, 16),
            Cipher::Aes128Gcm => (16, 12, 16),
            Cipher::Aes256Gcm => (32, 12, 16),
            Cipher::TripleDesCbc => (24, 8, 8),
        }
    }

    /// True for the AEAD ciphers, which bring their own integrity (no MAC is used).
    pub fn is_aead(self) -> bool {
        matches!(self, Cipher::Chacha20Poly1305 | Cipher::Aes128Gcm | Cipher::Aes256Gcm)
    }
}

impl Mac {
    /// (key bytes, tag bytes, encrypt-then-MAC).
    pub fn sizes(self) -> (usize, usize, bool) {
        match self {
            Mac::Umac64Etm => (16, 8, true),
            Mac::Umac128Etm => (16, 16, true),
            Mac::HmacSha256Etm => (32, 32, true),
            Mac::HmacSha512Etm => (64, 64, true),
            Mac::HmacSha1Etm => (20, 20, true),
            Mac::Umac64 => (16, 8, false),
            Mac::Umac128 => (16, 16, false),
            Mac::HmacSha256 => (32, 32, false),
            Mac::HmacSha512 => (64, 64, false),
            Mac::HmacSha1 => (20, 20, false),
        }
    }
}

/// One entry of a personality's kex list: a method or a marker, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KexEntry {
    Method(Kex),
    Marker(KexMarker),
}

impl KexEntry {
    /// The entry with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Kex::from_name(name.as_bytes()).map(KexEntry::Method).or_else(|| KexMarker::from_name(name.as_bytes()).map(KexEntry::Marker))
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            KexEntry::Method(k) => k.name(),
            KexEntry::Marker(m) => m.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_maps_back_to_its_member() {
        for k in Kex::ALL {
            assert_eq!(Kex::from_name(k.name().as_bytes()), Some(*k));
            assert_eq!(KexEntry::from_name(k.name()), Some(KexEntry::Method(*k)));
        }
        for c in Cipher::ALL {
            assert_eq!(Cipher::from_name(c.name().as_bytes()), Some(*c));
        }
        for m in Mac::ALL {
            assert_eq!(Mac::from_name(m.name().as_bytes()), Some(*m));
            assert_eq!(m.sizes().2, m.name().contains("-etm"));
        }
        assert_eq!(KexEntry::from_name("kex-strict-s-v00@openssh.com"), Some(KexEntry::Marker(KexMarker::StrictS)));
        assert_eq!(Kex::from_name(b"curve25519-sha256 "), None);
    }
}
