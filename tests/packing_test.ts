// pointsPerEvent (packing, opt-in) and prepopulatedDimensions, checked against the official
// serializer: each packed event is one ExportMetricsServiceRequest with one resource, one
// scope, one metric and N points (the shape of opentelemetry-rust-contrib PR #780), sized
// exactly; dimensions follow each point's own attributes (as .NET writes them).
import assert from "node:assert/strict";
import { equals, fromBinary } from "@bufbuild/protobuf";
import { diag, ValueType } from "@opentelemetry/api";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { MeterProvider, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { MemorySink, NativeMetricsExporter, type NativeSink } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { ExportMetricsServiceRequestSchema } from "../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { customSink } from "./custom_sink.ts";
import { captureDiag } from "./diag.ts";
import { test } from "./harness.ts";
import { ManualReader } from "./workload.ts";

/** Many series per metric: a counter, a gauge, a histogram and an exponential histogram. */
async function manySeries(series = 300): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: "exp", aggregation: { type: 4 } }], // EXPONENTIAL_HISTOGRAM
  });
  const meter = provider.getMeter("packing", "1.0.0");
  const counter = meter.createCounter("requests", { valueType: ValueType.INT, unit: "{request}" });
  const gauge = meter.createGauge("temperature");
  const histogram = meter.createHistogram("latency", { unit: "ms" });
  const exp = meter.createHistogram("exp");
  for (let i = 0; i < series; i++) {
    const attributes = { route: `/r/${i}`, method: i % 2 ? "GET" : "POST", shard: i % 7 };
    counter.add(i + 1, attributes);
    gauge.record(i / 3, attributes);
    if (i % 3 === 0) histogram.record(i, attributes);
    if (i % 5 === 0) exp.record(i + 0.5, attributes);
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}

function exportPacked(
  rm: ResourceMetrics,
  options: ConstructorParameters<typeof NativeMetricsExporter>[0],
) {
  const sink = (options?.sink as MemorySink | undefined) ?? new MemorySink();
  const exporter = new NativeMetricsExporter({ ...options, sink });
  let code = -1;
  exporter.export(rm, (r) => (code = r.code));
  return { exporter, events: sink.take(), code };
}

/** Points in the events (each decoded). */
const pointsIn = (events: Uint8Array[]) =>
  events.reduce((n, e) => n + flattenRequest(decodeMetricsPayload(e)).length, 0);

function countPoints(rm: ResourceMetrics): number {
  let n = 0;
  for (const s of rm.scopeMetrics) for (const m of s.metrics) n += m.dataPoints.length;
  return n;
}

/** The official serializer's request for `points` of `metric` (one resource, scope, metric). */
function officialFor(rm: ResourceMetrics, metricIndex: number, points: unknown[]): Uint8Array {
  const sm = rm.scopeMetrics[0]!;
  const metric = sm.metrics[metricIndex]!;
  return ProtobufMetricsSerializer.serializeRequest({
    resource: rm.resource,
    scopeMetrics: [{
      scope: sm.scope,
      metrics: [{ ...metric, dataPoints: points } as typeof metric],
    }],
  })!;
}

test('packing: "max" — every event one request of one metric, N points, equal to the official encoding', async () => {
  const rm = await manySeries();
  const total = countPoints(rm);
  const { exporter, events, code } = exportPacked(rm, { pointsPerEvent: "max" });
  assert.equal(code, 0);
  const s = exporter.stats;
  assert.equal(s.pointsWritten, total);
  assert.equal(s.eventsWritten, events.length);
  assert.ok(events.length < total / 20, `${events.length} events for ${total} points`);
  // Walk the events in order: they hold each metric's points in order, split at the limit.
  let metricIndex = 0, pointIndex = 0;
  const metrics = rm.scopeMetrics[0]!.metrics;
  for (const event of events) {
    assert.ok(event.length <= 4048, `${event.length} bytes`);
    const request = decodeMetricsPayload(event);
    assert.equal(request.resourceMetrics.length, 1);
    assert.equal(request.resourceMetrics[0]!.scopeMetrics.length, 1);
    const ms = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    assert.equal(ms.length, 1, "one metric per event");
    if (ms[0]!.name !== metrics[metricIndex]!.descriptor.name) {
      assert.equal(pointIndex, metrics[metricIndex]!.dataPoints.length, "previous metric complete");
      metricIndex++;
      pointIndex = 0;
    }
    const metric = metrics[metricIndex]!;
    const n = flattenRequest(request).length;
    const slice = metric.dataPoints.slice(pointIndex, pointIndex + n);
    const expected = officialFor(rm, metricIndex, slice);
    assert.ok(
      equals(
        ExportMetricsServiceRequestSchema,
        request,
        fromBinary(ExportMetricsServiceRequestSchema, expected),
      ),
      `event for ${metric.descriptor.name} points ${pointIndex}..${pointIndex + n} differs`,
    );
    assert.deepEqual(event, expected, "byte for byte the official serializer's request");
    // Exact sizing: one more point would have crossed the limit.
    if (pointIndex + n < metric.dataPoints.length) {
      const bigger = officialFor(
        rm,
        metricIndex,
        metric.dataPoints.slice(pointIndex, pointIndex + n + 1),
      );
      assert.ok(
        bigger.length > 4048,
        `one more point fits (${bigger.length} bytes): not packed tightly`,
      );
    }
    pointIndex += n;
  }
  assert.equal(metricIndex, metrics.length - 1);
  assert.equal(pointIndex, metrics.at(-1)!.dataPoints.length);
});

