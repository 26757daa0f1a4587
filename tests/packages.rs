//! The .deb and the .rpm (scripts/package.sh) as an ops team meets them: the .deb
//! installed with dpkg on this machine, validated, its unit verified and rated, run as
//! the service would run it, upgraded over a running install (same SSH host keys, same
//! store, same token key), removed (configuration kept) and purged (state deleted,
//! after saying so); man pages and bash completion in an interactive shell; lintian;
//! the .rpm's layout and a clean rpmlint once it is signed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, not a crashed decoy

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::run_ok as run;
use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PREVIOUS: &str = "0.0.9";

struct Packages {
    _dir: tempfile::TempDir,
    previous_deb: PathBuf,
    deb: PathBuf,
    rpm: PathBuf,
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Both packages of this build, and a .deb of the same files one version earlier (the
/// install an upgrade starts from). Built once: scripts/package.sh stages in one place.
fn packages() -> &'static Packages {
    static BUILT: OnceLock<Packages> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let package = |out: &Path, version: Option<&str>| {
            let mut cmd = Command::new(format!("{ROOT}/scripts/package.sh"));
            cmd.arg(BIN).arg(out).args(version);
            text(&run(&mut cmd))
        };
        package(&dir.path().join("previous"), Some(PREVIOUS));
        let listed = package(&dir.path().join("current"), None);
        let find = |suffix: &str| PathBuf::from(listed.lines().find(|l| l.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix} in {listed}")));
        let previous_deb =
            std::fs::read_dir(dir.path().join("previous")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "deb")).unwrap();
        Packages { previous_deb, deb: find(".deb"), rpm: find(".rpm"), _dir: dir }
    })
}

/// The packaged service, run as the unit runs it: user honeyward, in /var/lib/honeyward.
/// setpriv execs (runuser would fork, and a killed runuser would leave honeyward running).
fn start_service() -> Honeyward {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=honeyward", "--regid=honeyward", "--init-groups", "--", "/usr/bin/honeyward", "run", "-c", "/etc/honeyward/honeyward.yaml"]);
    let hw = Honeyward::spawn_with(Path::new("/var/lib/honeyward"), &mut cmd);
    hw.addr("pacs-ssh");
    hw
}

fn keyscan(hw: &Honeyward) -> String {
    let port = hw.addr("pacs-ssh").port().to_string();
    let out = run(Command::new("ssh-keyscan").args(["-p", &port, "-t", "rsa,ecdsa,ed25519", "127.0.0.1"]));
    let mut keys: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(_host, key)| key.to_owned())
        .collect();
    keys.sort();
    assert!(keys.len() >= 2, "{keys:?}");
    keys.join("\n")
}

fn events_stored() -> i64 {
    let db = rusqlite::Connection::open("/var/lib/honeyward/honeyward.db").unwrap();
    db.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap()
}

fn as_service_user(args: &[&str]) -> String {
    let out = run(Command::new("setpriv")
        .args(["--reuid=honeyward", "--regid=honeyward", "--init-groups", "--", "/usr/bin/honeyward"])
        .args(args)
        .current_dir("/var/lib/honeyward"));
    String::from_utf8(out.stdout).unwrap()
}

fn purge() {
    let _ = Command::new("dpkg").args(["--purge", "honeyward"]).stdin(Stdio::null()).output();
}

