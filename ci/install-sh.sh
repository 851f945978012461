#!/bin/sh
# The README's first command, `./install.sh`, on a clean clone with a fresh
# HOME and CARGO_HOME: it must build, install and register the driver with
# nothing but a toolchain and git, and say how to undo it.
#
# Not in `cargo test`: it is a full release build (LTO, over a minute) into
# an empty CARGO_HOME, so it downloads every crate; `cargo test` stays
# offline and fast. `.ci/run` runs it. It clones HEAD, so commit first.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'install-sh: %s\n' "$*" >&2; }
fail() {
    say "FAIL: $*"
    exit 1
}

# The toolchain stays where it is; everything cargo and git write goes to temp.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/home/.gitconfig
export CARGO_HOME=$work/cargo-home CARGO_TARGET_DIR=$work/target
unset GIT_DIR GIT_WORK_TREE GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT CARGO_INSTALL_ROOT
mkdir -p "$HOME"

git clone -q "$here" "$work/clone"
say "running install.sh --prefix on a clean clone (a release build)"
sh "$work/clone/install.sh" --prefix "$work/prefix" 2>"$work/stderr" ||
    fail "install.sh failed: $(cat "$work/stderr")"

version=$("$work/prefix/bin/kustomerge" --version)
case $version in
"kustomerge "*) ;;
*) fail "the installed binary says '$version'" ;;
esac
driver=$(git config --global merge.kustomize.driver) ||
    fail "install.sh registered no driver"
case $driver in
*"kustomerge merge --base-label=%S --current-label=%X --other-label=%Y -- %O %A %B %L %P") ;;
*) fail "the registered driver line is '$driver'" ;;
esac
grep -q uninstall "$work/stderr" ||
    fail "install.sh must say how to undo: $(cat "$work/stderr")"
say "ok: $version installed, driver registered, undo printed"
