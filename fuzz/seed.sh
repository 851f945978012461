#!/usr/bin/env bash
# Builds the seed corpora from the fixtures: each merge case as
# base 0xFF current 0xFF other (and each real file with images from
# fixtures/corpus), each set-image case as its arguments on the
# first line and the input file after it.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/merge corpus/set_image
for case in ../fixtures/merge/*/; do
    name=$(basename "$case")
    { cat "$case/base.yaml"; printf '\377'; cat "$case/current.yaml"; printf '\377'; cat "$case/other.yaml"; } > "corpus/merge/$name"
done
for case in ../fixtures/set-image/*/; do
    name=$(basename "$case")
    # `args` holds one argument per line; options (--expect ...) are not the library's.
    { grep -v '^-' "$case/args" | grep -v '^set-image$' | tr '\n' ' '; printf '\n'; cat "$case/input.yaml"; } > "corpus/set_image/$name"
done
# Real layouts: each corpus file with an `images:` list, as all three inputs
# (the fuzzer's mutations of one part make the sides differ).
for file in ../fixtures/corpus/kustomize/files/*; do
    grep -qi '^images:' "$file" || continue
    name=corpus_$(basename "$file")
    { cat "$file"; printf '\377'; cat "$file"; printf '\377'; cat "$file"; } > "corpus/merge/$name"
done
echo "seeded $(ls corpus/merge | wc -l) merge and $(ls corpus/set_image | wc -l) set-image inputs"
