#!/usr/bin/env bash
# Run a command inside a QEMU (TCG) VM whose kernel has CONFIG_USER_EVENTS=y.
#
#   tests/kernel/run-vm.sh <command> [args...]
#   e.g. tests/kernel/run-vm.sh bash tests/kernel/guest-suite.sh
#        tests/kernel/run-vm.sh bun --version
#
# The guest sees the host's / read-only (so this repo, node_modules, /usr/lib
# etc. at the same paths), runs as root in the repo directory with
# HOME=/run TMPDIR=/run DENO_DIR=/run/deno (tmpfs) and
# PATH=<repo>/node_modules/.bin:..., tracefs at /sys/kernel/tracing,
# OTEL_NATIVE_IN_VM=1, GUEST_REPO=<repo>, NO_COLOR=1. The writable share is
# /run/out in the guest (also $OTEL_NATIVE_VM_OUT there; put artifacts in it), a
# fresh host temp dir printed at start. No network (loopback only).
#
# Exit status: the guest command's, 124 on timeout, 125 when the guest wrote no
# exit code (crash, panic, failed init).
#
# Env:
#   OTEL_NATIVE_VM_TIMEOUT   hard limit in seconds for the whole VM (default 600)
#   OTEL_NATIVE_VM_OUT       use this (empty or new) dir as the out share instead of mktemp
#   OTEL_NATIVE_VM_ENV       space-separated names of host env vars to pass to the guest
#   OTEL_NATIVE_VM_SMP / OTEL_NATIVE_VM_MEM   CPUs (default 2) / MiB (default 2048)
#   OTEL_NATIVE_KERNEL       use this bzImage instead of tests/kernel/build-kernel.sh's
#   OTEL_NATIVE_KERNEL_CACHE kernel cache dir (see build-kernel.sh)
# Out dir: console.log (serial: kernel + guest output), stdout.log, stderr.log,
#          rc, guest-env.sh, plus whatever the guest writes to /run/out.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/kernel/lib.sh
. "$HERE/lib.sh"
REPO=$(cd "$HERE/../.." && pwd)
INIT="$HERE/guest-init.sh"

[ "$#" -gt 0 ] || kdie "usage: $0 <guest-command> [args...]"
TIMEOUT=${OTEL_NATIVE_VM_TIMEOUT:-600}
SMP=${OTEL_NATIVE_VM_SMP:-2}
MEM=${OTEL_NATIVE_VM_MEM:-2048}
CACHE_MODE=${OTEL_NATIVE_VM_9P_CACHE:-loose}

ensure_packages qemu-system-x86 busybox-static
[ -x /bin/busybox ] || kdie "/bin/busybox missing (busybox-static)"
[ -x "$INIT" ] || kdie "$INIT is not executable"

if [ -n "${OTEL_NATIVE_KERNEL:-}" ]; then
  KERNEL=$OTEL_NATIVE_KERNEL
else
  KERNEL=$("$HERE/build-kernel.sh" </dev/null | tail -n 1)
fi
[ -s "$KERNEL" ] || kdie "kernel image not found: $KERNEL"

if [ -n "${OTEL_NATIVE_VM_OUT:-}" ]; then
  OUT=$OTEL_NATIVE_VM_OUT
  mkdir -p "$OUT"
  rm -f "$OUT/rc" "$OUT/stdout.log" "$OUT/stderr.log" "$OUT/console.log" "$OUT/guest-env.sh"
else
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/otel-native-vm.XXXXXX")
fi
OUT=$(cd "$OUT" && pwd)
chmod 0777 "$OUT"

# Command and repo path for the guest (bash-quoted; guest-init.sh is bash).
{
  printf 'GUEST_REPO=%q\n' "$REPO"
  printf 'GUEST_CMD=('
  printf '%q ' "$@"
  printf ')\n'
  printf 'export CI=%q\n' "${CI:-}"
  for name in ${OTEL_NATIVE_VM_ENV:-}; do
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || kdie "bad name in OTEL_NATIVE_VM_ENV: $name"
    if [ -n "${!name+x}" ]; then printf 'export %s=%q\n' "$name" "${!name}"; fi
  done
} >"$OUT/guest-env.sh"

kmsg "out dir: $OUT"
kmsg "kernel:  $KERNEL"
kmsg "guest:   (cd $REPO && $*)   [timeout ${TIMEOUT}s, ${SMP} CPUs, ${MEM} MiB, TCG]"

qemu_args=(
  -accel tcg -cpu max -smp "$SMP" -m "$MEM"
  -nographic -no-reboot -nodefaults -nic none
  -chardev stdio,id=con,signal=off -serial chardev:con
  -device virtio-rng-pci
  -kernel "$KERNEL"
  -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
  -fsdev local,id=out,path="$OUT",security_model=none
  -device virtio-9p-pci,fsdev=out,mount_tag=out
  -append "console=ttyS0 quiet root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=$CACHE_MODE ro init=$INIT panic=-1"
)

read -r -a extra <<<"${OTEL_NATIVE_VM_QEMU_EXTRA:-}"
qemu_args+=("${extra[@]}")

start=$(date +%s)
set +e
# The serial console (kernel messages + guest output) streams to our stdout,
# with the guest's \r\n turned into \n, and is kept in $OUT/console.log.
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${qemu_args[@]}" </dev/null 2>"$OUT/qemu.stderr" |
  sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$OUT/console.log"
statuses=("${PIPESTATUS[@]}")
set -e
qemu_rc=${statuses[0]}
elapsed=$(($(date +%s) - start))

show_failure() {
  kmsg "---- $1 ----"
  kmsg "out dir: $OUT"
  if [ -s "$OUT/qemu.stderr" ]; then
    kmsg "qemu stderr:"; cat "$OUT/qemu.stderr" >&2
  fi
  kmsg "last 40 lines of console.log (serial):"; tail -n 40 "$OUT/console.log" >&2 || true
  for f in stdout.log stderr.log; do
    if [ -s "$OUT/$f" ]; then kmsg "last 40 lines of guest $f:"; tail -n 40 "$OUT/$f" >&2; fi
  done
}

if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
  show_failure "TIMEOUT: VM killed after ${TIMEOUT}s (OTEL_NATIVE_VM_TIMEOUT)"
  exit 124
fi
if [ ! -s "$OUT/rc" ]; then
  show_failure "guest wrote no exit code (qemu exit $qemu_rc after ${elapsed}s)"
  exit 125
fi
rc=$(tr -dc '0-9' <"$OUT/rc")
rc=${rc:-125}
if [ "$rc" -ne 0 ]; then
  show_failure "guest command failed with exit code $rc (${elapsed}s)"
else
  kmsg "guest command succeeded (${elapsed}s); out dir: $OUT"
fi
exit "$rc"
