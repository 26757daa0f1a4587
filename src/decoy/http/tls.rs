//! The HTTPS decoys' TLS, set up the way nginx sets up OpenSSL, so that a cipher
//! enumeration, a JA3S/JARM probe or an ALPN check sees what the real server shows:
//! the same protocol versions, suites and their order, preference, groups, extensions,
//! session ticket lifetime and alerts. OpenSSL (built from source into the binary)
//! serves the decoys only; the controller, console and sinks stay on rustls.

use std::ffi::{c_long, c_void};
use std::time::Duration;

use openssl::pkey::PKey;
use openssl::ssl::{AlpnError, SniError, SslAlert, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode, SslVersion};
use openssl::x509::X509;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio::net::TcpStream;

use crate::tls::TlsError;

/// A TLS protocol version a personality's server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TlsProtocol {
    #[serde(rename = "TLSv1")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

/// How the imitated server configures TLS (a personality's `tls:`). The defaults are
/// nginx 1.22.1's with Debian 12's `nginx.conf` (`ssl_protocols TLSv1 TLSv1.1 TLSv1.2
/// TLSv1.3; ssl_prefer_server_ciphers on;`) over Debian's OpenSSL 3.0.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// Versions enabled (OpenSSL's security level 1 still refuses TLS 1.0 and 1.1, as
    /// on Debian 12, where nginx lists them too).
    pub protocols: Vec<TlsProtocol>,
    /// OpenSSL cipher list for TLS 1.2 and below (nginx's `ssl_ciphers`).
    pub ciphers: String,
    /// The server's order decides (nginx's `ssl_prefer_server_ciphers`).
    pub prefer_server_ciphers: bool,
    /// Key exchange groups in the server's order (OpenSSL 3.0's built-in list; the
    /// OpenSSL built in here has another).
    pub groups: String,
    /// Session lifetime, announced as the ticket lifetime hint (nginx's
    /// `ssl_session_timeout`).
    pub session_timeout_seconds: u32,
    /// ALPN protocols after `h2` (offered when the personality speaks h2), in the
    /// server's order. A client offering none of them gets a fatal alert, as from nginx.
    pub alpn: Vec<String>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            protocols: vec![TlsProtocol::Tls10, TlsProtocol::Tls11, TlsProtocol::Tls12, TlsProtocol::Tls13],
            ciphers: NGINX_DEBIAN12_CIPHERS.into(),
            prefer_server_ciphers: true,
            groups: "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192".into(),
            session_timeout_seconds: 300,
            alpn: vec!["http/1.1".into(), "http/1.0".into(), "http/0.9".into()],
        }
    }
}

impl TlsSettings {
    /// ALPN's wire form (length-prefixed names), `h2` first when offered.
    pub(crate) fn alpn_wire(&self, http2: bool) -> Vec<u8> {
        let names = http2.then_some("h2").into_iter().chain(self.alpn.iter().map(String::as_str));
        let mut wire = Vec::new();
        for name in names.filter(|n| !n.is_empty() && n.len() < 256) {
            wire.push(name.len() as u8);
            wire.extend_from_slice(name.as_bytes());
        }
        wire
    }
}

