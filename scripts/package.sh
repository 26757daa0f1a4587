#!/usr/bin/env bash
# The .deb and the .rpm, from one honeyward binary:
#   scripts/package.sh BINARY OUT_DIR [VERSION]
# Stages under target/package/stage what the packages carry besides the binary, each
# rendered by that binary itself: manual pages (`honeyward man`), bash/zsh/fish
# completions (`honeyward completions`), the configuration (examples/hospital.yaml with
# its paths under /var/lib/honeyward, decoys on 127.0.0.1) and the hardened unit
# (`honeyward deploy systemd --service-user honeyward`). Then cargo-deb and
# cargo-generate-rpm (from crates.io) build the packages from the tables in Cargo.toml.
# scripts/release.sh calls this with the stripped release binary; the package test
# calls it with the debug one.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:?usage: scripts/package.sh BINARY OUT_DIR [VERSION]}
out=${2:?usage: scripts/package.sh BINARY OUT_DIR [VERSION]}
version=${3:-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)}
for tool in cargo-deb rpmbuild; do
  command -v "$tool" >/dev/null 2>&1 || { echo "scripts/package.sh: $tool is missing (cargo install --locked $tool)" >&2; exit 1; }
done
# Every timestamp inside the packages: the commit's, not the clock's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

stage=target/package/stage
rm -rf "$stage"
mkdir -p "$stage/man" "$stage/completions" "$out"
install -m 0755 "$binary" "$stage/honeyward"
# Debian's and Fedora's own strip: no symbols, no debug sections (a release binary
# keeps its .gnu_debuglink to the .debug file beside it).
strip --strip-unneeded --remove-section=.comment "$stage/honeyward"
hw="$stage/honeyward"

"$hw" man --out-dir "$stage/man" >/dev/null
gzip -9n "$stage"/man/*.1
"$hw" completions bash >"$stage/completions/honeyward"
"$hw" completions zsh >"$stage/completions/_honeyward"
"$hw" completions fish >"$stage/completions/honeyward.fish"

# The example with its relative paths made absolute, so the CLI finds the store from
# any directory (the unit's working directory is /var/lib/honeyward as well).
sed -e 's#^\( *\(- \)\?\(path\|state_dir\): \)\./#\1/var/lib/honeyward/#' \
    -e 's#^\# Paths are relative to the working directory unless absolute\.$#\# Installed by the honeyward package: state lives in /var/lib/honeyward (user honeyward).#' \
    examples/hospital.yaml >"$stage/honeyward.yaml"
if grep -nE '^ *(- )?(path|state_dir): \./' "$stage/honeyward.yaml"; then
  echo "scripts/package.sh: a relative path is left in the packaged configuration" >&2; exit 1
fi

# The unit, from the same decoys (the example's relative paths resolve here; the
# installed configuration is validated by the package test once /var/lib/honeyward exists).
"$hw" deploy systemd -c examples/hospital.yaml --binary /usr/bin/honeyward --service-user honeyward |
  sed -e '3,5d' -e '2a # Installed by the honeyward package, not enabled: edit /etc/honeyward/honeyward.yaml,\n# check it with `honeyward validate -c /etc/honeyward/honeyward.yaml`, then\n#   systemctl enable --now honeyward' \
  >"$stage/honeyward.service"
grep -q '^User=honeyward$' "$stage/honeyward.service"

when=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
cat >"$stage/changelog" <<CHANGES
honeyward ($version-1) unstable; urgency=medium

  * Release $version; the changes are in /usr/share/doc/honeyward/README.md and
    CHANGELOG.md of the source.

 -- honeyward maintainers <security@honeyward.invalid>  $when
CHANGES

cargo deb --no-build --no-strip --deb-version "$version-1" --output "$out" >/dev/null
# The .rpm: the same files laid out as RHEL places them, under a root rpmbuild copies.
root=target/package/rpmroot
rm -rf "$root" target/package/rpmbuild
install -D -m 0755 "$stage/honeyward" "$root/usr/bin/honeyward"
install -D -m 0644 "$stage/honeyward.yaml" "$root/etc/honeyward/honeyward.yaml"
install -D -m 0644 "$stage/honeyward.service" "$root/usr/lib/systemd/system/honeyward.service"
install -D -m 0644 deploy/package/sysusers.conf "$root/usr/lib/sysusers.d/honeyward.conf"
install -D -m 0644 deploy/package/tmpfiles.conf "$root/usr/lib/tmpfiles.d/honeyward.conf"
install -d "$root/usr/share/man/man1" "$root/usr/share/doc/honeyward"
install -m 0644 "$stage"/man/*.1.gz "$root/usr/share/man/man1/"
install -D -m 0644 "$stage/completions/honeyward" "$root/usr/share/bash-completion/completions/honeyward"
install -D -m 0644 "$stage/completions/_honeyward" "$root/usr/share/zsh/site-functions/_honeyward"
install -D -m 0644 "$stage/completions/honeyward.fish" "$root/usr/share/fish/vendor_completions.d/honeyward.fish"
install -m 0644 README.md SECURITY.md VERIFY.md "$root/usr/share/doc/honeyward/"
spec=target/package/honeyward.spec
awk -v version="$version" -v date="$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')" '
  /^@POST@$/   { while ((getline l < "deploy/package/rpm/post.sh") > 0) print l; next }
  /^@PREUN@$/  { while ((getline l < "deploy/package/rpm/preun.sh") > 0) print l; next }
  /^@POSTUN@$/ { while ((getline l < "deploy/package/rpm/postun.sh") > 0) print l; next }
  { gsub(/@VERSION@/, version); gsub(/@DATE@/, date); print }' deploy/package/rpm/honeyward.spec.in >"$spec"
HONEYWARD_STAGE_ROOT="$PWD/$root" rpmbuild -bb --quiet --target x86_64 \
  --define "_topdir $PWD/target/package/rpmbuild" \
  --define "_buildhost reproducible" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  "$spec" >/dev/null
rpm_file="$out/honeyward-$version-1.x86_64.rpm"
cp target/package/rpmbuild/RPMS/x86_64/honeyward-"$version"-1.x86_64.rpm "$rpm_file"
if [ -n "${HONEYWARD_RPM_GPG_NAME:-}" ]; then
  rpmsign --addsign --define "_gpg_name $HONEYWARD_RPM_GPG_NAME" --define "__gpg $(command -v gpg)" "$rpm_file" >/dev/null
fi
ls "$out"/honeyward_"$version"-1_*.deb "$rpm_file"
