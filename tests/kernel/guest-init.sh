#!/bin/bash
# PID 1 of the test VM started by tests/kernel/run-vm.sh. Do not run on the host.
#
# The root file system is the host's / (read-only, 9p). This script:
#   mounts proc, sysfs, devtmpfs, tmpfs on /run (+ /dev/shm), tracefs on
#   /sys/kernel/tracing and the writable 9p share "out" on /run/out;
#   reads /run/out/guest-env.sh (written by run-vm.sh: GUEST_REPO, GUEST_CMD=(...),
#   optional extra exports);
#   runs the command in GUEST_REPO with HOME=/run TMPDIR=/run DENO_DIR=/run/deno,
#   stdout/stderr teed to /run/out/stdout.log, /run/out/stderr.log and the console;
#   writes the exit code to /run/out/rc and powers off (busybox reboot -f).
# No `set -e`: PID 1 must always reach the reboot (if it exited, the kernel
# would panic; panic=-1 + QEMU -no-reboot still ends the VM).

BB=/bin/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "[guest-init] $*" >/dev/console 2>/dev/null || echo "[guest-init] $*"; }

finish() {
  sync
  $BB umount /run/out 2>/dev/null
  $BB reboot -f
  sleep 5
  echo o >/proc/sysrq-trigger 2>/dev/null
}
trap finish EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true # CONFIG_DEVTMPFS_MOUNT may have done it
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/out /run/deno /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 out /run/out; then
  log "cannot mount the 'out' 9p share"
  exit 1
fi
$BB ifconfig lo 127.0.0.1 netmask 255.0.0.0 up 2>/dev/null || true

if [ ! -r /run/out/guest-env.sh ]; then
  log "missing /run/out/guest-env.sh"
  echo 126 >/run/out/rc
  exit 1
fi
GUEST_REPO=
GUEST_CMD=()
# shellcheck disable=SC1091
. /run/out/guest-env.sh

export GUEST_REPO # the repo root (also the cwd of the guest command)
export OTEL_NATIVE_VM_OUT=/run/out # writable share, read back on the host
export HOME=/run TMPDIR=/run DENO_DIR=/run/deno
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
# Plain logs (serial console + *.log files); pass NO_COLOR= through
# OTEL_NATIVE_VM_ENV to get colours back.
if [ -z "${NO_COLOR+x}" ]; then export NO_COLOR=1; fi
export PATH="$GUEST_REPO/node_modules/.bin:$PATH"
export OTEL_NATIVE_IN_VM=1

# node_modules/.bin/{bun,deno} are normally the real ELF binaries (the npm
# packages' postinstall replaces the placeholders: .bin/bun -> bun/bin/bun.exe,
# .bin/deno -> deno/deno). If the install ran with --ignore-scripts they are
# node-script shims; then put the platform packages' ELF binaries first in PATH.
is_elf() { [ -f "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
pick_runtime() { # name candidates...
  local name=$1 c
  shift
  for c in "$@"; do
    if is_elf "$c"; then
      [ "$c" = "$GUEST_REPO/node_modules/.bin/$name" ] && return 0
      mkdir -p /run/bin && ln -sf "$c" "/run/bin/$name"
      log "using $c for $name (node_modules/.bin/$name is not an ELF binary)"
      return 0
    fi
  done
  log "warning: no ELF $name binary under $GUEST_REPO/node_modules"
}
nm=$GUEST_REPO/node_modules
pick_runtime bun "$nm/.bin/bun" "$nm"/@oven/bun-linux-x64/bin/bun "$nm"/@oven/bun-linux-x64-baseline/bin/bun "$nm/bun/bin/bun.exe"
pick_runtime deno "$nm/.bin/deno" "$nm"/@deno/linux-x64-glibc/deno "$nm"/@deno/linux-x64*/deno "$nm/deno/deno"
[ -d /run/bin ] && export PATH="/run/bin:$PATH"

if ! cd "$GUEST_REPO"; then
  log "cannot cd to $GUEST_REPO"
  echo 126 >/run/out/rc
  exit 1
fi
if [ "${#GUEST_CMD[@]}" -eq 0 ]; then
  log "no guest command"
  echo 126 >/run/out/rc
  exit 1
fi

log "cpus online: $(cat /sys/devices/system/cpu/online)  kernel: $(uname -r)"
log "running in $GUEST_REPO: ${GUEST_CMD[*]}"

# Tee stdout and stderr separately to the out share and to the serial console
# (which run-vm.sh streams to the host's stdout).
mkfifo /run/.stdout.fifo /run/.stderr.fifo
tee /run/out/stdout.log </run/.stdout.fifo >/dev/console &
tee_out=$!
tee /run/out/stderr.log </run/.stderr.fifo >/dev/console &
tee_err=$!

start=$(date +%s.%N)
"${GUEST_CMD[@]}" </dev/null >/run/.stdout.fifo 2>/run/.stderr.fifo
rc=$?
end=$(date +%s.%N)
# The tees end when every writer has closed the fifos; a background process
# left behind by the command may keep them open, so wait 10 s at most.
for _ in $(seq 100); do
  kill -0 "$tee_out" 2>/dev/null || kill -0 "$tee_err" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$tee_out" 2>/dev/null || kill -0 "$tee_err" 2>/dev/null; then
  log "a background process still holds the command's stdout/stderr; not waiting for it"
  kill "$tee_out" "$tee_err" 2>/dev/null
fi
wait "$tee_out" "$tee_err" 2>/dev/null

echo "$rc" >/run/out/rc
log "guest command exited with $rc after $(echo "$end - $start" | bc 2>/dev/null || echo '?') s"
exit 0