test("packing: a number caps the points per event; 1 is one point per event", async () => {
  const rm = await manySeries(50);
  const total = countPoints(rm);
  const three = exportPacked(rm, { pointsPerEvent: 3 });
  assert.equal(three.exporter.stats.pointsWritten, total);
  for (const e of three.events) assert.ok(flattenRequest(decodeMetricsPayload(e)).length <= 3);
  const one = exportPacked(rm, { pointsPerEvent: 1 });
  assert.equal(one.events.length, total);
  const packed = exportPacked(rm, { pointsPerEvent: 1000 });
  const flat = (events: Uint8Array[]) =>
    events.flatMap((e) => flattenRequest(decodeMetricsPayload(e)));
  assert.deepEqual(flat(packed.events), flat(one.events), "the same points either way");
  for (const bad of [0, -1, 1.5, NaN, "all"]) {
    assert.throws(
      () => new NativeMetricsExporter({ sink: new MemorySink(), pointsPerEvent: bad as number }),
      RangeError,
    );
  }
});

test("packing: a point alone over the limit is dropped and counted, its neighbours written", async () => {
  const rm = await manySeries(40);
  const metric = rm.scopeMetrics[0]!.metrics[0]!;
  const big = { ...metric.dataPoints[5]!, attributes: { huge: "x".repeat(5000) } };
  (metric.dataPoints as unknown[])[5] = big;
  const { exporter, events, code } = exportPacked(rm, { pointsPerEvent: "max" });
  assert.equal(code, 1, "FAILED: a point was dropped");
  const s = exporter.stats;
  assert.equal(s.pointsDropped.oversize, 1);
  assert.equal(s.lastOversize?.metric, metric.descriptor.name);
  assert.ok(s.lastOversize!.size > 5000);
  assert.equal(s.pointsWritten, countPoints(rm) - 1);
  const written = events.flatMap((e) => flattenRequest(decodeMetricsPayload(e)));
  assert.equal(written.filter((p) => "huge" in p.attributes).length, 0);
});

test("packing: a failed write drops the event's points, counted once per write and per point", async () => {
  const rm = await manySeries(100);
  let writes = 0;
  const failing = customSink((memory) => ({
    write: (s, e) => (++writes === 2 ? 28 : memory.write(s, e)),
  }));
  const exporter = new NativeMetricsExporter({ sink: failing, pointsPerEvent: "max" });
  exporter.export(rm, () => {});
  const st = exporter.stats;
  const written = pointsIn(failing.memory.events);
  assert.deepEqual(st.writeErrors, { E28: 1 });
  assert.ok(st.pointsDropped.writeError > 1, "the whole event's points");
  assert.equal(st.pointsWritten, written);
  assert.equal(st.pointsWritten + st.pointsDropped.writeError, countPoints(rm));
});

/** Exports `rm` packed ("max") into `sink`, capturing the diag messages. */
function exportCapturing(sink: NativeSink, rm: ResourceMetrics) {
  const messages = captureDiag();
  try {
    const exporter = new NativeMetricsExporter({ sink, pointsPerEvent: "max" });
    let code = -1;
    exporter.export(rm, (r) => (code = r.code));
    return { code, stats: exporter.stats, messages };
  } finally {
    diag.disable();
  }
}

