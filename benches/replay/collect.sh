#!/usr/bin/env bash
# Collects real merges of kustomization files from git histories: for each
# merge commit M whose two parents both changed a kustomization file since
# their merge base, the four versions of that file (base, the two sides, and
# what the person who merged committed). run.sh replays them through git's
# line merge and kustomerge and compares each result with the human's.
#
# Usage: benches/replay/collect.sh [-o OUT] [-n CAP] GIT_DIR...
#   GIT_DIR  a bare repository or .git directory; its GitHub name is read from
#            a path component spelled owner+name, as in owner+name.git from
#            `git clone --bare https://github.com/owner/name owner+name.git`
#   -o OUT   where cases go (default fixtures/replay); one folder per case,
#            OUT/<owner+name>/<short merge sha>-<n>/{base,current,other,human,source}
#   -n CAP   most cases per repository (default 120), newest merges first
#
# current is the first parent's version, other the second's, as git hands
# them to a driver when the first parent is the branch merged into. A case is
# kept only when the two sides differ from each other (two identical edits
# merge trivially in any tool), there is a single merge base (with several,
# git merges against a virtual base no single commit holds), and no version
# is over 64 KiB, holds a NUL byte or holds conflict markers (a merge
# committed unresolved). Identical quadruples are kept once.
# Only repositories whose root licence permits redistribution (Apache-2.0,
# MIT, BSD, ISC, CC0, Unlicense, WTFPL) are used; OUT/NOTICE names each one
# with its licence, since the cases keep their authors' copyright.
set -euo pipefail

OUT=fixtures/replay
CAP=120
while getopts o:n: opt; do
    case $opt in
    o) OUT=$OPTARG ;;
    n) CAP=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || {
    echo "usage: $0 [-o OUT] [-n CAP] GIT_DIR..." >&2
    exit 2
}
mkdir -p "$OUT"

# licence GIT: the SPDX name of the root licence at HEAD, or nothing when it
# is missing or does not permit redistribution without copyleft terms.
licence() {
    local f text
    for f in LICENSE LICENSE.txt LICENSE.md LICENCE COPYING LICENSE-APACHE; do
        text=$(git --git-dir="$1" show "HEAD:$f" 2>/dev/null | head -c 4000) || continue
        [ -n "$text" ] || continue
        case $text in
        *"GNU "*) return ;;
        *"Apache License"*) echo Apache-2.0 ;;
        *"Permission is hereby granted, free of charge"*) echo MIT ;;
        *"Redistribution and use in source and binary forms"*) echo BSD ;;
        *"Permission to use, copy, modify, and/or distribute"*) echo ISC ;;
        *"CC0 1.0"*) echo CC0-1.0 ;;
        *"This is free and unencumbered software"*) echo Unlicense ;;
        *"DO WHAT THE FUCK YOU WANT"*) echo WTFPL ;;
        esac
        return
    done
}

is_kustomization() {
    case ${1##*/} in
    kustomization.yaml | kustomization.yml | Kustomization) return 0 ;;
    esac
    return 1
}

# usable GIT BLOB: small enough, text, and free of conflict markers.
usable() {
    local size
    size=$(git --git-dir="$1" cat-file -s "$2") || return 1
    [ "$size" -le 65536 ] || return 1
    [ "$(git --git-dir="$1" cat-file blob "$2" | tr -dc '\000' | wc -c)" -eq 0 ] || return 1
    ! git --git-dir="$1" cat-file blob "$2" | grep -qE '^(<<<<<<<|>>>>>>>)( |$)'
}