/// What Debian 12's OpenSSL 3.0 makes of nginx's default `ssl_ciphers HIGH:!aNULL:!MD5`
/// (`openssl ciphers` there), in its order: the OpenSSL built in here expands the same
/// words to another list (it leaves out the CCM_8 suites).
const NGINX_DEBIAN12_CIPHERS: &str = concat!(
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:DHE-DSS-AES256-GCM-SHA384:",
    "DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:",
    "DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-CCM8:ECDHE-ECDSA-AES256-CCM:DHE-RSA-AES256-CCM8:",
    "DHE-RSA-AES256-CCM:ECDHE-ECDSA-ARIA256-GCM-SHA384:ECDHE-ARIA256-GCM-SHA384:",
    "DHE-DSS-ARIA256-GCM-SHA384:DHE-RSA-ARIA256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:",
    "ECDHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:",
    "ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-CCM:DHE-RSA-AES128-CCM8:DHE-RSA-AES128-CCM:",
    "ECDHE-ECDSA-ARIA128-GCM-SHA256:ECDHE-ARIA128-GCM-SHA256:DHE-DSS-ARIA128-GCM-SHA256:",
    "DHE-RSA-ARIA128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA256:",
    "DHE-DSS-AES256-SHA256:ECDHE-ECDSA-CAMELLIA256-SHA384:ECDHE-RSA-CAMELLIA256-SHA384:",
    "DHE-RSA-CAMELLIA256-SHA256:DHE-DSS-CAMELLIA256-SHA256:ECDHE-ECDSA-AES128-SHA256:",
    "ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:DHE-DSS-AES128-SHA256:ECDHE-ECDSA-CAMELLIA128-SHA256:",
    "ECDHE-RSA-CAMELLIA128-SHA256:DHE-RSA-CAMELLIA128-SHA256:DHE-DSS-CAMELLIA128-SHA256:",
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA:",
    "DHE-RSA-CAMELLIA256-SHA:DHE-DSS-CAMELLIA256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:",
    "DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-CAMELLIA128-SHA:DHE-DSS-CAMELLIA128-SHA:",
    "RSA-PSK-AES256-GCM-SHA384:DHE-PSK-AES256-GCM-SHA384:RSA-PSK-CHACHA20-POLY1305:",
    "DHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-CCM8:DHE-PSK-AES256-CCM:",
    "RSA-PSK-ARIA256-GCM-SHA384:DHE-PSK-ARIA256-GCM-SHA384:AES256-GCM-SHA384:AES256-CCM8:AES256-CCM:",
    "ARIA256-GCM-SHA384:PSK-AES256-GCM-SHA384:PSK-CHACHA20-POLY1305:PSK-AES256-CCM8:PSK-AES256-CCM:",
    "PSK-ARIA256-GCM-SHA384:RSA-PSK-AES128-GCM-SHA256:DHE-PSK-AES128-GCM-SHA256:DHE-PSK-AES128-CCM8:",
    "DHE-PSK-AES128-CCM:RSA-PSK-ARIA128-GCM-SHA256:DHE-PSK-ARIA128-GCM-SHA256:AES128-GCM-SHA256:",
    "AES128-CCM8:AES128-CCM:ARIA128-GCM-SHA256:PSK-AES128-GCM-SHA256:PSK-AES128-CCM8:PSK-AES128-CCM:",
    "PSK-ARIA128-GCM-SHA256:AES256-SHA256:CAMELLIA256-SHA256:AES128-SHA256:CAMELLIA128-SHA256:",
    "ECDHE-PSK-AES256-CBC-SHA384:ECDHE-PSK-AES256-CBC-SHA:SRP-DSS-AES-256-CBC-SHA:",
    "SRP-RSA-AES-256-CBC-SHA:SRP-AES-256-CBC-SHA:RSA-PSK-AES256-CBC-SHA384:DHE-PSK-AES256-CBC-SHA384:",
    "RSA-PSK-AES256-CBC-SHA:DHE-PSK-AES256-CBC-SHA:ECDHE-PSK-CAMELLIA256-SHA384:",
    "RSA-PSK-CAMELLIA256-SHA384:DHE-PSK-CAMELLIA256-SHA384:AES256-SHA:CAMELLIA256-SHA:",
    "PSK-AES256-CBC-SHA384:PSK-AES256-CBC-SHA:PSK-CAMELLIA256-SHA384:ECDHE-PSK-AES128-CBC-SHA256:",
    "ECDHE-PSK-AES128-CBC-SHA:SRP-DSS-AES-128-CBC-SHA:SRP-RSA-AES-128-CBC-SHA:SRP-AES-128-CBC-SHA:",
    "RSA-PSK-AES128-CBC-SHA256:DHE-PSK-AES128-CBC-SHA256:RSA-PSK-AES128-CBC-SHA:DHE-PSK-AES128-CBC-SHA:",
    "ECDHE-PSK-CAMELLIA128-SHA256:RSA-PSK-CAMELLIA128-SHA256:DHE-PSK-CAMELLIA128-SHA256:AES128-SHA:",
    "CAMELLIA128-SHA:PSK-AES128-CBC-SHA256:PSK-AES128-CBC-SHA:PSK-CAMELLIA128-SHA256",
);

