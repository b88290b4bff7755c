/**
 * The Rust crate's `basic` example, in TypeScript: counters, up-down counters, histograms, a
 * gauge and observable instruments, with attributes, exported into user_events.
 *
 *   deno run --allow-ffi --allow-env examples/basic.ts [seconds]
 *   bun examples/basic.ts [seconds]
 *
 * Watch the events (as root), see README "Seeing the events":
 *   echo 1 > /sys/kernel/tracing/events/user_events/otlp_metrics/enable
 *   cat /sys/kernel/tracing/trace_pipe
 */
import { ValueType } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { NativeMetricsExporter } from "../mod.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const seconds = Number(args[0] ?? 3);

const exporter = new NativeMetricsExporter(); // user_events on Linux; throws a clear error otherwise
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1000 });
const provider = new MeterProvider({
  resource: resourceFromAttributes({ "service.name": "metric-demo" }),
  readers: [reader],
  views: [{
    instrumentName: "exponential_histogram_f64_test",
    aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
  }],
});
const meter = provider.getMeter("user-event-test");
const attributes = { mykey1: "myvalue1", mykey2: "myvalue2" };
const attributes2 = { mykey3: "myvalue3", mykey4: "myvalue4" };

const counterF64 = meter.createCounter("counter_f64_test", {
  description: "test_description",
  unit: "test_unit",
});
const counterU64 = meter.createCounter("counter_u64_test", { valueType: ValueType.INT });
const upDownF64 = meter.createUpDownCounter("up_down_counter_f64_test");
const upDownI64 = meter.createUpDownCounter("up_down_counter_i64_test", {
  valueType: ValueType.INT,
});
const histogramF64 = meter.createHistogram("histogram_f64_test");
const histogramU64 = meter.createHistogram("histogram_u64_test", { valueType: ValueType.INT });
const expHistogram = meter.createHistogram("exponential_histogram_f64_test");
const gauge = meter.createGauge("gauge_f64_test");
meter.createObservableCounter("observable_counter_u64_test", { valueType: ValueType.INT })
  .addCallback((r) => r.observe(100, attributes));
meter.createObservableUpDownCounter("observable_up_down_counter_f64_test")
  .addCallback((r) => r.observe(-12.5, attributes2));
meter.createObservableGauge("observable_gauge_f64_test")
  .addCallback((r) => r.observe(Math.random() * 100, attributes));

const deadline = Date.now() + seconds * 1000;
while (Date.now() < deadline) {
  counterF64.add(1.5, attributes);
  counterU64.add(1, attributes);
  upDownF64.add(-1.5, attributes);
  upDownI64.add(-1, attributes2);
  histogramF64.record(1.5, attributes);
  histogramU64.record(4, attributes2);
  expHistogram.record(Math.random() * 1000, attributes);
  gauge.record(21.5, attributes2);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await provider.shutdown(); // exports the last interval, then unregisters
console.log(JSON.stringify(exporter.stats));
