#!/usr/bin/env bash
# The whole unit test suite, on Deno and then on Bun (same files). The real-kernel file
# (tests/kernel/*_test.ts) skips itself here, saying why; its tier is tests/kernel/run.sh, and
# the Windows tier tests/wine/test.sh. .ci/run runs all three.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"
if [ ! -x "$bin/deno" ] || [ ! -x "$bin/bun" ]; then
  echo "node_modules missing: run 'npm install' first" >&2
  exit 1
fi
echo "== deno $("$bin/deno" --version | head -1)"
"$bin/deno" test --allow-ffi --allow-read --allow-env --allow-run --allow-write --allow-net=127.0.0.1 --allow-sys --v8-flags=--expose-gc tests/
echo "== bun $("$bin/bun" --version)"
"$bin/bun" test --timeout 120000
