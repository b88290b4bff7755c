/// <reference types="./bun_test.d.ts" />
/**
 * src/encoder/envelope.ts and src/encoder/fields.ts: field numbers and wire types against the
 * schemas generated from the .proto files; envelopes (resource, scope, metric header, tail)
 * byte for byte against the official serializer; the envelope cache reusing an envelope only
 * while everything it was made from is unchanged (every input mutated in turn); framing
 * (lengths of the enclosing messages) exact across every varint width, for one point and for
 * many (packing); oversize envelopes.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type MetricData,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { ExportMetricsServiceRequestSchema } from "../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import {
  AnyValueSchema,
  ArrayValueSchema,
  InstrumentationScopeSchema,
  KeyValueListSchema,
  KeyValueSchema,
} from "../proto/gen/opentelemetry/proto/common/v1/common_pb.ts";
import {
  ExponentialHistogramDataPoint_BucketsSchema,
  ExponentialHistogramDataPointSchema,
  GaugeSchema,
  HistogramDataPointSchema,
  HistogramSchema,
  MetricSchema,
  NumberDataPointSchema,
  ResourceMetricsSchema,
  ScopeMetricsSchema,
  SumSchema,
} from "../proto/gen/opentelemetry/proto/metrics/v1/metrics_pb.ts";
import { ResourceSchema } from "../proto/gen/opentelemetry/proto/resource/v1/resource_pb.ts";
import { MemorySink, NativeMetricsExporter } from "../mod.ts";
import { emptyDropCounts } from "../src/encoder/attributes.ts";
import {
  EnvelopeCache,
  Frame,
  MAX_ENVELOPE_PART,
  type MetricEnvelope,
} from "../src/encoder/envelope.ts";
import { PointEncoder } from "../src/encoder/event.ts";
import * as F from "../src/encoder/fields.ts";
import {
  type DescriptorShape,
  gauge,
  histogram,
  officialSinglePointRequests,
  point,
  resourceMetrics,
  sum,
} from "./builders.ts";
import { test } from "./harness.ts";
import { hex } from "./hex.ts";

/** Our table for a message, the schema, and our names → the .proto field names. */
const TABLES: [string, Record<string, number>, DescMessage, Record<string, string>][] = [
  ["Request", F.Request, ExportMetricsServiceRequestSchema, {
    resourceMetrics: "resource_metrics",
  }],
  ["ResourceMetrics", F.ResourceMetrics, ResourceMetricsSchema, {
    resource: "resource",
    scopeMetrics: "scope_metrics",
    schemaUrl: "schema_url",
  }],
  ["Resource", F.Resource, ResourceSchema, {
    attributes: "attributes",
    droppedAttributesCount: "dropped_attributes_count",
  }],
  ["ScopeMetrics", F.ScopeMetrics, ScopeMetricsSchema, {
    scope: "scope",
    metrics: "metrics",
    schemaUrl: "schema_url",
  }],
  ["Scope", F.Scope, InstrumentationScopeSchema, {
    name: "name",
    version: "version",
    attributes: "attributes",
  }],
  ["Metric", F.Metric, MetricSchema, {
    name: "name",
    description: "description",
    unit: "unit",
    gauge: "gauge",
    sum: "sum",
    histogram: "histogram",
    exponentialHistogram: "exponential_histogram",
  }],
  ["Data (Gauge)", { dataPoints: F.Data.dataPoints }, GaugeSchema, { dataPoints: "data_points" }],
  ["Data (Sum)", F.Data, SumSchema, {
    dataPoints: "data_points",
    aggregationTemporality: "aggregation_temporality",
    isMonotonic: "is_monotonic",
  }],
  ["Data (Histogram)", { dataPoints: 1, aggregationTemporality: 2 }, HistogramSchema, {
    dataPoints: "data_points",
    aggregationTemporality: "aggregation_temporality",
  }],
  ["NumberPoint", F.NumberPoint, NumberDataPointSchema, {
    startTime: "start_time_unix_nano",
    time: "time_unix_nano",
    asDouble: "as_double",
    asInt: "as_int",
    attributes: "attributes",
    flags: "flags",
  }],
  ["HistogramPoint", F.HistogramPoint, HistogramDataPointSchema, {
    startTime: "start_time_unix_nano",
    time: "time_unix_nano",
    count: "count",
    sum: "sum",
    bucketCounts: "bucket_counts",
    explicitBounds: "explicit_bounds",
    attributes: "attributes",
    flags: "flags",
    min: "min",
    max: "max",
  }],
  ["ExponentialPoint", F.ExponentialPoint, ExponentialHistogramDataPointSchema, {
    attributes: "attributes",
    startTime: "start_time_unix_nano",
    time: "time_unix_nano",
    count: "count",
    sum: "sum",
    scale: "scale",
    zeroCount: "zero_count",
    positive: "positive",
    negative: "negative",
    flags: "flags",
    min: "min",
    max: "max",
    zeroThreshold: "zero_threshold",
  }],
  ["Buckets", F.Buckets, ExponentialHistogramDataPoint_BucketsSchema, {
    offset: "offset",
    bucketCounts: "bucket_counts",
  }],
  ["KeyValue", F.KeyValue, KeyValueSchema, { key: "key", value: "value" }],
  ["AnyValue", F.AnyValue, AnyValueSchema, {
    string: "string_value",
    bool: "bool_value",
    int: "int_value",
    double: "double_value",
    array: "array_value",
    kvlist: "kvlist_value",
    bytes: "bytes_value",
  }],
  ["List (ArrayValue)", F.List, ArrayValueSchema, { values: "values" }],
  ["List (KeyValueList)", F.List, KeyValueListSchema, { values: "values" }],
];

