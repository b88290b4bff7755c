#!/usr/bin/env bash
# Prepares the Wine smoke tests (idempotent; a few hundred ms when everything is cached):
#   1. Debian packages wine64 wine gcc-mingw-w64-x86-64-win32 (apt-get, only if missing)
#   2. deno.exe (@deno/win32-x64) and bun.exe (@oven/bun-windows-x64) via `npm pack`,
#      versions from package.json devDependencies (override: DENO_WIN_VERSION, BUN_WIN_VERSION)
#   3. the bcryptprimitives.dll shim (tests/wine/shim/bcryptprimitives.c) next to both .exe
#   4. the advapi32 stand-in DLL (tests/etw/build-standin.sh)
#   5. a WINEPREFIX (wineserver -p, then wineboot --init)
# Everything lives in $OTEL_NATIVE_WINE_CACHE (default ~/.cache/otel-native-metrics/wine),
# the stand-in in ~/.cache/otel-native-metrics/etw. Prints KEY=value lines on stdout.
# Leaves no wineserver running unless one was already up.
set -euo pipefail
# shellcheck source=tests/wine/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_start=$(date +%s%N)
# took LABEL START_NS: report how long a phase that did work took.
took() { wmsg "$1: $(( ($(date +%s%N) - $2) / 1000000 )) ms"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else wdie "need root (or passwordless sudo) to run: $*"; fi
}

# ---- 1. packages
missing=()
for p in "${WINE_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  t=$(date +%s%N)
  wmsg "installing: ${missing[*]}"
  # DPkg::Lock::Timeout: wait for a concurrent apt-get/dpkg instead of failing.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900 update >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=900 \
    --no-install-recommends "${missing[@]}" </dev/null >&2
  took "apt-get update + install" "$t"
fi
wine_bin >/dev/null || wdie "wine not on PATH after install"
wineserver_bin >/dev/null || wdie "wineserver not found after install"

mkdir -p "$WINE_CACHE"

