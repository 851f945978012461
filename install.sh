#!/bin/sh
# Installs kustomerge and registers it as git's merge driver for
# kustomization files in the global git config. Two ways:
#
#   ./install.sh [--prefix DIR]
#       Builds this checkout with `cargo install --locked`. Needs Rust and git.
#
#   install.sh --version X.Y.Z [--base-url URL] [--prefix DIR] [--target TRIPLE]
#       Downloads release X.Y.Z's binary for this OS and CPU, checks it
#       against the release's SHA256SUMS and installs it to DIR/bin
#       (default ~/.local/bin). Where the release has no binary for this
#       platform, builds that version with `cargo install --locked` instead.
#       URL is where releases live (default $KUSTOMERGE_BASE_URL, else the
#       project's GitHub releases): URL/vX.Y.Z/SHA256SUMS and
#       URL/vX.Y.Z/kustomerge-X.Y.Z-TRIPLE.tar.gz. file:// URLs work too.
#
#   Both: --no-git-config installs the binary only. Never root; running it
#   again reinstalls and changes no git config that is already right.
set -eu

# The GitHub release download URL; a release is DEFAULT_BASE_URL/vX.Y.Z/.
DEFAULT_BASE_URL=https://github.com/kustomerge/kustomerge/releases/download

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

prefix=
version=
base_url=${KUSTOMERGE_BASE_URL:-$DEFAULT_BASE_URL}
target=
git_config=yes
need_value() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
    --prefix | --version | --base-url | --target)
        need_value "$@"
        case $1 in
        --prefix) prefix=$2 ;;
        --version) version=${2#v} ;;
        --base-url) base_url=$2 ;;
        --target) target=$2 ;;
        esac
        shift 2
        ;;
    --prefix=*) prefix=${1#--prefix=} && shift ;;
    --version=*) version=${1#--version=} && version=${version#v} && shift ;;
    --base-url=*) base_url=${1#--base-url=} && shift ;;
    --target=*) target=${1#--target=} && shift ;;
    --no-git-config) git_config=no && shift ;;
    -h | --help)
        sed -n '2,19s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *) die "unknown argument '$1' (see: install.sh --help)" ;;
    esac
done

command -v git >/dev/null 2>&1 ||
    die "git not found on PATH: install git 2.39 or newer (https://git-scm.com/downloads)"

need_cargo() {
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found on PATH: install Rust from https://rustup.rs, then open a new shell (or run: . \"\$HOME/.cargo/env\")"
    # A rustup proxy without a toolchain is on PATH but can't build anything.
    cargo --version >/dev/null 2>&1 ||
        die "cargo is on PATH but does not run: $(cargo --version 2>&1 | head -n 1) (with rustup: rustup default stable; with a moved HOME: set RUSTUP_HOME)"
}

# Prints the release target triple for this machine, or nothing.
detect_target() {
    os=$(uname -s)
    cpu=$(uname -m)
    case $cpu in
    x86_64 | amd64) cpu=x86_64 ;;
    aarch64 | arm64) cpu=aarch64 ;;
    *) return 0 ;;
    esac
    case $os in
    Linux) echo "$cpu-unknown-linux-musl" ;;
    Darwin) echo "$cpu-apple-darwin" ;;
    esac
}

# download URL FILE: fails on any HTTP error, never writes a partial FILE.
download() {
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https,http,file' -fsSL --retry 2 -o "$2.part" "$1"
    elif command -v wget >/dev/null 2>&1; then
        case $1 in
        file://*) cp "${1#file://}" "$2.part" ;;
        *) wget -q -O "$2.part" "$1" ;;
        esac
    else
        die "neither curl nor wget is on PATH to download $1"
    fi && mv "$2.part" "$2"
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is on PATH to verify the download"
    fi
}

if [ -n "$prefix" ]; then
    mkdir -p "$prefix"
    # Absolute, so the printed paths and the undo command work from anywhere.
    root=$(cd "$prefix" && pwd)
elif [ -n "$version" ]; then
    root=$HOME/.local
else
    root=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}
fi
bin=$root/bin/kustomerge

