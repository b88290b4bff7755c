#!/usr/bin/env bash
# The benchmark on both runtimes, one after the other (= npm run bench). Only this full run
# writes bench/results/<runtime>.json and regenerates bench/RESULTS.md; one runtime prints its
# summary and saves nothing (no result churn while iterating).
#   bash bench/run.sh            # both runtimes, saved (about 3 minutes on 2 cores)
#   bash bench/run.sh bun        # one runtime, summary only
# Knobs (environment): BENCH_REPS (21), BENCH_HEAP_CYCLES (1000), BENCH_HEAP_POINTS (1000),
# BENCH_SETTLE_GC=1 (a forced collection before each timed section; off by default).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=node_modules/.bin
command -v gcc >/dev/null || { echo "bench: gcc is needed for the C floor (bench/floor.c)" >&2; exit 1; }
save=()
[ $# -eq 0 ] && save=(--save)
runtimes=("${@:-bun deno}")
for runtime in ${runtimes[@]}; do
  case "$runtime" in
    bun) "$BIN/bun" bench/bench.ts "${save[@]}" ;;
    deno) "$BIN/deno" run -A --v8-flags=--expose-gc bench/bench.ts "${save[@]}" ;;
    *) echo "bench: unknown runtime $runtime (bun or deno)" >&2; exit 2 ;;
  esac
done
[ ${#save[@]} -gt 0 ] && echo "bench: see bench/RESULTS.md"
