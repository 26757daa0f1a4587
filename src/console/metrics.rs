//! Prometheus text exposition (format 0.0.4) at `/metrics`: stored events by sensor,
//! decoy and kind (counted as the incident follower passes them, so they match the
//! store), open connections per decoy, open incidents, each sink's lag, dead letters
//! and last success, the store's size, and the usual process metrics.

use std::fmt::Write;

/// One sink's numbers.
pub struct SinkNumbers {
    pub name: String,
    pub lag_events: u64,
    pub dead_letters: u64,
    pub last_success_seconds: Option<f64>,
    pub last_error_seconds: Option<f64>,
    pub failing: bool,
}

/// Everything `/metrics` reports.
pub struct Snapshot {
    pub events: Vec<crate::store::EventCount>,
    pub connections_open: Vec<(String, usize)>,
    pub incidents_open: u64,
    pub incidents_unacknowledged: u64,
    pub sinks: Vec<SinkNumbers>,
    pub store_bytes: u64,
    pub process: Process,
}

/// This process, from /proc.
#[derive(Default)]
pub struct Process {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
    pub open_fds: u64,
    pub start_time_seconds: f64,
}

impl Process {
    #[allow(unsafe_code)] // a libc call; see the SAFETY comment
    pub fn read() -> Process {
        let mut p = Process { resident_bytes: crate::resident::resident_bytes().unwrap_or(0), ..Default::default() };
        p.open_fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64).unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name (which may hold spaces) start at ") ".
            let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
            let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            p.cpu_seconds = (field(11) + field(12)) / ticks;
            let boot = std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<f64>().ok())))
                .unwrap_or(0.0);
            p.start_time_seconds = boot + field(19) / ticks;
        }
        p
    }
}

/// A label value, escaped as the exposition format says.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition text.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    family(&mut out, "honeyward_events_total", "counter", "Events stored, by sensor, decoy and kind (ever: retention does not lower it).");
    for (sensor, decoy, kind, n) in &s.events {
        let _ = writeln!(
            out,
            "honeyward_events_total{{sensor=\"{}\",decoy=\"{}\",kind=\"{}\"}} {n}",
            label(sensor),
            label(decoy.as_deref().unwrap_or("")),
            label(kind)
        );
    }
    family(&mut out, "honeyward_connections_open", "gauge", "Connections each decoy of this process holds open now.");
    for (decoy, n) in &s.connections_open {
        let _ = writeln!(out, "honeyward_connections_open{{decoy=\"{}\"}} {n}", label(decoy));
    }
    family(&mut out, "honeyward_incidents_open", "gauge", "Incidents whose last event is within the incident window.");
    let _ = writeln!(out, "honeyward_incidents_open {}", s.incidents_open);
    family(&mut out, "honeyward_incidents_unacknowledged", "gauge", "Incidents (not suppressed) nobody has acknowledged.");
    let _ = writeln!(out, "honeyward_incidents_unacknowledged {}", s.incidents_unacknowledged);
    family(&mut out, "honeyward_sink_lag_events", "gauge", "Stored events a sink has not delivered yet.");
    for k in &s.sinks {
        let _ = writeln!(out, "honeyward_sink_lag_events{{sink=\"{}\"}} {}", label(&k.name), k.lag_events);
    }
    family(&mut out, "honeyward_sink_dead_letters", "gauge", "Events a sink's receiver refused for good.");
    for k in &s.sinks {
        let _ = writeln!(out, "honeyward_sink_dead_letters{{sink=\"{}\"}} {}", label(&k.name), k.dead_letters);
    }
    family(&mut out, "honeyward_sink_failing", "gauge", "1 while a sink's last attempt failed.");
    for k in &s.sinks {
        let _ = writeln!(out, "honeyward_sink_failing{{sink=\"{}\"}} {}", label(&k.name), u8::from(k.failing));
    }
    family(&mut out, "honeyward_sink_last_success_timestamp_seconds", "gauge", "When a sink last delivered.");
    for k in s.sinks.iter().filter(|k| k.last_success_seconds.is_some()) {
        let _ = writeln!(out, "honeyward_sink_last_success_timestamp_seconds{{sink=\"{}\"}} {}", label(&k.name), k.last_success_seconds.unwrap_or(0.0));
    }
    family(&mut out, "honeyward_sink_last_error_timestamp_seconds", "gauge", "When a sink's last attempt failed.");
    for k in s.sinks.iter().filter(|k| k.last_error_seconds.is_some()) {
        let _ = writeln!(out, "honeyward_sink_last_error_timestamp_seconds{{sink=\"{}\"}} {}", label(&k.name), k.last_error_seconds.unwrap_or(0.0));
    }
    family(&mut out, "honeyward_store_bytes", "gauge", "Size of the store (database and write-ahead log).");
    let _ = writeln!(out, "honeyward_store_bytes {}", s.store_bytes);
    let p = &s.process;
    family(&mut out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    let _ = writeln!(out, "process_resident_memory_bytes {}", p.resident_bytes);
    family(&mut out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    let _ = writeln!(out, "process_cpu_seconds_total {}", p.cpu_seconds);
    family(&mut out, "process_open_fds", "gauge", "Open file descriptors.");
    let _ = writeln!(out, "process_open_fds {}", p.open_fds);
    family(&mut out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
    let _ = writeln!(out, "process_start_time_seconds {}", p.start_time_seconds);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_every_family_is_typed() {
        let s = Snapshot {
            events: vec![("s\"1".into(), Some("a\\b\nc".into()), "ssh_auth", 3), ("s".into(), None, "sensor_silent", 1)],
            connections_open: vec![("ssh".into(), 2)],
            incidents_open: 1,
            incidents_unacknowledged: 1,
            sinks: vec![SinkNumbers {
                name: "siem".into(),
                lag_events: 5,
                dead_letters: 0,
                last_success_seconds: Some(1.5),
                last_error_seconds: None,
                failing: false,
            }],
            store_bytes: 4096,
            process: Process { resident_bytes: 1, cpu_seconds: 0.25, open_fds: 9, start_time_seconds: 2.0 },
        };
        let text = render(&s);
        assert!(text.contains("honeyward_events_total{sensor=\"s\\\"1\",decoy=\"a\\\\b\\nc\",kind=\"ssh_auth\"} 3\n"), "{text}");
        assert!(text.contains("honeyward_events_total{sensor=\"s\",decoy=\"\",kind=\"sensor_silent\"} 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{name} has no TYPE");
        }
    }
}
