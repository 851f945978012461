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
# processes, so they include start-up; peak memory is the maximum RSS from
# `/usr/bin/time`. kustomerge and git run interleaved, in alternating order,
# so that a shared machine's changing load hits both alike: run one after
# the other, the same pair came out anywhere from 0.85x to 1.34x. The ratio
# column is the median of the per-pair ratios.
#
# Usage: benches/vs-git.sh [RUNS]   (default 60; mergiraf gets at most 5)
# Needs: bash 5, cargo, git; optional: /usr/bin/time (Debian: time), mergiraf,
# valgrind (instruction counts).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # a decimal point in $EPOCHREALTIME

RUNS=${1:-60}
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/kustomerge"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
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

# run_us DIR CMD...: sets $us to the wall time of one run of CMD in
# microseconds, on a fresh copy of the current side (the driver writes its
# result there). A variable, not output: a subshell per run would add its
# fork to every sample.
run_us() {
    local dir=$1 s e
    shift
    cp "$dir/a" "$dir/cur"
    s=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    e=$EPOCHREALTIME
    us=$(( ${e/./} - ${s/./} ))
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pair_ms DIR RUNS: "K G R": kustomerge's and git's median in milliseconds,
# and the median ratio of runs taken in pairs, in alternating order.
pair_ms() {
    local dir=$1 runs=$2 i k g us
    local ks=() gs=() rs=()
    for ((i = 0; i < runs + 2; i++)); do
        if ((i % 2)); then
            run_us "$dir" "${km[@]}"; k=$us; run_us "$dir" "${gm[@]}"; g=$us
        else
            run_us "$dir" "${gm[@]}"; g=$us; run_us "$dir" "${km[@]}"; k=$us
        fi
        ((i < 2)) && continue # warm-up
        ks+=("$k"); gs+=("$g"); rs+=("$k $g")
    done
    echo "$(printf '%s\n' "${ks[@]}" | median) $(printf '%s\n' "${gs[@]}" | median) $(printf '%s\n' "${rs[@]}" | awk '{ print $1 / $2 }' | median)" |
        awk '{ printf "%.3f %.3f %.2f\n", $1 / 1000, $2 / 1000, $3 }'
}

# median_ms DIR RUNS CMD...: median wall time of CMD in milliseconds.
median_ms() {
    local dir=$1 runs=$2 us
    shift 2
    for _ in $(seq "$runs"); do run_us "$dir" "$@"; echo "$us"; done | median | awk '{ printf "%.3f\n", $1 / 1000 }'
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
    read -r k_ms g_ms ratio <<<"$(pair_ms "$dir" "$RUNS")"
    k_rss=$(peak_mib "$dir" "${km[@]}")
    g_rss=$(peak_mib "$dir" "${gm[@]}")
    row=$(printf '| %s | %s | %.2f | %.2f | %.2f× |' "$label" "$lines" "$k_ms" "$g_ms" "$ratio")
    rss="$k_rss / $g_rss"
    result="$k_out / $g_out"
    if [ "$HAVE_MERGIRAF" = 1 ]; then
        m_runs=$(( RUNS < 5 ? RUNS : 5 ))
        cp "$dir/a" "$dir/cur"; code=0; "${mm[@]}" >/dev/null 2>&1 || code=$?; m_out=$(outcome $code)
        m_ms=$(median_ms "$dir" "$m_runs" "${mm[@]}")
        m_rss=$(peak_mib "$dir" "${mm[@]}")
        row+=$(printf ' %.2f | %.1f× |' "$m_ms" "$(awk -v a="$m_ms" -v b="$k_ms" 'BEGIN { print a / b }')")
        rss+=" / $m_rss"
        result+=" / $m_out"
    fi
    echo "$row $rss | $result |"
done
[ "$HAVE_TIME" = 1 ] || echo "(/usr/bin/time not installed: no peak memory)"

# Instruction counts (callgrind, whole process, every thread): repeatable
# whatever else the machine runs, unlike the times above.
if command -v valgrind >/dev/null; then
    echo
    echo '| input | kustomerge instructions | git merge-file instructions | ratio |'
    echo '|---|---:|---:|---:|'
    instructions() { # CMD...: the process's instruction count
        cp "$dir/a" "$dir/cur"
        # git merge-file exits 1 on a conflict, which is its answer here.
        { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true; } |
            awk '/refs:/ { gsub(",", "", $NF); print $NF }'
    }
    for spec in "50-line file:13:5" "10 images:10:1" "100 images:100:1" "1,000 images:1000:1" \
        "10,000 images:10000:1" "50,000-line body:10:50000"; do
        IFS=: read -r label images body <<<"$spec"
        dir="$WORK/$images-$body"
        k=$(instructions "$BIN" merge "$dir/o" "$dir/cur" "$dir/b" 7 kustomization.yaml)
        g=$(instructions git merge-file "$dir/cur" "$dir/o" "$dir/b")
        awk -v l="$label" -v k="$k" -v g="$g" 'BEGIN { printf "| %s | %.2fM | %.2fM | %.1f× |\n", l, k / 1e6, g / 1e6, k / g }'
    done
fi
