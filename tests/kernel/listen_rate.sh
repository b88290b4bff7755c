#!/bin/bash
# Measures, inside the test VM, the sustained events/s `listen` decodes without loss: a steady
# writer (fixtures/rate_producer.ts) at increasing rates for 10 s each, `listen` printing JSON
# to /dev/null; a rate passes when listen decoded every event the exporter wrote and reported no
# ring-buffer loss. Not part of the suite (a measurement, not a test).
#   tests/kernel/run-vm.sh bash tests/kernel/listen_rate.sh [runtime] [rates...]
set -uo pipefail
cd "$GUEST_REPO" 2>/dev/null || cd "$(dirname "$0")/../.."
rt=${1:-bun}; shift || true
rates=("${@:-1000 2000 5000 10000 20000}")
read -r -a rates <<<"${rates[*]}"
for rate in "${rates[@]}"; do
  if [ "$rt" = deno ]; then
    listen=(deno run -A --no-lock cli.ts listen); prod=(deno run -A --no-lock tests/kernel/fixtures/rate_producer.ts)
  else
    listen=(bun cli.ts listen); prod=(bun tests/kernel/fixtures/rate_producer.ts)
  fi
  "${listen[@]}" >/dev/null 2>/run/rate-listen.err &
  pid=$!
  for _ in $(seq 600); do grep -q "listening to" /run/rate-listen.err && break; sleep 0.1; done
  stats=$("${prod[@]}" "$rate" 10 | tail -1)
  sleep 2
  kill -INT $pid; wait $pid
  summary=$(grep "listen: .* events" /run/rate-listen.err | tail -1)
  echo "rate $rate/s ($rt): producer $stats"
  echo "  $summary"
  grep "overrun" /run/rate-listen.err | head -3
done
