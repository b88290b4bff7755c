/// <reference types="./bun_test.d.ts" />
// deno-lint-ignore-file no-explicit-any -- decoded protobuf shapes are checked field by field
import assert from "node:assert/strict";
import { equals, fromBinary } from "@bufbuild/protobuf";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import {
  ExportMetricsServiceRequestSchema,
} from "../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { MemorySink, NativeMetricsExporter } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { type MetricShape, resourceMetrics } from "./builders.ts";
import { test } from "./harness.ts";
import { collectWorkload, RESOURCE_ATTRIBUTES, WORKLOAD_POINTS } from "./workload.ts";

function exportToMemory(rm: ResourceMetrics, maxPayloadSize = 4048) {
  const sink = new MemorySink({ maxPayloadSize });
  const exporter = new NativeMetricsExporter({ sink });
  let code = -1;
  exporter.export(rm, (r) => (code = r.code));
  return { events: sink.take(), exporter, code };
}

/** Every point of a whole request, each as a one-point request, for comparison. */
function splitOfficial(rm: ResourceMetrics) {
  const bytes = ProtobufMetricsSerializer.serializeRequest(rm)!;
  const whole = fromBinary(ExportMetricsServiceRequestSchema, bytes);
  return flattenRequest(whole);
}

for (const temporality of [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]) {
  const name = temporality === AggregationTemporality.DELTA ? "delta" : "cumulative";
  test(`conformance (${name}): per-point events decode to the official serializer's points`, async () => {
    const rm = await collectWorkload(temporality);
    const official = splitOfficial(rm);
    const { events, code } = exportToMemory(rm);
    assert.equal(code, 0);
    assert.equal(events.length, official.length);
    assert.equal(official.length, WORKLOAD_POINTS);
    const ours = events.map((e) => {
      const request = decodeMetricsPayload(e);
      const flat = flattenRequest(request);
      assert.equal(flat.length, 1, "exactly one point per event");
      return flat[0];
    });
    assert.deepEqual(ours, official);
  });
}

test("conformance: each event equals the official serializer's request for that single point", async () => {
  const rm = await collectWorkload();
  const { events } = exportToMemory(rm);
  let i = 0;
  for (const sm of rm.scopeMetrics) {
    for (const metric of sm.metrics) {
      for (const point of metric.dataPoints) {
        const single: ResourceMetrics = {
          resource: rm.resource,
          scopeMetrics: [{
            scope: sm.scope,
            metrics: [{ ...metric, dataPoints: [point] } as typeof metric],
          }],
        };
        const expected = fromBinary(
          ExportMetricsServiceRequestSchema,
          ProtobufMetricsSerializer.serializeRequest(single)!,
        );
        const actual = decodeMetricsPayload(events[i++]!);
        assert.ok(
          equals(ExportMetricsServiceRequestSchema, actual, expected),
          `event ${i - 1} (${metric.descriptor.name}) differs from the official encoding`,
        );
      }
    }
  }
  assert.equal(i, events.length);
});