total=0
for gitdir in "$@"; do
    name=$(tr / '\n' <<<"$gitdir" | grep -m1 '+' || basename "$gitdir")
    name=${name%.git}
    repo=${name/+//}
    lic=$(licence "$gitdir")
    if [ -z "$lic" ]; then
        echo "$repo: skipped, no licence that permits redistribution" >&2
        continue
    fi
    dest=$OUT/$name
    rm -rf "$dest"
    spec=('*kustomization.yaml' '*kustomization.yml' '*Kustomization')
    # One pass over all merges finds those whose result differs from a parent
    # in some kustomization file; only they can be cases (a file both sides
    # changed differently differs in the merge from at least one side).
    declare -A seen=() touched=()
    while read -r m; do touched[$m]=1; done < <(git --git-dir="$gitdir" rev-list --all --merges |
        git --git-dir="$gitdir" diff-tree --stdin -m -r --name-only -- "${spec[@]}" | grep -E '^[0-9a-f]{40}$')
    n=0
    while read -r m p1 p2 rest; do
        [ -n "$p2" ] && [ -z "$rest" ] && [ -n "${touched[$m]:-}" ] || continue
        bases=$(git --git-dir="$gitdir" merge-base --all "$p1" "$p2" 2>/dev/null) || continue
        [ -n "$bases" ] && [ "$(wc -l <<<"$bases")" -eq 1 ] || continue
        b=$bases
        both=$(comm -12 \
            <(git --git-dir="$gitdir" diff --no-renames --name-only "$b" "$p1" -- "${spec[@]}" | sort) \
            <(git --git-dir="$gitdir" diff --no-renames --name-only "$b" "$p2" -- "${spec[@]}" | sort))
        k=0
        while IFS= read -r path; do
            [ -n "$path" ] && is_kustomization "$path" || continue
            blobs=()
            for rev in "$b" "$p1" "$p2" "$m"; do
                blob=$(git --git-dir="$gitdir" rev-parse -q --verify "$rev:$path" 2>/dev/null) || break
                blobs+=("$blob")
            done
            [ ${#blobs[@]} -eq 4 ] && [ "${blobs[1]}" != "${blobs[2]}" ] || continue
            key="${blobs[*]}"
            [ -z "${seen[$key]:-}" ] || continue
            seen[$key]=1
            ok=1
            for blob in "${blobs[@]}"; do usable "$gitdir" "$blob" || ok=0; done
            [ $ok = 1 ] || continue
            k=$((k + 1))
            case_dir=$dest/${m:0:10}-$k
            mkdir -p "$case_dir"
            i=0
            for file in base current other human; do
                git --git-dir="$gitdir" cat-file blob "${blobs[$i]}" >"$case_dir/$file"
                i=$((i + 1))
            done
            printf 'repo: https://github.com/%s\nmerge: %s\npath: %s\nbase: %s\ncurrent: %s\nother: %s\nlicence: %s\n' \
                "$repo" "$m" "$path" "$b" "$p1" "$p2" "$lic" >"$case_dir/source"
            n=$((n + 1))
            [ "$n" -lt "$CAP" ] || break
        done <<<"$both"
        [ "$n" -lt "$CAP" ] || break
    done < <(git --git-dir="$gitdir" rev-list --all --merges --parents)
    unset seen touched
    echo "$repo: $n cases ($lic)" >&2
    total=$((total + n))
done

# NOTICE covers every case in OUT, including those of earlier runs.
{
    echo "# Real merges of kustomization files"
    echo
    echo "Each case folder holds four versions of one kustomization file taken byte for"
    echo "byte from a public repository's history by benches/replay/collect.sh: base (the"
    echo "merge base), current and other (the merge's two parents) and human (what the"
    echo "merge commit holds). \`source\` names the repository, commits and path. The files"
    echo "keep their authors' copyright and their repository's licence:"
    echo
    echo "| repository | licence | cases |"
    echo "|---|---|---:|"
    cat "$OUT"/*/*/source | paste - - - - - - - | awk -F'\t' '{ sub(/^repo: /, "", $1); sub(/^licence: /, "", $7); n[$1 " | " $7]++ }
        END { for (k in n) printf "| %s | %d |\n", k, n[k] }' | sort
} >"$OUT/NOTICE"
echo "total: $total cases" >&2