test("fields: every field number in fields.ts is the .proto's (generated schemas)", () => {
  for (const [message, table, schema, names] of TABLES) {
    assert.deepEqual(Object.keys(table).sort(), Object.keys(names).sort(), `${message}: names`);
    for (const [ours, protoName] of Object.entries(names)) {
      const field = schema.fields.find((f) => f.name === protoName);
      assert.ok(field, `${message}.${protoName} exists in ${schema.typeName}`);
      assert.equal(table[ours], field.number, `${message}.${ours} = ${protoName}`);
    }
  }
  // the wire types the encoder writes for the 64-bit fields are the .proto's fixed/double types
  const scalar = (schema: DescMessage, name: string) =>
    (schema.fields.find((f) => f.name === name) as { scalar?: ScalarType }).scalar;
  assert.equal(scalar(NumberDataPointSchema, "as_int"), ScalarType.SFIXED64);
  assert.equal(scalar(NumberDataPointSchema, "start_time_unix_nano"), ScalarType.FIXED64);
  assert.equal(scalar(HistogramDataPointSchema, "bucket_counts"), ScalarType.FIXED64);
  assert.equal(scalar(ExponentialHistogramDataPointSchema, "zero_count"), ScalarType.FIXED64);
  assert.equal(scalar(ExponentialHistogramDataPointSchema, "scale"), ScalarType.SINT32);
  assert.equal(
    scalar(ExponentialHistogramDataPoint_BucketsSchema, "bucket_counts"),
    ScalarType.UINT64,
  );
  assert.equal(scalar(AnyValueSchema, "int_value"), ScalarType.INT64);
});

/** Every point of `rm` through one PointEncoder and `cache`: the payloads. */
function encodeAll(rm: ResourceMetrics, cache = new EnvelopeCache(), encoder = newEncoder()) {
  encoder.beginExport();
  const out: Uint8Array[] = [];
  const envs: MetricEnvelope[] = [];
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      const env = cache.envelope(rm.resource, sm.scope, m, encoder.drops);
      envs.push(env);
      m.dataPoints.forEach((p, i) => {
        const start = encoder.encode(env, p as never, i);
        out.push(encoder.writer.buf.slice(start, encoder.writer.pos));
      });
    }
  }
  return { out, envs };
}

function newEncoder(): PointEncoder {
  return new PointEncoder(new Uint8Array(new ArrayBuffer(16 * 1024)), 20);
}

