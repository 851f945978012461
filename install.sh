#!/bin/sh
# Builds kustomerge from this checkout, installs it with cargo, and registers
# it as git's merge driver for kustomization files in the global git config.
#
#   ./install.sh [--prefix DIR]
#
# Needs a Rust toolchain (cargo) and git; never root. Running it again
# rebuilds and reinstalls the binary and changes no git config that is
# already right. The binary goes to DIR/bin with --prefix, else to cargo's
# usual place ($CARGO_INSTALL_ROOT, else $CARGO_HOME, else ~/.cargo).
set -eu

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

prefix=
while [ $# -gt 0 ]; do
    case $1 in
    --prefix)
        [ $# -ge 2 ] || die "--prefix needs a directory"
        prefix=$2
        shift 2
        ;;
    --prefix=*)
        prefix=${1#--prefix=}
        shift
        ;;
    -h | --help)
        sed -n '2,10s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *) die "unknown argument '$1' (usage: ./install.sh [--prefix DIR])" ;;
    esac
done

command -v git >/dev/null 2>&1 ||
    die "git not found on PATH: install git 2.39 or newer (https://git-scm.com/downloads)"
command -v cargo >/dev/null 2>&1 ||
    die "cargo not found on PATH: install Rust from https://rustup.rs, then open a new shell (or run: . \"\$HOME/.cargo/env\")"
# A rustup proxy without a toolchain is on PATH but can't build anything.
cargo --version >/dev/null 2>&1 ||
    die "cargo is on PATH but does not run: $(cargo --version 2>&1 | head -n 1) (with rustup: rustup default stable; with a moved HOME: set RUSTUP_HOME)"

src=$(cd "$(dirname "$0")" && pwd)
if [ -n "$prefix" ]; then
    mkdir -p "$prefix"
    # Absolute, so the printed paths and the undo command work from anywhere.
    root=$(cd "$prefix" && pwd)
    set -- --root "$root"
else
    root=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}
fi
bin=$root/bin/kustomerge

say "building and installing kustomerge from $src (cargo install --locked)"
cargo install --locked --path "$src" "$@"
[ -x "$bin" ] ||
    die "cargo reported success, but $bin is missing (an install.root in cargo's config? then rerun with --prefix DIR)"

# git runs the driver through `sh -c`, so it needs the very binary just built
# to be what PATH finds. Otherwise the driver is registered by absolute path.
case ":$PATH:" in
*":$root/bin:"*) on_path=yes ;;
*) on_path=no ;;
esac
if [ "$on_path" = yes ] && [ "$(command -v kustomerge)" = "$bin" ]; then
    "$bin" install --global
else
    say "$root/bin is not first on PATH for kustomerge, so the driver is registered by its absolute path"
    "$bin" install --global --absolute-path
fi

undo_cargo="cargo uninstall kustomerge"
[ -z "$prefix" ] || undo_cargo="cargo uninstall --root '$root' kustomerge"
say "done"
say "  binary:       $bin ($("$bin" --version))"
if [ "$on_path" = yes ]; then
    say "  on PATH:      yes ($root/bin)"
else
    say "  on PATH:      no; to run kustomerge by name, add this to your shell profile:"
    say "                export PATH=\"$root/bin:\$PATH\""
fi
say "  git config:   merge.kustomize.* in the global git config"
say "  next:         in each config repo, run: kustomerge install --local && kustomerge doctor"
say "  undo:         $bin uninstall --global && $undo_cargo"
