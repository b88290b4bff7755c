#!/usr/bin/env bash
# The Wine tier: setup (idempotent), then tests/etw_test.ts and tests/wine/probe.ts (or the
# given scripts) under deno.exe and bun.exe with one persistent wineserver, stopped at the end.
#   tests/wine/test.sh [script.ts ...]
# Exit code: 0 when every run passed, else 1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/wine/lib.sh
. "$here/lib.sh"

"$here/setup.sh" >/dev/null
resolve_exe_dirs
trap wineserver_stop EXIT
wineserver_start

scripts=("$@")
[ "${#scripts[@]}" -gt 0 ] || scripts=("$REPO_ROOT/tests/etw_test.ts" "$here/probe.ts")
fail=0
for s in "${scripts[@]}"; do
  for rt in deno bun; do
    wmsg "== $rt: $s"
    start=$(date +%s%N)
    rc=0
    "$here/run.sh" "$rt" "$s" || rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$rc" -eq 0 ]; then wmsg "PASS $rt $s (${ms} ms)"; else wmsg "FAIL $rt $s (rc $rc, ${ms} ms)"; fail=1; fi
  done
done
exit "$fail"
