#!/usr/bin/env bash
# Every release artifact, reproducibly, into OUT_DIR (default dist/):
#   scripts/release.sh [OUT_DIR]
#   honeyward                   the release binary, stripped (glibc, x86_64)
#   honeyward.debug             its debug information (line tables), linked by .gnu_debuglink
#   honeyward_V-1_amd64.deb     Debian/Ubuntu package   (scripts/package.sh)
#   honeyward-V-1.x86_64.rpm    RHEL-family package     (scripts/package.sh)
#   honeyward-V.oci.tar         OCI image: static musl binary FROM scratch (scripts/container.sh)
#   honeyward.cdx.json          CycloneDX SBOM          (cargo-sbom)
#   honeyward.spdx.json         SPDX SBOM               (cargo-sbom)
#   SHA256SUMS                  and NAME.sig beside every file (scripts/sign.sh: `ssh-keygen -Y sign`)
# VERIFY.md says how a user checks each file; REPRODUCIBLE.md which flags
# make two builds of one commit byte-identical.
# Set HONEYWARD_RELEASE_SKIP=oci,rpm,... to leave artifacts out.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
skip=",${HONEYWARD_RELEASE_SKIP:-},"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=scripts/reproducible-env.sh
. scripts/reproducible-env.sh
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

cargo build --release --locked --bin honeyward
built="$CARGO_TARGET_DIR/release/honeyward"
objcopy --only-keep-debug --compress-debug-sections=zlib "$built" "$out/honeyward.debug"
install -m 0755 "$built" "$out/honeyward"
strip --strip-unneeded --remove-section=.comment "$out/honeyward"
(cd "$out" && objcopy --add-gnu-debuglink=honeyward.debug honeyward)
chmod 0644 "$out/honeyward.debug"

case $skip in *,packages,*) ;; *) scripts/package.sh "$out/honeyward" "$out" "$version" ;; esac
case $skip in *,oci,*) ;; *) scripts/container.sh "$out" "$version" ;; esac
case $skip in *,sbom,*) ;; *) scripts/sbom.sh "$out" ;; esac

scripts/sign.sh "$out"
echo "scripts/release.sh: artifacts in $out"
(cd "$out" && cat SHA256SUMS)
