//! A real rsyslog (Debian's) started on loopback for the syslog sink tests: it parses
//! the structured data with mmpstrucdata and writes one line per message received.

use std::net::TcpStream;
use std::process::{Command, Stdio};

use super::{eventually, Reaped};

pub struct Rsyslog {
    _child: Reaped,
    pub out: std::path::PathBuf,
}

/// rsyslog with `setup` (global settings, modules, inputs) writing
/// `msgid TAB parsed-SD-JSON TAB msg` for everything it receives; ready once `port`
/// accepts connections.
pub fn rsyslog_with(dir: &std::path::Path, setup: &str, port: u16) -> Rsyslog {
    let out = dir.join("rsyslog-out.log");
    let conf = format!(
        r#"{setup}
module(load="mmpstrucdata")
template(name="fields" type="list") {{
  property(name="msgid") constant(value="\t")
  property(name="$!rfc5424-sd") constant(value="\t")
  property(name="msg") constant(value="\n")
}}
ruleset(name="hw") {{ action(type="mmpstrucdata") action(type="omfile" file="{o}" template="fields") }}
"#,
        o = out.display()
    );
    std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
    let child = Command::new("rsyslogd")
        .arg("-n")
        .arg("-f")
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslog.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rsyslogd must be installed: scripts/test.sh installs rsyslog");
    assert!(eventually(10, || TcpStream::connect(("127.0.0.1", port)).is_ok()), "rsyslog listening");
    Rsyslog { _child: Reaped(child), out }
}

/// rsyslog listening on `tcp` and `udp`.
pub fn rsyslog(dir: &std::path::Path, tcp: u16, udp: u16) -> Rsyslog {
    let setup = format!(
        r#"global(workDirectory="{d}" maxMessageSize="1m")
module(load="imtcp")
module(load="imudp")
input(type="imtcp" port="{tcp}" address="127.0.0.1" ruleset="hw")
input(type="imudp" port="{udp}" address="127.0.0.1" ruleset="hw")"#,
        d = dir.display()
    );
    rsyslog_with(dir, &setup, tcp)
}

/// (msgid, structured data of honeyward@32473, message) per line rsyslog wrote.
pub fn received(r: &Rsyslog) -> Vec<(String, serde_json::Value, String)> {
    let text = std::fs::read_to_string(&r.out).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (msgid, sd, msg) = (parts.next()?, parts.next()?, parts.next()?);
            let sd: serde_json::Value = serde_json::from_str(sd).unwrap_or(serde_json::Value::Null);
            Some((msgid.to_string(), sd["honeyward@32473"].clone(), msg.trim_start_matches('\u{feff}').to_string()))
        })
        .collect()
}
