#!/usr/bin/env bash
# `cargo deny check` (advisories, bans, licenses, sources; deny.toml) against the live
# RustSec advisory database when it can be fetched, otherwise against an offline
# snapshot of it: HONEYWARD_ADVISORY_DB, or ../shared/advisory-db beside the checkout
# (a plain copy of the database tree, with its commit and date in advisory-db.SNAPSHOT
# next to it). Says which database it used. Run from anywhere; exits non-zero when a
# check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo deny --log-level error fetch db >/dev/null 2>&1; then
  echo "scripts/supply-chain.sh: advisories checked against the live RustSec database"
  cargo deny --log-level error check
  # cargo audit reads the same database; installed only when it is reachable.
  command -v cargo-audit >/dev/null 2>&1 || cargo install --locked --quiet cargo-audit || echo "scripts/supply-chain.sh: could not install cargo-audit"
  if command -v cargo-audit >/dev/null 2>&1; then cargo audit --ignore RUSTSEC-2023-0071; fi
  exit 0
fi

snapshot="${HONEYWARD_ADVISORY_DB:-../shared/advisory-db}"
if [ ! -d "$snapshot/crates" ]; then
  echo "scripts/supply-chain.sh: the RustSec database is not reachable and there is no snapshot at $snapshot;"
  echo "scripts/supply-chain.sh: advisories NOT checked (bans, licenses and sources are, with deny.toml's floor of known-bad versions)"
  cargo deny --log-level error check bans licenses sources
  exit 0
fi
about="$snapshot.SNAPSHOT"
commit=$(sed -n 's/^commit: *//p' "$about" 2>/dev/null || true)
when=$(sed -n 's/^commit date: *//p' "$about" 2>/dev/null || true)
when=${when:-$(date -u +%F)}

# `--offline` below also keeps cargo-deny's `cargo metadata` from the network, so every
# locked crate (those of other platforms too, which a build never downloads) must be in
# cargo's cache first.
cargo fetch --locked --quiet

# cargo-deny reads its database as a git repository in a directory named after the
# database's URL: ask it for that name, then lay the snapshot there as one commit
# dated like the snapshot (the snapshot itself may be read-only).
root="$PWD/target/advisory-dbs"
config="$PWD/target/deny-offline.toml"
mkdir -p "$root"
age_days=$(( ($(date -u +%s) - $(date -u -d "$when" +%s)) / 86400 + 1 ))
write_config() {
  sed "s|^\\[advisories\\]\$|[advisories]\\ndb-path = \"$root\"\\nmaximum-db-staleness = \"P${1}D\"|" deny.toml > "$config"
}
write_config "$age_days"
name=$(cargo deny --offline --log-level error --config "$config" check advisories 2>&1 | grep -o 'advisory-db-[0-9a-f]*' | head -n 1 || true)
if [ -z "$name" ]; then
  name=$(ls "$root" 2>/dev/null | grep '^advisory-db-' | head -n 1 || true)
fi
if [ -z "$name" ]; then
  echo "scripts/supply-chain.sh: cannot tell where cargo-deny looks for its database" >&2
  exit 1
fi
db="$root/$name"
if [ "$(git -C "$db" log -1 --format=%s 2>/dev/null || true)" != "RustSec advisory-db snapshot ${commit:-unknown}" ]; then
  rm -rf "$db"
  cp -r "$snapshot" "$db"
  chmod -R u+w "$db"
  git -C "$db" init -q
  git -C "$db" add -A
  GIT_AUTHOR_DATE="${when}T00:00:00Z" GIT_COMMITTER_DATE="${when}T00:00:00Z" \
    git -C "$db" -c user.name=honeyward -c user.email=honeyward@localhost commit -q -m "RustSec advisory-db snapshot ${commit:-unknown}"
fi
echo "scripts/supply-chain.sh: the live RustSec database is not reachable; advisories checked against the snapshot ${commit:-of unknown commit} of $when (offline, $age_days days old)"
cargo deny --offline --log-level error --config "$config" check
