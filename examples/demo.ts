/**
 * The quick-start demo: records a few metrics, exports them into user_events when this kernel
 * has it, and otherwise says so plainly and shows the same events through a MemorySink,
 * decoded back into OTLP.
 *
 *   npm run demo                                   (Deno)
 *   deno run --allow-ffi --allow-env examples/demo.ts
 *   bun examples/demo.ts
 */
import { ValueType } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { MemorySink, NativeMetricsExporter, runtime, type UserEventsSink } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";

console.log(`otel-native-metrics demo on ${runtime}`);
// The default sink: user_events on Linux, ETW on Windows. Where the facility is missing the
// exporter still starts: it warns once, says why in `status`, and counts what it could not write.
let exporter = new NativeMetricsExporter();
const status = exporter.status;
if (status.state === "ready") {
  const sink = exporter.sink as UserEventsSink;
  console.log(`${sink.kind}: registered "otlp_metrics" (write index ${sink.writeIndex})`);
  console.log(
    sink.isEnabled()
      ? "A listener is attached: events will be written."
      : "Nobody listens to user_events:otlp_metrics right now, so nothing will be encoded or written.\n" +
        "Attach one (as root): otel-native-metrics listen, or\n" +
        "  echo 1 > /sys/kernel/tracing/events/user_events/otlp_metrics/enable",
  );
} else if (status.state === "unavailable") {
  console.log(`Not available here (${status.reason}): ${status.fix}.`);
  console.log("Showing the same events through a MemorySink instead.\n");
  await exporter.shutdown();
  exporter = new NativeMetricsExporter({ sink: new MemorySink() });
}
const sink = exporter.sink!;

const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const provider = new MeterProvider({
  resource: resourceFromAttributes({ "service.name": "demo", "demo.runtime": runtime }),
  readers: [reader],
});
const meter = provider.getMeter("demo", "1.0.0");
meter.createCounter("http.requests", { unit: "{request}" }).add(3, {
  route: "/checkout",
  ok: true,
});
meter.createUpDownCounter("queue.items", { valueType: ValueType.INT }).add(-2, { queue: "mail" });
const latency = meter.createHistogram("http.duration", { unit: "ms" });
for (const ms of [4, 12, 30, 250]) latency.record(ms, { route: "/checkout" });
meter.createGauge("temperature", { unit: "Cel" }).record(21.5, { room: "lab" });
await provider.shutdown();

const s = exporter.stats;
const dropped = Object.values(s.pointsDropped).reduce((a, b) => a + b, 0);
console.log(
  `${sink.kind}: ${s.eventsWritten} event(s) written, ${s.pointsSkippedNoListener} point(s) skipped ` +
    `(nobody listening), ${dropped} dropped.`,
);
if (sink instanceof MemorySink) {
  for (const event of sink.events) {
    const p = flattenRequest(decodeMetricsPayload(event))[0]!;
    const value = typeof p.value === "object"
      ? JSON.stringify(p.value, (_k, v) => typeof v === "bigint" ? Number(v) : v)
      : String(p.value);
    console.log(
      `  ${event.length} B  ${p.metric.kind.padEnd(9)} ${p.metric.name.padEnd(14)} ` +
        `${JSON.stringify(p.attributes)} = ${value}`,
    );
  }
}
