#!/usr/bin/env bash
# Checks that the encoder and writer in the working tree write exactly the bytes of a baseline
# on both runtimes. Used before keeping any hot-path change.
#   bash bench/verify.sh [git-revision]
# Default baseline: be6bfdd, the last encoder before the content-validated caches (issue 8).
# The data is tests/edge_cases.ts and real SDK collections; inputs whose output changed by
# design (cycles, INT values outside int64, non-plain objects, stale caches) are not in it.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-be6bfdd}"
base="$(mktemp -d "${TMPDIR:-/tmp}/otel-native-baseline.XXXXXX")"
trap 'rm -rf "$base"' EXIT
git archive "$rev" src ffi proto deno.json package.json | tar -x -C "$base"
ln -s "$PWD/node_modules" "$base/node_modules"
node_modules/.bin/bun bench/verify.ts "$base"
node_modules/.bin/deno run -A bench/verify.ts "$base"
