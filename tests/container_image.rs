//! The OCI image (scripts/container.sh), assembled offline by buildah from a static musl
//! build: its config (skopeo inspect) runs the binary as a non-root user with no shell
//! in the image; unpacked, its root filesystem runs the quick-start on its own (under
//! podman where the machine allows it, otherwise chrooted in namespaces of its own
//! made by unshare) and records a decoy connection; `deploy kubernetes` refers to it
//! by digest.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::run_ok as run;
use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const MUSL: &str = "x86_64-unknown-linux-musl";

/// A static honeyward: HONEYWARD_TEST_MUSL_BINARY (scripts/test.sh builds it), or built
/// here for the musl target (debug profile; the image's contents do not depend on it)
/// in a target directory of its own: `cargo test` holds the lock of its own.
fn musl_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HONEYWARD_TEST_MUSL_BINARY") {
        let path = PathBuf::from(path);
        return if path.is_absolute() { path } else { Path::new(ROOT).join(path) };
    }
    let out = run(Command::new(env!("CARGO"))
        .args(["build", "--locked", "--bin", "honeyward", "--target", MUSL, "--message-format", "json-render-diagnostics"])
        .env("CC_x86_64_unknown_linux_musl", "musl-gcc")
        .env("CARGO_TARGET_DIR", format!("{ROOT}/target/container-test"))
        .current_dir(ROOT));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| m["executable"].as_str().filter(|e| e.ends_with("/honeyward")).map(PathBuf::from))
        .expect("cargo names the musl executable")
}

/// The image's root filesystem: its one layer, unpacked (ownership kept: tests run as root).
fn unpack(archive: &Path, into: &Path) -> PathBuf {
    let layout = into.join("layout");
    run(Command::new("skopeo").arg("copy").arg(format!("oci-archive:{}", archive.display())).arg(format!("oci:{}", layout.display())));
    let blob = |digest: &str| layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap()).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "FROM scratch plus one layer");
    let rootfs = into.join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    run(Command::new("tar").arg("-xf").arg(blob(layers[0]["digest"].as_str().unwrap())).arg("-C").arg(&rootfs));
    rootfs
}

