#!/usr/bin/env bash
# Push-race benchmark: N parallel CI pipelines each bump their own image in one
# overlay and push to a bare repo on local disk, for N = 5, 10, 20, 40:
#
#   - kustomerge: `kustomerge set-image --commit` + `kustomerge push`
#   - plain git:  text replace, commit, push; on rejection `git pull --rebase`
#                 and push again, up to 5 retries (the usual hand-written loop)
#   - serialised: the kustomerge pipeline, one job at a time (what a CI
#                 concurrency group or a resource lock gives you)
#
# Each job "builds" for a random 0-1 s first. The races themselves are
# `kustomerge demo --serial` (src/push/race.rs), so the benchmark measures
# exactly what the demo and the tests run. Prints one markdown table.
#
# Usage: benches/push-race.sh [LAYOUT]      LAYOUT: block (default) or flow
#        SIZES="5 10" benches/push-race.sh  to pick the job counts
# Compare rows with each other, not with real CI: a local bare repo has no
# network latency, and all jobs share this machine's cores. With latency,
# and `push --no-combine` beside the combining push: benches/push-scale.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

layout=${1:-block}
sizes=${SIZES:-5 10 20 40}
# shellcheck source=benches/demo-table.sh
source benches/demo-table.sh

echo "git $(git --version | cut -d' ' -f3), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $layout layout"
echo
echo "| jobs | kustomerge: landed | wall s | retries | plain git: landed | wall s | tags lost | serialised: landed | wall s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
    # The demo exits non-zero when a kustomerge job fails; the row shows it.
    table=$("$bin" demo --jobs "$n" --layout "$layout" --latency 0 --serial 2>/dev/null || true)
    if [[ -z $(cell "$table" landed 4) ]]; then
        echo "| $n | demo failed | | | | | | | |"
        continue
    fi
    echo "| $n | $(cell "$table" landed 4) | $(cell "$table" "wall seconds" 4) | $(cell "$table" retries 4)" \
        "| $(cell "$table" landed 3) | $(cell "$table" "wall seconds" 3)" \
        "| $(cell "$table" "lost updates (tag not in final file)" 3)" \
        "| $(cell "$table" landed 6) | $(cell "$table" "wall seconds" 6) |"
done
