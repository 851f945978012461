#!/usr/bin/env bash
# Replays the real merges that collect.sh gathered through git's line merge
# (`git merge-file`, what git does without a driver) and through the
# kustomerge driver, and compares each clean result with what the person who
# merged committed. A clean result that differs from the human's is the one
# that matters: either the tool got the merge wrong or the human edited the
# file further while merging (then git's clean result differs the same way).
#
# Usage: benches/replay/run.sh [BIN] [CASES] [TSV]
#   BIN    the kustomerge binary (default target/debug/kustomerge)
#   CASES  the folder collect.sh filled (default fixtures/replay)
#   TSV    per-case results (default target/replay.tsv): case, git, kustomerge,
#          whether kustomerge fell back to git's line merge, and which input
#          the human's result equals (base, current, other, or new), and
#          whether both tools wrote the same bytes
# Outcomes: human (clean and equal to the human's bytes), differs (clean but
# not equal), conflict (exit 1), error (any other exit).
set -euo pipefail

BIN=$(realpath "${1:-target/debug/kustomerge}")
CASES=${2:-fixtures/replay}
TSV=${3:-target/replay.tsv}
[ -x "$BIN" ] || {
    echo "no binary at $BIN (cargo build first)" >&2
    exit 2
}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Neither the user's nor the system's git config may change a result.
export HOME=$WORK GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C

outcome() { # EXIT_CODE RESULT HUMAN
    case $1 in
    0) if cmp -s "$2" "$3"; then echo human; else echo differs; fi ;;
    1) echo conflict ;;
    *) echo error ;;
    esac
}

mkdir -p "$(dirname "$TSV")"
printf 'case\tgit\tkustomerge\tfallback\thuman_is\tsame_bytes\n' >"$TSV"
for dir in "$CASES"/*/*/; do
    dir=${dir%/}
    [ -f "$dir/human" ] || continue
    set +e
    git merge-file -p "$dir/current" "$dir/base" "$dir/other" >"$WORK/git" 2>/dev/null
    git_code=$?
    cp "$dir/current" "$WORK/current"
    "$BIN" merge "$dir/base" "$WORK/current" "$dir/other" 7 kustomization.yaml 2>"$WORK/err"
    ks_code=$?
    set -e
    fallback=no
    grep -q "using git's line merge" "$WORK/err" && fallback=yes
    same=no
    cmp -s "$WORK/git" "$WORK/current" && same=yes
    human_is=new
    for side in base current other; do
        if cmp -s "$dir/$side" "$dir/human"; then
            human_is=$side
            break
        fi
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${dir#"$CASES"/}" \
        "$(outcome $((git_code > 127 ? 2 : git_code > 0 ? 1 : 0)) "$WORK/git" "$dir/human")" \
        "$(outcome "$ks_code" "$WORK/current" "$dir/human")" "$fallback" "$human_is" "$same" >>"$TSV"
done

awk -F'\t' 'NR > 1 {
        n++; g[$2]++; k[$3]++
        if ($3 == "differs" && $6 == "yes") extra++
    }
    END {
        printf "%d cases (per case: %s)\n\n", n, FILENAME
        printf "| outcome | git merge-file | kustomerge |\n|---|---:|---:|\n"
        split("human differs conflict error", o, " ")
        for (i = 1; i <= 4; i++) printf "| %s | %d | %d |\n", o[i], g[o[i]], k[o[i]]
        printf "\nhuman: clean and equal to the merge commit; differs: clean but not equal; "
        printf "kustomerge differs with the same bytes as git (the human edited further): %d of %d\n", extra, k["differs"]
    }' "$TSV"
