#!/usr/bin/env bash
# kustomerge merge against `git merge-file` (and mergiraf, if installed) on
# the same inputs: the figures behind the README's performance table. Each
# tool does the driver's whole job: read the three files, merge, and write
# the result over the current side (`git merge-file` without `-p`, mergiraf
# with `-o`).
#
# Each input is what a push race produces: both sides bump different images
# (20 each, fewer in a small file) and append one image. Git conflicts on the
# two appends; kustomerge merges them. Times are wall-clock medians of whole
# processes (hyperfine when installed, else a loop of `date +%s%N`), so they
# include start-up; peak memory is the maximum RSS from `/usr/bin/time`.
#
# Usage: benches/vs-git.sh [RUNS]   (default 30; mergiraf gets at most 5)
# Needs: cargo, git; optional: hyperfine, /usr/bin/time (Debian: time), mergiraf.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-30}
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/kustomerge"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HAVE_HYPERFINE=$(command -v hyperfine >/dev/null && echo 1 || echo 0)
HAVE_TIME=$([ -x /usr/bin/time ] && echo 1 || echo 0)
HAVE_MERGIRAF=$(command -v mergiraf >/dev/null && echo 1 || echo 0)

# gen IMAGES BODY_LINES SIDE: a kustomization; SIDE o is the base, a and b
# bump disjoint entries spread over the list and append one entry each.
gen() {
    awk -v n="$1" -v body="$2" -v side="$3" 'BEGIN {
        print "apiVersion: kustomize.config.k8s.io/v1beta1"
        print "kind: Kustomization"
        print "namespace: shop"
        print "resources:"
        for (i = 0; i < body; i++) printf "- manifests/service-%05d.yaml\n", i
        print "images:"
        bumps = int(n / 2); if (bumps > 20) bumps = 20
        stride = int(n / (2 * bumps))
        for (i = 0; i < n; i++) {
            tag = sprintf("1.%d.%d", int(i / 100), i % 100)
            k = int(i / (2 * stride))
            if (side == "a" && i % (2 * stride) == 0 && k < bumps) tag = "9.0.0"
            if (side == "b" && i % (2 * stride) == stride && k < bumps) tag = "8.0.0"
            printf "- name: registry.example.com/team/app-%05d\n  newName: ghcr.io/acme/app-%05d\n  newTag: %s\n", i, i, tag
        }
        if (side == "a") printf "- name: new-from-current\n  newTag: 0.0.1\n"
        if (side == "b") printf "- name: new-from-other\n  newTag: 0.0.1\n"
    }'
}

# median_ms DIR NAME RUNS CMD...: median wall time of CMD in milliseconds.
# The current side is copied afresh before every run, since the driver
# writes its result there.
median_ms() {
    local dir=$1 name=$2 runs=$3
    shift 3
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        hyperfine -N -i --warmup 2 --runs "$runs" --prepare "cp $dir/a $dir/cur" \
            --export-json "$dir/$name.json" "$*" >/dev/null 2>&1
        jq '.results[0].median * 1000' "$dir/$name.json"
    else
        local t=()
        for _ in $(seq "$runs"); do
            cp "$dir/a" "$dir/cur"
            local s; s=$(date +%s%N)
            "$@" >/dev/null 2>&1 || true
            t+=($(( $(date +%s%N) - s )))
        done
        printf '%s\n' "${t[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f\n", v[int((NR + 1) / 2)] / 1e6 }'
    fi
}

# peak_mib DIR CMD...: maximum RSS of one run, in MiB.
peak_mib() {
    local dir=$1
    shift
    [ "$HAVE_TIME" = 1 ] || { echo "n/a"; return; }
    cp "$dir/a" "$dir/cur"
    /usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>&1 || true
    awk 'END { printf "%.1f\n", $1 / 1024 }' "$dir/rss"
}

outcome() { # exit code -> word
    case $1 in 0) echo clean ;; 1) echo conflict ;; *) echo "exit $1" ;; esac
}

printf '| input | lines | kustomerge ms | git merge-file ms | kustomerge / git |'
[ "$HAVE_MERGIRAF" = 1 ] && printf ' mergiraf ms | mergiraf / kustomerge |'
printf ' peak MiB kustomerge / git'
[ "$HAVE_MERGIRAF" = 1 ] && printf ' / mergiraf'
printf ' | result kustomerge / git'
[ "$HAVE_MERGIRAF" = 1 ] && printf ' / mergiraf'
printf ' |\n|---|---:|---:|---:|---:|'
[ "$HAVE_MERGIRAF" = 1 ] && printf -- '---:|---:|'
printf -- '---|---|\n'

for spec in "50-line file:13:5" "10 images:10:1" "100 images:100:1" "1,000 images:1000:1" \
    "10,000 images:10000:1" "50,000-line body:10:50000"; do
    IFS=: read -r label images body <<<"$spec"
    dir="$WORK/$images-$body"
    mkdir -p "$dir"
    for side in o a b; do gen "$images" "$body" "$side" >"$dir/$side"; done
    lines=$(wc -l <"$dir/o")

    km=("$BIN" merge "$dir/o" "$dir/cur" "$dir/b" 7 kustomization.yaml)
    gm=(git merge-file "$dir/cur" "$dir/o" "$dir/b")
    mm=(mergiraf merge -p kustomization.yaml "$dir/o" "$dir/cur" "$dir/b" -o "$dir/mergiraf.out")

    cp "$dir/a" "$dir/cur"; code=0; "${km[@]}" 2>/dev/null || code=$?; k_out=$(outcome $code)
    cp "$dir/a" "$dir/cur"; code=0; "${gm[@]}" >/dev/null 2>&1 || code=$?; g_out=$(outcome $code)
    k_ms=$(median_ms "$dir" k "$RUNS" "${km[@]}")
    g_ms=$(median_ms "$dir" g "$RUNS" "${gm[@]}")
    k_rss=$(peak_mib "$dir" "${km[@]}")
    g_rss=$(peak_mib "$dir" "${gm[@]}")
    row=$(printf '| %s | %s | %.2f | %.2f | %.2f× |' "$label" "$lines" "$k_ms" "$g_ms" "$(awk -v a="$k_ms" -v b="$g_ms" 'BEGIN { print a / b }')")
    rss="$k_rss / $g_rss"
    result="$k_out / $g_out"
    if [ "$HAVE_MERGIRAF" = 1 ]; then
        m_runs=$(( RUNS < 5 ? RUNS : 5 ))
        cp "$dir/a" "$dir/cur"; code=0; "${mm[@]}" >/dev/null 2>&1 || code=$?; m_out=$(outcome $code)
        m_ms=$(median_ms "$dir" m "$m_runs" "${mm[@]}")
        m_rss=$(peak_mib "$dir" "${mm[@]}")
        row+=$(printf ' %.2f | %.1f× |' "$m_ms" "$(awk -v a="$m_ms" -v b="$k_ms" 'BEGIN { print a / b }')")
        rss+=" / $m_rss"
        result+=" / $m_out"
    fi
    echo "$row $rss | $result |"
done
[ "$HAVE_HYPERFINE" = 1 ] || echo "(hyperfine not installed: medians of a date +%s%N loop)"
[ "$HAVE_TIME" = 1 ] || echo "(/usr/bin/time not installed: no peak memory)"
