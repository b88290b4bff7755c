#!/usr/bin/env bash
# Checks that the encoder and writer in the working tree write exactly the bytes of a baseline
# on both runtimes. Used before keeping any hot-path change.
#   bash bench/verify.sh [git-revision]
# Default baseline: 13792a2, the last commit whose encoder, exporter and writer predate the
# performance work (later commits picked up part of it from the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-13792a2}"
base="$(mktemp -d "${TMPDIR:-/tmp}/otel-native-baseline.XXXXXX")"
trap 'rm -rf "$base"' EXIT
git archive "$rev" src ffi proto deno.json package.json | tar -x -C "$base"
ln -s "$PWD/node_modules" "$base/node_modules"
node_modules/.bin/bun bench/verify.ts "$base"
node_modules/.bin/deno run -A bench/verify.ts "$base"