from_source() {
    need_cargo
    set --
    [ -z "$prefix" ] || set -- --root "$root"
    if [ -n "$version" ]; then
        # A released version is built from crates.io, into the same place
        # its binary would have gone.
        set -- --root "$root"
        say "building kustomerge $version from crates.io (cargo install --locked)"
        cargo install --locked --version "=$version" kustomerge "$@"
        undo_binary="rm '$bin'"
    else
        src=$(cd "$(dirname "$0")" && pwd)
        say "building and installing kustomerge from $src (cargo install --locked)"
        cargo install --locked --path "$src" "$@"
        undo_binary="cargo uninstall kustomerge"
        [ -z "$prefix" ] || undo_binary="cargo uninstall --root '$root' kustomerge"
    fi
    [ -x "$bin" ] ||
        die "cargo reported success, but $bin is missing (an install.root in cargo's config? then rerun with --prefix DIR)"
}

from_release() {
    tmp=$(mktemp -d 2>/dev/null || mktemp -d -t kustomerge)
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' HUP INT TERM
    release=${base_url%/}/v$version
    say "downloading $release/SHA256SUMS"
    download "$release/SHA256SUMS" "$tmp/SHA256SUMS" ||
        die "could not download $release/SHA256SUMS: is $version a released version? (nothing installed)"
    [ -n "$target" ] || target=$(detect_target)
    asset=kustomerge-$version-$target.tar.gz
    want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1; exit }' "$tmp/SHA256SUMS")
    if [ -z "$target" ] || [ -z "$want" ]; then
        say "release $version has no binary for $(uname -s) $(uname -m)${target:+ ($target)}; building from source instead"
        from_source
        return
    fi
    say "downloading $release/$asset"
    download "$release/$asset" "$tmp/$asset" || die "could not download $release/$asset (nothing installed)"
    got=$(sha256 "$tmp/$asset")
    [ "$got" = "$want" ] ||
        die "checksum mismatch for $asset: SHA256SUMS says $want, the download is $got; refusing to install it (nothing installed)"
    mkdir "$tmp/x"
    tar -xzf "$tmp/$asset" -C "$tmp/x"
    unpacked=$tmp/x/kustomerge-$version-$target/kustomerge
    [ -f "$unpacked" ] || die "$asset holds no kustomerge-$version-$target/kustomerge (nothing installed)"
    chmod 755 "$unpacked"
    reported=$("$unpacked" --version 2>&1) ||
        die "the downloaded binary does not run here: $reported (nothing installed)"
    [ "$reported" = "kustomerge $version" ] ||
        die "the downloaded binary says '$reported', not 'kustomerge $version' (nothing installed)"
    mkdir -p "$root/bin"
    # Copied next to the target and renamed: a running kustomerge (or a
    # concurrent git merge) never sees a half-written binary.
    cp "$unpacked" "$bin.new.$$"
    mv -f "$bin.new.$$" "$bin"
    undo_binary="rm '$bin'"
}

if [ -n "$version" ]; then
    from_release
else
    from_source
fi

# git runs the driver through `sh -c`, so it needs the very binary just
# installed to be what PATH finds. Otherwise the driver is registered by
# absolute path.
case ":$PATH:" in
*":$root/bin:"*) on_path=yes ;;
*) on_path=no ;;
esac
undo_git=
if [ "$git_config" = no ]; then
    :
elif [ "$on_path" = yes ] && [ "$(command -v kustomerge)" = "$bin" ]; then
    "$bin" install --global
    undo_git="$bin uninstall --global && "
else
    say "$root/bin is not first on PATH for kustomerge, so the driver is registered by its absolute path"
    "$bin" install --global --absolute-path
    undo_git="$bin uninstall --global && "
fi

say "done"
say "  binary:       $bin ($("$bin" --version))"
if [ "$on_path" = yes ]; then
    say "  on PATH:      yes ($root/bin)"
else
    say "  on PATH:      no; to run kustomerge by name, add this to your shell profile:"
    say "                export PATH=\"$root/bin:\$PATH\""
fi
if [ "$git_config" = yes ]; then
    say "  git config:   merge.kustomize.* in the global git config"
else
    say "  git config:   not changed (--no-git-config)"
fi
say "  next:         in each config repo, run: kustomerge install --local && kustomerge doctor"
say "  undo:         $undo_git$undo_binary"
