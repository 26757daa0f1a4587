#!/usr/bin/env bash
# The OCI image, built offline: a static (musl) honeyward on an empty base, assembled by
# buildah (Debian's package) with no registry and no Dockerfile build stage:
#   scripts/container.sh OUT_DIR [VERSION]
# Writes OUT_DIR/honeyward-VERSION.oci.tar (an OCI archive; load it with
# `podman load -i`, `skopeo copy oci-archive:... docker://registry/...`) and
# OUT_DIR/honeyward-VERSION.oci.digest (its manifest digest, for `deploy kubernetes
# --image REGISTRY/honeyward@DIGEST`). With HONEYWARD_MUSL_BINARY set, that binary is
# used instead of building one.
#
# The image holds:
#   /honeyward                           the binary (entrypoint), statically linked
#   /etc/honeyward/honeyward.yaml        the quick-start with its decoys on 0.0.0.0 (the console
#                                        stays on 127.0.0.1: kubectl port-forward, podman exec)
#   /etc/ssl/certs/ca-certificates.crt   this machine's CA bundle (HTTPS sinks)
#   /etc/passwd, /etc/group              the user honeyward, uid/gid 65532, no shell
#   /var/lib/honeyward                   state and store (a volume), owned by 65532
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/container.sh OUT_DIR [VERSION]}
version=${2:-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)}
mkdir -p "$out"
command -v buildah >/dev/null 2>&1 || { echo "scripts/container.sh: buildah is missing (apt-get install buildah)" >&2; exit 1; }

# shellcheck source=scripts/reproducible-env.sh
. scripts/reproducible-env.sh
target=x86_64-unknown-linux-musl
binary=${HONEYWARD_MUSL_BINARY:-}
if [ -z "$binary" ]; then
  # The C parts (SQLite, zlib, OpenSSL) are compiled with musl-gcc (Debian's musl-tools).
  command -v musl-gcc >/dev/null 2>&1 || { echo "scripts/container.sh: musl-gcc is missing (apt-get install musl-tools)" >&2; exit 1; }
  rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
  CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target "$target" --bin honeyward
  binary="$CARGO_TARGET_DIR/$target/release/honeyward"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$binary" "$root/honeyward"
strip --strip-unneeded --remove-section=.comment "$root/honeyward"
if ! file -b "$root/honeyward" | grep -q 'static'; then
  echo "scripts/container.sh: $binary is not statically linked" >&2; exit 1
fi
install -d -m 0755 "$root/etc/honeyward" "$root/etc/ssl/certs"
sed 's#^    listen: 127\.0\.0\.1:#    listen: 0.0.0.0:#' examples/quickstart.yaml >"$root/etc/honeyward/honeyward.yaml"
chmod 0644 "$root/etc/honeyward/honeyward.yaml"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'honeyward:x:65532:65532:honeyward:/var/lib/honeyward:/sbin/nologin\n' >"$root/etc/passwd"
printf 'honeyward:x:65532:\n' >"$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
state=$(mktemp -d)
find "$root" "$state" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
container=$(buildah from scratch)
trap 'buildah rm "$container" >/dev/null 2>&1 || true; rm -rf "$root" "$state"' EXIT
buildah copy --quiet "$container" "$root/." / >/dev/null
# buildah copies as root:root unless told: the state directory is the user's alone.
buildah copy --quiet --chown 65532:65532 --chmod 0700 "$container" "$state" /var/lib/honeyward >/dev/null
buildah config \
  --user 65532:65532 \
  --workingdir /var/lib/honeyward \
  --entrypoint '["/honeyward"]' \
  --cmd 'run -c /etc/honeyward/honeyward.yaml' \
  --volume /var/lib/honeyward \
  --port 2222/tcp --port 2323/tcp --port 4242/tcp --port 8080/tcp \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --label org.opencontainers.image.title=honeyward \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.revision="$HONEYWARD_COMMIT" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  "$container"
archive="$out/honeyward-$version.oci.tar"
rm -f "$archive"
buildah commit --quiet --format oci --timestamp "$SOURCE_DATE_EPOCH" --identity-label=false --omit-history \
  "$container" "oci-archive:$archive:honeyward:$version" >/dev/null
skopeo inspect --format '{{.Digest}}' "oci-archive:$archive" >"$out/honeyward-$version.oci.digest"
echo "$archive $(cat "$out/honeyward-$version.oci.digest")"