/// OpenSSL 3.0's default signature algorithms, in its order, less those its security
/// level 1 forbids (SHA-1) and DSA (no DSA certificates here).
const LEVEL_1_SIGALGS: &str = concat!(
    "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ed25519:ed448:",
    "rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:",
    "RSA+SHA256:RSA+SHA384:RSA+SHA512:ECDSA+SHA224:RSA+SHA224"
);

/// OpenSSL 3.0 listed all three EC point formats in its hello; later versions list
/// only the uncompressed one unless told (SSL_OP_LEGACY_EC_POINT_FORMATS, not named by
/// the openssl crate).
const LEGACY_EC_POINT_FORMATS: SslOptions = SslOptions::from_bits_retain(1 << 36);

extern "C" {
    // In libssl (the OpenSSL built into this binary), not bound by openssl-sys.
    fn SSL_CTX_set_timeout(ctx: *mut c_void, seconds: c_long) -> c_long;
}

/// An OpenSSL server context for a decoy: its certificate chain and key, and the
/// personality's settings applied as nginx applies its own.
pub fn context(chain: &[CertificateDer<'static>], key: &PrivateKeyDer<'static>, settings: &TlsSettings, http2: bool) -> Result<SslContext, TlsError> {
    let ssl = |what: &'static str| move |cause| TlsError::OpenSsl { what, cause };
    let mut ctx = SslContextBuilder::new(SslMethod::tls_server()).map_err(ssl("a TLS context"))?;
    // nginx turns on the options that still mean something to OpenSSL 3, and leaves
    // the library's defaults (middlebox compatibility, no compression) alone.
    let mut options = SslOptions::DONT_INSERT_EMPTY_FRAGMENTS
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_RENEGOTIATION
        | SslOptions::IGNORE_UNEXPECTED_EOF
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | LEGACY_EC_POINT_FORMATS;
    for (protocol, off) in [
        (TlsProtocol::Tls10, SslOptions::NO_TLSV1),
        (TlsProtocol::Tls11, SslOptions::NO_TLSV1_1),
        (TlsProtocol::Tls12, SslOptions::NO_TLSV1_2),
        (TlsProtocol::Tls13, SslOptions::NO_TLSV1_3),
    ] {
        if !settings.protocols.contains(&protocol) {
            options |= off;
        }
    }
    if settings.prefer_server_ciphers {
        options |= SslOptions::CIPHER_SERVER_PREFERENCE;
    }
    ctx.set_options(options);
    ctx.set_min_proto_version(None).map_err(ssl("protocol versions"))?;
    ctx.set_max_proto_version(Some(SslVersion::TLS1_3)).map_err(ssl("protocol versions"))?;
    // Debian 12 sets no system-wide policy, so OpenSSL 3.0's security level 1 applies.
    // The OpenSSL here rates the CCM_8 suites below that level (3.0 did not), so level
    // 1 is rebuilt by hand on level 0: no SHA-1 signatures, and TLS 1.0 and 1.1 (which
    // nginx enables) refused with 3.0's alert once negotiated (below).
    ctx.set_security_level(0);
    ctx.set_sigalgs_list(LEVEL_1_SIGALGS).map_err(ssl("signature algorithms"))?;
    ctx.set_mode(SslMode::RELEASE_BUFFERS | SslMode::NO_AUTO_CHAIN);
    // nginx's read-ahead (no visible effect with the OpenSSL here; see `drain`).
    ctx.set_read_ahead(true);
    ctx.set_cipher_list(&settings.ciphers).map_err(ssl("the personality's `tls.ciphers`"))?;
    ctx.set_ciphersuites("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256").map_err(ssl("TLS 1.3 suites"))?;
    ctx.set_groups_list(&settings.groups).map_err(ssl("the personality's `tls.groups`"))?;
    // nginx's `ssl_session_cache none`: sessions are announced but none is kept;
    // tickets (on by default) carry them instead.
    ctx.set_session_cache_mode(SslSessionCacheMode::SERVER | SslSessionCacheMode::NO_AUTO_CLEAR | SslSessionCacheMode::NO_INTERNAL_STORE);
    ctx.set_session_cache_size(1);
    // SAFETY: `ctx.as_ptr()` is the live SSL_CTX this builder owns; SSL_CTX_set_timeout
    // only stores the number in it.
    #[allow(unsafe_code)]
    unsafe {
        SSL_CTX_set_timeout(ctx.as_ptr().cast(), c_long::from(settings.session_timeout_seconds));
    }
    // nginx answers for its virtual hosts, so OpenSSL acknowledges the client's SNI.
    // The callback comes once the version is chosen: OpenSSL 3.0 at level 1 has no
    // cipher left for TLS 1.0 or 1.1 and fails with `internal_error`.
    ctx.set_servername_callback(|ssl, alert| match ssl.version2() {
        Some(v) if v == SslVersion::TLS1 || v == SslVersion::TLS1_1 => {
            *alert = SslAlert::INTERNAL_ERROR;
            Err(SniError::ALERT_FATAL)
        }
        _ => Ok(()),
    });
    let alpn = settings.alpn_wire(http2);
    ctx.set_alpn_select_callback(move |_, offered| alpn_select(&alpn, offered).ok_or(AlpnError::ALERT_FATAL));

    let mut certs = chain.iter().map(|c| X509::from_der(c.as_ref()));
    let leaf = certs.next().ok_or(TlsError::NoCertificate)?.map_err(ssl("the certificate"))?;
    ctx.set_certificate(&leaf).map_err(ssl("the certificate"))?;
    for issuer in certs {
        ctx.add_extra_chain_cert(issuer.map_err(ssl("the certificate chain"))?).map_err(ssl("the certificate chain"))?;
    }
    let key = PKey::private_key_from_der(key.secret_der()).map_err(ssl("the private key"))?;
    ctx.set_private_key(&key).map_err(ssl("the private key"))?;
    ctx.check_private_key().map_err(ssl("certificate and key do not fit together"))?;
    // nginx names its sessions by a SHA-1 over the server and its certificates; the
    // name travels inside every ticket, so its length shows in the ticket's.
    ctx.set_session_id_context(&openssl::sha::sha1(chain.first().map_or(&[][..], |c| c.as_ref()))).map_err(ssl("the session context"))?;
    Ok(ctx.build())
}

/// The first of the server's protocols (wire form) that the client also offers, as the
/// slice of the client's list (OpenSSL's `SSL_select_next_proto`, server preference).
/// The client's list is the attacker's: a length running past the end ends it.
pub(crate) fn alpn_select<'c>(server: &[u8], client: &'c [u8]) -> Option<&'c [u8]> {
    let offered: Vec<&'c [u8]> = alpn_names(client).filter(|n| !n.is_empty()).collect();
    alpn_names(server).find_map(|ours| offered.iter().copied().find(|theirs| *theirs == ours))
}

