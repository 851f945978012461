#!/bin/sh
# Builds kustomerge as a statically linked Linux binary and proves it works:
# `file`/`ldd` show no dynamic libc, and `--version`, a merge through git's
# driver and a rebase with the driver active all run with it.
#
#   ci/static-linux.sh [OUT]     (the binary is copied to OUT if given)
#
# The release ships musl binaries (see .github/workflows/release.yml). This
# machine has only the x86_64-unknown-linux-gnu target, so the script
# builds glibc with crt-static: the same static-linking path through
# rustc and the linker, and the same no-libc-at-runtime property, but not
# musl itself. CARGO_TARGET_DIR defaults to target/static so the ordinary
# build cache is untouched.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
triple=${STATIC_TARGET:-x86_64-unknown-linux-gnu}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target/static}
say() { printf 'static-linux: %s\n' "$*" >&2; }
fail() {
    say "FAIL: $*"
    exit 1
}

say "building --release --locked --target $triple with crt-static"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --manifest-path "$here/Cargo.toml" --release --locked --target "$triple"
binary=$CARGO_TARGET_DIR/$triple/release/kustomerge

kind=$(file -b "$binary")
say "file: $kind"
case $kind in
*"statically linked"* | *"static-pie linked"*) ;;
*) fail "not statically linked" ;;
esac
case $kind in
*interpreter*) fail "has a dynamic loader (interpreter)" ;;
esac
if ldd_out=$(ldd "$binary" 2>&1); then
    case $ldd_out in
    *"statically linked"* | *"not a dynamic executable"*) ;;
    *) fail "ldd lists libraries: $ldd_out" ;;
    esac
fi
say "ldd: $ldd_out"

version=$("$binary" --version)
say "--version: $version"
[ "$version" = "kustomerge $(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)" ] ||
    fail "--version says '$version'"

# A merge and a rebase in a throwaway repository, the driver being this binary.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/home/.gitconfig
export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.com
export GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.com
mkdir -p "$HOME" "$work/repo"
cd "$work/repo"
git init -q -b main
"$binary" install --local --absolute-path >/dev/null 2>&1
printf 'resources:\n- deploy.yaml\nimages:\n- name: api\n  newTag: "1.0"\n- name: web\n  newTag: "1.0"\n' >kustomization.yaml
git add -A && git commit -qm base
# Each side adds an entry at the same place (entries are kept sorted):
# plain git's line merge conflicts there, the driver does not.
git checkout -qb feature
"$binary" set-image --commit api:1.1 db:16 2>/dev/null
git checkout -q main
"$binary" set-image --commit web:2.0 cache:7 2>/dev/null
git show main~1:kustomization.yaml >"$work/base"
git show main:kustomization.yaml >"$work/ours"
git show feature:kustomization.yaml >"$work/theirs"
git merge-file -q "$work/ours" "$work/base" "$work/theirs" &&
    fail "plain git merges this cleanly: the check below would prove nothing"
git merge -q --no-edit feature || fail "git merge with the static driver failed"
for want in 'api' '"1.1"' 'db' '"16"' 'web' '"2.0"' 'cache' '"7"'; do
    grep -q "$want" kustomization.yaml || fail "the merge lost $want: $(cat kustomization.yaml)"
done
say "merge: both sides' image edits kept"

git checkout -q -b other main~1
"$binary" set-image --commit api:1.2 2>/dev/null
git checkout -q -b rebased feature
git rebase -q other >/dev/null 2>&1 && fail "the rebase should conflict on api (1.1 vs 1.2)"
git rebase --abort
git checkout -q -b clean main~1
"$binary" set-image --commit web:3.0 cache:8 2>/dev/null
git rebase -q feature || fail "git rebase with the static driver failed"
for want in '"1.1"' '"16"' '"3.0"' '"8"'; do
    grep -q "$want" kustomization.yaml || fail "the rebase lost $want: $(cat kustomization.yaml)"
done
say "rebase: both sides' image edits kept; a real conflict (same image) still stops"
"$binary" doctor >/dev/null || fail "doctor reports problems"

if [ $# -ge 1 ]; then
    cp "$binary" "$1"
fi
say "OK: $binary"
