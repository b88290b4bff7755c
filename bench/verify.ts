/**
 * Byte-for-byte check of the hot path against a baseline copy of the library (by default
 * commit 13792a2, from before the performance work, extracted by `bench/verify.sh`): both
 * exporters get the very same `ResourceMetrics` objects, in the same order, and every event
 * they write through their own `UserEventsWriter` into a pipe is read back and compared,
 * header included, as are the exporters' stats and export results. The data: hand-made edge
 * cases (every attribute value type, unicode, limits, oversize points, a listener leaving
 * mid-export) and real SDK collections (steady and fresh attributes, delta and cumulative,
 * several cycles on the same exporters so every cache and policy path is taken).
 *
 * Run: `bash bench/verify.sh` (both runtimes), or
 * `bun bench/verify.ts <baseline-dir>` / `deno run -A bench/verify.ts <baseline-dir>`.
 *
 * @module
 */
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { errno, libc } from "../ffi/mod.ts";
import { decodeMetricsPayload, parseUserEventsWrite } from "../src/decode.ts";
import { Workload } from "./workload.ts";

type Exporter = {
  export(rm: ResourceMetrics, cb: (r: { code: number; error?: Error }) => void): void;
  readonly stats: unknown;
};
type WriterModule = {
  UserEventsWriter: new (fd: number, index: number, max: number) => {
    staging: Uint8Array;
    arena: { bytes: Uint8Array };
    writeEvent(start: number, end: number): number;
  };
};
type ExporterModule = { NativeMetricsExporter: new (o: { sink: unknown }) => Exporter };

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const baselineDir = args[0];
if (!baselineDir) throw new Error("usage: verify.ts <baseline-dir>");
const baseline = baselineDir.replace(/\/$/, "");

const oldWriter = (await import(`${baseline}/src/sinks/user_events/sink.ts`)) as WriterModule;
const oldExporter = (await import(`${baseline}/src/exporter.ts`)) as ExporterModule;
const newWriter = (await import("../src/sinks/user_events/sink.ts")) as unknown as WriterModule;
const newExporter = (await import("../src/exporter.ts")) as unknown as ExporterModule;

/** A sink writing through a `UserEventsWriter` into a pipe; every event is read back. */
class PipeSink {
  readonly kind = "pipe";
  readonly headroom = 20;
  readonly maxPayloadSize: number;
  readonly staging: Uint8Array;
  readonly events: Uint8Array[] = [];
  enabled = true;
  /** Turn the listener off after this many writes (-1: never). */
  offAfter = -1;
  readonly #writer: InstanceType<WriterModule["UserEventsWriter"]>;
  readonly #readFd: number;
  readonly #buf = new Uint8Array(new ArrayBuffer(1 << 17));