# ---- 2. the Windows runtimes
# fetch_exe NAME PACKAGE PINNED_VERSION PATH_IN_TARBALL EXE_NAME
# Fetches into $WINE_CACHE/NAME-<version>/EXE_NAME unless already there. If PINNED_VERSION
# is not published, takes the newest published version below it (same major) and records it.
fetch_exe() {
  local name=$1 pkg=$2 pinned=$3 inner=$4 exe=$5 ver=$3
  [ -s "$WINE_CACHE/$name-$pinned.fallback" ] && ver=$(cat "$WINE_CACHE/$name-$pinned.fallback")
  [ -s "$WINE_CACHE/$name-$ver/$exe" ] && return 0
  command -v npm >/dev/null || wdie "npm is needed to fetch $pkg"
  local tmp log t
  t=$(date +%s%N)
  tmp=$(mktemp -d "$WINE_CACHE/.pack.XXXXXX")
  log="$tmp/npm.log"
  wmsg "npm pack $pkg@$ver"
  if ! (cd "$tmp" && npm pack "$pkg@$ver" >"$log" 2>&1); then
    grep -q ETARGET "$log" || { cat "$log" >&2; rm -rf "$tmp"; wdie "npm pack $pkg@$ver failed"; }
    ver=$(cd "$tmp" && npm view "$pkg" versions --json 2>/dev/null | tr -d '[]", ' |
      grep -E "^${pinned%%.*}\.[0-9]+\.[0-9]+$" | { cat; echo "$pinned"; } | sort -V |
      sed -n "/^${pinned//./\.}\$/q;p" | tail -n1)
    [ -n "$ver" ] || { rm -rf "$tmp"; wdie "$pkg@$pinned is not published and no older ${pinned%%.*}.x release is"; }
    wmsg "WARNING: $pkg@$pinned is not in the registry; using $pkg@$ver (newest below it)"
    (cd "$tmp" && npm pack "$pkg@$ver" >"$log" 2>&1) || { cat "$log" >&2; rm -rf "$tmp"; wdie "npm pack $pkg@$ver failed"; }
    printf '%s\n' "$ver" >"$WINE_CACHE/$name-$pinned.fallback"
  fi
  local tgz dir="$WINE_CACHE/$name-$ver"
  tgz=$(ls "$tmp"/*.tgz) || wdie "npm pack $pkg@$ver produced no tarball"
  tar -xzf "$tgz" -C "$tmp" "$inner"
  mkdir -p "$dir"
  mv -f "$tmp/$inner" "$dir/$exe.tmp" && mv -f "$dir/$exe.tmp" "$dir/$exe"
  rm -rf "$tmp"
  took "fetched $dir/$exe" "$t"
}
fetch_exe deno @deno/win32-x64 "$DENO_WIN_VERSION" package/deno.exe deno.exe &
pid_deno=$!
fetch_exe bun @oven/bun-windows-x64 "$BUN_WIN_VERSION" package/bin/bun.exe bun.exe &
pid_bun=$!

# ---- 3. the bcryptprimitives shim (while npm downloads)
shim_src="$WINE_TESTS_DIR/shim/bcryptprimitives.c"
if [ ! -s "$SHIM_DLL" ] || [ "$shim_src" -nt "$SHIM_DLL" ]; then
  mkdir -p "$(dirname "$SHIM_DLL")"
  x86_64-w64-mingw32-gcc -O2 -s -shared -nostdlib -ffreestanding -Wall -Wextra -Werror \
    -o "$SHIM_DLL.tmp" "$shim_src" -lkernel32 -ladvapi32 -Wl,-e,DllMain
  mv -f "$SHIM_DLL.tmp" "$SHIM_DLL"
  wmsg "built $SHIM_DLL"
fi

# ---- 4. the stand-in DLL (and .so)
STANDIN_DLL=$(standin_dll)

wait "$pid_deno" || wdie "fetching deno.exe failed"
wait "$pid_bun" || wdie "fetching bun.exe failed"
resolve_exe_dirs
for d in "$DENO_DIR_W" "$BUN_DIR_W"; do
  cmp -s "$SHIM_DLL" "$d/bcryptprimitives.dll" || cp -f "$SHIM_DLL" "$d/bcryptprimitives.dll"
done

# ---- 5. the prefix
if [ ! -s "$WINEPREFIX/system.reg" ]; then
  t=$(date +%s%N)
  wmsg "creating WINEPREFIX $WINEPREFIX"
  ws=$(wineserver_bin)
  mkdir -p "$WINEPREFIX"   # wineserver chdirs into it
  started=0
  rc=0
  "$ws" -p || rc=$?               # persistent server first, then wineboot
  [ "$rc" -eq 0 ] && started=1
  wine wineboot --init >/dev/null 2>&1 || wdie "wineboot --init failed"
  took "wineboot --init" "$t"
  # Sanity check of the shim: both runtimes must start (exit 53 = a missing DLL/import).
  wine "$(to_winpath "$DENO_EXE")" --version >/dev/null 2>&1 || wdie "deno.exe --version failed under Wine"
  wine "$(to_winpath "$BUN_EXE")" --version >/dev/null 2>&1 || wdie "bun.exe --version failed under Wine"
  [ "$started" -eq 1 ] && wineserver_stop
  took "prefix + runtime sanity check" "$t"
fi

took "setup.sh total" "$t_start"
printf 'DENO_EXE_VERSION=%s\nBUN_EXE_VERSION=%s\n' "$DENO_EXE_VERSION" "$BUN_EXE_VERSION"
printf 'WINEPREFIX=%s\nDENO_EXE=%s\nBUN_EXE=%s\nSHIM_DLL=%s\nSTANDIN_DLL=%s\n' \
  "$WINEPREFIX" "$DENO_EXE" "$BUN_EXE" "$SHIM_DLL" "$STANDIN_DLL"
