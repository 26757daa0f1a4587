//! Tags for HTTP requests: exploit patterns (ATT&CK T1190) and wordlist scanning
//! (many 404s from one source, T1595.003). Pure pattern checks over attacker bytes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tag of a request that carries an exploit pattern.
pub const EXPLOIT: &str = "exploit";
/// Tag of a request from a source that is walking a wordlist.
pub const SCANNING: &str = "scanning";

use crate::event::decoded_lower as normalise;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// True when the bytes carry a known exploit pattern.
pub fn is_exploit(bytes: &[u8]) -> bool {
    let n = normalise(bytes);
    const PATTERNS: &[&[u8]] = &[
        b"../",
        b"..\\",
        b"${jndi:",
        b"${${",
        b"/etc/passwd",
        b"/bin/sh",
        b"cmd.exe",
        b"<script",
        b"' or '1'='1",
        b"' or 1=1",
        b"union select",
        b"$(",
        b"`",
        b";wget ",
        b";curl ",
        b"|wget ",
        b"|curl ",
        b"/cgi-bin/",
        b"wp-login.php",
        b"phpunit",
        b".env",
        // Java deserialisation gadgets (XStream XML: Mirth Connect's CVE-2023-43208).
        b"<dynamic-proxy",
        b"invokertransformer",
        b"chainedtransformer",
        b"java.lang.processbuilder",
        b"java.beans.eventhandler",
    ];
    PATTERNS.iter().any(|p| contains(&n, p))
}

/// The public exploit a request is built like, as a tag: an XStream gadget chain
/// posted to Mirth Connect's REST API is CVE-2023-43208 (the bypass of CVE-2023-37679's
/// fix; both deserialise the body before checking the session).
pub fn known_exploit(method: &[u8], path: &[u8], body: &[u8]) -> Option<&'static str> {
    let n = normalise(body);
    let xstream = (contains(&n, b"<sorted-set") || contains(&n, b"<dynamic-proxy") || contains(&n, b"<map>"))
        && [&b"eventbindinginvocationhandler"[..], b"invokertransformer", b"chainedtransformer", b"processbuilder", b"eventhandler"]
            .iter()
            .any(|g| contains(&n, g));
    (method == b"POST" && path.starts_with(b"/api/") && xstream).then_some("cve-2023-43208")
}

/// Counts 404s per source over a sliding window to spot wordlist scanning.
pub struct ScanTracker {
    window: Duration,
    threshold: u32,
    max_sources: usize,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl ScanTracker {
    /// `threshold` 404s within `window` from one source mark it as scanning.
    pub fn new(window: Duration, threshold: u32) -> Self {
        ScanTracker { window, threshold, max_sources: 100_000, seen: Mutex::new(HashMap::new()) }
    }

    /// Records a 404 from `source`; true once the source crossed the threshold.
    pub fn not_found(&self, source: IpAddr) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= self.max_sources {
            // Bounded memory under a flood of sources: forget the stale ones.
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(source).or_insert((now, 0));
        if now.duration_since(entry.0) > self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 >= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_exploit_patterns() {
        for hostile in [
            &b"/cgi-bin/../../etc/passwd"[..],
            b"/?q=${jndi:ldap://x/a}",
            b"/%2e%2e%2fetc%2fpasswd",
            b"/?id=1' OR 1=1--",
            b"/?c=$(id)",
            b"/.env",
            b"/?x=${${lower:j}ndi:dns://a}",
        ] {
            assert!(is_exploit(hostile), "{}", String::from_utf8_lossy(hostile));
        }
        for benign in [&b"/"[..], b"/index.html", b"/docs/rota.pdf?v=2", b"/api/v1/namespaces"] {
            assert!(!is_exploit(benign), "{}", String::from_utf8_lossy(benign));
        }
        let random: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let _ = is_exploit(&random); // never panics on arbitrary bytes
        let _ = is_exploit(b"%");
        let _ = is_exploit(b"%4");
    }

    #[test]
    fn many_not_founds_from_one_source_mark_it_as_scanning() {
        let t = ScanTracker::new(Duration::from_secs(60), 20);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(!(0..19).any(|_| t.not_found(a)));
        assert!(t.not_found(a));
        assert!(!t.not_found(b));
    }
}
