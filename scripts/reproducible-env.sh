# Sourced by scripts/release.sh and scripts/reproducible-check.sh: the environment that
# makes a release build independent of where and when it runs (REPRODUCIBLE.md).
# - No absolute path of the checkout or of cargo's registry reaches the binary: rustc
#   remaps them (panic locations, debug info), and the C compilers of the bundled
#   SQLite, zlib and OpenSSL get the registry's and the target directory's maps
#   (__FILE__, debug info). The checkout holds no C, and its path must not be in CFLAGS:
#   OpenSSL records its compiler flags in the binary (`OpenSSL_version`).
# - The target directory is part of the input: OpenSSL records its install paths
#   (OPENSSLDIR, ENGINESDIR, MODULESDIR), which lie in its build directory. So release
#   builds use one fixed target directory, HONEYWARD_RELEASE_TARGET_DIR (default
#   /var/tmp/honeyward-release/target), wherever the checkout is.
# - The commit and its date come from git, not the clock; SOURCE_DATE_EPOCH is the
#   commit's time for every tool that stamps a date.
# - Cargo.lock is used as is (--locked); the toolchain is the one rust-toolchain names,
#   or whatever `rustc --version` says (recorded by `honeyward version --json`).
src=$(pwd -P)
export CARGO_TARGET_DIR=${HONEYWARD_RELEASE_TARGET_DIR:-/var/tmp/honeyward-release/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd -P)
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)
maps="--remap-path-prefix=$src=/build/honeyward --remap-path-prefix=$CARGO_TARGET_DIR=/build/target --remap-path-prefix=$cargo_home=/build/cargo"
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$maps"
cmaps="-ffile-prefix-map=$CARGO_TARGET_DIR=/build/target -ffile-prefix-map=$cargo_home=/build/cargo"
export CFLAGS="${CFLAGS:+$CFLAGS }$cmaps"
export CXXFLAGS="${CXXFLAGS:+$CXXFLAGS }$cmaps"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export HONEYWARD_COMMIT=${HONEYWARD_COMMIT:-$(git rev-parse HEAD)}
export HONEYWARD_COMMIT_DATE=${HONEYWARD_COMMIT_DATE:-$(git log -1 --format=%cs)}
export TZ=UTC LC_ALL=C
