# shellcheck shell=bash
# Shared by tests/wine/*.sh. Source it; do not execute it.
# Paths and versions of the Wine smoke-test setup (see tests/wine/README.md).

wmsg() { printf '[wine] %s\n' "$*" >&2; }
wdie() { printf '[wine] ERROR: %s\n' "$*" >&2; exit 1; }

WINE_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$WINE_TESTS_DIR/../.." && pwd)

# Version of a devDependency pinned in package.json ("deno": "2.9.6"), else $2.
_pinned_version() {
  local v
  v=$(sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\\([0-9][0-9.]*\\)\".*/\\1/p" \
    "$REPO_ROOT/package.json" 2>/dev/null | head -n1)
  printf '%s\n' "${v:-$2}"
}

WINE_CACHE=${OTEL_NATIVE_WINE_CACHE:-${HOME:-/root}/.cache/otel-native-metrics/wine}
DENO_WIN_VERSION=${DENO_WIN_VERSION:-$(_pinned_version deno 2.9.6)}
BUN_WIN_VERSION=${BUN_WIN_VERSION:-$(_pinned_version bun 1.4.5)}
# When the registry lacks the pinned Windows build, setup.sh falls back to the newest
# published version below it and records that in $WINE_CACHE/<name>-<pinned>.fallback.
# (Seen: @deno/win32-x64 had no 2.9.6 while the Linux build had.) Delete the file to retry.
resolve_exe_dirs() {
  DENO_EXE_VERSION=$DENO_WIN_VERSION
  BUN_EXE_VERSION=$BUN_WIN_VERSION
  [ -s "$WINE_CACHE/deno-$DENO_WIN_VERSION.fallback" ] &&
    DENO_EXE_VERSION=$(cat "$WINE_CACHE/deno-$DENO_WIN_VERSION.fallback")
  [ -s "$WINE_CACHE/bun-$BUN_WIN_VERSION.fallback" ] &&
    BUN_EXE_VERSION=$(cat "$WINE_CACHE/bun-$BUN_WIN_VERSION.fallback")
  DENO_DIR_W="$WINE_CACHE/deno-$DENO_EXE_VERSION"
  BUN_DIR_W="$WINE_CACHE/bun-$BUN_EXE_VERSION"
  DENO_EXE="$DENO_DIR_W/deno.exe"
  BUN_EXE="$BUN_DIR_W/bun.exe"
}
resolve_exe_dirs
SHIM_DLL="$WINE_CACHE/shim/bcryptprimitives.dll"
ETW_STANDIN_BUILD_DIR=${ETW_STANDIN_DIR:-${HOME:-/root}/.cache/otel-native-metrics/etw}

# Builds the advapi32 stand-in if needed (cached by content) and prints the DLL's Unix path.
standin_dll() {
  local dll
  dll=$("$REPO_ROOT/tests/etw/build-standin.sh" "$ETW_STANDIN_BUILD_DIR" | grep '\.dll$') ||
    wdie "the stand-in DLL was not built (is x86_64-w64-mingw32-gcc installed? run setup.sh)"
  printf '%s\n' "$dll"
}

export WINEPREFIX=${WINEPREFIX:-$WINE_CACHE/prefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEARCH=win64
# No Mono/Gecko install dialogs during wineboot.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

WINE_PACKAGES=(wine64 wine gcc-mingw-w64-x86-64-win32)

# The wineserver binary (Debian keeps it outside $PATH).
wineserver_bin() {
  local c
  for c in "$(command -v wineserver 2>/dev/null)" /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver \
    /usr/lib/x86_64-linux-gnu/wine/wineserver; do
    [ -n "$c" ] && [ -x "$c" ] && { printf '%s\n' "$c"; return 0; }
  done
  return 1
}

wine_bin() { command -v wine 2>/dev/null || command -v wine64 2>/dev/null; }

# Unix absolute path -> Windows path on Wine's Z: drive (Z: maps to /).
to_winpath() {
  local p
  p=$(realpath -m -- "$1")
  p=${p//\//\\}
  printf 'Z:%s\n' "$p"
}

# Start a persistent wineserver for $WINEPREFIX (no-op when one is up).
wineserver_start() {
  local ws rc=0
  ws=$(wineserver_bin) || wdie "wineserver not found (run tests/wine/setup.sh)"
  mkdir -p "$WINEPREFIX"
  "$ws" -p || rc=$?
  # rc 2: a server is already running for this prefix.
  [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || wdie "wineserver -p failed (rc $rc)"
}

# Kill the wineserver of $WINEPREFIX and every Wine process in it.
wineserver_stop() {
  local ws
  ws=$(wineserver_bin) || return 0
  "$ws" -k 2>/dev/null || true
  "$ws" -w 2>/dev/null || true
}
