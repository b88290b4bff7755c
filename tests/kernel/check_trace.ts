/**
 * Checks a tracefs `trace` text dump taken while examples/basic.ts ran: every
 * `otlp_metrics` line's `buffer=` bytes decode as OTLP with the example's metric names, values
 * and attributes. Usage: bun tests/kernel/check_trace.ts <trace.txt>
 */
import { readFileSync } from "node:fs";
import { decodeMetricsPayload, flattenRequest } from "../../src/decode.ts";

const path = (globalThis as unknown as { process: { argv: string[] } }).process.argv[2]!;
const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.includes("otlp_metrics:"));
const points = lines.map((line) => {
  const m = /protocol=0x0 \(0\) version=v0\.19\.00 buffer=([0-9a-f,]+)/.exec(line);
  if (!m) throw new Error(`unexpected trace line: ${line.slice(0, 200)}`);
  const bytes = new Uint8Array(m[1]!.split(",").map((h) => parseInt(h, 16)));
  const flat = flattenRequest(decodeMetricsPayload(bytes));
  if (flat.length !== 1) throw new Error(`an event holds ${flat.length} points`);
  return flat[0]!;
});
const names = new Set(points.map((p) => p.metric.name));
const expected = [
  "counter_f64_test",
  "counter_u64_test",
  "up_down_counter_f64_test",
  "up_down_counter_i64_test",
  "histogram_f64_test",
  "histogram_u64_test",
  "exponential_histogram_f64_test",
  "gauge_f64_test",
  "observable_counter_u64_test",
  "observable_up_down_counter_f64_test",
  "observable_gauge_f64_test",
];
const missing = expected.filter((n) => !names.has(n));
if (missing.length) throw new Error(`metrics missing from the trace: ${missing.join(", ")}`);
const check = (cond: boolean, what: string) => {
  if (!cond) throw new Error(`trace check failed: ${what}`);
};
for (const p of points) {
  check(p.resource["service.name"] === "metric-demo", `resource of ${p.metric.name}`);
  check(p.scope.name === "user-event-test", `scope of ${p.metric.name}`);
  const a = p.attributes;
  check(
    (a.mykey1 === "myvalue1" && a.mykey2 === "myvalue2") ||
      (a.mykey3 === "myvalue3" && a.mykey4 === "myvalue4"),
    `attributes of ${p.metric.name}: ${JSON.stringify(a)}`,
  );
}
const sum = (name: string) =>
  points.filter((p) => p.metric.name === name).reduce((s, p) => s + Number(p.value), 0);
const calls = sum("counter_u64_test");
check(calls >= 1 && Number.isInteger(calls), `counter_u64_test total ${calls}`);
check(
  sum("counter_f64_test") === 1.5 * calls,
  "counter_f64_test = 1.5 × calls (delta sums add up)",
);
check(sum("up_down_counter_i64_test") === -calls, "up_down_counter_i64_test = -calls");
check(
  points.find((p) => p.metric.name === "counter_f64_test")!.metric.unit === "test_unit",
  "unit",
);
check(
  sum("observable_counter_u64_test") === 100,
  "observable counter: it observes 100 every time, so its deltas add up to 100",
);
const hist = points.filter((p) => p.metric.name === "histogram_u64_test");
check(
  hist.every((p) =>
    (p.value as { sum: number; count: bigint }).sum ===
      4 * Number((p.value as { count: bigint }).count)
  ),
  "histogram sums",
);
console.log(
  `trace check: ${lines.length} events, ${names.size} metrics, ${calls} loop iterations: OK`,
);