/// The names in an ALPN list (length-prefixed), up to the first that runs past the end.
fn alpn_names(mut wire: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&len, rest) = wire.split_first()?;
        let name = rest.get(..usize::from(len))?;
        wire = &rest[usize::from(len)..];
        Some(name)
    })
}

/// Reads (and drops) what has already arrived, up to 16 KiB, without waiting. After
/// a failed handshake nginx's OpenSSL has read everything that came, so its close is
/// a FIN; the OpenSSL here stops at the bad record, and closing with bytes unread
/// would send a reset instead.
pub async fn drain<S: tokio::io::AsyncRead + Unpin>(io: &mut S) {
    use tokio::io::AsyncReadExt;
    let mut sink = [0u8; 4096];
    for _ in 0..4 {
        // A zero timeout polls the read once: bytes already here, or nothing.
        match tokio::time::timeout(Duration::ZERO, io.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}

/// What the first byte of a connection says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// A TLS record (or an SSLv2 hello): handshake.
    Tls,
    /// Anything else: plain HTTP on the TLS port, which nginx reads and answers with
    /// "The plain HTTP request was sent to HTTPS port".
    Plain,
    /// Closed (or broken) before a byte.
    Closed,
    /// Silent for the whole wait.
    Silent,
}

/// Looks at the first byte without taking it (nginx peeks one byte the same way).
pub async fn opening(stream: &TcpStream, wait: Duration) -> Opening {
    let mut first = [0u8; 1];
    match tokio::time::timeout(wait, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] & 0x80 != 0 || first[0] == 0x16 => Opening::Tls,
        Ok(Ok(1)) => Opening::Plain,
        Ok(_) => Opening::Closed,
        Err(_) => Opening::Silent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_lists_h2_first_only_when_the_personality_speaks_it() {
        let s = TlsSettings::default();
        assert_eq!(s.alpn_wire(true), b"\x02h2\x08http/1.1\x08http/1.0\x08http/0.9");
        assert_eq!(s.alpn_wire(false), b"\x08http/1.1\x08http/1.0\x08http/0.9");
    }

    #[tokio::test]
    async fn the_first_byte_tells_a_tls_hello_from_plain_http_as_nginx_reads_it() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for (sent, close, want) in [
            (&[0x16u8, 0x03, 0x01][..], false, Opening::Tls),
            (&[0x80, 0x2e][..], false, Opening::Tls), // an SSLv2-style hello
            (b"GET / HTTP/1.1\r\n", false, Opening::Plain),
            (b"\r\n", false, Opening::Plain),
            (b"", true, Opening::Closed),
            (b"", false, Opening::Silent),
        ] {
            let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(sent).await.unwrap();
            if close {
                drop(client);
                assert_eq!(opening(&server, Duration::from_millis(200)).await, want);
            } else {
                assert_eq!(opening(&server, Duration::from_millis(200)).await, want, "{sent:?}");
            }
        }
    }

    #[test]
    fn alpn_follows_the_servers_order_and_survives_a_broken_client_list() {
        let ours = TlsSettings::default().alpn_wire(true);
        assert_eq!(alpn_select(&ours, b"\x08http/1.1\x02h2"), Some(&b"h2"[..]));
        assert_eq!(alpn_select(&ours, b"\x08http/1.0\x06spdy/3"), Some(&b"http/1.0"[..]));
        assert_eq!(alpn_select(&ours, b"\x06spdy/3"), None);
        assert_eq!(alpn_select(&ours, b"\x08http/1.1\xffh2"), Some(&b"http/1.1"[..]));
        assert_eq!(alpn_select(&ours, b"\x00\x00\x09http/1.1"), None);
        assert_eq!(alpn_select(&ours, b""), None);
    }

    #[test]
    fn a_personality_may_name_its_own_tls_settings_and_bad_ones_are_refused() {
        let s: TlsSettings = marked_yaml::from_yaml(0, "protocols: [TLSv1.2]\nciphers: ECDHE+AESGCM\nprefer_server_ciphers: false\n").unwrap();
        assert_eq!(s.protocols, [TlsProtocol::Tls12]);
        assert_eq!(s.session_timeout_seconds, 300, "the rest from the defaults");
        assert!(marked_yaml::from_yaml::<TlsSettings>(0, "protocols: [SSLv3]\n").is_err());

        let dir = tempfile::tempdir().unwrap();
        let source = crate::config::TlsSource::Generated { common_name: "pacs.example".into(), organisation: "Example".into() };
        let (chain, key) = crate::tls::load(&source, dir.path()).unwrap();
        assert!(context(&chain, &key, &TlsSettings::default(), true).is_ok());
        let bad = TlsSettings { ciphers: "NO-SUCH-CIPHER".into(), ..TlsSettings::default() };
        let e = context(&chain, &key, &bad, true).unwrap_err().to_string();
        assert!(e.contains("tls.ciphers"), "{e}");
    }
}
