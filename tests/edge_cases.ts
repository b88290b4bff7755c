/**
 * Hand-made edge cases in the SDK's shapes: every attribute value type, unicode, limits,
 * large counts, times past 2^32 seconds, shared descriptors, resources and scopes. Used by
 * the encoder tests (against the official serializer and protobuf-es) and by
 * `bench/verify.sh` (against an earlier commit's bytes). Only inputs whose output is
 * unchanged by design live here; the deliberately changed ones (cycles, INT values outside
 * int64, non-plain objects) are tested in attributes_test.ts and point_test.ts.
 *
 * @module
 */
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  type DescriptorShape,
  exponentialHistogram,
  gauge,
  histogram,
  type HrTime,
  type MetricShape,
  type PointShape,
  resourceMetrics,
  sum,
} from "./builders.ts";

let deep: unknown = "bottom";
for (let i = 0; i < 20; i++) deep = [deep];
const sharedAttrs = { "shared.key": "same object on several points", n: 3 };
const longAscii = "x".repeat(300);
const veryLong = "y".repeat(20_000);
const unicode = "héllo wörld ✓ 日本語 😀 \ud800 lone \udc00 end";

/** Attribute sets of every value type and shape (index 8: values OTLP cannot hold). */
export const EDGE_ATTRIBUTE_SETS: Record<string, unknown>[] = [
  {},
  { s: "a", b: true, f: false, i: 42, neg: -7, d: 3.25 },
  { big: 2 ** 53, big2: 2 ** 62, over: 2 ** 63, under: -(2 ** 63), min: -(2 ** 63) + 4096 },
  { negzero: -0, nan: NaN, inf: Infinity, ninf: -Infinity, tiny: 5e-324 },
  { bi: 123n, bineg: -5n, bibig: 2n ** 63n - 1n, biover: 2n ** 63n, biunder: -(2n ** 63n) - 1n },
  { bytes: new Uint8Array([0, 1, 255]), empty: new Uint8Array(0), str: "" },
  { arr: [1, "two", true, null, undefined, [3.5, [4]], { k: "v" }], emptyArr: [] },
  { obj: { nested: { deeper: { x: 1, y: [1, 2] } }, e: {} }, nul: null, und: undefined },
  { fn: () => 1, sym: Symbol("s"), ok: "kept" },
  { deep, after: "still here" },
  { [unicode]: unicode, ascii: longAscii, "ключ": "значение" },
  { long: veryLong },
  sharedAttrs,
  Object.assign(Object.create({ inherited: "not own" }), { own: "yes" }),
];

/** Indices of {@linkcode EDGE_ATTRIBUTE_SETS} the official serializer writes as we do. */
export const OFFICIAL_COMPATIBLE_SETS = [0, 1, 2, 3, 5, 6, 7, 10, 11, 12, 13];

const T0: HrTime = [1_760_000_000, 123_456_789];
const T1: HrTime = [1_760_000_060, 987_654_321];
const T2: HrTime = [4_294_967_296 + 17, 999_999_999];

// Descriptors, resources, scopes and histogram bounds are shared between the variants, as the
// SDK shares them between collections: cached envelopes must notice what changed.
const descriptors = new Map<string, DescriptorShape>();
function descriptor(name: string, valueType: number, description = "", unit = "") {
  const key = `${name}|${valueType}|${description}|${unit}`;
  let d = descriptors.get(key);
  if (!d) {
    d = { name, description, unit, valueType, type: "COUNTER", advice: {} };
    descriptors.set(key, d);
  }
  return d;
}
const RESOURCE = resourceFromAttributes({ "service.name": "edge", "host.name": "h", count: 3 });
const PLAIN_RESOURCE = {
  attributes: { "service.name": "plain", x: [1, 2] },
  schemaUrl: "https://opentelemetry.io/schemas/1.24.0",
};
const SCOPE = { name: "edge.scope", version: "9.9.9" };
const SCOPE_WITH_SCHEMA = { name: "edge.scope", version: "9.9.9", schemaUrl: "https://s/1" };
const SECOND_SCOPE = { name: "second" };
const BOUNDS_A = [0, 5, 10, 25, 50, 100, 250.5];
const BOUNDS_B = [1, 2, 3, 4, 5, 6, 7.5]; // as long as BOUNDS_A

/** Numbers of every width and sign (all within int64, so INT instruments write them as_int). */
export const EDGE_NUMBERS = [
  0,
  1,
  -1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  2 ** 62,
  -0.5,
  123.456,
];

