#!/usr/bin/env bash
# The real-kernel tier: builds (or reuses) the user_events test kernels, boots each under QEMU
# and runs tests/kernel/guest-suite.sh inside (the kernel suites under Deno and Bun, then
# examples/basic.ts captured through tracefs). Two kernels: "base" (Linux 6.12) and "pre610"
# (6.12 with the registration matching of 6.4-6.9, tests/kernel/patches/pre610.patch).
# Runs the suite on both even if the first fails; exits non-zero on any failure or timeout.
# Each VM's out directory (printed) keeps the console log and outputs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$(date +%s)
variants=(base pre610)
declare -A image
for v in "${variants[@]}"; do
  t=$(date +%s)
  if [ "$v" = base ]; then image[$v]=$("$HERE/build-kernel.sh" | tail -n 1)
  else image[$v]=$("$HERE/build-kernel.sh" "$v" | tail -n 1); fi
  echo "[kernel] $v kernel ready after $(($(date +%s) - t)) s"
done
# What failed, printed again at the very end of the tier: a CI log shows its tail, and the
# details of a failing test are otherwise hundreds of lines above it. Bun prints a test's error
# before its "(fail)" line, so the lines since the previous result are kept; Deno prints an
# "ERRORS" section (through its summary line) after the file's results.
failures() {
  awk '
    /^ ?ERRORS ?$/ { deno = 1 }
    deno { print; if (/^FAILED \|/) { deno = 0; print "" }; next }
    /^\[check_trace\]|^error: |^\[guest-init\].*(timed out|FAILED)/ && !bun { print }
    /^bun test v/ { bun = 1 }
    /^Ran [0-9]+ tests? across/ { bun = 0; n = 0; next }
    /^\(pass\)|^\(skip\)|^\(todo\)|\.\.\. ok|^(Check|running) / { n = 0; next }
    /^\(fail\)/ { for (i = 1; i <= n; i++) print buf[i]; print; print ""; n = 0; next }
    { buf[++n] = $0; if (n > 60) { for (i = 1; i < n; i++) buf[i] = buf[i + 1]; n-- } }
' "$1"
}
failed=()
declare -A outdir
for v in "${variants[@]}"; do
  t=$(date +%s)
  echo "[kernel] === suite on the $v kernel"
  outdir[$v]=$(mktemp -d "${TMPDIR:-/tmp}/otel-native-vm-$v.XXXXXX")
  if OTEL_NATIVE_VM_OUT=${outdir[$v]} OTEL_NATIVE_KERNEL=${image[$v]} \
    OTEL_NATIVE_VM_TIMEOUT=${OTEL_NATIVE_VM_TIMEOUT:-1500} \
    "$HERE/run-vm.sh" bash tests/kernel/guest-suite.sh; then
    echo "[kernel] suite passed on the $v kernel in $(($(date +%s) - t)) s"
  else
    echo "[kernel] suite FAILED on the $v kernel ($(($(date +%s) - t)) s)"
    failed+=("$v")
  fi
done
if [ "${#failed[@]}" -ne 0 ]; then
  for v in "${failed[@]}"; do
    echo "[kernel] ===== what failed on the $v kernel (from ${outdir[$v]}/console.log) ====="
    failures "${outdir[$v]}/console.log"
  done
  echo "[kernel] tier FAILED on: ${failed[*]} ($(($(date +%s) - start)) s)"
  exit 1
fi
echo "[kernel] tier passed on ${variants[*]} in $(($(date +%s) - start)) s"
