/**
 * Checks a tracefs `trace` text dump taken while examples/basic.ts ran: every
 * `otlp_metrics` line's `buffer=` bytes decode as OTLP with the example's metric names, values
 * and attributes. Usage: bun tests/kernel/check_trace.ts <trace.txt>
 */
import { readFileSync } from "node:fs";
import { decodeMetricsPayload, flattenRequest } from "../../src/decode.ts";
import { parseTraceText, TraceTextError, type TraceTextEvent } from "../../src/trace_text/mod.ts";

const path = (globalThis as unknown as { process: { argv: string[] } }).process.argv[2]!;
const items = [...parseTraceText(readFileSync(path, "utf8"))];
const broken = items.filter((i) => i instanceof TraceTextError);
if (broken.length) throw new Error(`unreadable trace lines: ${broken.map((e) => e.message)}`);
const lines = items as TraceTextEvent[];
const points = lines.map((event) => {
  if (event.protocol !== 0 || event.version !== "v0.19.00") {
    throw new Error(`unexpected fields: protocol=${event.protocol} version=${event.version}`);
  }
  const flat = flattenRequest(decodeMetricsPayload(event.payload));
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
