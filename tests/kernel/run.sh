#!/usr/bin/env bash
# The real-kernel tier: builds (or reuses) the user_events test kernel, boots it under QEMU and
# runs tests/kernel/guest-suite.sh inside (the kernel suite under Deno and Bun, then
# examples/basic.ts captured through tracefs). Exits non-zero on any failure or timeout;
# the out directory keeps the console log and outputs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$(date +%s)
"$HERE/build-kernel.sh" >/dev/null
echo "[kernel] kernel ready after $(($(date +%s) - start)) s"
OTEL_NATIVE_VM_TIMEOUT=${OTEL_NATIVE_VM_TIMEOUT:-1500} "$HERE/run-vm.sh" bash tests/kernel/guest-suite.sh
echo "[kernel] tier passed in $(($(date +%s) - start)) s"
