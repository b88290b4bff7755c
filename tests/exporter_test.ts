import assert from "node:assert/strict";
import { diag, DiagLogLevel } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InstrumentType,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { MemorySink, NativeMetricsExporter, type NativeSink } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { RateLimitedLog } from "../src/diagnostics.ts";
import { test } from "./harness.ts";
import { collectWorkload, recordWorkload, WORKLOAD_POINTS, workloadProvider } from "./workload.ts";

function run(exporter: NativeMetricsExporter, rm: ResourceMetrics) {
  let calls = 0, code = -1;
  exporter.export(rm, (r) => {
    calls++;
    code = r.code;
  });
  assert.equal(calls, 1, "the callback runs exactly once");
  return code;
}

function accounted(e: NativeMetricsExporter): number {
  const s = e.stats, d = s.pointsDropped;
  return s.eventsWritten + s.pointsSkippedNoListener + d.oversize + d.writeError + d.encodeError +
    d.afterShutdown;
}

test("with PeriodicExportingMetricReader: forceFlush exports, shutdown unregisters, delta by default", async () => {
  const sink = new MemorySink();
  const exporter = new NativeMetricsExporter({ sink });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = workloadProvider(reader);
  const expected = recordWorkload(provider);
  await reader.forceFlush();
  assert.equal(sink.events.length, expected);
  for (const e of sink.take()) {
    const p = flattenRequest(decodeMetricsPayload(e))[0]!;
    if (p.temporality !== undefined) assert.equal(p.temporality, 1, `${p.metric.name} is delta`);
  }
  await provider.shutdown(); // exports once more (the observable instruments report again)
  assert.equal(sink.isEnabled(), false, "shutdown reached the sink");
  assert.equal(exporter.stats.eventsWritten, expected + sink.events.length);
});

test("export after shutdown fails cleanly and counts the points", async () => {
  const exporter = new NativeMetricsExporter({ sink: new MemorySink() });
  await exporter.shutdown();
  await exporter.shutdown(); // idempotent
  const rm = await collectWorkload();
  assert.equal(run(exporter, rm), 1);
  assert.equal(exporter.stats.pointsDropped.afterShutdown, WORKLOAD_POINTS);
  await exporter.forceFlush();
});

test("nobody listening: nothing is encoded, points are counted as skipped", async () => {
  const sink = new MemorySink({ enabled: false });
  const exporter = new NativeMetricsExporter({ sink });
  const rm = await collectWorkload();
  assert.equal(run(exporter, rm), 0);
  assert.equal(sink.events.length, 0);
  assert.ok(sink.staging.every((b) => b === 0), "the staging memory was never written");
  assert.equal(exporter.stats.pointsSkippedNoListener, WORKLOAD_POINTS);
  assert.equal(exporter.isEnabled(), false);
});

test("a listener detaching mid-export: the rest is skipped, every point accounted for", async () => {
  class Detaching extends MemorySink {
    override write(start: number, end: number): number {
      const rc = super.write(start, end);
      if (this.events.length === 5) this.enabled = false;
      return rc;
    }
  }
  const sink = new Detaching();
  const exporter = new NativeMetricsExporter({ sink });
  run(exporter, await collectWorkload());
  assert.equal(exporter.stats.eventsWritten, 5);
  assert.equal(exporter.stats.pointsSkippedNoListener, 9);
  sink.enabled = true;
  run(exporter, await collectWorkload());
  assert.equal(exporter.stats.eventsWritten, 19, "healthy again once a listener is back");
  assert.equal(accounted(exporter), 28);
});

test("write errors: counted by name, export FAILED, later points still written", async () => {
  let n = 0;
  const memory = new MemorySink();
  const failing: NativeSink = {
    kind: "test",
    maxPayloadSize: 4048,
    headroom: 0,
    staging: memory.staging,
    isEnabled: () => true,
    write: (s, e) => (++n % 2 === 0 ? 28 : -1 * 0 + memory.write(s, e)),
    describeError: (c) => `E${c}`,
    shutdown: () => {},
  };
  const exporter = new NativeMetricsExporter({ sink: failing });
  assert.equal(run(exporter, await collectWorkload()), 1);
  assert.equal(exporter.stats.pointsDropped.writeError, 7);
  assert.deepEqual(exporter.stats.writeErrors, { E28: 7 });
  assert.equal(exporter.stats.eventsWritten, 7);
  assert.equal(accounted(exporter), WORKLOAD_POINTS);
});

test("never throws into the host: malformed data is counted as an encode error", () => {
  const exporter = new NativeMetricsExporter({ sink: new MemorySink() });
  const bad = {
    resource: { attributes: {} },
    scopeMetrics: [{
      scope: { name: "s" },
      metrics: [{
        descriptor: { name: "m", description: "", unit: "", valueType: 1 },
        dataPointType: 3,
        aggregationTemporality: 0,
        dataPoints: [{ value: 1, attributes: {} }, {
          value: 2,
          attributes: {},
          startTime: [1, 0],
          endTime: [2, 0],
        }],
      }],
    }],
  } as unknown as ResourceMetrics;
  assert.equal(run(exporter, bad), 1);
  assert.equal(exporter.stats.pointsDropped.encodeError, 1);
  assert.equal(exporter.stats.eventsWritten, 1);
  assert.equal(run(exporter, null as unknown as ResourceMetrics), 1, "even a null batch");
});

