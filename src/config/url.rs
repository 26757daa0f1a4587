//! A receiver's URL as a sink or the upstream link uses it: scheme, host, port, path,
//! and whether the URL itself is a secret (never shown whole).

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkUrl {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
    /// The URL itself is a secret (chat webhooks): messages show scheme and host only.
    pub secret: bool,
}

impl std::fmt::Display for SinkUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.secret {
            write!(f, "{scheme}://{host}:{}/…", self.port)
        } else {
            let path = self.path.split('?').next().unwrap_or("/");
            write!(f, "{scheme}://{host}:{}{path}", self.port)
        }
    }
}
