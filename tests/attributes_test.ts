/// <reference types="./bun_test.d.ts" />
// deno-lint-ignore-file no-explicit-any -- values of every shape on purpose
/**
 * src/encoder/attributes.ts: attribute values of every type against the official
 * serializer's own attribute writer (otlp-transformer `writeAttributes`), uncached and through
 * the content-validated cache (hit, miss, mutation, bounds); and the bad inputs with their
 * defined outcomes: cycles, shared DAGs, non-plain objects, attributes that are not objects.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
// The official serializer's attribute writer and its writer, imported by file: not exported.
import { writeAttributes as officialWriteAttributes } from "../node_modules/@opentelemetry/otlp-transformer/dist/common/protobuf/common-serializer.mjs";
import { ProtobufWriter } from "../node_modules/@opentelemetry/otlp-transformer/dist/common/protobuf/protobuf-writer.mjs";
import { MemorySink, NativeMetricsExporter } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import {
  type AttributeDropCounts,
  AttributeSetCache,
  emptyDropCounts,
  MAX_ATTRIBUTE_DEPTH,
  MAX_CACHED_POSITIONS,
  writeAttributes,
} from "../src/encoder/attributes.ts";
import { ProtoWriter } from "../src/encoder/wire.ts";
import { gauge, point, resourceMetrics, singlePoint } from "./builders.ts";
import { test } from "./harness.ts";
import { hex } from "./hex.ts";
import { ManualReader } from "./workload.ts";

function official(attributes: unknown, field = 7): Uint8Array {
  const w = new ProtobufWriter(16);
  officialWriteAttributes(w, attributes, field);
  return (w.finish() as Uint8Array).slice();
}

function plain(attributes: unknown, field = 7, drops = emptyDropCounts(), home = 64 * 1024) {
  const w = new ProtoWriter(new Uint8Array(home));
  writeAttributes(w, attributes, field, drops);
  return { bytes: w.buf.slice(0, w.pos), drops, writer: w };
}

function cached(cache: AttributeSetCache, attributes: unknown, index = 0, field = 7) {
  const w = new ProtoWriter(new Uint8Array(64 * 1024));
  const drops = emptyDropCounts();
  cache.write(w, attributes, field, drops, index);
  return { bytes: w.buf.slice(0, w.pos), drops };
}

class Bytes extends Uint8Array {} // like Node's Buffer: a Uint8Array subclass

/** Values both serializers write the same way, one per line of the OTLP AnyValue. */
const VALUES: Record<string, unknown> = {
  string: "value",
  empty: "",
  unicode: "grüße ✓ 🚀 日本語",
  lone: "a\ud800b",
  long: "x".repeat(300),
  true: true,
  false: false,
  zero: 0,
  negzero: -0,
  small: 42,
  u32: 2 ** 32 - 1,
  above32: 2 ** 32,
  negative: -7,
  negative64: -(2 ** 40),
  safe: Number.MAX_SAFE_INTEGER,
  huge: 2 ** 62,
  maxDouble64: 2 ** 63 - 1024,
  min64: -(2 ** 63),
  at2p63: 2 ** 63, // not an int64: double
  double: 3.25,
  tiny: 5e-324,
  nan: NaN,
  inf: Infinity,
  ninf: -Infinity,
  bytes: new Uint8Array([0, 1, 254, 255]),
  emptyBytes: new Uint8Array(0),
  subclassBytes: new Bytes([7, 8]),
  array: [1, "two", false, 2.5, null, undefined, [3, [4]], { k: "v" }],
  emptyArray: [],
  object: { inner: "x", deeper: { n: 1, list: [1, 2] }, e: {} },
  nullProto: Object.assign(Object.create(null), { a: 1, b: "c" }),
  null: null,
  undefined: undefined,
};

