#!/usr/bin/env bash
# Installs what the test suite needs (real clients and receivers, from Debian's
# packages) when missing, then runs the whole suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# One whole run compiles everything once: incremental caches would only take disk (GBs
# over the suite's binaries, and a full disk kills the compiler).
export CARGO_INCREMENTAL=0

# command-to-check:debian-package pairs. Tests drive these real programs; later
# decoys and sinks add theirs here (ssh/sshpass, dcmtk, rsyslog, nats-server, curl).
NEEDED=(
  "curl:curl"
  "dcmdump:dcmtk"
  "ssh:openssh-client"
  "ssh-keyscan:openssh-client"
  "sshpass:sshpass"
  "/usr/sbin/sshd:openssh-server"   # the real sshd the SSH decoy is compared with
  "/usr/sbin/dropbear:dropbear-bin" # the real Dropbear the dropbear personality is compared with
  "dbclient:dropbear-bin"           # Dropbear's client, one of the SSH clients tested
  "plink:putty-tools"               # PuTTY's plink, one of the SSH clients tested
  "/usr/sbin/nginx:nginx"           # the real nginx the HTTP decoy is compared with
  "/usr/sbin/php-fpm8.2:php8.2-fpm"  # the PHP behind nginx that ehr-login is compared with
  "/usr/sbin/Orthanc:orthanc"       # the real Orthanc the pacs-viewer personality is compared with
  "/usr/share/orthanc/plugins/libOrthancDicomWeb.so:orthanc-dicomweb"   # its DICOMweb plugin
  "chromium:chromium"               # renders the ehr-login page headless
  "openssl:openssl"                 # makes an operator-style certificate for the HTTPS test
  "/usr/sbin/rsyslogd:rsyslog"      # the real syslog receiver the syslog sink is tested against
  "/usr/lib/*/rsyslog/lmnsd_gtls.so:rsyslog-gnutls"   # rsyslog's TLS listener (RFC 5425)
  "hydra:hydra"
  "nmap:nmap"
  "nghttp:nghttp2-client"           # h2 frames of the HTTPS decoy and of the real nginx
  "python3:python3"                 # runs the HTTP receiver the HTTP sinks are tested against
  "/usr/sbin/nats-server:nats-server"   # JetStream between sensors and controller
  "systemd-analyze:systemd"         # verifies and rates the rendered systemd unit
  "node:nodejs"                     # runs playwright-core for the console's browser test
  "npm:npm"
  "smbclient:smbclient"             # Samba's SMB client, driving the SMB decoy
  "/usr/sbin/smbd:samba"            # the real smbd the samba-debian12 personality is compared with
  "xfreerdp:freerdp2-x11"           # FreeRDP's client, driving the RDP decoy (/auth-only)
  "xvfb-run:xvfb"                   # the X display xfreerdp wants even for /auth-only
  "xauth:xauth"
  "ip:iproute2"                     # network namespaces for the poisoner canary's test
  # The packages (tests/packages.rs): built with rpmbuild, checked with lintian and
  # rpmlint, the .rpm signed with gpg, man pages and completion as installed.
  "lintian:lintian"
  "rpmbuild:rpm"
  "rpmlint:rpmlint"
  "gpg:gnupg"
  "expect:expect"
  "man:man-db"
  "/usr/share/bash-completion/bash_completion:bash-completion"
  # The container image (tests/container_image.rs): a static build with musl-gcc for
  # the C parts, assembled by buildah, read by skopeo.
  "musl-gcc:musl-tools"
  "buildah:buildah"
  "skopeo:skopeo"
  "file:file"
)

missing=()
for pair in "${NEEDED[@]}"; do
  pair=${pair%% *}; cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || compgen -G "$cmd" >/dev/null || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "scripts/test.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  # Installing a server package must not start it as a system service.
  guard=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$guard" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi

# The AWS CLI (from PyPI) drives the HTTP decoy with a planted access key.
if ! command -v aws >/dev/null 2>&1; then
  echo "scripts/test.sh: installing awscli from PyPI"
  python3 -m pip install --quiet awscli
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
fi

