#!/bin/sh
# Time from a fresh HOME to a working `kustomerge --version`, two ways:
#
#   1. the published-binary path: `install.sh --version V` against a release
#      laid out by ci/package.sh in a local directory (file://, offline),
#      including the SHA-256 check and the global git config;
#   2. the build path: `cargo install --locked --path .` with a fresh
#      CARGO_HOME and target directory (crates downloaded from crates.io),
#      what a CI job without a cache pays on every run.
#
#   benches/install-time.sh [BINARY]   (default: target/static's static build;
#                                       run ci/static-linux.sh first)
#   SKIP_CARGO=1 benches/install-time.sh   measures the binary path only.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
binary=${1:-$here/target/static/x86_64-unknown-linux-gnu/release/kustomerge}
[ -x "$binary" ] || {
    echo "no binary at $binary: run ci/static-linux.sh first, or pass one" >&2
    exit 2
}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)
case $(uname -m) in
aarch64 | arm64) cpu=aarch64 ;;
*) cpu=x86_64 ;;
esac
target=$cpu-unknown-linux-musl
real_home=$HOME
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

sh "$here/ci/package.sh" "$version" "$target" "$binary" "$work/releases/v$version" >/dev/null
fresh() {
    rm -rf "$work/home" && mkdir -p "$work/home"
    export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/home/.gitconfig
}

fresh
t0=$(now)
sh "$here/install.sh" --version "$version" --base-url "file://$work/releases" 2>/dev/null
"$HOME/.local/bin/kustomerge" --version >/dev/null
t1=$(now)
echo "binary path (install.sh --version, local release): $(elapsed "$t0" "$t1") s"

[ "${SKIP_CARGO:-}" = 1 ] && exit 0
fresh
# The toolchain stays; everything cargo downloads or builds starts empty.
export RUSTUP_HOME=${RUSTUP_HOME:-$real_home/.rustup}
t0=$(now)
CARGO_HOME=$work/cargo-home CARGO_TARGET_DIR=$work/target \
    cargo install --quiet --locked --path "$here" --root "$work/prefix"
"$work/prefix/bin/kustomerge" --version >/dev/null
t1=$(now)
echo "build path (cargo install --locked, fresh CARGO_HOME, $(nproc 2>/dev/null || echo '?') cores): $(elapsed "$t0" "$t1") s"
