//! The HTTP `Date` header (IMF-fixdate), formatted at most once a second.

use std::sync::Mutex;

static CACHE: Mutex<(i64, String)> = Mutex::new((i64::MIN, String::new()));

/// `Sat, 28 Nov 2026 16:38:33 GMT` for a time.
pub fn format(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The current time as an HTTP date; formatting is shared by every request in a second.
pub fn now() -> String {
    let t = chrono::Utc::now();
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.0 != t.timestamp() {
        *cache = (t.timestamp(), format(t));
    }
    cache.1.clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_imf_fixdate() {
        let t = chrono::DateTime::from_timestamp(1_795_883_913, 0).unwrap();
        assert_eq!(super::format(t), "Sat, 28 Nov 2026 16:38:33 GMT");
        assert!(super::now().ends_with(" GMT"));
    }
}
