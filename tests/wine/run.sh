#!/usr/bin/env bash
# Runs a script under the Windows build of Deno or Bun in Wine.
#   tests/wine/run.sh <bun|deno> <script.ts> [args...]   exit code = the script's
#   tests/wine/run.sh --start                            start the persistent wineserver
#   tests/wine/run.sh --stop                             kill wineserver + all Wine processes
# Runs setup.sh first when the runtimes or the prefix are missing. Starts a persistent
# wineserver (wineserver -p) if none is up and leaves it running, so later runs start in
# ~0.2 s; stop it at the end of a suite (--stop, or WINE_STOP_SERVER=1 for this run).
# The working directory is the repo root (Z:\...), so Deno and Bun resolve the repo's
# package.json + node_modules. Deno runs `run -A --no-lock` (no deno.lock is written).
# Exported to the script: ETW_STANDIN_DLL (Windows path of the stand-in DLL, built here if
# needed). WINEDEBUG defaults to -all (set it to see Wine logs).
# Extra runtime flags: DENO_FLAGS / BUN_FLAGS (word-split).
set -euo pipefail
# shellcheck source=tests/wine/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,4p' "${BASH_SOURCE[0]}" >&2; exit 64; }
[ $# -ge 1 ] || usage
case "$1" in
  --stop) wineserver_stop; exit 0 ;;
  --start) wineserver_start; exit 0 ;;
  bun | deno) ;;
  *) usage ;;
esac
[ $# -ge 2 ] || usage
rt=$1 script=$2
shift 2
[ -e "$script" ] || wdie "no such script: $script"
script_win=$(to_winpath "$script")

if [ ! -s "$DENO_EXE" ] || [ ! -s "$BUN_EXE" ] || [ ! -s "$WINEPREFIX/system.reg" ] ||
  ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  "$WINE_TESTS_DIR/setup.sh" >&2
  resolve_exe_dirs
fi
STANDIN_DLL=$(standin_dll)

wineserver_start
export ETW_STANDIN_DLL
ETW_STANDIN_DLL=$(to_winpath "$STANDIN_DLL")

cd "$REPO_ROOT"
rc=0
# Test files (*_test.ts) run under the runtime's test runner, as on Linux.
# shellcheck disable=SC2086
case "$rt:$script" in
  deno:*_test.ts) wine "$(to_winpath "$DENO_EXE")" test -A --no-lock ${DENO_FLAGS:-} "$script_win" "$@" || rc=$? ;;
  bun:*_test.ts) wine "$(to_winpath "$BUN_EXE")" test ${BUN_FLAGS:-} "$script_win" "$@" || rc=$? ;;
  deno:*) wine "$(to_winpath "$DENO_EXE")" run -A --no-lock ${DENO_FLAGS:-} "$script_win" "$@" || rc=$? ;;
  bun:*) wine "$(to_winpath "$BUN_EXE")" ${BUN_FLAGS:-} "$script_win" "$@" || rc=$? ;;
esac
if [ "$rc" -eq 53 ]; then
  wmsg "exit 53: Wine could not load the .exe or one of its DLLs (missing bcryptprimitives shim?)." \
    "Rerun with WINEDEBUG=err+module to see which."
fi
[ "${WINE_STOP_SERVER:-0}" = 1 ] && wineserver_stop
exit "$rc"
