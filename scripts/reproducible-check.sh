#!/usr/bin/env bash
# Two clean release builds of HEAD from two different checkout directories, then their
# stripped binaries compared by SHA-256:
#   scripts/reproducible-check.sh [WORK_DIR]
# Each build starts from an empty target directory at the one fixed path release builds
# use (REPRODUCIBLE.md: OpenSSL records paths inside it): WORK_DIR/target, emptied
# between the two.
# Takes two full release builds (about 10 minutes each on 2 cores). Exits 1 when the
# hashes differ, and then says which sections differ.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
rev=$(git rev-parse HEAD)
for side in a b; do
  dir="$work/checkout-$side/honeyward"
  rm -rf "$work/checkout-$side" "$work/target"
  git clone -q --no-hardlinks . "$dir"
  git -C "$dir" checkout -q "$rev"
  (cd "$dir" && HONEYWARD_RELEASE_TARGET_DIR="$work/target" HONEYWARD_RELEASE_SKIP=packages,oci,sbom \
     HONEYWARD_SIGNING_KEY="$work/key" scripts/release.sh "$work/dist-$side" >"$work/build-$side.log" 2>&1) ||
    { echo "build $side failed: $work/build-$side.log" >&2; exit 1; }
done
a=$(sha256sum <"$work/dist-a/honeyward" | cut -d' ' -f1)
b=$(sha256sum <"$work/dist-b/honeyward" | cut -d' ' -f1)
echo "build a ($work/checkout-a): $a"
echo "build b ($work/checkout-b): $b"
if [ "$a" != "$b" ]; then
  echo "scripts/reproducible-check.sh: the binaries differ" >&2
  for s in $(readelf -SW "$work/dist-a/honeyward" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p'); do
    if ! cmp -s <(objcopy -O binary --only-section="$s" "$work/dist-a/honeyward" /dev/stdout 2>/dev/null) \
                <(objcopy -O binary --only-section="$s" "$work/dist-b/honeyward" /dev/stdout 2>/dev/null); then
      echo "  section $s differs" >&2
    fi
  done
  exit 1
fi
echo "scripts/reproducible-check.sh: identical"
