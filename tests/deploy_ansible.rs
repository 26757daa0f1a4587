//! The example Ansible playbook (deploy/ansible/site.yml), run for real with a local
//! connection: one controller and two sensors, each installed into its own scratch
//! root instead of `/`, with service management off (no systemd here). The installed
//! layout then runs: a sensor forwards to the controller with the credential the
//! playbook carried over.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

const PLAYBOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/ansible/site.yml");

fn ansible(inventory: &Path, configs: &Path) -> String {
    let out = Command::new("ansible-playbook")
        .args(["-i", inventory.to_str().unwrap(), PLAYBOOK])
        .args(["-e", &format!("honeyward_binary={BIN}")])
        .args(["-e", &format!("honeyward_config_dir={}", configs.display())])
        .args(["-e", "honeyward_manage_service=false", "-e", "ansible_become=false"])
        // The Python that runs Ansible runs its modules too (local connection).
        .args(["-e", "ansible_python_interpreter={{ansible_playbook_python}}"])
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .output()
        .expect("ansible-playbook must be installed: scripts/test.sh installs ansible-core from PyPI");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "ansible-playbook failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("no hosts matched"), "every play ran:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// The `changed=N` of one host in the play recap.
fn changed(recap: &str, host: &str) -> u32 {
    let line = recap.lines().rev().find(|l| l.starts_with(host) && l.contains("changed=")).unwrap_or_else(|| panic!("no recap for {host}:\n{recap}"));
    line.split("changed=").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap()
}

#[test]
fn the_ansible_playbook_installs_a_controller_and_enrolled_sensors_that_forward_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let configs = tmp.path().join("configs");
    std::fs::create_dir_all(&configs).unwrap();
    std::fs::write(
        configs.join("ctrl.yaml"),
        format!("sensor:\n  name: ctrl\nstore:\n  path: honeyward.db\n  sync: normal\ncontroller:\n  listen: 127.0.0.1:{port}\n"),
    )
    .unwrap();
    for s in ["ward-1", "ward-2"] {
        let yaml = format!("sensor:\n  max_memory_mb: 256\nstore:\n  path: honeyward.db\n  sync: normal\nupstream:\n  url: https://127.0.0.1:{port}\n  credential_file: sensor-credential.json\n  heartbeat_seconds: 1\ndecoys:\n  - name: banner\n    type: tcp\n    listen: 127.0.0.1:0\n    banner: \"login: \"\n");
        std::fs::write(configs.join(format!("{s}.yaml")), yaml).unwrap();
    }
    let root = |h: &str| tmp.path().join("hosts").join(h);
    let inventory = tmp.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[honeyward_controller]\nctrl ansible_connection=local honeyward_root={}\n\n[honeyward_sensors]\nward-1 ansible_connection=local honeyward_root={}\nward-2 ansible_connection=local honeyward_root={}\n",
            root("ctrl").display(),
            root("ward-1").display(),
            root("ward-2").display()
        ),
    )
    .unwrap();

    let first = ansible(&inventory, &configs);
    for (host, mode) in [("ctrl", "controller"), ("ward-1", "sensor"), ("ward-2", "sensor")] {
        let r = root(host);
        assert!(r.join("usr/local/bin/honeyward").is_file(), "{host}: binary installed");
        let unit = std::fs::read_to_string(r.join("etc/systemd/system/honeyward.service")).unwrap();
        assert!(unit.contains(&format!("ExecStart=/usr/local/bin/honeyward {mode} -c /etc/honeyward/honeyward.yaml")), "{host}: {unit}");
        assert!(unit.contains("DynamicUser=yes"));
        let state = r.join("var/lib/private/honeyward");
        assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700, "{host}: state directory 0700");
    }
    let mut credentials = Vec::new();
    for s in ["ward-1", "ward-2"] {
        let path = root(s).join("var/lib/honeyward/sensor-credential.json");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{s}: credential 0600");
        let text = std::fs::read_to_string(&path).unwrap();
        let c: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(c["sensor"], s, "{s}: its own credential");
        credentials.push(text);
    }
    assert!(!first.contains("\"key\""), "credentials stay out of Ansible's output");
    let cstate = root("ctrl").join("var/lib/honeyward");
    let ccfg = root("ctrl").join("etc/honeyward/honeyward.yaml");
    let ccfg = ccfg.to_str().unwrap();
    let sensors = cli(&cstate, &["controller", "sensors", "-c", ccfg]);
    assert!(sensors.contains("ward-1") && sensors.contains("ward-2"), "{sensors}");

    // Again: nothing to enrol, nothing changed, the same credentials.
    let second = ansible(&inventory, &configs);
    for h in ["ctrl", "ward-1", "ward-2"] {
        assert_eq!(changed(&second, h), 0, "{h} changed on the second run:\n{second}");
    }
    for (s, before) in ["ward-1", "ward-2"].iter().zip(&credentials) {
        assert_eq!(&std::fs::read_to_string(root(s).join("var/lib/honeyward/sensor-credential.json")).unwrap(), before);
    }

    // The installed layout runs: the controller and a sensor, each from its state directory.
    let controller = Honeyward::spawn(&cstate, &["controller", "-c", ccfg]);
    let sstate = root("ward-1").join("var/lib/honeyward");
    let scfg = root("ward-1").join("etc/honeyward/honeyward.yaml");
    let sensor = Honeyward::spawn(&sstate, &["sensor", "-c", scfg.to_str().unwrap()]);
    let mut s = std::net::TcpStream::connect(sensor.addr("banner")).unwrap();
    let mut banner = [0u8; 7];
    std::io::Read::read_exact(&mut s, &mut banner).unwrap();
    assert_eq!(&banner, b"login: ");
    drop(s);
    let db = controller.store();
    assert!(
        eventually(30, || db.query_row("SELECT count(*) FROM events WHERE sensor = 'ward-1' AND decoy = 'banner'", [], |r| r.get::<_, i64>(0)).unwrap() >= 2),
        "the sensor's connection reached the controller"
    );
}
