//! `honeyward deploy kubernetes` renders manifests that deserialise into the
//! Kubernetes API types (k8s-openapi) and meet the restricted Pod Security Standard.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use common::*;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PodSpec, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;

fn check_restricted(spec: &PodSpec, low_ports: bool) {
    let pod = spec.security_context.as_ref().expect("pod securityContext");
    assert_eq!(pod.run_as_non_root, Some(true));
    assert_eq!(pod.seccomp_profile.as_ref().map(|s| s.type_.as_str()), Some("RuntimeDefault"));
    assert_eq!(spec.automount_service_account_token, Some(false));
    for c in &spec.containers {
        let sc = c.security_context.as_ref().expect("container securityContext");
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        let caps = sc.capabilities.as_ref().expect("capabilities");
        assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_string()][..]));
        let added = caps.add.clone().unwrap_or_default();
        assert!(added.iter().all(|a| a == "NET_BIND_SERVICE"), "{added:?}");
        assert_eq!(!added.is_empty(), low_ports);
    }
}

fn render(dir: &std::path::Path, yaml: &str) -> Vec<serde_json::Value> {
    std::fs::write(dir.join("k.yaml"), yaml).unwrap();
    let out = cli(dir, &["deploy", "kubernetes", "-c", "k.yaml", "--image", "registry.example/honeyward:test"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["kind"], "List");
    list["items"].as_array().unwrap().clone()
}

#[test]
fn every_rendered_manifest_is_a_valid_kubernetes_object_and_the_pod_is_restricted() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "sensor:\n  name: pacs-vlan\ndecoys:\n  - name: ssh\n    type: ssh\n    listen: 0.0.0.0:22\n  - name: pacs\n    type: dicom\n    listen: 0.0.0.0:11112\n";
    let items = render(dir.path(), yaml);
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap", "Deployment", "Service", "NetworkPolicy"]);
    let ns: Namespace = serde_json::from_value(items[0].clone()).unwrap();
    assert_eq!(ns.metadata.labels.unwrap()["pod-security.kubernetes.io/enforce"], "restricted");
    let cm: ConfigMap = serde_json::from_value(items[1].clone()).unwrap();
    assert_eq!(cm.data.unwrap()["honeyward.yaml"], yaml, "the configuration, as written");
    let deployment: Deployment = serde_json::from_value(items[2].clone()).unwrap();
    let spec = deployment.spec.unwrap().template.spec.unwrap();
    check_restricted(&spec, true);
    let ports: Vec<i32> = spec.containers[0].ports.as_ref().unwrap().iter().map(|p| p.container_port).collect();
    assert_eq!(ports, [22, 11112]);
    let svc: Service = serde_json::from_value(items[3].clone()).unwrap();
    assert_eq!(svc.spec.unwrap().ports.unwrap().len(), 2);
    let np: NetworkPolicy = serde_json::from_value(items[4].clone()).unwrap();
    assert_eq!(np.spec.unwrap().policy_types.unwrap(), ["Ingress"]);
}

#[test]
fn a_sensor_becomes_a_daemonset_without_extra_capabilities_when_no_port_is_privileged() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    // A sensor needs a credential: enrol it at a throwaway controller.
    let cdir = root.path().join("c");
    std::fs::create_dir_all(&cdir).unwrap();
    std::fs::write(cdir.join("honeyward.yaml"), "store:\n  path: honeyward.db\ncontroller:\n  listen: 127.0.0.1:18443\n").unwrap();
    cli(&cdir, &["controller", "enrol", "ward-k8s", "--out", dir.path().join("cred.json").to_str().unwrap()]);
    let yaml =
        "upstream:\n  url: https://controller.example:8443\n  credential_file: cred.json\ndecoys:\n  - name: web\n    type: http\n    listen: 0.0.0.0:8080\n";
    let items = render(dir.path(), yaml);
    assert_eq!(items[2]["kind"], "DaemonSet");
    let ds: DaemonSet = serde_json::from_value(items[2].clone()).unwrap();
    let spec = ds.spec.unwrap().template.spec.unwrap();
    check_restricted(&spec, false);
    assert_eq!(spec.containers[0].args.as_deref().unwrap()[0], "sensor");
}

#[test]
fn a_decoy_listening_on_loopback_is_refused_because_nothing_outside_the_pod_could_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "decoys:\n  - name: ssh\n    type: ssh\n    listen: 0.0.0.0:22\n  - name: pacs\n    type: dicom\n    listen: 127.0.0.1:11112\n";
    std::fs::write(dir.path().join("k.yaml"), yaml).unwrap();
    let out = std::process::Command::new(BIN).args(["deploy", "kubernetes", "-c", "k.yaml"]).current_dir(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty(), "refused, nothing rendered: {stderr}");
    assert!(stderr.contains("pacs (127.0.0.1:11112) listen on loopback") && !stderr.contains("ssh ("), "names the decoy: {stderr}");
    let out = std::process::Command::new(BIN).args(["deploy", "kubernetes", "-c", "k.yaml", "--allow-loopback"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("warning: pacs (127.0.0.1:11112)"));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["kind"], "List");
}