test("attributes: every value type is written as the official serializer writes it", () => {
  for (const [name, value] of Object.entries(VALUES)) {
    for (const field of [1, 3, 7, 9]) {
      const attributes = { [name]: value };
      const want = hex(official(attributes, field));
      const got = plain(attributes, field);
      assert.equal(hex(got.bytes), want, `${name} under field ${field}`);
      assert.deepEqual(got.drops, emptyDropCounts(), `${name}: nothing dropped`);
    }
    // nested in an array and in an object
    for (const attributes of [{ list: [value, value] }, { map: { v: value } }]) {
      assert.equal(hex(plain(attributes).bytes), hex(official(attributes)), `${name} nested`);
    }
  }
  // all at once, and inherited properties left out as the official one leaves them out
  const all = Object.assign(Object.create({ inherited: "no" }), VALUES);
  assert.equal(hex(plain(all).bytes), hex(official(all)));
});

test("attributes: through the cache, a hit writes the bytes a fresh encode writes", () => {
  const cache = new AttributeSetCache();
  for (const [name, value] of Object.entries(VALUES)) {
    const want = hex(official({ [name]: value, route: "/a" }));
    for (let round = 0; round < 3; round++) {
      // a new object each time with the same values (fresh literals)
      assert.equal(hex(cached(cache, { [name]: value, route: "/a" }).bytes), want, name);
    }
  }
  // Only sets of primitives (not NaN) are remembered: those come back as hits.
  const counts = { ...cache.counts };
  const steady = { route: "/a", ok: true, n: 3, d: 2.5, none: null, u: undefined, z: -0 };
  cached(cache, steady, 1);
  cached(cache, { ...steady }, 1);
  cached(cache, steady, 1);
  assert.equal(cache.counts.hits - counts.hits, 2, "the same pairs are found again");
  cached(cache, { nan: NaN }, 2);
  cached(cache, { nan: NaN }, 2);
  cached(cache, { list: [1] }, 3);
  cached(cache, { list: [1] }, 3);
  assert.equal(cache.counts.hits - counts.hits, 2, "NaN and nested values are never remembered");
  // -0 and 0 are === and encode alike (int 0)
  cached(cache, { z: 0 }, 4);
  assert.equal(hex(cached(cache, { z: -0 }, 4).bytes), hex(official({ z: -0 })));
  assert.equal(cache.counts.hits - counts.hits, 3);
  // positions are taken densely (as the SDK's dataPoints are): a gap is not cached
  const before = cache.entries;
  cached(cache, { a: 1 }, before + 3);
  assert.equal(cache.entries, before);
});

test("attributes: a set mutated in place, or another set at the same position, is written afresh", () => {
  const cache = new AttributeSetCache();
  const a: Record<string, unknown> = { route: "/a", method: "GET" };
  const write = (attrs: unknown, index = 0) => hex(cached(cache, attrs, index).bytes);
  assert.equal(write(a), hex(official(a)));
  a.method = "POST"; // same object, new value
  assert.equal(write(a), hex(official(a)));
  a.extra = 1; // a key added
  assert.equal(write(a), hex(official(a)));
  delete a.route; // a key removed
  assert.equal(write(a), hex(official(a)));
  const reordered = { extra: 1, method: "POST" }; // same pairs, other order: other bytes
  assert.equal(write(reordered), hex(official(reordered)));
  assert.equal(
    write({ method: "POST", extra: "1" }),
    hex(official({ method: "POST", extra: "1" })),
  );
  // the tag is part of what is validated
  assert.equal(
    hex(cached(cache, { method: "POST", extra: "1" }, 0, 9).bytes),
    hex(official({ method: "POST", extra: "1" }, 9)),
  );
});

test("attributes: memory is bounded by positions, not by distinct values (a million values)", () => {
  const cache = new AttributeSetCache();
  const w = new ProtoWriter(new Uint8Array(4096));
  const drops = emptyDropCounts();
  const positions = 1000;
  let maxEntries = 0, maxBytes = 0;
  for (let i = 0; i < 1_000_000; i++) {
    w.reset(0);
    cache.write(w, { "request.id": `req-${i}`, n: i }, 7, drops, i % positions);
    if (i % 50_000 === 0) {
      maxEntries = Math.max(maxEntries, cache.entries);
      maxBytes = Math.max(maxBytes, cache.bytes);
    }
  }
  assert.equal(cache.entries, positions, "one entry per position");
  assert.ok(cache.bytes <= positions * 128, `${cache.bytes} bytes for ${positions} positions`);
  assert.equal(maxEntries, positions);
  assert.ok(cache.bytes <= maxBytes * 2);
  // positions past the bound are encoded without a slot
  w.reset(0);
  cache.write(w, { a: 1 }, 7, drops, MAX_CACHED_POSITIONS + 5);
  assert.equal(cache.entries, positions);
  assert.equal(hex(w.buf.slice(0, w.pos)), hex(official({ a: 1 })));
});

