#!/usr/bin/env bash
# How long `kustomerge check` takes on the corpus (the README's figure): a
# pre-push hook runs it on every push, so it has to stay well under a second.
# Prints the best of N runs (default 20) of a release build.
#
# Usage: benches/check-time.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --quiet
bin=target/release/kustomerge
files=(fixtures/corpus/kustomize/files/*.yaml)
best=
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" check --format json "${files[@]}" >/dev/null || true
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
echo "check: ${#files[@]} corpus files, best of $runs: ${best} ms"
