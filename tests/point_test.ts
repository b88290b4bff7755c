/// <reference types="./bun_test.d.ts" />
// deno-lint-ignore-file no-explicit-any -- decoded protobuf shapes are checked field by field
/**
 * src/encoder/event.ts (the PointEncoder): every point type over the edge cases
 * (tests/edge_cases.ts: times past 2^32 seconds, counts past 2^32, exponential buckets with
 * counts past one byte and past 2^32, negative offsets, unicode, long strings) byte for byte
 * against the official serializer; fields the official one leaves out (flags, zero threshold)
 * decoded; INT values outside int64 written as exact doubles and counted; the prefix reuse
 * across points of different sizes and after a spill; unknown point types refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { EnvelopeCache } from "../src/encoder/envelope.ts";
import { PointEncoder } from "../src/encoder/event.ts";
import {
  exponentialHistogram,
  gauge,
  metric,
  officialSinglePointRequests,
  point,
  resourceMetrics,
  sum,
} from "./builders.ts";
import { edgeResourceMetrics, OFFICIAL_COMPATIBLE_SETS } from "./edge_cases.ts";
import { test } from "./harness.ts";
import { hex } from "./hex.ts";

/** Encodes every point of `rm` as the exporter does (one encoder, one envelope cache). */
function encodeAll(
  rm: ResourceMetrics,
  encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(16 * 1024)), 20),
  cache = new EnvelopeCache(),
) {
  encoder.beginExport();
  const out: { bytes: Uint8Array; spilled: boolean }[] = [];
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.dataPoints.length === 0) continue;
      const env = cache.envelope(rm.resource, sm.scope, m, encoder.drops);
      m.dataPoints.forEach((p, i) => {
        const start = encoder.encode(env, p as never, i);
        const w = encoder.writer;
        out.push({ bytes: w.buf.slice(start, w.pos), spilled: w.spilled });
      });
    }
  }
  return out;
}

/** The official serializer's single-point requests of `rm`, as hex. */
const officialEach = (rm: ResourceMetrics): string[] => officialSinglePointRequests(rm).map(hex);

test("points: every type over the edge cases, byte for byte the official serializer's", () => {
  const encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(64 * 1024)), 20);
  const cache = new EnvelopeCache();
  for (let variant = 0; variant < 4; variant++) {
    const rm = edgeResourceMetrics(variant, OFFICIAL_COMPATIBLE_SETS, false);
    const want = officialEach(rm);
    // three times on the same encoder and cache: cold, warm, warm
    for (let round = 0; round < 3; round++) {
      const got = encodeAll(rm, encoder, cache);
      assert.equal(got.length, want.length);
      got.forEach((g, i) =>
        assert.equal(hex(g.bytes), want[i], `variant ${variant} round ${round} point ${i}`)
      );
    }
  }
});

test("points: flags and zero threshold (not written by the official serializer) decode", () => {
  const rm = edgeResourceMetrics(0); // point 4 has flags, exponential point 6 a zero threshold
  const events = encodeAll(rm, new PointEncoder(new Uint8Array(new ArrayBuffer(64 * 1024)), 0));
  const decoded = events.filter((e) => !e.spilled).map((e) => decodeMetricsPayload(e.bytes));
  const points = decoded.map((r) => {
    const m = r.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    return { name: m.name, p: (m.data.value as { dataPoints: any[] }).dataPoints[0] };
  });
  const withFlags = points.filter((x) => x.p.flags === 1);
  assert.ok(withFlags.length >= 6, `flags on ${withFlags.length} points`);
  const threshold = points.filter((x) => x.name === "exp" && x.p.zeroThreshold === 0.001);
  assert.equal(threshold.length, 1);
});