test("temporality preferences", () => {
  const all = Object.values(InstrumentType);
  const pick = (t?: "delta" | "cumulative" | "lowmemory") =>
    all.map((i) =>
      new NativeMetricsExporter({
        sink: new MemorySink(),
        ...(t ? { temporalityPreference: t } : {}),
      })
        .selectAggregationTemporality(i)
    );
  assert.ok(pick().every((t) => t === AggregationTemporality.DELTA));
  assert.ok(pick("delta").every((t) => t === AggregationTemporality.DELTA));
  assert.ok(pick("cumulative").every((t) => t === AggregationTemporality.CUMULATIVE));
  const low = pick("lowmemory");
  all.forEach((i, k) =>
    assert.equal(
      low[k],
      i === InstrumentType.COUNTER || i === InstrumentType.HISTOGRAM
        ? AggregationTemporality.DELTA
        : AggregationTemporality.CUMULATIVE,
    )
  );
  const custom = new NativeMetricsExporter({
    sink: new MemorySink(),
    temporalityPreference: () => AggregationTemporality.CUMULATIVE,
  });
  assert.equal(
    custom.selectAggregationTemporality(InstrumentType.COUNTER),
    AggregationTemporality.CUMULATIVE,
  );
});

test("diagnostics are rate-limited and report suppressed counts", () => {
  const lines: string[] = [];
  const sinkLogger = {
    error: (m: string) => lines.push(m),
    warn: (m: string) => lines.push(m),
    info: (m: string) => lines.push(m),
    debug: (m: string) => lines.push(m),
    verbose: (m: string) => lines.push(m),
  };
  diag.setLogger(sinkLogger, DiagLogLevel.ALL);
  try {
    let now = 0;
    const log = new RateLimitedLog(1000, () => now);
    for (let i = 0; i < 50; i++) log.log("warn", "a", () => "A");
    log.log("warn", "b", () => "B");
    now = 1500;
    log.log("warn", "a", () => "A again");
    assert.deepEqual(lines.filter((l) => l.startsWith("otel-native-metrics")), [
      "otel-native-metrics: A",
      "otel-native-metrics: B",
      "otel-native-metrics: A again (49 similar message(s) suppressed)",
    ]);
  } finally {
    diag.disable();
  }
});

test("a long nobody-listens period logs once", async () => {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  diag.setLogger(
    { error: push, warn: push, info: push, debug: push, verbose: push },
    DiagLogLevel.ALL,
  );
  try {
    const exporter = new NativeMetricsExporter({ sink: new MemorySink({ enabled: false }) });
    const rm = await collectWorkload();
    for (let i = 0; i < 100; i++) run(exporter, rm);
    assert.equal(lines.filter((l) => l.includes("otel-native-metrics")).length, 1);
    assert.equal(exporter.stats.pointsSkippedNoListener, 100 * WORKLOAD_POINTS);
  } finally {
    diag.disable();
  }
});

test("attribute caching: steady objects, fresh literals, and the switch between them give identical bytes", async () => {
  // The encoder caches attribute sets by point position and stops caching while the SDK hands
  // new objects each cycle; every mode must produce what an encoder with an empty cache does.
  const { ManualReader } = await import("./workload.ts");
  const { MeterProvider } = await import("@opentelemetry/sdk-metrics");
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  const counter = provider.getMeter("m").createCounter("c");
  const histogram = provider.getMeter("m").createHistogram("h");
  const steady = Array.from(
    { length: 150 },
    (_, i) => ({ series: i, even: i % 2 === 0, name: `s${i}` }),
  );
  const cached = new MemorySink({ capacity: 1000 });
  const exporter = new NativeMetricsExporter({ sink: cached });
  for (let cycle = 0; cycle < 40; cycle++) {
    const fresh = cycle % 20 >= 8 && cycle % 20 < 16; // steady → fresh → steady again
    for (let i = 0; i < 150; i++) {
      const attrs = fresh ? { series: i, even: i % 2 === 0, name: `s${i}`, cycle } : steady[i]!;
      counter.add(i + cycle, attrs);
      if (i % 3 === 0) histogram.record(i * 1.5, attrs);
    }
    const { resourceMetrics } = await reader.collect();
    exporter.export(resourceMetrics, (r) => assert.equal(r.code, 0));
    const reference = new MemorySink({ capacity: 1000 });
    new NativeMetricsExporter({ sink: reference }).export(resourceMetrics, () => {});
    assert.equal(cached.events.length, 200);
    assert.deepEqual(
      cached.take(),
      reference.events,
      `cycle ${cycle} (${fresh ? "fresh" : "steady"})`,
    );
  }
  await provider.shutdown();
});
