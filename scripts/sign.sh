#!/usr/bin/env bash
# Checksums and signatures for every file in a release directory:
#   scripts/sign.sh DIR
# Writes DIR/SHA256SUMS, then DIR/NAME.sig for every file (SHA256SUMS included): an SSH
# signature, `ssh-keygen -Y sign`, namespace honeyward-release. And DIR/allowed_signers,
# the line a user puts in their own allowed-signers file once they have checked the
# key elsewhere (VERIFY.md). Key: HONEYWARD_SIGNING_KEY (an OpenSSH private key), by
# default ~/.config/honeyward-release/signing_key, made on first use; never commit it.
set -euo pipefail
dir=${1:?usage: scripts/sign.sh DIR}
key=${HONEYWARD_SIGNING_KEY:-$HOME/.config/honeyward-release/signing_key}
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C "honeyward release signing" -f "$key"
  echo "scripts/sign.sh: made a new signing key $key; publish $key.pub as VERIFY.md says" >&2
fi
rm -f "$dir"/*.sig "$dir/SHA256SUMS" "$dir/allowed_signers"
# Listed before the list exists (a redirection into DIR would create it first).
sums=$(cd "$dir" && find . -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort | xargs -r sha256sum)
printf '%s\n' "$sums" >"$dir/SHA256SUMS"
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  ssh-keygen -q -Y sign -f "$key" -n honeyward-release "$f"
done
printf 'release@honeyward.invalid namespaces="honeyward-release" %s\n' "$(cut -d' ' -f1,2 "${key}.pub")" >"$dir/allowed_signers"
