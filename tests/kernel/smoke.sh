#!/usr/bin/env bash
# Boot the user_events test VM and run tests/kernel/smoke_guest.ts under Bun and
# Deno (FFI -> libc open + DIAG_IOCSREG, tracefs format check, one traced write).
#   tests/kernel/smoke.sh
# Env: see tests/kernel/run-vm.sh (OTEL_NATIVE_VM_TIMEOUT, ...).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$HERE/run-vm.sh" bash tests/kernel/smoke-in-guest.sh