/** The official serializer's single-point requests of `rm`, as hex. */
const officialEach = (rm: ResourceMetrics): string[] => officialSinglePointRequests(rm).map(hex);

const descriptor = (name: string, extra: Partial<DescriptorShape> = {}): DescriptorShape => ({
  name,
  description: "",
  unit: "",
  valueType: 1,
  ...extra,
});

test("envelope: resource, scope, metric header and tail byte for byte as the official serializer", () => {
  const resources = [
    { attributes: {} },
    { attributes: { "service.name": "a", n: 1, list: [1, "x"], map: { k: true } } },
    { attributes: { "service.name": "b" }, schemaUrl: "https://opentelemetry.io/schemas/1.26.0" },
    resourceFromAttributes({ "service.name": "sdk", "host.cores": 2 }, { schemaUrl: "https://s" }),
    { attributes: { big: "r".repeat(300) } }, // lengths of 2-byte varints
  ];
  const scopes = [
    { name: "s" },
    { name: "s", version: "1.2.3" },
    { name: "s", version: "", schemaUrl: "https://scope" },
    { name: "ünïcode", version: "✓", attributes: { "scope.attr": "v", n: [1] } },
    { name: "x".repeat(200) },
  ];
  for (const resource of resources) {
    for (const scope of scopes) {
      const metrics = [
        gauge("g", [point(1.5, { a: "b" })], { descriptor: descriptor("g", { unit: "Cel" }) }),
        sum("s.delta", [point(2)], {
          descriptor: descriptor("s.delta", { description: "d", valueType: 0 }),
          isMonotonic: true,
        }),
        sum("s.cumulative", [point(-3)], {
          temporality: AggregationTemporality.CUMULATIVE,
          descriptor: descriptor("s.cumulative"),
        }),
        histogram("h", [
          point({ buckets: { boundaries: [1], counts: [1, 0] }, count: 1, sum: 0.5 }),
        ], {
          descriptor: descriptor("h", { description: "é".repeat(100) }),
        }),
      ];
      const rm = resourceMetrics({ resource: resource as never, scope, metrics });
      assert.deepEqual(encodeAll(rm).out.map(hex), officialEach(rm));
    }
  }
});

test("envelope cache: the same envelope while nothing changed; a new one when any input changed", () => {
  const cache = new EnvelopeCache();
  const resource = {
    attributes: { "service.name": "a", n: 1 } as Record<string, unknown>,
    schemaUrl: "https://r",
  };
  const scope: Record<string, unknown> = { name: "s", version: "1", attributes: { k: "v" } };
  const d = descriptor("m", { description: "d", unit: "u" }) as
    & Record<string, unknown>
    & DescriptorShape;
  const metric = sum("m", [point(7, { a: 1 })], { descriptor: d, isMonotonic: true }) as Record<
    string,
    unknown
  >;
  const rm = resourceMetrics({
    resource: resource as never,
    scope: scope as never,
    metrics: [metric as never],
  });
  const envelope = () =>
    cache.envelope(
      rm.resource,
      rm.scopeMetrics[0]!.scope,
      rm.scopeMetrics[0]!.metrics[0]!,
      emptyDropCounts(),
    );
  const first = envelope();
  assert.equal(envelope(), first, "unchanged: reused");
  const mutations: [string, () => void][] = [
    ["resource attribute value", () => (resource.attributes.n = 2)],
    ["resource attribute added", () => (resource.attributes.extra = [1, { x: 1 }])],
    ["nested resource value", () => ((resource.attributes.extra as unknown[])[0] = 2)],
    ["resource attribute removed", () => delete resource.attributes.n],
    ["resource schema URL", () => (resource.schemaUrl = "https://r2")],
    ["scope name", () => (scope.name = "s2")],
    ["scope version", () => (scope.version = "2")],
    ["scope schema URL", () => (scope.schemaUrl = "https://s")],
    ["scope attributes", () => ((scope.attributes as Record<string, unknown>).k = "w")],
    ["descriptor name", () => (d.name = "m2")],
    ["descriptor description", () => (d.description = "")],
    ["descriptor unit", () => (d.unit = "By")],
    ["descriptor value type", () => (d.valueType = 0)],
    ["temporality", () => (metric.aggregationTemporality = AggregationTemporality.CUMULATIVE)],
    ["monotonic", () => (metric.isMonotonic = false)],
    ["point type", () => (metric.dataPointType = 2)],
  ];
  let previous = first;
  for (const [what, mutate] of mutations) {
    mutate();
    const env = envelope();
    assert.notEqual(env, previous, `${what}: a new envelope`);
    assert.equal(envelope(), env, `${what}: then reused`);
    assert.deepEqual(encodeAll(rm, cache).out.map(hex), officialEach(rm), what);
    previous = env;
  }
});

