#!/usr/bin/env bash
# Build (or reuse) a small x86_64 kernel with CONFIG_USER_EVENTS=y for the
# QEMU test VM.
#
#   tests/kernel/build-kernel.sh            # prints the bzImage path (last stdout line)
#
# Source: Debian's linux-source-6.12 (/usr/src/linux-source-6.12.tar.xz).
# Config: make tinyconfig + tests/kernel/frag.config + make olddefconfig.
# Cache:  ${OTEL_NATIVE_KERNEL_CACHE:-$HOME/.cache/otel-native-metrics/kernel}/<key>/bzImage
#         key = sha256(frag.config + linux-source package version + build_recipe()).
#         Editing frag.config, upgrading linux-source-6.12 or changing
#         recipe_configure/recipe_compile below rebuilds; other edits here do not.
# Env:    OTEL_NATIVE_KERNEL_JOBS  make -j value (default 3)
#         OTEL_NATIVE_KERNEL_KEEP_TREE=1  keep the unpacked build tree
# All progress goes to stderr; the full build output goes to <cache>/<key>.build.log.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/kernel/lib.sh
. "$HERE/lib.sh"

FRAG="$HERE/frag.config"
SRC_PKG=linux-source-6.12
SRC_TAR=/usr/src/linux-source-6.12.tar.xz
JOBS=${OTEL_NATIVE_KERNEL_JOBS:-3}

[ -r "$FRAG" ] || kdie "missing $FRAG"

# The build recipe. The text of these two functions (as printed by `declare -f`)
# is part of the cache key, so any change here invalidates cached kernels. Both
# run inside the unpacked source tree. (Chained with && because `set -e` does
# not apply inside a function called from an `||` list.)
recipe_configure() { # $1 = fragment path
  make tinyconfig &&
    scripts/kconfig/merge_config.sh -m .config "$1" &&
    make olddefconfig
}
recipe_compile() { # $1 = make -j value
  make -j"$1" bzImage
}

# Build tools (make/gcc come from build-essential).
ensure_packages "$SRC_PKG" bc bison flex libelf-dev build-essential xz-utils
[ -r "$SRC_TAR" ] || kdie "$SRC_TAR not found although $SRC_PKG is installed"

SRC_VER=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
KEY=$(
  {
    printf 'frag.config:\n'; cat "$FRAG"
    printf '\n%s=%s\n' "$SRC_PKG" "$SRC_VER"
    printf 'recipe:\n'; declare -f recipe_configure recipe_compile
  } | sha256sum | cut -c1-64
)

CACHE_ROOT=$(kernel_cache_root)
OUT_DIR="$CACHE_ROOT/$KEY"
IMAGE="$OUT_DIR/bzImage"

if [ -s "$IMAGE" ]; then
  kmsg "cached kernel ($SRC_PKG $SRC_VER, key ${KEY:0:12}): $IMAGE"
  printf '%s\n' "$IMAGE"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialise concurrent builders of the same key.
exec 9>"$CACHE_ROOT/$KEY.lock"
if ! flock -n 9; then
  kmsg "another build of key ${KEY:0:12} is running; waiting for it"
  flock 9
fi
if [ -s "$IMAGE" ]; then
  kmsg "cached kernel (built concurrently): $IMAGE"
  printf '%s\n' "$IMAGE"
  exit 0
fi

LOG="$CACHE_ROOT/$KEY.build.log"
WORK="$CACHE_ROOT/$KEY.work"
rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() {
  if [ "${OTEL_NATIVE_KERNEL_KEEP_TREE:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  kmsg "kernel build FAILED: $*"
  kmsg "last 60 lines of $LOG:"
  tail -n 60 "$LOG" >&2 || true
  exit 1
}

start=$(date +%s)
kmsg "building kernel from $SRC_PKG $SRC_VER (key ${KEY:0:12}, make -j$JOBS); log: $LOG"
: >"$LOG"
kmsg "unpacking $SRC_TAR"
tar -C "$WORK" -xf "$SRC_TAR" >>"$LOG" 2>&1 || fail "unpacking $SRC_TAR"
TREE="$WORK/linux-source-6.12"
[ -f "$TREE/Makefile" ] || fail "no $TREE/Makefile after unpacking"

# Build outside any git checkout's influence and without a "+" version suffix.
export KBUILD_BUILD_USER=otel KBUILD_BUILD_HOST=kernel-test LOCALVERSION=

kmsg "configuring (tinyconfig + $(basename "$FRAG"))"
(cd "$TREE" && recipe_configure "$FRAG") </dev/null >>"$LOG" 2>&1 || fail "configuring"

# Every CONFIG_X=y requested by the fragment must survive olddefconfig
# (an unmet dependency silently drops an option).
missing=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=y) grep -qx "$line" "$TREE/.config" || missing+=("$line") ;;
    "# CONFIG_"*" is not set")
      opt=${line#\# }; opt=${opt%% *}
      if grep -q "^$opt=" "$TREE/.config"; then missing+=("$line"); fi ;;
  esac
done <"$FRAG"
[ "${#missing[@]}" -eq 0 ] || fail "options from $(basename "$FRAG") not set in the final .config: ${missing[*]}"

kmsg "compiling bzImage with make -j$JOBS (about 4-7 min on 2 cores)"
(cd "$TREE" && recipe_compile "$JOBS") </dev/null >>"$LOG" 2>&1 || fail "make bzImage"

BUILT="$TREE/arch/x86/boot/bzImage"
[ -s "$BUILT" ] || fail "no $BUILT"

mkdir -p "$OUT_DIR.tmp"
cp "$BUILT" "$OUT_DIR.tmp/bzImage"
cp "$TREE/.config" "$OUT_DIR.tmp/config"
cp "$FRAG" "$OUT_DIR.tmp/frag.config"
printf '%s %s\n' "$SRC_PKG" "$SRC_VER" >"$OUT_DIR.tmp/source-version"
mv "$LOG" "$OUT_DIR.tmp/build.log"
rm -rf "$OUT_DIR"
mv "$OUT_DIR.tmp" "$OUT_DIR"

kmsg "kernel built in $(($(date +%s) - start)) s: $IMAGE"
printf '%s\n' "$IMAGE"
