#!/usr/bin/env bash
# Records what real OpenSSH servers of other distributions send, for the SSH
# personalities that cannot be compared with a server installed on this machine:
# Debian 13 (trixie), Ubuntu 22.04 (jammy) and Ubuntu 24.04 (noble). Each release is
# debootstrapped (minbase plus openssh-server) into a scratch root, its sshd is started
# from that root on loopback with fresh host keys and the stock configuration, and the
# banner, the KEXINIT lists, EXT_INFO and `ssh -vvv` are written to
# decoys/captures/openssh-<release>.txt. tests/ssh_personality_captures.rs checks the
# personalities against those files.
#
# Not part of the test suite (it downloads about 150 MB per release). Needs root and
# debootstrap. Usage: scripts/capture-ssh-personalities.sh [ROOTS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
roots=${1:-/tmp/honeyward-ssh-roots}
mkdir -p "$roots" decoys/captures
declare -A mirror=([trixie]=http://deb.debian.org/debian [jammy]=http://archive.ubuntu.com/ubuntu [noble]=http://archive.ubuntu.com/ubuntu)
declare -A name=([trixie]=debian13 [jammy]=ubuntu2204 [noble]=ubuntu2404)
port=2380
for release in trixie jammy noble; do
  root="$roots/$release"
  if [ ! -x "$root/usr/sbin/sshd" ]; then
    script=/usr/share/debootstrap/scripts/$release
    extra=()
    if [ ! -e "$script" ]; then script=/usr/share/debootstrap/scripts/gutsy; fi
    # Ubuntu's archive key is not in Debian's keyrings: the capture says so.
    if [ "${mirror[$release]}" = http://archive.ubuntu.com/ubuntu ]; then extra+=(--no-check-gpg --components=main,universe); fi
    debootstrap --variant=minbase --include=openssh-server "${extra[@]}" "$release" "$root" "${mirror[$release]}" "$script"
    if [ "$release" != trixie ]; then
      # The -updates pocket carries the security fixes a real host has.
      echo "deb ${mirror[$release]} $release-updates main universe" >> "$root/etc/apt/sources.list"
      chroot "$root" apt-get -qq -o Acquire::AllowInsecureRepositories=true update || true
      chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y --allow-unauthenticated install openssh-server || true
    fi
  fi
  port=$((port + 1))
  mkdir -p "$root/run/sshd"
  chroot "$root" ssh-keygen -A >/dev/null
  chroot "$root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 2>/dev/null &
  pid=$!
  sleep 1
  out="decoys/captures/openssh-${name[$release]}.txt"
  {
    echo "# sshd of $release ($(chroot "$root" dpkg-query -W -f '${Version}' openssh-server)), stock configuration,"
    echo "# started from a debootstrapped root on 127.0.0.1, captured $(date -u +%Y-%m-%d) by scripts/capture-ssh-personalities.sh"
    # Only the server's side: its version, its KEXINIT (after "peer server KEXINIT
    # proposal"), its EXT_INFO and its method list.
    { ssh -vvv -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$port" probe@127.0.0.1 true 2>&1 \
      | sed -n -E '/remote software version/p; /peer server KEXINIT proposal/,/first_kex_follows/p; /kex_input_ext_info/p; /Authentications that can continue/p' \
      | grep -Ev 'ciphers ctos|MACs ctos|compression ctos|languages|first_kex_follows|reserved' \
      | sed -E 's/^debug[0-9]: //; s/port [0-9]+/port PORT/'; } || true
  } > "$out"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "wrote $out"
done