#[test]
fn the_image_is_non_root_shell_free_and_its_binary_records_a_decoy_connection() {
    for tool in ["buildah", "skopeo", "unshare"] {
        assert!(
            Command::new("sh").arg("-c").arg(format!("command -v {tool}")).status().unwrap().success(),
            "{tool} must be installed: scripts/test.sh installs it"
        );
    }
    let work = tempfile::tempdir().unwrap();
    let binary = musl_binary();
    let built = run(Command::new(format!("{ROOT}/scripts/container.sh")).arg(work.path()).env("HONEYWARD_MUSL_BINARY", &binary));
    let built = String::from_utf8(built.stdout).unwrap();
    let (archive, digest) = built.trim().rsplit_once(' ').unwrap();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{built}");

    // The config, as skopeo reads it from the archive.
    let oci = format!("oci-archive:{archive}");
    let inspected: serde_json::Value = serde_json::from_slice(&run(Command::new("skopeo").args(["inspect", "--config", &oci])).stdout).unwrap();
    let config = &inspected["config"];
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/honeyward"]));
    assert_eq!(config["Cmd"], serde_json::json!(["run", "-c", "/etc/honeyward/honeyward.yaml"]));
    assert_eq!(config["WorkingDir"], "/var/lib/honeyward");
    let manifest: serde_json::Value = serde_json::from_slice(&run(Command::new("skopeo").args(["inspect", &oci])).stdout).unwrap();
    assert_eq!(manifest["Digest"], digest, "the digest file names this image");

    // Nothing but the binary, its configuration, the CA bundle and the user: no shell.
    let rootfs = unpack(Path::new(archive), work.path());
    let listing = String::from_utf8(run(Command::new("find").arg(".").args(["-type", "f"]).current_dir(&rootfs)).stdout).unwrap();
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort();
    assert_eq!(files, ["./etc/group", "./etc/honeyward/honeyward.yaml", "./etc/passwd", "./etc/ssl/certs/ca-certificates.crt", "./honeyward"]);
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert_eq!(passwd, "honeyward:x:65532:65532:honeyward:/var/lib/honeyward:/sbin/nologin\n");
    let kind = String::from_utf8(run(Command::new("file").arg("-b").arg(rootfs.join("honeyward"))).stdout).unwrap();
    assert!(kind.contains("static"), "{kind}");

    // Run it: podman where it can run containers here, otherwise the root filesystem
    // chrooted as uid 65532 in its working directory, in new network, mount and PID namespaces (its decoys listen
    // on 0.0.0.0 there, where the only interface is a loopback of its own).
    for dir in ["proc", "dev", "tmp"] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    let script = r#"
set -eu
root=$1
ip link set lo up
mount -t proc proc "$root/proc"
# As the runtime would: the image's root, its working directory, its user.
unshare --root="$root" --wd=/var/lib/honeyward --setgid=65532 --setuid=65532 \
  /honeyward run -c /etc/honeyward/honeyward.yaml >"$root/../stdout.log" 2>"$root/../stderr.log" &
pid=$!
for i in $(seq 1 300); do
  if curl -s -o /dev/null --max-time 2 http://127.0.0.1:8080/; then break; fi
  sleep 0.1
done
curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 http://127.0.0.1:8080/
ssh-keyscan -T 5 -p 2222 -t ed25519 127.0.0.1 2>/dev/null | cut -d' ' -f2
kill -TERM "$pid"
wait "$pid"
"#;
    let podman = Command::new("podman").args(["--storage-driver", "vfs", "run", "--rm", "--network", "none", &oci, "version", "--json"]).output();
    let podman_ran = podman.as_ref().is_ok_and(|o| o.status.success());
    eprintln!("podman run: {}", podman.as_ref().map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned()).unwrap_or_else(|e| e.to_string()));
    if podman_ran {
        let version = String::from_utf8_lossy(&podman.unwrap().stdout).to_string();
        assert!(version.contains(&format!("\"target\":\"{MUSL}\"")), "{version}");
    }
    // podman keeps what it loaded from the archive; leave its storage as it was.
    let _ = Command::new("podman").args(["--storage-driver", "vfs", "rmi", "-f", &format!("localhost/honeyward:{}", env!("CARGO_PKG_VERSION"))]).output();
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--pid", "--fork", "--kill-child", "bash", "-c", script, "unshare"])
        .arg(&rootfs)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = std::fs::read_to_string(work.path().join("stderr.log")).unwrap_or_default();
    assert!(out.status.success(), "{said}\n{}\n{stderr}", String::from_utf8_lossy(&out.stderr));
    let mut lines = said.lines();
    assert_eq!(lines.next(), Some("200"), "the portal answered: {said}\n{stderr}");
    assert_eq!(lines.next(), Some("ssh-ed25519"), "the SSH decoy answered: {said}\n{stderr}");

    // What it recorded, in the store inside the image's own state directory.
    let db = store(&rootfs.join("var/lib/honeyward"));
    let decoys: Vec<String> =
        db.prepare("SELECT DISTINCT decoy FROM events ORDER BY decoy").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(decoys.contains(&"ehr".to_owned()) && decoys.contains(&"ssh".to_owned()), "{decoys:?}\n{stderr}");
    let requests = count_kind(&db, "http_request");
    assert!(requests >= 1, "{stderr}");

    // Deployed by digest: the manifests name the image by it.
    let k8s = cli(
        &rootfs.join("etc/honeyward"),
        &["deploy", "kubernetes", "-c", "honeyward.yaml", "--image", &format!("registry.example.nhs.uk/honeyward@{digest}")],
    );
    assert!(
        k8s.contains(&format!("\"image\": \"registry.example.nhs.uk/honeyward@{digest}\""))
            || k8s.contains(&format!("\"image\":\"registry.example.nhs.uk/honeyward@{digest}\"")),
        "{k8s}"
    );
}
