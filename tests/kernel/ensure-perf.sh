#!/usr/bin/env bash
# Installs Debian's perf (package linux-perf) on the host, for the CLI kernel test
# (cli_kernel_test.ts: `perf record -e user_events:otlp_metrics` → `decode perf.data`). The
# guest sees the host's / read-only, so a host-installed perf runs inside the VM, where apt
# cannot. Idempotent: returns at once when linux-perf is installed. Call before run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/kernel/lib.sh
. "$HERE/lib.sh"
ensure_packages linux-perf
command -v perf >/dev/null || kdie "linux-perf installed but perf is not on PATH"
kmsg "perf: $(perf --version)"