/**
 * Variant `variant` (0..3) of the edge-case request: every point type, INT and DOUBLE, delta
 * (even variants) and cumulative (odd), over {@linkcode EDGE_ATTRIBUTE_SETS} (or the sets at
 * `sets`), with `flags` and `zeroThreshold` on a point each unless `extras` is false (the
 * official serializer writes neither); variant 2 has a plain-object resource with a schema URL, variant 3 a scope with one.
 */
export function edgeResourceMetrics(
  variant: number,
  sets: readonly number[] = EDGE_ATTRIBUTE_SETS.map((_, i) => i),
  extras = true,
): ResourceMetrics {
  const points = (value: (i: number) => unknown): PointShape[] =>
    sets.map((set, i) => ({
      startTime: i % 2 ? T0 : ([...T0] as HrTime),
      endTime: i % 3 ? T1 : T2,
      attributes: EDGE_ATTRIBUTE_SETS[set],
      value: value(i),
      ...(extras && i === 4 ? { flags: 1 } : {}),
    }));
  const numbers = EDGE_NUMBERS;
  const histogramValue = (bounds: number[]) => (i: number) => ({
    buckets: {
      boundaries: i % 4 === 0 ? [] : bounds,
      counts: i % 4 === 0 ? [] : [0, 1, 2 ** 32 + 5, 3, 0, 0, 7, 128],
    },
    count: i % 5 === 0 ? 2 ** 40 : 141,
    sum: i % 3 === 0 ? undefined : 1234.5 * i,
    min: i % 2 ? 0.1 : undefined,
    max: i % 2 ? 999 : undefined,
  });
  const exponential = (i: number) => ({
    count: 10 + i,
    sum: i % 3 === 0 ? undefined : i * 1.5,
    scale: [0, 3, -2, 20, -10][i % 5]!,
    zeroCount: i % 2 ? 0 : 2 ** 33,
    positive: {
      offset: [0, -5, 17, 1000][i % 4]!,
      bucketCounts: i % 3 ? [1, 0, 0, 2 ** 32, 5, 127, 128] : [],
    },
    negative: { offset: i % 2 ? -3 : 0, bucketCounts: i % 2 ? [0, 3] : [] },
    min: i % 2 ? -1 : undefined,
    max: i % 2 ? 100 : undefined,
    ...(extras && i === 6 ? { zeroThreshold: 0.001 } : {}),
  });
  const temporality = variant % 2
    ? AggregationTemporality.CUMULATIVE
    : AggregationTemporality.DELTA;
  const o = (d: DescriptorShape) => ({ descriptor: d, temporality });
  const metrics: MetricShape[] = [
    sum("int.sum", points((i) => Math.trunc(numbers[i % numbers.length]!)), {
      ...o(descriptor("int.sum", 0, "an int sum", "{x}")),
      isMonotonic: variant !== 3,
    }),
    sum("double.sum.ü", points((i) => numbers[i % numbers.length]!), {
      ...o(descriptor("double.sum.ü", 1)),
      isMonotonic: false,
    }),
    gauge("gauge", points((i) => numbers[(i + 3) % numbers.length]!), {
      ...o(descriptor("gauge", 1, "", "Cel")),
    }),
    gauge("int.gauge", points((i) => Math.trunc(numbers[(i + 5) % numbers.length]! % 2 ** 60)), {
      ...o(descriptor("int.gauge", 0, "descr")),
    }),
    histogram(
      "histogram",
      points(histogramValue(BOUNDS_A)),
      o(descriptor("histogram", 1, "h", "ms")),
    ),
    histogram("histogram.b", points(histogramValue(BOUNDS_B)), o(descriptor("histogram.b", 1))),
    exponentialHistogram("exp", points(exponential), o(descriptor("exp", 1, "", "By"))),
    sum("empty", [], { ...o(descriptor("empty", 1)), isMonotonic: true }),
  ];
  return resourceMetrics({
    resource: (variant === 2 ? PLAIN_RESOURCE : RESOURCE) as never,
    scopes: [
      { scope: variant === 3 ? SCOPE_WITH_SCHEMA : SCOPE, metrics },
      {
        scope: SECOND_SCOPE,
        metrics: [gauge("second.gauge", points((i) => i / 3), o(descriptor("second.gauge", 1)))],
      },
    ],
  });
}