test("every kind and field: values decode as recorded", async () => {
  const rm = await collectWorkload();
  const { events } = exportToMemory(rm);
  const points = events.map((e) => flattenRequest(decodeMetricsPayload(e))[0]!);
  const by = (n: string) => points.filter((p) => p.metric.name === n);
  for (const p of points) {
    assert.deepEqual(p.resource, { ...RESOURCE_ATTRIBUTES, "host.cores": 2n });
    assert.ok(
      p.timeUnixNano >= p.startTimeUnixNano && p.startTimeUnixNano > 1_700_000_000_000_000_000n,
    );
  }
  const requests = by("requests")[0]!;
  assert.equal(requests.value, 3);
  assert.equal(requests.metric.kind, "sum");
  assert.equal(requests.metric.description, "Requests served");
  assert.equal(requests.metric.unit, "{request}");
  assert.equal(requests.monotonic, true);
  assert.equal(requests.temporality, 1);
  assert.equal(requests.scope.name, "app");
  assert.equal(requests.scope.version, "1.2.3");
  assert.equal(by("requests.bytes")[0]!.value, 1024n); // INT → as_int
  assert.deepEqual(by("inflight").map((p) => p.value).sort(), [-8n, 5n].sort());
  assert.equal(by("inflight")[0]!.monotonic, false);
  const latency = by("latency").find((p) => p.attributes.route === "/a")!.value as Record<
    string,
    unknown
  >;
  assert.equal(latency.count, 7n);
  assert.equal(latency.sum, 0.5 + 3 + 7 + 12 + 120 + 2500 + 9999);
  assert.equal(latency.min, 0.5);
  assert.equal(latency.max, 9999);
  assert.equal(
    (latency.explicitBounds as number[]).length + 1,
    (latency.bucketCounts as bigint[]).length,
  );
  assert.equal((latency.bucketCounts as bigint[]).reduce((a, b) => a + b, 0n), 7n);
  assert.deepEqual(by("sizes")[0]!.value, {
    count: 1n,
    sum: 55,
    min: 55,
    max: 55,
    bucketCounts: [0n, 1n, 0n],
    explicitBounds: [10, 100],
  });
  const exp = by("exp.latency")[0]!.value as Record<string, any>;
  assert.equal(by("exp.latency")[0]!.metric.kind, "exponentialHistogram");
  // The SDK's histograms drop negative values: 8 of the 10 recorded remain.
  assert.equal(exp.count, 8n);
  assert.equal(exp.zeroCount, 1n);
  assert.equal(exp.min, 0);
  assert.equal(exp.max, 1e6);
  assert.ok(exp.scale < 20);
  const pos = exp.positive.bucketCounts.reduce((a: bigint, b: bigint) => a + b, 0n);
  assert.equal(pos, 7n);
  assert.ok(exp.positive.offset < 0, "negative bucket offsets are zigzag-encoded correctly");
  const gauge = by("temperature")[0]!;
  assert.equal(gauge.metric.kind, "gauge");
  assert.equal(gauge.value, -12.75);
  assert.equal(gauge.temporality, undefined);
  assert.equal(by("queue.depth")[0]!.value, 17n);
  assert.equal(by("lib.cpu")[0]!.value, 9.5);
  assert.equal(by("lib.cpu")[0]!.scope.name, "lib");
  assert.equal(by("lib.cpu")[0]!.scope.version, "");
  assert.deepEqual(by("lib.mem").map((p) => p.value).sort(), [4096n, 8192n]);
  assert.equal(by("lib.handles")[0]!.value, -2);
});

test("attributes of every type decode to their values", async () => {
  const rm = await collectWorkload();
  const { events } = exportToMemory(rm);
  const p = events.map((e) => flattenRequest(decodeMetricsPayload(e))[0]!)
    .find((p) => p.metric.name === "requests.bytes")!;
  assert.deepEqual(p.attributes, {
    str: "value",
    utf8: "grüße ✓ 🚀",
    bool: true,
    int: 42n,
    negative: -7n,
    big: 2n ** 53n - 1n,
    double: 3.25,
    strings: ["a", "b"],
    mixed: [1n, "two", false, 2.5],
    bytes: new Uint8Array([0, 1, 254, 255]),
    map: { inner: "x", deeper: { n: 1n } },
    empty: null,
  });
});

const T0: [number, number] = [1_790_000_000, 123_456_789];
const T1: [number, number] = [1_790_000_010, 999_999_999];

function handMade(metric: Record<string, unknown>): ResourceMetrics {
  return resourceMetrics({
    resource: { attributes: { "service.name": "edge" } },
    scope: { name: "edge", version: "0" },
    metrics: [metric as MetricShape],
  });
}

test("exponential histogram: negative buckets, large counts, flags and zero threshold", () => {
  const rm = handMade({
    descriptor: { name: "exp", description: "", unit: "s", valueType: 1 },
    aggregationTemporality: AggregationTemporality.DELTA,
    dataPointType: 1,
    dataPoints: [{
      startTime: T0,
      endTime: T1,
      attributes: {},
      flags: 1,
      value: {
        count: 2 ** 40 + 6,
        sum: -12.5,
        scale: -3,
        zeroCount: 2 ** 33,
        zeroThreshold: 1e-9,
        positive: { offset: -5, bucketCounts: [1, 0, 300, 2 ** 40] },
        negative: { offset: 7, bucketCounts: [2, 3] },
        min: -9,
        max: 4,
      },
    }],
  });
  const { events } = exportToMemory(rm);
  const request = decodeMetricsPayload(events[0]!);
  const metric = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
  assert.equal(metric.data.case, "exponentialHistogram");
  const p = (metric.data.value as { dataPoints: any[] }).dataPoints[0];
  assert.equal(p.startTimeUnixNano, 1_790_000_000_123_456_789n);
  assert.equal(p.timeUnixNano, 1_790_000_010_999_999_999n);
  assert.equal(p.count, 2n ** 40n + 6n);
  assert.equal(p.sum, -12.5);
  assert.equal(p.scale, -3);
  assert.equal(p.zeroCount, 2n ** 33n);
  assert.equal(p.zeroThreshold, 1e-9);
  assert.equal(p.flags, 1);
  assert.deepEqual(p.positive.bucketCounts, [1n, 0n, 300n, 2n ** 40n]);
  assert.equal(p.positive.offset, -5);
  assert.deepEqual(p.negative.bucketCounts, [2n, 3n]);
  assert.equal(p.negative.offset, 7);
  assert.equal(p.min, -9);
  assert.equal(p.max, 4);
});