# SSH clients and auditors the SSH decoy is tested with, from PyPI: paramiko (what many
# brute-forcers are built on), asyncssh, and ssh-audit (the fingerprinting tool);
# pyjarm, the JARM TLS fingerprinting probe the HTTPS decoy is compared with nginx by;
# impacket, the SMB/NTLM library behind most Windows lateral-movement tooling; and the
# HL7 v2 clients the hl7 decoy is driven with: hl7 (its mllp_send) and hl7apy;
# dicomweb-client searches pacs-viewer's DICOMweb; fhirclient reads fhir-server.
for mod_pkg in "paramiko:paramiko" "asyncssh:asyncssh" "ssh_audit:ssh-audit" "jarm:pyjarm" "impacket:impacket" "hl7:hl7" "hl7apy:hl7apy" "dicomweb_client:dicomweb-client" "fhirclient:fhirclient"; do
  mod=${mod_pkg%%:*}; pkg=${mod_pkg#*:}
  if ! python3 -c "import $mod" 2>/dev/null; then
    echo "scripts/test.sh: installing $pkg from PyPI"
    python3 -m pip install --quiet "$pkg"
  fi
done
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
# fhir.resources 6.4, the last release whose models are FHIR 4.0.1 (R4), validates what
# fhir-server serves. It needs pydantic 1, so it lives in its own directory, which
# tests/fhir_decoy.rs puts first on the path of its checker alone.
export HONEYWARD_FHIR_R4_MODELS="${HONEYWARD_FHIR_R4_MODELS:-$HOME/.cache/honeyward-test/fhir-r4}"
if [ ! -d "$HONEYWARD_FHIR_R4_MODELS/fhir/resources" ]; then
  echo "scripts/test.sh: installing fhir.resources 6.4 (FHIR R4 models) into $HONEYWARD_FHIR_R4_MODELS"
  python3 -m pip install --quiet --target "$HONEYWARD_FHIR_R4_MODELS" "fhir.resources==6.4.0" "pydantic[email]<2"
fi

# playwright-core (from npm, no browser download) drives Debian's chromium through its
# DevTools protocol for the console test, and axe-core audits each page it opens;
# prometheus-client (PyPI) is the reference parser /metrics is checked with.
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
  echo "scripts/test.sh: installing playwright-core and axe-core from npm"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "scripts/test.sh: installing prometheus-client from PyPI"
  python3 -m pip install --quiet prometheus-client
fi

# ansible-core (from PyPI) runs the example playbook in deploy/ansible for real.
if ! command -v ansible-playbook >/dev/null 2>&1; then
  echo "scripts/test.sh: installing ansible-core from PyPI"
  python3 -m pip install --quiet ansible-core
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
fi

# The OASIS STIX 2.1 validator (from PyPI; it carries the 2.1 JSON schemas) checks
# `honeyward export stix`.
if ! command -v stix2_validator >/dev/null 2>&1; then
  echo "scripts/test.sh: installing stix2-validator from PyPI"
  python3 -m pip install --quiet stix2-validator
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
fi

# From crates.io: cargo-deb builds the .deb that tests/packages.rs installs;
# cargo-cyclonedx and cargo-sbom write the SBOMs (scripts/sbom.sh, tests/sbom.rs).
for tool in cargo-deb cargo-cyclonedx cargo-sbom; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "scripts/test.sh: installing $tool"
    cargo install --locked --quiet "$tool"
  fi
done
# The standards' own validators the SBOMs are checked with (PyPI): the SPDX project's
# spdx-tools and CycloneDX's cyclonedx-python-lib with its JSON schemas.
if ! command -v pyspdxtools >/dev/null 2>&1 || ! python3 -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null; then
  echo "scripts/test.sh: installing spdx-tools and cyclonedx-python-lib from PyPI"
  python3 -m pip install --quiet spdx-tools "cyclonedx-python-lib[json-validation]"
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# The static binary the container image is assembled from (tests/container_image.rs),
# built before the suite so it shares the host-side artifacts of this build.
rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
CC_x86_64_unknown_linux_musl=musl-gcc cargo build --locked --quiet --target x86_64-unknown-linux-musl --bin honeyward
export HONEYWARD_TEST_MUSL_BINARY="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/debug/honeyward"

# Hostile-input tests hold thousands of sockets on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Style (rustfmt.toml, the [lints] table in Cargo.toml, clippy.toml): formatting and
# every clippy warning fail the run; unsafe only where allowed, unwrap/expect only in tests.
cargo fmt --all --check
cargo clippy --locked --all-targets --quiet -- -D warnings   # benchmarks included: they must keep compiling

# Supply chain (deny.toml): cargo-deny is installed from crates.io when missing (best
# effort: without it the checks are skipped and that is said). `cargo deny check` runs
# whole: against the live RustSec database when it can be fetched, otherwise against
# the snapshot in ../shared/advisory-db (or $HONEYWARD_ADVISORY_DB), saying which.
if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "scripts/test.sh: installing cargo-deny"
  cargo install --locked --quiet cargo-deny || echo "scripts/test.sh: could not install cargo-deny"
fi
if command -v cargo-deny >/dev/null 2>&1; then
  scripts/supply-chain.sh
else
  echo "scripts/test.sh: cargo-deny not installed; supply-chain checks skipped"
fi
cargo test --locked "$@"
