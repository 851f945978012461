#!/bin/sh
# Lays out one release asset the way install.sh and the release workflow
# expect it, and records its SHA-256:
#
#   ci/package.sh VERSION TARGET BINARY OUTDIR
#
# writes OUTDIR/kustomerge-VERSION-TARGET.tar.gz, which holds
# kustomerge-VERSION-TARGET/{kustomerge,README.md}, and appends
# `<sha256>  <file name>` to OUTDIR/SHA256SUMS (sha256sum's format).
set -eu
[ $# -eq 4 ] || {
    echo "usage: ci/package.sh VERSION TARGET BINARY OUTDIR" >&2
    exit 2
}
version=${1#v}
target=$2
binary=$3
out=$4
here=$(cd "$(dirname "$0")/.." && pwd)
name=kustomerge-$version-$target
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$binary" "$stage/$name/kustomerge"
chmod 755 "$stage/$name/kustomerge"
cp "$here/README.md" "$stage/$name/"
# With GNU tar, fixed owner and order: the same binary packs to the same
# bytes. (macOS's bsdtar lacks these flags.)
set -- -C "$stage" -cf - "$name"
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    set -- --owner=0 --group=0 --numeric-owner --sort=name "$@"
fi
tar "$@" | gzip -n -9 >"$out/$name.tar.gz"
if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum "$out/$name.tar.gz" | cut -d' ' -f1)
else
    sum=$(shasum -a 256 "$out/$name.tar.gz" | cut -d' ' -f1)
fi
printf '%s  %s\n' "$sum" "$name.tar.gz" >>"$out/SHA256SUMS"
echo "$out/$name.tar.gz"