test("int64 extremes and non-finite doubles are encoded exactly", () => {
  const point = (value: number) => ({ startTime: T0, endTime: T1, attributes: {}, value });
  const ints = handMade({
    descriptor: { name: "ints", description: "", unit: "", valueType: 0 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: 3,
    isMonotonic: false,
    dataPoints: [point(-1), point(-(2 ** 53)), point(2 ** 62), point(0)],
  });
  const doubles = handMade({
    descriptor: { name: "doubles", description: "", unit: "", valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: 2,
    dataPoints: [point(NaN), point(Infinity), point(-0), point(5e-324)],
  });
  const values = [...exportToMemory(ints).events, ...exportToMemory(doubles).events]
    .map((e) => flattenRequest(decodeMetricsPayload(e))[0]!.value);
  assert.deepEqual(values.slice(0, 4), [-1n, -(2n ** 53n), 2n ** 62n, 0n]);
  assert.ok(Number.isNaN(values[4]));
  assert.equal(values[5], Infinity);
  assert.ok(Object.is(values[6], -0));
  assert.equal(values[7], 5e-324);
});

test("unrepresentable attribute values are dropped and counted; output stays valid", () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const rm = handMade({
    descriptor: { name: "odd", description: "", unit: "", valueType: 1 },
    aggregationTemporality: AggregationTemporality.DELTA,
    dataPointType: 2,
    dataPoints: [{
      startTime: T0,
      endTime: T1,
      value: 1,
      attributes: {
        fn: () => 1,
        sym: Symbol("s"),
        huge: 2n ** 70n,
        small: -5n,
        cyclic,
        list: [1, () => 2, "ok"],
        undef: undefined,
        keep: "yes",
      },
    }],
  });
  const { events, exporter, code } = exportToMemory(rm);
  assert.equal(code, 0);
  const attrs = flattenRequest(decodeMetricsPayload(events[0]!))[0]!.attributes;
  assert.equal(attrs.keep, "yes");
  assert.equal(attrs.small, -5n);
  assert.equal(attrs.undef, null);
  assert.deepEqual(attrs.list, [1n, "ok"]);
  assert.ok(!("fn" in attrs) && !("sym" in attrs) && !("huge" in attrs));
  assert.deepEqual(attrs.cyclic, { name: "loop" }, "the reference back to itself is dropped");
  const dropped = exporter.stats.attributeValuesDropped as Record<string, number>;
  assert.equal(dropped.unsupported, 4); // fn, sym, huge, list's function
  assert.equal(dropped.cyclic, 1);
  assert.equal(dropped.tooDeep, 0);
});

test("oversize: a point exactly at the limit is written, one byte over is dropped and reported", () => {
  const make = (len: number) =>
    handMade({
      descriptor: { name: "big", description: "", unit: "", valueType: 1 },
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: 2,
      dataPoints: [{ startTime: T0, endTime: T1, value: 1, attributes: { pad: "x".repeat(len) } }],
    });
  const base = exportToMemory(make(200)).events[0]!.length; // 200-byte pad: 2-byte length varints
  const limit = 1000;
  const exact = make(200 + (limit - base));
  const at = exportToMemory(exact, limit);
  assert.equal(at.events.length, 1);
  assert.equal(at.events[0]!.length, limit);
  assert.equal(at.code, 0);
  const over = exportToMemory(make(200 + (limit - base) + 1), limit);
  assert.equal(over.events.length, 0);
  assert.equal(over.code, 1);
  assert.equal(over.exporter.stats.pointsDropped.oversize, 1);
  assert.deepEqual(over.exporter.stats.lastOversize, { metric: "big", size: limit + 1, limit });
  // far beyond the staging memory: measured exactly, still dropped
  const huge = exportToMemory(make(100_000), limit);
  assert.equal(huge.events.length, 0);
  assert.ok(huge.exporter.stats.lastOversize!.size > 100_000);
  // the exporter keeps working after a spill
  const after = new NativeMetricsExporter({ sink: new MemorySink({ maxPayloadSize: limit }) });
  after.export(make(100_000), () => {});
  after.export(make(10), () => {});
  assert.equal(after.stats.eventsWritten, 1);
  assert.deepEqual((after.sink as MemorySink).events[0], exportToMemory(make(10), limit).events[0]);
});
