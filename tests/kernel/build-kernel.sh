#!/usr/bin/env bash
# Build (or reuse) a small x86_64 kernel with CONFIG_USER_EVENTS=y for the
# QEMU test VM.
#
#   tests/kernel/build-kernel.sh            # the base kernel; prints the bzImage path (last stdout line)
#   tests/kernel/build-kernel.sh <variant>  # the base kernel + tests/kernel/patches/<variant>.patch
#
# Source: Debian's linux-source-6.12 (/usr/src/linux-source-6.12.tar.xz).
# Config: make tinyconfig + tests/kernel/frag.config + make olddefconfig.
# Cache:  ${OTEL_NATIVE_KERNEL_CACHE:-$HOME/.cache/otel-native-metrics/kernel}/
#           <key>/bzImage     base: key = sha256(frag.config + linux-source package version +
#                             recipe_configure/recipe_compile below).
#           <vkey>/bzImage    variant: vkey = sha256(key + variant name + the patch's content +
#                             recipe_variant below).
#           <key>.tree/       the configured and compiled base tree (about 2 GB), kept so that a
#                             variant is an incremental build of the files its patch touches
#                             (seconds, not minutes). Variants leave it with the base sources:
#                             every file a patch touched is restored from .otel-pristine/.
#         Editing frag.config, upgrading linux-source-6.12 or changing the recipe functions
#         rebuilds; editing a patch rebuilds only its variant. Other edits here do not.
# Env:    OTEL_NATIVE_KERNEL_JOBS  make -j value (default 3)
#         OTEL_NATIVE_KERNEL_KEEP_TREE=0  delete <key>.tree after this build (the next variant
#                                         build then compiles the whole tree again)
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

# A variant: the base tree with one patch applied, compiled with LOCALVERSION=-<variant> (so
# `uname -r` in the guest names the variant). $1 = make -j value, $2 = variant name. Runs inside
# the base tree, after the patch was applied; part of the variant's key.
recipe_variant() {
  LOCALVERSION="-$2" make -j"$1" bzImage
}

VARIANT=${1:-}
PATCH=
if [ -n "$VARIANT" ]; then
  [[ "$VARIANT" =~ ^[a-z0-9][a-z0-9-]*$ ]] || kdie "bad variant name: $VARIANT"
  PATCH="$HERE/patches/$VARIANT.patch"
  [ -r "$PATCH" ] || kdie "no patch for variant $VARIANT: $PATCH"
fi

# Build tools (make/gcc come from build-essential).
ensure_packages "$SRC_PKG" bc bison flex libelf-dev build-essential xz-utils patch
[ -r "$SRC_TAR" ] || kdie "$SRC_TAR not found although $SRC_PKG is installed"

SRC_VER=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
KEY=$(
  {
    printf 'frag.config:\n'; cat "$FRAG"
    printf '\n%s=%s\n' "$SRC_PKG" "$SRC_VER"
    printf 'recipe:\n'; declare -f recipe_configure recipe_compile
  } | sha256sum | cut -c1-64
)
if [ -n "$VARIANT" ]; then
  OUT_KEY=$(
    {
      printf 'base=%s\nvariant=%s\npatch:\n' "$KEY" "$VARIANT"; cat "$PATCH"
      printf 'recipe:\n'; declare -f recipe_variant
    } | sha256sum | cut -c1-64
  )
  WHAT="kernel variant $VARIANT"
else
  OUT_KEY=$KEY
  WHAT=kernel
fi

CACHE_ROOT=$(kernel_cache_root)
OUT_DIR="$CACHE_ROOT/$OUT_KEY"
IMAGE="$OUT_DIR/bzImage"

if [ -s "$IMAGE" ]; then
  kmsg "cached $WHAT ($SRC_PKG $SRC_VER, key ${OUT_KEY:0:12}): $IMAGE"
  printf '%s\n' "$IMAGE"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialise concurrent builders of the same image, then (always second, so no deadlock) users of
# the base tree.
exec 9>"$CACHE_ROOT/$OUT_KEY.lock"
if ! flock -n 9; then
  kmsg "another build of key ${OUT_KEY:0:12} is running; waiting for it"
  flock 9
fi
if [ -s "$IMAGE" ]; then
  kmsg "cached $WHAT (built concurrently): $IMAGE"
  printf '%s\n' "$IMAGE"
  exit 0
fi
if [ -n "$VARIANT" ]; then
  exec 8>"$CACHE_ROOT/$KEY.lock"
  if ! flock -n 8; then
    kmsg "the base tree (key ${KEY:0:12}) is in use; waiting for it"
    flock 8
  fi
fi

LOG="$CACHE_ROOT/$OUT_KEY.build.log"
TREE_DIR="$CACHE_ROOT/$KEY.tree"
TREE="$TREE_DIR/linux-source-6.12"
PRISTINE="$TREE/.otel-pristine" # the base version of every file a variant's patch touched
rm -rf "$CACHE_ROOT/$KEY.work" # left by this script's earlier versions
cleanup() {
  if [ "${OTEL_NATIVE_KERNEL_KEEP_TREE:-1}" = 0 ]; then rm -rf "$TREE_DIR"; fi
}
trap cleanup EXIT

