//! Kubernetes manifests for a configuration, as one JSON `List` (`kubectl apply -f`):
//! a Namespace that enforces the `restricted` Pod Security Standard, a ConfigMap with
//! the configuration, a Deployment (a DaemonSet for sensors, one per node), a Service
//! exposing the decoys' ports and a NetworkPolicy. The pod runs as a non-root user
//! with a read-only root filesystem, no privilege escalation, every capability
//! dropped (NET_BIND_SERVICE added back only when a decoy listens below 1024) and the
//! runtime's default seccomp profile.

use serde_json::{json, Value};

use crate::config::Config;

/// What the manifests are rendered with.
#[derive(Debug, Clone)]
pub struct K8sOptions {
    pub namespace: String,
    pub image: String,
    /// The configuration file's text, put in the ConfigMap.
    pub config_text: String,
    /// Memory limit of the container, MiB.
    pub memory_max_mb: u64,
}

/// What listens on a loopback address (decoys, the controller): nothing outside the
/// pod can reach it there. (name, address), in configuration order.
pub fn loopback_listeners(config: &Config) -> Vec<(String, std::net::SocketAddr)> {
    let decoys = config.decoys.iter().map(|d| (d.name().to_string(), d.listen()));
    let controller = config.controller.iter().map(|c| ("controller".to_string(), c.listen));
    decoys.chain(controller).filter(|(_, addr)| addr.ip().is_loopback()).collect()
}

fn labels() -> Value {
    json!({"app.kubernetes.io/name": "honeyward"})
}

/// The manifests.
pub fn render(config: &Config, o: &K8sOptions) -> Value {
    let mode = if config.controller.is_some() {
        "controller"
    } else if config.upstream.is_some() {
        "sensor"
    } else {
        "run"
    };
    let mut ports: Vec<(String, u16)> = config.decoys.iter().map(|d| (d.name().to_string(), d.listen().port())).filter(|(_, p)| *p != 0).collect();
    if let Some(c) = &config.controller {
        ports.push(("controller".into(), c.listen.port()));
    }
    let low = ports.iter().any(|(_, p)| *p < 1024);
    // Port names: at most 15 characters, lower case, letters, digits and '-'.
    let port_name = |name: &str, i: usize| {
        let clean: String = name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let clean = clean.trim_matches('-');
        if clean.is_empty() || clean.len() > 15 || !clean.starts_with(|c: char| c.is_ascii_lowercase()) {
            format!("decoy-{i}")
        } else {
            clean.to_string()
        }
    };
    let container_ports: Vec<Value> =
        ports.iter().enumerate().map(|(i, (n, p))| json!({"name": port_name(n, i), "containerPort": p, "protocol": "TCP"})).collect();
    let service_ports: Vec<Value> =
        ports.iter().enumerate().map(|(i, (n, p))| json!({"name": port_name(n, i), "port": p, "targetPort": p, "protocol": "TCP"})).collect();
    let capabilities = if low { json!({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}) } else { json!({"drop": ["ALL"]}) };
    let pod = json!({
        "metadata": {"labels": labels()},
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "honeyward",
                "image": o.image,
                "args": [mode, "-c", "/etc/honeyward/honeyward.yaml"],
                "workingDir": "/var/lib/honeyward",
                "ports": container_ports,
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": capabilities, "seccompProfile": {"type": "RuntimeDefault"}},
                "resources": {"limits": {"memory": format!("{}Mi", o.memory_max_mb)}, "requests": {"memory": format!("{}Mi", o.memory_max_mb / 4), "cpu": "100m"}},
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/honeyward", "readOnly": true},
                    {"name": "state", "mountPath": "/var/lib/honeyward"}
                ]
            }],
            "volumes": [
                {"name": "config", "configMap": {"name": "honeyward-config"}},
                {"name": "state", "emptyDir": {}}
            ]
        }
    });
    let workload = if mode == "sensor" {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "honeyward", "namespace": o.namespace, "labels": labels()}, "spec": {"selector": {"matchLabels": labels()}, "template": pod}})
    } else {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "honeyward", "namespace": o.namespace, "labels": labels()}, "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels()}, "template": pod}})
    };
    let ingress_ports: Vec<Value> = ports.iter().map(|(_, p)| json!({"protocol": "TCP", "port": p})).collect();
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": o.namespace, "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest"
            }}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "honeyward-config", "namespace": o.namespace}, "data": {"honeyward.yaml": o.config_text}},
            workload,
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "honeyward", "namespace": o.namespace, "labels": labels()}, "spec": {"type": "LoadBalancer", "selector": labels(), "ports": service_ports}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "honeyward", "namespace": o.namespace}, "spec": {
                "podSelector": {"matchLabels": labels()},
                "policyTypes": ["Ingress"],
                // Decoys are meant to be reached from anywhere; nothing else is.
                "ingress": [{"ports": ingress_ports}]
            }}
        ]
    })
}