test("attributes: values OTLP has no type for are dropped and counted as unsupported", () => {
  class Custom {
    x = 1;
  }
  const unsupported: Record<string, unknown> = {
    date: new Date(0),
    regexp: /x/g,
    map: new Map([["k", "v"]]),
    set: new Set([1]),
    promise: Promise.resolve(1),
    error: new Error("e"),
    boxedString: new String("s"),
    boxedNumber: new Number(1),
    boxedBoolean: new Boolean(true),
    arrayBuffer: new ArrayBuffer(4),
    dataView: new DataView(new ArrayBuffer(4)),
    int8: new Int8Array(2),
    uint16: new Uint16Array(2),
    float64: new Float64Array(2),
    clamped: new Uint8ClampedArray(2),
    bigInt64: new BigInt64Array(1),
    instance: new Custom(),
    withProto: Object.create({ p: 1 }),
    fn: () => 1,
    symbol: Symbol("s"),
    bigOver: 2n ** 63n,
    bigUnder: -(2n ** 63n) - 1n,
  };
  for (const [name, value] of Object.entries(unsupported)) {
    const r = plain({ keep: "yes", [name]: value, [`nested.${name}`]: [value, 1] });
    assert.deepEqual(r.drops, { unsupported: 2, tooDeep: 0, cyclic: 0 }, name);
    assert.equal(hex(r.bytes), hex(official({ keep: "yes", [`nested.${name}`]: [1] })), name);
  }
  // bigints within int64 are ints
  assert.equal(hex(plain({ b: -5n }).bytes), hex(official({ b: -5 })));
  assert.equal(hex(plain({ b: 2n ** 63n - 1n }).bytes).length > 0, true);
  // promise rejections are not left unhandled by looking at them
  void unsupported.promise;
});

test("attributes: nesting deeper than the limit is dropped and counted", () => {
  let deep: unknown = "bottom";
  for (let i = 0; i < MAX_ATTRIBUTE_DEPTH + 4; i++) deep = [deep];
  const r = plain({ deep, after: "kept" });
  assert.equal(r.drops.tooDeep, 1);
  let cut: unknown = [];
  for (let i = 0; i < MAX_ATTRIBUTE_DEPTH - 1; i++) cut = [cut];
  assert.equal(hex(r.bytes), hex(official({ deep: cut, after: "kept" })));
});

test("attributes: cycles are cut at the repeating reference, counted, in linear work", () => {
  // an object with 3 self-references
  const o: Record<string, unknown> = { a: 1 };
  o.s1 = o;
  o.s2 = o;
  o.s3 = o;
  let r = plain({ o, after: "kept" });
  assert.deepEqual(r.drops, { unsupported: 0, tooDeep: 0, cyclic: 3 });
  assert.equal(hex(r.bytes), hex(official({ o: { a: 1 }, after: "kept" })));
  // the attributes object itself, and an array holding itself
  const self: Record<string, unknown> = { name: "x" };
  self.me = self;
  const list: unknown[] = [1];
  list.push(list, { back: list });
  r = plain({ ...self, me: self, list });
  assert.equal(r.drops.cyclic, 3); // self.me, list in list, back
  assert.equal(
    hex(r.bytes),
    hex(official({ name: "x", me: { name: "x" }, list: [1, {}] })),
  );
  // a shared object that is not a cycle is written each time it appears, as officially
  const shared = { s: 1 };
  assert.equal(
    hex(plain({ a: [shared, shared], b: shared }).bytes),
    hex(official({ a: [shared, shared], b: shared })),
  );
});