#[test]
fn the_deb_installs_runs_as_its_own_user_upgrades_keeping_keys_and_store_and_purges_after_saying_so() {
    if !honeyward::privilege::is_root() {
        eprintln!("skipped: installing a .deb needs root (CI runs as root)");
        return;
    }
    let p = packages();
    purge();

    // Install the previous version: a system user, a 0700 state directory, nothing started.
    let install = text(&run(Command::new("dpkg").arg("-i").arg(&p.previous_deb)));
    assert!(install.contains("installed, not started"), "{install}");
    let user = text(&run(Command::new("getent").args(["passwd", "honeyward"])));
    assert!(user.contains(":/var/lib/honeyward:/usr/sbin/nologin"), "{user}");
    let state = run(Command::new("stat").args(["-c", "%a %U", "/var/lib/honeyward"]));
    assert_eq!(String::from_utf8_lossy(&state.stdout).trim(), "700 honeyward");
    // Every decoy of the shipped configuration is on loopback.
    let shipped = std::fs::read_to_string("/etc/honeyward/honeyward.yaml").unwrap();
    let listens: Vec<&str> = shipped.lines().filter_map(|l| l.trim().strip_prefix("listen: ")).collect();
    assert!(listens.len() >= 10 && listens.iter().all(|l| l.starts_with("127.0.0.1:")), "{listens:?}");
    run(Command::new("/usr/bin/honeyward").args(["validate", "-c", "/etc/honeyward/honeyward.yaml"]));

    // The installed unit verifies and is rated at most 2.0.
    let unit = "/lib/systemd/system/honeyward.service";
    run(Command::new("systemd-analyze").args(["verify", unit]));
    let security = text(&run(Command::new("systemd-analyze").args(["security", "--offline=true", unit])));
    let score: f64 = security
        .lines()
        .find_map(|l| l.split("Overall exposure level for honeyward.service: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(score <= 2.0, "{security}");
    eprintln!("installed unit: systemd-analyze security {score}");

    // The operator edits the configuration (here: any free port), runs the service,
    // an intruder scans it, a token is planted.
    std::fs::write("/etc/honeyward/honeyward.yaml", shipped.replace("listen: 127.0.0.1:", "listen: 127.0.0.1:0 #")).unwrap();
    let edited = std::fs::read_to_string("/etc/honeyward/honeyward.yaml").unwrap();
    let mut hw = start_service();
    let keys_before = keyscan(&hw);
    assert!(eventually(10, || events_stored() > 0));
    hw.stop();
    let token = as_service_user(&[
        "token",
        "create",
        "aws-key",
        "--label",
        "upgrade test",
        "--out",
        "/var/lib/honeyward/aws-credentials",
        "-c",
        "/etc/honeyward/honeyward.yaml",
    ]);
    let token_id = token.split_whitespace().nth(1).unwrap().to_owned();
    let events_before = events_stored();
    let state_files = |dir: &str| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    let secrets_before = state_files("/var/lib/honeyward/honeyward-state");
    assert!(!secrets_before.is_empty());

    // Upgrade: the edited configuration, the keys, the token key and the store stay.
    let upgrade = text(&run(Command::new("dpkg").arg("-i").arg(&p.deb)));
    assert!(!upgrade.contains("installed, not started"), "an upgrade is not a first install: {upgrade}");
    assert_eq!(std::fs::read_to_string("/etc/honeyward/honeyward.yaml").unwrap(), edited);
    assert_eq!(state_files("/var/lib/honeyward/honeyward-state"), secrets_before);
    let version = as_service_user(&["version", "--json"]);
    assert!(version.contains(&format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"))), "{version}");
    let mut hw = start_service();
    assert_eq!(keyscan(&hw), keys_before, "the upgraded decoy shows the same host keys");
    hw.stop();
    assert!(events_stored() > events_before, "the store kept its events and took new ones");
    let tokens = as_service_user(&["token", "list", "-c", "/etc/honeyward/honeyward.yaml"]);
    assert!(tokens.contains(&token_id), "{tokens}");

    // Manual pages and completion, as installed.
    for page in ["honeyward", "honeyward-token"] {
        let man = text(&run(Command::new("man").arg(page).env("MANPAGER", "cat").env("MANWIDTH", "80")));
        assert!(man.contains("NAME") && man.contains(page) && man.contains("SYNOPSIS"), "{man}");
    }
    let typed = bash_completion_session();
    assert!(typed.contains("honeyward token create"), "subcommands complete: {typed}");
    for kind in ["ssh-password", "aws-key", "windows-password", "patient"] {
        assert!(typed.contains(kind), "token kinds are offered ({kind}): {typed}");
    }

    // Remove keeps the configuration and the state; purge deletes both, saying so.
    run(Command::new("dpkg").args(["--remove", "honeyward"]));
    assert!(!Path::new("/usr/bin/honeyward").exists());
    assert_eq!(std::fs::read_to_string("/etc/honeyward/honeyward.yaml").unwrap(), edited);
    assert!(Path::new("/var/lib/honeyward/honeyward.db").exists());
    let purged = text(&run(Command::new("dpkg").args(["--purge", "honeyward"])));
    assert!(purged.contains("purge deletes /var/lib/honeyward"), "{purged}");
    assert!(!Path::new("/etc/honeyward/honeyward.yaml").exists());
    assert!(!Path::new("/var/lib/honeyward").exists());
}

/// An interactive bash with bash-completion, driven by expect: `honeyward tok<TAB>`,
/// `cr<TAB>`, then `<TAB><TAB>` for the token kinds. Everything the terminal showed.
fn bash_completion_session() -> String {
    let script = r#"
set timeout 10
spawn env -i HOME=/tmp TERM=dumb PATH=/usr/bin:/bin bash --norc --noprofile -i
expect -re {[$#] $}
send "PS1='READY> '; source /usr/share/bash-completion/bash_completion\r"
expect "READY> "
send "honeyward tok\t"
expect "token "
send "cr\t"
expect "create "
send "\t\t"
expect {
  "windows-password" {}
  timeout { exit 2 }
}
send "\003"
expect "READY> "
send "exit\r"
expect eof
"#;
    let out = Command::new("expect").arg("-c").arg(script).stdin(Stdio::null()).output().expect("expect (scripts/test.sh installs it)");
    let shown = text(&out);
    assert!(out.status.success(), "expect: {shown}");
    shown
}

#[test]
fn the_deb_has_no_lintian_errors() {
    let p = packages();
    let out = Command::new("lintian").arg("--no-tag-display-limit").arg(&p.deb).output().expect("lintian (scripts/test.sh installs it)");
    let report = text(&out);
    eprintln!("{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E: ")).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_rpm_carries_the_debs_layout_and_signed_passes_rpmlint() {
    let p = packages();
    let listed = |out: Output| -> Vec<String> { String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect() };
    let rpm_files = listed(run(Command::new("rpm").arg("-qlp").arg(&p.rpm)));
    // dpkg-deb -c: mode, owner, size, date, time, path.
    let deb_files: Vec<String> =
        listed(run(Command::new("dpkg-deb").arg("-c").arg(&p.deb))).iter().filter_map(|l| l.split_whitespace().nth(5).map(str::to_owned)).collect();
    // The same files, where each distribution puts them; Debian's own additions apart.
    let debian_only = ["/usr/share/doc/honeyward/copyright", "/usr/share/doc/honeyward/changelog.Debian.gz", "/usr/share/lintian/overrides/honeyward"];
    let mut from_deb: Vec<String> = deb_files
        .iter()
        .filter(|f| !f.ends_with('/'))
        .map(|f| f.trim_start_matches('.').to_owned())
        .filter(|f| !debian_only.contains(&f.as_str()))
        .map(|f| f.replace("/lib/systemd/system/", "/usr/lib/systemd/system/").replace("/zsh/vendor-completions/", "/zsh/site-functions/"))
        .collect();
    from_deb.sort();
    let mut from_rpm: Vec<String> = rpm_files.into_iter().filter(|f| f != "/etc/honeyward" && f != "/usr/share/doc/honeyward").collect();
    from_rpm.sort();
    assert_eq!(from_rpm, from_deb);
    let config = text(&run(Command::new("rpm").args(["-qcp"]).arg(&p.rpm)));
    assert_eq!(config.trim(), "/etc/honeyward/honeyward.yaml");

    // Signed with a throwaway OpenPGP key (rpmsign), then checked as a user would.
    let gnupg = tempfile::tempdir().unwrap();
    let gpg =
        |args: &[&str]| run(Command::new("gpg").env("GNUPGHOME", gnupg.path()).args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]).args(args));
    gpg(&["--quick-gen-key", "honeyward test signing <test@honeyward.invalid>", "ed25519", "sign", "never"]);
    let signed = gnupg.path().join("honeyward.rpm");
    std::fs::copy(&p.rpm, &signed).unwrap();
    run(Command::new("rpmsign")
        .env("GNUPGHOME", gnupg.path())
        .args(["--addsign", "--define", "_gpg_name test@honeyward.invalid", "--define", "__gpg /usr/bin/gpg"])
        .arg(&signed));
    let public = gnupg.path().join("key.asc");
    std::fs::write(&public, gpg(&["--armor", "--export", "test@honeyward.invalid"]).stdout).unwrap();
    let db = gnupg.path().join("rpmdb");
    std::fs::create_dir(&db).unwrap();
    let dbpath = format!("--dbpath={}", db.display());
    run(Command::new("rpm").arg(&dbpath).arg("--import").arg(&public));
    let checked = text(&run(Command::new("rpm").arg(&dbpath).arg("-K").arg(&signed)));
    assert!(checked.contains("signatures OK"), "{checked}");

    // rpmlint checks the signature against rpm's keyring: the one above, named in the
    // ~/.rpmmacros of a home of its own.
    std::fs::write(gnupg.path().join(".rpmmacros"), format!("%_dbpath {}\n", db.display())).unwrap();
    let lint = Command::new("rpmlint").env("HOME", gnupg.path()).arg(&signed).output().expect("rpmlint (scripts/test.sh installs it)");
    let report = text(&lint);
    eprintln!("{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.contains(": E: ")).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(report.contains(" 0 errors"), "{report}");
}

#[test]
fn every_signed_artifact_verifies_with_the_commands_in_verify_md_and_a_changed_byte_does_not() {
    let p = packages();
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    std::fs::create_dir(&release).unwrap();
    for file in [&p.deb, &p.rpm] {
        std::fs::copy(file, release.join(file.file_name().unwrap())).unwrap();
    }
    std::fs::copy(BIN, release.join("honeyward")).unwrap();
    run(Command::new("objcopy").args(["--only-keep-debug", BIN]).arg(release.join("honeyward.debug")));
    run(Command::new(format!("{ROOT}/scripts/sbom.sh")).arg(&release));
    let key = dir.path().join("signing_key");
    run(Command::new(format!("{ROOT}/scripts/sign.sh")).arg(&release).env("HONEYWARD_SIGNING_KEY", &key));
    let sums = std::fs::read_to_string(release.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 6, "the six files, and not the list itself: {sums}");

    // The user's allowed-signers file holds the published line; the commands are
    // VERIFY.md's own, taken from its code block.
    let signers = dir.path().join("allowed_signers");
    std::fs::copy(release.join("allowed_signers"), &signers).unwrap();
    let verify = std::fs::read_to_string(format!("{ROOT}/VERIFY.md")).unwrap();
    let block = verify
        .split("```sh\n")
        .find(|b| b.contains("ssh-keygen -Y verify"))
        .unwrap()
        .split("```")
        .next()
        .unwrap()
        .replace("~/.config/honeyward/allowed_signers", &signers.display().to_string());
    let check = |dir: &Path| Command::new("bash").arg("-c").arg(&block).current_dir(dir).stdin(Stdio::null()).output().unwrap();
    let out = check(&release);
    let said = text(&out);
    let files = std::fs::read_dir(&release).unwrap().filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".sig")).count() - 1; // allowed_signers
    assert_eq!(said.matches("Good \"honeyward-release\" signature for release@honeyward.invalid").count(), files, "{said}");
    assert!(!said.contains("BAD"), "{said}");
    assert!(out.status.success(), "{said}");

    // One changed byte in the .deb: its signature and its checksum both fail.
    let deb = release.join(p.deb.file_name().unwrap());
    let mut bytes = std::fs::read(&deb).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&deb, bytes).unwrap();
    let out = check(&release);
    let said = text(&out);
    assert!(said.contains(&format!("BAD: {}", p.deb.file_name().unwrap().to_string_lossy())), "{said}");
    assert!(!out.status.success(), "sha256sum -c fails: {said}");
}