test("points: INT values outside int64, NaN and ±Infinity are written as exact doubles and counted", () => {
  const outside = [2 ** 63, -(2 ** 63) * 2, 1e300, -1e300, NaN, Infinity, -Infinity];
  const inside = [-(2 ** 63), 2 ** 63 - 1024, -1, 0, 2 ** 53 + 2];
  const rm = resourceMetrics({
    metrics: [
      sum("ints", [...outside, ...inside].map((v) => point(v)), { valueType: 0 }),
      gauge("int.gauge", [point(2 ** 64)], { valueType: 0 }),
      gauge("double.gauge", [point(2 ** 64)], { valueType: 1 }),
    ],
  });
  const encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(16 * 1024)), 0);
  const events = encodeAll(rm, encoder);
  const values = events.map((e) => flattenRequest(decodeMetricsPayload(e.bytes))[0]!.value);
  outside.forEach((v, i) =>
    assert.ok(Object.is(values[i], v), `${v} as a double: ${String(values[i])}`)
  );
  inside.forEach((v, i) => assert.equal(values[outside.length + i], BigInt(v), `${v} as an int`));
  assert.equal(values[outside.length + inside.length], 2 ** 64);
  assert.equal(values[outside.length + inside.length + 1], 2 ** 64);
  assert.equal(encoder.conversions.intAsDouble, outside.length + 1, "only INT points counted");
});

test("points: the prefix left in place is reused only when it is the same, at the same place", () => {
  // Bodies of alternating length widths (1, 2 and 3-byte body lengths), a spilled point in
  // the middle, and two metrics interleaved by export: every event must be exact.
  // (pads 60..110 put bodies on both sides of 128 bytes: the body's length takes 1 or 2
  // bytes while the enclosing lengths keep their widths, so the same prefix moves by one)
  const sizes = [1, 200, 1, 20_000, 1, 90_000, 1, 200, 200, 1];
  for (let pad = 60; pad <= 110; pad++) sizes.push(pad);
  for (let pad = 110; pad >= 60; pad--) sizes.push(pad);
  const points = sizes.map((n, i) => point(i, { p: "x".repeat(n) }));
  const rm = resourceMetrics({
    metrics: [gauge("a", points), gauge("b", points.slice(0, 4)), gauge("a2", points.slice(2))],
  });
  const encoder = new PointEncoder(new Uint8Array(new ArrayBuffer(32 * 1024)), 20);
  const cache = new EnvelopeCache();
  const want = officialEach(rm);
  for (let round = 0; round < 2; round++) {
    const got = encodeAll(rm, encoder, cache);
    got.forEach((g, i) => {
      if (g.spilled) {
        assert.ok(g.bytes.length > 32 * 1024 - 100, "only the 90,000-byte point spills");
      } else assert.equal(hex(g.bytes), want[i], `round ${round} point ${i}`);
    });
    assert.equal(got.filter((g) => g.spilled).length, 2);
  }
});

test("points: exponential buckets of every count width and negative offsets", () => {
  const value = (counts: number[], offset: number) => ({
    count: counts.reduce((a, b) => a + b, 0),
    sum: 1,
    scale: -3,
    zeroCount: 0,
    positive: { offset, bucketCounts: counts },
    negative: { offset: -offset, bucketCounts: counts.slice().reverse() },
    min: 0,
    max: 9,
  });
  const cases: [number[], number][] = [
    [[], 0],
    [[0], 1],
    [[127, 0, 1], -1],
    [[128], 63],
    [[1, 2 ** 14, 2 ** 21, 2 ** 28, 2 ** 32, 2 ** 40], -64],
    [Array.from({ length: 160 }, (_, i) => i % 7), -(2 ** 20)],
    [Array.from({ length: 160 }, (_, i) => i * 1000), 2 ** 30],
  ];
  const rm = resourceMetrics({
    metrics: [exponentialHistogram("e", cases.map(([c, o]) => point(value(c, o), { k: "v" })))],
  });
  assert.deepEqual(encodeAll(rm).map((e) => hex(e.bytes)), officialEach(rm));
});

test("points: a data point type the SDK does not have is refused, not written", () => {
  const rm = resourceMetrics({ metrics: [metric("summary", 4, [point(1)])] });
  assert.throws(() => encodeAll(rm), TypeError);
});