/** A DAG of `depth` levels, each node referring `fan` times to the one below. */
function dag(depth: number, fan: number, asArrays: boolean): unknown {
  let node: unknown = { leaf: "x".repeat(8) };
  for (let i = 0; i < depth; i++) {
    const n = node;
    node = asArrays
      ? Array.from({ length: fan }, () => n)
      : Object.fromEntries(Array.from({ length: fan }, (_, k) => [`k${k}`, n]));
  }
  return node;
}

test("attributes: a 3-way shared DAG 30 levels deep stops at the writer's home buffer", () => {
  for (const asArrays of [false, true]) {
    const home = 8192;
    const r = plain({ dag: dag(30, 3, asArrays), after: "x" }, 7, emptyDropCounts(), home);
    // 3^16 leaves would be tens of MB: the encoding stops once past the home buffer
    assert.equal(r.writer.spilled, true);
    assert.ok(r.writer.pos < 2 * home, `stopped at ${r.writer.pos} bytes`);
  }
});

test("attributes: a DAG or cycle through the exporter: dropped as oversize and counted, exporter goes on", () => {
  const sink = new MemorySink({ maxPayloadSize: 4048 });
  const exporter = new NativeMetricsExporter({ sink });
  const o: Record<string, unknown> = { a: 1 };
  o.s1 = o;
  o.s2 = o;
  o.s3 = o;
  const rm = resourceMetrics({
    metrics: [
      gauge("g", [point(1, { dag: dag(30, 3, false) }), point(2, { o }), point(3, { ok: 1 })]),
    ],
  });
  exporter.export(rm, () => {});
  const s = exporter.stats;
  assert.equal(s.pointsDropped.oversize, 1, "the DAG point");
  assert.equal(s.eventsWritten, 2);
  assert.equal((s.attributeValuesDropped as unknown as AttributeDropCounts).cyclic, 3);
  const points = sink.take().map((e) => flattenRequest(decodeMetricsPayload(e))[0]!);
  assert.deepEqual(points.map((p) => p.attributes), [{ o: { a: 1n } }, { ok: 1n }]);
});

test("attributes that are not an object: exactly what the official serializer writes", async () => {
  // Directly: for…in over the value, as the official writer does.
  for (const value of [42, "ab", "", true, false, 0, null, undefined, 7n, Symbol("s")]) {
    assert.equal(hex(plain(value).bytes), hex(official(value)), String(value));
    const cache = new AttributeSetCache();
    assert.equal(hex(cached(cache, value).bytes), hex(official(value)), String(value));
    assert.equal(hex(cached(cache, value).bytes), hex(official(value)), String(value));
  }
  // Through the real SDK (which accepts them) and the exporter, against the whole serializer.
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  const counter = provider.getMeter("m").createCounter("c");
  counter.add(1, 42 as never);
  counter.add(2, "ab" as never);
  counter.add(3, true as never);
  counter.add(4, { ok: 1 });
  const { resourceMetrics: rm } = await reader.collect();
  await provider.shutdown();
  const sink = new MemorySink();
  const exporter = new NativeMetricsExporter({ sink });
  let code = -1;
  exporter.export(rm, (r) => (code = r.code));
  assert.equal(code, 0);
  assert.equal(exporter.stats.pointsDropped.encodeError, 0);
  const ours = sink.take().map((e) => flattenRequest(decodeMetricsPayload(e))[0]!);
  const theirs = flattenRequest(
    decodeMetricsPayload(ProtobufMetricsSerializer.serializeRequest(rm)!),
  );
  assert.deepEqual(ours, theirs);
  assert.ok(ours.some((p) => (p.attributes as any)["1"] === "b"), "a string's characters");
  // null (the SDK refuses it at record time; a hand-made point may carry it)
  const handMade = resourceMetrics({ metrics: [gauge("g", [point(1, null), point(2, 5)])] });
  exporter.export(handMade, (r) => (code = r.code));
  assert.equal(code, 0);
  const events = sink.take();
  assert.equal(events.length, 2);
  for (const [i, event] of events.entries()) {
    const want = ProtobufMetricsSerializer.serializeRequest(singlePoint(handMade, 0, 0, i))!;
    assert.equal(hex(event), hex(want), `point ${i}`);
  }
});