fail() {
  kmsg "$WHAT build FAILED: $*"
  kmsg "last 60 lines of $LOG:"
  tail -n 60 "$LOG" >&2 || true
  exit 1
}

# Puts back the base version of every file a variant changed; touched, so make recompiles them.
restore_pristine() {
  [ -d "$PRISTINE" ] || return 0
  local f
  while IFS= read -r -d '' f; do
    f=${f#"$PRISTINE/"}
    if ! cmp -s "$PRISTINE/$f" "$TREE/$f"; then
      cp "$PRISTINE/$f" "$TREE/$f" && touch "$TREE/$f" || return 1
    fi
  done < <(find "$PRISTINE" -type f -print0)
}

# Files a patch modifies (its "+++ b/<path>" lines; -p1).
patched_files() {
  sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$1"
}

start=$(date +%s)
: >"$LOG"
# Build outside any git checkout's influence and without a "+" version suffix.
export KBUILD_BUILD_USER=otel KBUILD_BUILD_HOST=kernel-test LOCALVERSION=

if [ ! -f "$TREE_DIR/configured" ]; then
  kmsg "no base tree in the cache: unpacking and configuring $SRC_PKG $SRC_VER (key ${KEY:0:12}); log: $LOG"
  rm -rf "$TREE_DIR"
  mkdir -p "$TREE_DIR"
  kmsg "unpacking $SRC_TAR"
  tar -C "$TREE_DIR" -xf "$SRC_TAR" >>"$LOG" 2>&1 || fail "unpacking $SRC_TAR"
  [ -f "$TREE/Makefile" ] || fail "no $TREE/Makefile after unpacking"

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
  : >"$TREE_DIR/configured"
  kmsg "compiling the whole tree with make -j$JOBS (about 7-10 min on 2 cores)"
else
  kmsg "reusing the configured base tree $TREE_DIR (incremental build); log: $LOG"
fi

restore_pristine || fail "restoring the base sources in $TREE"
if [ -n "$VARIANT" ]; then
  kmsg "applying $(basename "$PATCH")"
  mkdir -p "$PRISTINE"
  while IFS= read -r f; do
    [ -f "$TREE/$f" ] || fail "$(basename "$PATCH") modifies $f, which is not in the tree (patches may only modify existing files)"
    if [ ! -f "$PRISTINE/$f" ]; then
      mkdir -p "$(dirname "$PRISTINE/$f")"
      cp "$TREE/$f" "$PRISTINE/$f.tmp" && mv "$PRISTINE/$f.tmp" "$PRISTINE/$f"
    fi
  done < <(patched_files "$PATCH")
  (cd "$TREE" && patch -p1 --forward --fuzz=0 --no-backup-if-mismatch) <"$PATCH" >>"$LOG" 2>&1 ||
    fail "applying $PATCH (it must apply without fuzz to $SRC_PKG $SRC_VER)"
  kmsg "compiling bzImage with make -j$JOBS"
  (cd "$TREE" && recipe_variant "$JOBS" "$VARIANT") </dev/null >>"$LOG" 2>&1 || fail "make bzImage"
  release=$(cat "$TREE/include/config/kernel.release")
  restore_pristine || fail "restoring the base sources in $TREE"
  case "$release" in *"-$VARIANT") ;; *) fail "kernel release is $release, expected *-$VARIANT" ;; esac
else
  (cd "$TREE" && recipe_compile "$JOBS") </dev/null >>"$LOG" 2>&1 || fail "make bzImage"
  release=$(cat "$TREE/include/config/kernel.release")
fi

BUILT="$TREE/arch/x86/boot/bzImage"
[ -s "$BUILT" ] || fail "no $BUILT"

rm -rf "$OUT_DIR.tmp"
mkdir -p "$OUT_DIR.tmp"
cp "$BUILT" "$OUT_DIR.tmp/bzImage"
cp "$TREE/.config" "$OUT_DIR.tmp/config"
cp "$FRAG" "$OUT_DIR.tmp/frag.config"
if [ -n "$VARIANT" ]; then cp "$PATCH" "$OUT_DIR.tmp/$VARIANT.patch"; fi
printf '%s %s\n' "$SRC_PKG" "$SRC_VER" >"$OUT_DIR.tmp/source-version"
printf '%s\n' "$release" >"$OUT_DIR.tmp/release"
mv "$LOG" "$OUT_DIR.tmp/build.log"
rm -rf "$OUT_DIR"
mv "$OUT_DIR.tmp" "$OUT_DIR"

kmsg "$WHAT $release built in $(($(date +%s) - start)) s: $IMAGE"
printf '%s\n' "$IMAGE"
