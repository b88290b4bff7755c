#!/usr/bin/env bash
# The whole unit test suite, on Deno and then on Bun (same files). Kernel and Wine tiers are
# separate scripts (tests/kernel/run.sh, tests/wine/run-tests.sh) that .ci/run also calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"
if [ ! -x "$bin/deno" ] || [ ! -x "$bin/bun" ]; then
  echo "node_modules missing: run 'npm install' first" >&2
  exit 1
fi
echo "== deno $("$bin/deno" --version | head -1)"
"$bin/deno" test --allow-ffi --allow-read --allow-env --allow-run --allow-write tests/
echo "== bun $("$bin/bun" --version)"
"$bin/bun" test
