#!/usr/bin/env bash
# Push at scale (issue 16): N parallel CI pipelines each bump their own image
# in one overlay and push to a bare repo whose every server call (fetch,
# push, ls-remote) takes LATENCY ms longer, as a hosted remote does:
# `git-upload-pack` and `git-receive-pack` are reached through wrapper
# scripts that sleep, log the call, then exec the real one
# (`remote.origin.uploadpack`/`receivepack`; see src/push/race.rs).
#
# For N = 10, 20, 40, 80 it runs `kustomerge demo --serial`, which races
#   - kustomerge push (combining: losers queue, the next winner carries them)
#   - kustomerge push --no-combine (every job races alone, the loop as it was)
#   - plain git (pull --rebase, 5 retries), for contrast
#   - the kustomerge pipeline one job at a time (the serial baseline)
# and prints, per loop: jobs landed, wall time, wall time against the serial
# run, server calls per job (counted by the wrappers, not self-reported,
# the clone included) and tags missing from the final file.
#
# Usage: benches/push-scale.sh                 LATENCY=150 SIZES="10 20 40 80"
#        SIZES="10 40" LATENCY=300 benches/push-scale.sh
# Each job "builds" for a random 0-1 s first, so serial time includes the
# builds one after another, as in a CI concurrency group.
set -euo pipefail
cd "$(dirname "$0")/.."

latency=${LATENCY:-150}
sizes=${SIZES:-10 20 40 80}
# shellcheck source=benches/demo-table.sh
source benches/demo-table.sh

echo "git $(git --version | cut -d' ' -f3), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${latency} ms per server call"
echo
echo "| jobs | serial s | combining: landed | wall s | × serial | calls/job | lost | --no-combine: landed | wall s | × serial | calls/job | lost | plain git: landed | lost |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
    table=$("$bin" demo --jobs "$n" --latency "$latency" --serial 2>/dev/null || true)
    serial=$(cell "$table" "wall seconds" 6)
    if [[ -z $serial ]]; then
        echo "| $n | demo failed | | | | | | | | | | | | |"
        continue
    fi
    row="| $n | $serial"
    for col in 4 5; do
        wall=$(cell "$table" "wall seconds" "$col")
        ratio=$(awk -v a="$wall" -v b="$serial" 'BEGIN { printf "%.2f", a / b }')
        row+=" | $(cell "$table" landed "$col") | $wall | $ratio | $(cell "$table" "server calls per job" "$col")"
        row+=" | $(cell "$table" "lost updates (tag not in final file)" "$col")"
    done
    row+=" | $(cell "$table" landed 3) | $(cell "$table" "lost updates (tag not in final file)" 3) |"
    echo "$row"
done
