//! Where a planted credential or URL points: a decoy of this sensor, named or chosen
//! by the token's kind (an SSH password points at an SSH decoy, a web password, API
//! token, access key or canary URL at a web decoy, a Windows account at an SMB or RDP
//! decoy), so that a planted file never names a host that does not answer.

use crate::config::{Config, DecoyConfig};
use crate::event::TokenKind;

/// Why no decoy could be pointed at.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("no decoy named `{0}` in the configuration")]
    NoSuchDecoy(String),
    #[error("decoy `{0}` listens on port 0 (a port chosen at start): give the endpoint instead")]
    NoFixedPort(String),
}

/// The decoy types a token of this kind is used against, most fitting first.
fn fitting(kind: TokenKind) -> &'static [&'static str] {
    match kind {
        TokenKind::SshPassword | TokenKind::SshKey => &["ssh"],
        TokenKind::AwsKey | TokenKind::Bearer | TokenKind::HttpBasic | TokenKind::Url => &["http"],
        TokenKind::WindowsPassword => &["smb", "rdp"],
        TokenKind::File | TokenKind::Patient => &[],
    }
}

/// The endpoint of `decoy`: `http(s)://HOST:PORT` for a web decoy, `HOST:PORT` for
/// the others; HOST is the sensor's name when it listens on every address.
pub fn of_decoy(decoy: &DecoyConfig, sensor: &str) -> Result<String, EndpointError> {
    let addr = decoy.listen();
    if addr.port() == 0 {
        return Err(EndpointError::NoFixedPort(decoy.name().to_string()));
    }
    let host = match addr.ip() {
        ip if ip.is_unspecified() => sensor.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Ok(match decoy {
        DecoyConfig::Http(h) if h.tls.is_some() => format!("https://{host}:{}", addr.port()),
        DecoyConfig::Http(_) => format!("http://{host}:{}", addr.port()),
        _ => format!("{host}:{}", addr.port()),
    })
}

/// The endpoint of the decoy named `name`.
pub fn of_named(config: &Config, name: &str) -> Result<String, EndpointError> {
    let decoy = config.decoys.iter().find(|d| d.name() == name).ok_or_else(|| EndpointError::NoSuchDecoy(name.to_string()))?;
    of_decoy(decoy, &config.sensor.name)
}

/// The first decoy that fits `kind` and has a fixed port: (its name, its endpoint).
pub fn default_for(config: &Config, kind: TokenKind) -> Option<(String, String)> {
    fitting(kind).iter().find_map(|t| {
        config.decoys.iter().filter(|d| d.type_name() == *t).find_map(|d| of_decoy(d, &config.sensor.name).ok().map(|e| (d.name().to_string(), e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(decoys: &str) -> Config {
        crate::config::parse_str("t.yaml", &format!("sensor:\n  name: ward-7\ndecoys:\n{decoys}")).expect("config")
    }

    #[test]
    fn each_kind_points_at_a_decoy_that_fits_it_and_has_a_fixed_port() {
        let c = config(
            "  - name: chosen-later\n    type: http\n    listen: 127.0.0.1:0\n  - name: portal\n    type: http\n    listen: 0.0.0.0:8080\n  - name: jump\n    type: ssh\n    listen: 10.0.0.5:2222\n  - name: fs\n    type: smb\n    listen: '[::1]:4450'\n",
        );
        assert_eq!(default_for(&c, TokenKind::HttpBasic), Some(("portal".into(), "http://ward-7:8080".into())), "port 0 is passed over");
        assert_eq!(default_for(&c, TokenKind::Url).map(|d| d.1), Some("http://ward-7:8080".into()));
        assert_eq!(default_for(&c, TokenKind::SshPassword), Some(("jump".into(), "10.0.0.5:2222".into())));
        assert_eq!(default_for(&c, TokenKind::WindowsPassword).map(|d| d.1), Some("[::1]:4450".into()));
        assert_eq!(default_for(&c, TokenKind::Patient), None);
        assert_eq!(of_named(&c, "chosen-later"), Err(EndpointError::NoFixedPort("chosen-later".into())));
        assert_eq!(of_named(&c, "nope"), Err(EndpointError::NoSuchDecoy("nope".into())));
    }
}
