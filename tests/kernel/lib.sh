# shellcheck shell=bash
# Helpers shared by tests/kernel/*.sh. Source it; do not execute it.

# Messages go to stderr so that stdout stays machine-readable.
kmsg() { printf '[kernel-test] %s\n' "$*" >&2; }
kdie() { printf '[kernel-test] ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root (directly, or through sudo -n when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    kdie "need root (or passwordless sudo) to run: $*"
  fi
}

# ensure_packages PKG... : apt-get install the Debian packages that are not
# installed yet. Returns immediately (no apt-get update) when all are present.
ensure_packages() {
  local missing=() p st
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 ||
    kdie "missing packages (${missing[*]}) and no apt-get; install them manually"
  kmsg "installing with apt-get: ${missing[*]}"
  # DPkg::Lock::Timeout makes apt wait for a concurrent apt/dpkg instead of failing.
  local apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update </dev/null >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" \
    --no-install-recommends "${missing[@]}" </dev/null >&2
}

kernel_cache_root() {
  printf '%s\n' "${OTEL_NATIVE_KERNEL_CACHE:-${HOME:-/root}/.cache/otel-native-metrics/kernel}"
}
