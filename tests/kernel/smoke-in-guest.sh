#!/usr/bin/env bash
# Guest side of tests/kernel/smoke.sh (runs inside the VM, cwd = repo root).
# Also a template for a guest test suite: tests/kernel/run-vm.sh bash <this file>.
set -euo pipefail

fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }

[ "${OTEL_NATIVE_IN_VM:-}" = 1 ] || fail "run me through tests/kernel/run-vm.sh"

echo "## environment"
echo "kernel: $(uname -r)   cpus online: $(cat /sys/devices/system/cpu/online)   nproc: $(nproc)"
[ "$(nproc)" -ge 2 ] || fail "expected 2 CPUs online, got $(nproc)"
[ -e /sys/kernel/tracing/user_events_data ] || fail "/sys/kernel/tracing/user_events_data missing"
echo "user_events_data: present"
for rt in bun deno; do
  echo "$rt: $(command -v "$rt") -> $(readlink -f "$(command -v "$rt")")"
done
echo "bun --version: $(bun --version)"
echo "deno --version: $(deno --version | head -n 1)"

echo "## bun"
start=$(date +%s%N)
bun tests/kernel/smoke_guest.ts
echo "(bun smoke: $(( ($(date +%s%N) - start) / 1000000 )) ms)"

echo "## deno"
# --no-lock: never read/upgrade/write deno.lock (the repo is read-only in the VM
# and there is no network). DENO_DIR=/run/deno (tmpfs) is set by guest-init.sh.
# -A: Deno 2 refuses any fs access under /sys, /proc and /dev (NotCapable,
# "Requires all access") unless --allow-all, whatever --allow-read/--allow-write
# say (denoland/deno#27564). FFI calls (--allow-ffi) are not path-checked.
start=$(date +%s%N)
deno run --no-lock -A tests/kernel/smoke_guest.ts
echo "(deno smoke: $(( ($(date +%s%N) - start) / 1000000 )) ms)"

echo "## smoke OK"
