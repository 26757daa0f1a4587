#!/usr/bin/env bash
# Installs what the test suite needs (real clients and receivers, from Debian's
# packages) when missing, then runs the whole suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# command-to-check:debian-package pairs. Tests drive these real programs; later
# decoys and sinks add theirs here (ssh/sshpass, dcmtk, rsyslog, nats-server, curl).
NEEDED=(
  "curl:curl"
  "dcmdump:dcmtk"
)

missing=()
for pair in "${NEEDED[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "scripts/test.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Hostile-input tests hold thousands of sockets on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cargo check --locked --benches --quiet   # benchmarks must keep compiling
cargo test --locked "$@"
