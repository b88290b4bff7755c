#!/usr/bin/env bash
# Builds the recording advapi32 stand-in (standin/advapi32_standin.c beside this script):
#   <out>/<key>/advapi32_standin.so   with gcc (always)
#   <out>/<key>/advapi32_standin.dll  with x86_64-w64-mingw32-gcc (when installed)
# Usage: build-standin.sh [OUT_DIR]
#   OUT_DIR defaults to $ETW_STANDIN_DIR, else $HOME/.cache/otel-native-metrics/etw.
# <key> is a hash of the source and this script, so checkouts with different sources sharing
# the cache never load each other's build. Prints the absolute path of each library on stdout
# (one per line); messages go to stderr.
# Env: CC (default gcc), MINGW_CC (default x86_64-w64-mingw32-gcc), FORCE=1 to rebuild.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/standin/advapi32_standin.c"
root=${1:-${ETW_STANDIN_DIR:-${HOME:-/root}/.cache/otel-native-metrics/etw}}
key=$(cat "$src" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
out="$root/$key"
mkdir -p "$out"
out=$(cd "$out" && pwd)

msg() { printf '[etw-standin] %s\n' "$*" >&2; }
missing() { [ "${FORCE:-0}" = 1 ] || [ ! -s "$1" ]; }

cflags=(-std=c11 -O2 -Wall -Wextra -Werror)

cc=${CC:-gcc}
so="$out/advapi32_standin.so"
if missing "$so"; then
  command -v "$cc" >/dev/null || { msg "no $cc: cannot build $so"; exit 1; }
  "$cc" "${cflags[@]}" -shared -fPIC -fvisibility=hidden -o "$so.tmp.$$" "$src"
  mv -f "$so.tmp.$$" "$so"
  msg "built $so"
fi
printf '%s\n' "$so"

mingw=${MINGW_CC:-x86_64-w64-mingw32-gcc}
dll="$out/advapi32_standin.dll"
if command -v "$mingw" >/dev/null 2>&1; then
  if missing "$dll"; then
    # -static-libgcc: no libgcc_s DLL to ship; the DLL then needs only kernel32 + msvcrt.
    "$mingw" "${cflags[@]}" -shared -static-libgcc -s -o "$dll.tmp.$$" "$src"
    mv -f "$dll.tmp.$$" "$dll"
    msg "built $dll"
  fi
  printf '%s\n' "$dll"
else
  msg "no $mingw: skipping the Windows DLL (the Wine tier's setup.sh installs it)"
fi