test("packing: a sink failing an event's write (throws, returns a non-code) drops its points, counted and named", async () => {
  const rm = await manySeries(100);
  const cases: [string, (memory: MemorySink) => NativeSink["write"], RegExp][] = [
    ["write throws", (m) => (s, e) => {
      if (m.events.length === 1) throw new Error("boom");
      return m.write(s, e);
    }, /write\(\) threw: .*boom.*: (\d+) points dropped/],
    [
      "write returns a string",
      (m) => (s, e) => (m.events.length === 1 ? "nope" as never : m.write(s, e)),
      /write\(\) returned string: (\d+) points dropped/,
    ],
  ];
  for (const [what, write, message] of cases) {
    const sink = customSink((memory) => ({ write: write(memory) }));
    const { memory } = sink;
    const { code, stats, messages } = exportCapturing(sink, rm);
    assert.equal(code, 1, what);
    assert.equal(stats.pointsWritten, pointsIn(memory.events), what);
    assert.ok(stats.pointsDropped.sinkError > 1, `${what}: every point of the failed events`);
    assert.equal(stats.pointsWritten + stats.pointsDropped.sinkError, countPoints(rm), what);
    const m = messages.map((x) => message.exec(x)).find((x) => x);
    assert.ok(m, `${what}: ${messages.join("\n")}`);
    assert.ok(Number(m[1]) > 1, `${what}: the message names the event's points`);
  }
});

test("packing: staging memory too small for a point within the limit: said so and counted as sinkError, not as oversize", async () => {
  const rm = await manySeries(20);
  const small = customSink((memory) => ({ staging: memory.staging.subarray(0, 200) }));
  const { code, stats, messages } = exportCapturing(small, rm);
  assert.equal(code, 1);
  assert.equal(stats.pointsDropped.oversize, 0, JSON.stringify(stats.pointsDropped));
  assert.equal(stats.pointsWritten + stats.pointsDropped.sinkError, countPoints(rm));
  assert.ok(stats.pointsDropped.sinkError > 0);
  assert.ok(
    messages.some((x) => /staging memory \(200 bytes, 0 of them headroom\) is too small/.test(x)),
    messages.join("\n"),
  );
  assert.ok(!messages.some((x) => /over the .* limit of/.test(x)), messages.join("\n"));
});

test("prepopulated dimensions: after each point's own attributes; the point's own value wins", async () => {
  const rm = await manySeries(20);
  const dims = {
    "deployment.ring": "canary",
    replica: 3,
    primary: true,
    weight: 0.5,
    route: "never",
  };
  for (const pointsPerEvent of [1, "max"] as const) {
    const { events } = exportPacked(rm, { prepopulatedDimensions: dims, pointsPerEvent });
    const points = events.flatMap((e) =>
      decodeMetricsPayload(e).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!
    );
    assert.ok(points.length > 0);
    for (const event of events) {
      const metric = decodeMetricsPayload(event).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      const dataPoints =
        (metric.data.value as { dataPoints: { attributes: { key: string; value?: unknown }[] }[] })
          .dataPoints;
      for (const p of dataPoints) {
        const keys = p.attributes.map((kv) => kv.key);
        // own attributes (route, method, shard) first, then the dimensions the point lacks
        assert.deepEqual(keys, [
          "route",
          "method",
          "shard",
          "deployment.ring",
          "replica",
          "primary",
          "weight",
        ]);
      }
    }
    const flat = events.flatMap((e) => flattenRequest(decodeMetricsPayload(e)));
    for (const p of flat) {
      assert.equal(p.attributes["deployment.ring"], "canary");
      assert.equal(p.attributes.replica, 3n);
      assert.equal(p.attributes.primary, true);
      assert.equal(p.attributes.weight, 0.5);
      assert.notEqual(p.attributes.route, "never", "the point's own route wins");
    }
  }
});

test("prepopulated dimensions: invalid ones throw at construction, with .NET's limits", () => {
  assert.throws(
    () =>
      new NativeMetricsExporter({
        sink: new MemorySink(),
        prepopulatedDimensions: { _microsoft_metrics_account: "x" },
      }),
    /reserved/,
  );
  assert.throws(
    () =>
      new NativeMetricsExporter({
        sink: new MemorySink(),
        prepopulatedDimensions: { k: "v".repeat(1025) },
      }),
    /1024/,
  );
});