  constructor(module: WriterModule, maxPayloadSize: number) {
    const fds = new Int32Array(2);
    if (libc().pipe(fds) !== 0) throw new Error(`pipe failed: ${errno()}`);
    this.#readFd = fds[0]!;
    this.maxPayloadSize = maxPayloadSize;
    this.#writer = new module.UserEventsWriter(fds[1]!, 7, maxPayloadSize);
    this.staging = this.#writer.staging;
  }
  isEnabled(): boolean {
    return this.enabled;
  }
  write(start: number, end: number): number {
    // Older writers return the bytes written or -errno; current ones 0 or the errno.
    const rc = this.#writer.writeEvent(start, end);
    const n = end - start + 20;
    if (rc !== 0 && rc !== n) throw new Error(`writev failed: ${rc}`);
    const got = libc().read(this.#readFd, this.#buf, BigInt(this.#buf.length));
    if (got !== n) throw new Error(`read back ${got} of ${n} bytes`);
    this.events.push(this.#buf.slice(0, got));
    if (this.offAfter >= 0 && this.events.length >= this.offAfter) this.enabled = false;
    return 0;
  }
  describeError(code: number): string {
    return `error ${code}`;
  }
  shutdown(): void {}
}

/** A sink without headroom, as `MemorySink` (payload only). */
class HeapSink {
  readonly kind = "heap";
  readonly headroom = 0;
  readonly maxPayloadSize: number;
  readonly staging: Uint8Array;
  readonly events: Uint8Array[] = [];
  enabled = true;
  offAfter = -1;
  constructor(maxPayloadSize: number) {
    this.maxPayloadSize = maxPayloadSize;
    this.staging = new Uint8Array(new ArrayBuffer(2 * maxPayloadSize + 1024));
  }
  isEnabled(): boolean {
    return this.enabled;
  }
  write(start: number, end: number): number {
    this.events.push(this.staging.slice(start, end));
    if (this.offAfter >= 0 && this.events.length >= this.offAfter) this.enabled = false;
    return 0;
  }
  describeError(code: number): string {
    return `error ${code}`;
  }
  shutdown(): void {}
}

type AnySink = PipeSink | HeapSink;

interface Pair {
  name: string;
  old: { exporter: Exporter; sink: AnySink };
  cur: { exporter: Exporter; sink: AnySink };
}

function pair(name: string, kind: "pipe" | "heap", maxPayloadSize: number): Pair {
  const make = (w: WriterModule, e: ExporterModule) => {
    const sink = kind === "pipe" ? new PipeSink(w, maxPayloadSize) : new HeapSink(maxPayloadSize);
    return { exporter: new e.NativeMetricsExporter({ sink }), sink };
  };
  return { name, old: make(oldWriter, oldExporter), cur: make(newWriter, newExporter) };
}

let compared = 0, failures = 0, totalBytes = 0;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fail(p: Pair, message: string): void {
  failures++;
  if (failures <= 20) console.error(`MISMATCH [${p.name}] ${message}`);
}

/** Exports `rm` through both, then compares everything written and counted. */
function run(p: Pair, rm: ResourceMetrics, offAfter = -1): void {
  const results: string[] = [];
  for (const side of [p.old, p.cur]) {
    side.sink.offAfter = offAfter < 0 ? -1 : side.sink.events.length + offAfter;
    side.sink.enabled = true;
    side.exporter.export(rm, (r) => results.push(`${r.code}:${r.error?.message ?? ""}`));
  }
  if (results[0] !== results[1]) fail(p, `results ${results[0]} vs ${results[1]}`);
  const a = p.old.sink.events.splice(0), b = p.cur.sink.events.splice(0);
  if (a.length !== b.length) fail(p, `${a.length} vs ${b.length} events`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    compared++;
    totalBytes += a[i]!.length;
    if (!equalBytes(a[i]!, b[i]!)) fail(p, `event ${i}: ${a[i]!.length} vs ${b[i]!.length} bytes`);
  }
  const sa = JSON.stringify(p.old.exporter.stats), sb = JSON.stringify(p.cur.exporter.stats);
  if (sa !== sb) fail(p, `stats\n  ${sa}\n  ${sb}`);
  // Every event must also decode (a sanity check of the comparison itself).
  for (const e of b.slice(0, 50)) {
    decodeMetricsPayload(p.cur.sink.headroom ? parseUserEventsWrite(e).payload : e);
  }
}

// ---------------------------------------------------------------------------------------
// Edge-case data in the SDK's shapes (hand-made on purpose: values the SDK can hand through).

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
let deep: unknown = "bottom";
for (let i = 0; i < 20; i++) deep = [deep];
const sharedAttrs = { "shared.key": "same object on several points", n: 3 };
const longAscii = "x".repeat(300);
const veryLong = "y".repeat(20_000);
const unicode = "héllo wörld ✓ 日本語 😀 \ud800 lone \udc00 end";

const attributeSets: Record<string, unknown>[] = [
  {},
  { s: "a", b: true, f: false, i: 42, neg: -7, d: 3.25 },
  { big: 2 ** 53, big2: 2 ** 62, over: 2 ** 63, under: -(2 ** 63), min: -(2 ** 63) + 4096 },
  { negzero: -0, nan: NaN, inf: Infinity, ninf: -Infinity, tiny: 5e-324 },
  { bi: 123n, bineg: -5n, bibig: 2n ** 63n - 1n, biover: 2n ** 63n, biunder: -(2n ** 63n) - 1n },
  { bytes: new Uint8Array([0, 1, 255]), empty: new Uint8Array(0), str: "" },
  { arr: [1, "two", true, null, undefined, [3.5, [4]], { k: "v" }], emptyArr: [] },
  { obj: { nested: { deeper: { x: 1, y: [1, 2] } }, e: {} }, nul: null, und: undefined },
  { fn: () => 1, sym: Symbol("s"), ok: "kept" },
  { cyclic, deep, after: "still here" },
  { [unicode]: unicode, ascii: longAscii, "ключ": "значение" },
  { long: veryLong },
  sharedAttrs,
  Object.assign(Object.create({ inherited: "not own" }), { own: "yes" }),
];

const T0: [number, number] = [1_760_000_000, 123_456_789];
const T1: [number, number] = [1_760_000_060, 987_654_321];
const T2: [number, number] = [4_294_967_296 + 17, 999_999_999];

// Descriptors, resources, scopes and histogram bounds are shared between the variants, as the
// SDK shares them between collections: cached envelopes and bounds must notice what changed.
const descriptors = new Map<string, object>();
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

function edgeResourceMetrics(variant: number): ResourceMetrics {
  const points = <T>(value: (i: number) => T) =>
    attributeSets.map((attributes, i) => ({
      startTime: i % 2 ? T0 : ([...T0] as [number, number]),
      endTime: i % 3 ? T1 : T2,
      attributes,
      value: value(i),
      ...(i === 4 ? { flags: 1 } : {}),
    }));
  const numbers = [
    0,
    1,
    -1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    1e300,
    -0.5,
    123.456,
  ];
  const histogram = (bounds: number[]) => (i: number) => ({
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
    ...(i === 6 ? { zeroThreshold: 0.001 } : {}),
  });
  const temporality = variant % 2
    ? AggregationTemporality.CUMULATIVE
    : AggregationTemporality.DELTA;
  const resource = variant === 2 ? PLAIN_RESOURCE : RESOURCE;
  return {
    resource: resource as ResourceMetrics["resource"],
    scopeMetrics: [
      {
        scope: variant === 3 ? SCOPE_WITH_SCHEMA : SCOPE,
        metrics: [
          {
            descriptor: descriptor("int.sum", 0, "an int sum", "{x}"),
            aggregationTemporality: temporality,
            dataPointType: 3,
            isMonotonic: variant !== 3,
            dataPoints: points((i) =>
              numbers[i % numbers.length]! | 0 || numbers[i % numbers.length]!
            ),
          },
          {
            descriptor: descriptor("double.sum.ü", 1),
            aggregationTemporality: temporality,
            dataPointType: 3,
            isMonotonic: false,
            dataPoints: points((i) => numbers[i % numbers.length]!),
          },
          {
            descriptor: descriptor("gauge", 1, "", "Cel"),
            aggregationTemporality: temporality,
            dataPointType: 2,
            dataPoints: points((i) => numbers[(i + 3) % numbers.length]!),
          },
          {
            descriptor: descriptor("int.gauge", 0, "descr"),
            aggregationTemporality: temporality,
            dataPointType: 2,
            dataPoints: points((i) => Math.trunc(numbers[(i + 5) % numbers.length]! % 2 ** 60)),
          },
          {
            descriptor: descriptor("histogram", 1, "h", "ms"),
            aggregationTemporality: temporality,
            dataPointType: 0,
            dataPoints: points(histogram(BOUNDS_A)),
          },
          {
            descriptor: descriptor("histogram.b", 1),
            aggregationTemporality: temporality,
            dataPointType: 0,
            dataPoints: points(histogram(BOUNDS_B)),
          },
          {
            descriptor: descriptor("exp", 1, "", "By"),
            aggregationTemporality: temporality,
            dataPointType: 1,
            dataPoints: points(exponential),
          },
          {
            descriptor: descriptor("empty", 1),
            aggregationTemporality: temporality,
            dataPointType: 3,
            isMonotonic: true,
            dataPoints: [],
          },
        ],
      },
      {
        scope: SECOND_SCOPE,
        metrics: [{
          descriptor: descriptor("second.gauge", 1),
          aggregationTemporality: temporality,
          dataPointType: 2,
          dataPoints: points((i) => i / 3),
        }],
      },
      // deno-lint-ignore no-explicit-any
    ] as any,
  };
}

// ---------------------------------------------------------------------------------------

const pairs = [
  pair("pipe-4048", "pipe", 4048),
  pair("pipe-8168", "pipe", 8168),
  pair("pipe-300", "pipe", 300),
  pair("heap-4048", "heap", 4048),
  pair("heap-100", "heap", 100),
];

for (const p of pairs) {
  for (let v = 0; v < 4; v++) {
    const rm = edgeResourceMetrics(v);
    run(p, rm);
    run(p, rm); // again: every cache hit
    run(p, rm, 17); // the listener leaves mid-export
  }
}

// The real SDK: steady and fresh attributes, delta and cumulative, several cycles on the same
// exporters, so caches see the same series again and new objects for old series.
for (const attributes of ["steady", "fresh"] as const) {
  for (const temporality of [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]) {
    const wl = new Workload({ points: 2_000, attributes, temporality, samples: 3 });
    const ps = [
      pair(`sdk-${attributes}-${temporality}`, "pipe", 4048),
      pair("sdk-heap-200", "heap", 200),
    ];
    for (let cycle = 0; cycle < 4; cycle++) {
      const rm = await wl.cycle();
      for (const p of ps) run(p, rm);
    }
    await wl.shutdown();
  }
}

// The same series in another order (the SDK's order can change between delta collections):
// the cache must not take a position for a series.
function rotated(rm: ResourceMetrics, by: number): ResourceMetrics {
  return {
    resource: rm.resource,
    scopeMetrics: rm.scopeMetrics.map((s) => ({
      scope: s.scope,
      metrics: s.metrics.map((m) => {
        const n = m.dataPoints.length;
        const points = m.dataPoints.map((_, i) => m.dataPoints[(i + by) % n]!);
        return { ...m, dataPoints: points } as typeof m;
      }),
    })),
  };
}
{
  const wl = new Workload({ points: 2_000, attributes: "steady", samples: 2 });
  const ps = [pair("sdk-reordered", "pipe", 4048), pair("edge-reordered", "heap", 4048)];
  for (let cycle = 0; cycle < 5; cycle++) {
    const rm = await wl.cycle();
    run(ps[0]!, rotated(rm, cycle * 7));
    run(ps[1]!, rotated(edgeResourceMetrics(cycle % 4), cycle * 3));
  }
  await wl.shutdown();
}

// Fresh attributes, then steady ones, on the same exporters: the cache stops caching every set
// and starts again.
{
  const fresh = new Workload({ points: 1_000, attributes: "fresh", samples: 2 });
  const steady = new Workload({ points: 1_000, attributes: "steady", samples: 2 });
  const p = pair("sdk-fresh-then-steady", "pipe", 4048);
  for (let cycle = 0; cycle < 4; cycle++) run(p, await fresh.cycle());
  for (let cycle = 0; cycle < 4; cycle++) run(p, await steady.cycle());
  await fresh.shutdown();
  await steady.shutdown();
}

const runtimeName = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
console.log(
  `${runtimeName}: compared ${compared} events (${totalBytes} bytes) against ${baseline}: ` +
    (failures === 0 ? "identical" : `${failures} MISMATCHES`),
);
if (failures > 0) (globalThis as unknown as { process: { exit(c: number): void } }).process.exit(1);