test("envelope: frame() gives the exact request length around one or many points, every width", () => {
  const cache = new EnvelopeCache();
  const encoder = newEncoder();
  const frame = new Frame();
  // a gauge point of ~40 bytes: 1..600 points cross the 1-, 2- and 3-byte length widths
  for (const pad of [0, 100, 16_300]) {
    const one = (v: number) => point(v, { p: "x".repeat(pad) });
    for (const n of [1, 2, 3, 4, 5, 100, 400, 600]) {
      if (pad > 1000 && n > 3) continue;
      const points = Array.from({ length: n }, (_, i) => one(i));
      const rm = resourceMetrics({ metrics: [gauge("g", points)] });
      const m = rm.scopeMetrics[0]!.metrics[0]! as MetricData;
      const env = cache.envelope(rm.resource, rm.scopeMetrics[0]!.scope, m, encoder.drops);
      // the data_points fields, one after another, as packing would write them
      const w = encoder.writer;
      w.reset(0);
      const fields: number[] = [];
      const parts: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        w.reset(0);
        w.uint32(0x0a);
        const body = w.fork();
        encoder.writeBody(env, points[i] as never, i);
        w.join(body);
        parts.push(w.buf.slice(0, w.pos));
        fields.push(w.pos);
      }
      const pointsLength = fields.reduce((a, b) => a + b, 0);
      env.frame(pointsLength, frame);
      const prefix = env.prefix(frame);
      const request = new Uint8Array(prefix.length + pointsLength + env.tail.length);
      request.set(prefix, 0);
      env.writeLengths(request, 0, frame);
      let at = prefix.length;
      for (const p of parts) {
        request.set(p, at);
        at += p.length;
      }
      request.set(env.tail, at);
      assert.equal(request.length, frame.request, `request length, ${n} points of pad ${pad}`);
      const official = ProtobufMetricsSerializer.serializeRequest(rm)!;
      assert.equal(hex(request), hex(official), `${n} points of pad ${pad}`);
    }
  }
});

test("envelope: a part over every limit makes its points oversize, counted, nothing hangs", () => {
  const shared = { s: "x".repeat(16) };
  let dag: unknown = shared;
  for (let i = 0; i < 30; i++) dag = [dag, dag, dag];
  for (
    const resource of [{ attributes: { big: "y".repeat(MAX_ENVELOPE_PART + 10) } }, {
      attributes: { dag },
    }]
  ) {
    const sink = new MemorySink({ maxPayloadSize: 65360 });
    const exporter = new NativeMetricsExporter({ sink });
    const rm = resourceMetrics({ resource, metrics: [gauge("g", [point(1), point(2)])] });
    exporter.export(rm, () => {});
    assert.equal(exporter.stats.pointsDropped.oversize, 2);
    assert.equal(exporter.stats.eventsWritten, 0);
    const env = new EnvelopeCache().envelope(
      rm.resource,
      rm.scopeMetrics[0]!.scope,
      rm.scopeMetrics[0]!.metrics[0]!,
      emptyDropCounts(),
    );
    assert.equal(env.oversize, true);
    // and the exporter goes on with a normal resource
    exporter.export(resourceMetrics({ metrics: [gauge("g", [point(3)])] }), () => {});
    assert.equal(exporter.stats.eventsWritten, 1);
  }
});
