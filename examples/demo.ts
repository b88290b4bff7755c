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
import {
  MemorySink,
  NativeMetricsExporter,
  type NativeSink,
  NativeSinkError,
  runtime,
  UserEventsSink,
} from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";

console.log(`otel-native-metrics demo on ${runtime}`);
let sink: NativeSink;
try {
  sink = new UserEventsSink();
  console.log(
    `user_events: registered "otlp_metrics" (write index ${
      (sink as UserEventsSink).writeIndex
    }) in ${(sink as UserEventsSink).tracefs}`,
  );
  console.log(
    sink.isEnabled()
      ? "A listener is attached: events will be written."
      : "Nobody listens to user_events:otlp_metrics right now, so nothing will be encoded or written.\n" +
        "Attach one (as root): echo 1 > /sys/kernel/tracing/events/user_events/otlp_metrics/enable",
  );
} catch (error) {
  if (!(error instanceof NativeSinkError)) throw error;
  console.log(`user_events is not usable here: ${error.message}`);
  console.log("Showing the same events through a MemorySink instead.\n");
  sink = new MemorySink();
}

const exporter = new NativeMetricsExporter({ sink });
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
console.log(
  `${sink.kind}: ${s.eventsWritten} event(s) written, ${s.pointsSkippedNoListener} point(s) skipped ` +
    `(nobody listening), ${s.pointsDropped.oversize + s.pointsDropped.writeError} dropped.`,
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
