/**
 * Byte-for-byte check of the hot path against a baseline copy of the library (by default
 * an earlier commit, extracted by `bench/verify.sh`): both
 * exporters get the very same `ResourceMetrics` objects, in the same order, and every event
 * they write through their own `UserEventsWriter` into a pipe is read back and compared,
 * header included, as are the exporters' stats and export results. The data: hand-made edge
 * cases (tests/edge_cases.ts: every attribute value type, unicode, limits, oversize points; a
 * listener leaving mid-export) and real SDK collections (steady and fresh attributes, delta and cumulative,
 * several cycles on the same exporters so every cache and policy path is taken).
 *
 * Run: `bash bench/verify.sh` (both runtimes), or
 * `bun bench/verify.ts <baseline-dir>` / `deno run -A bench/verify.ts <baseline-dir>`.
 *
 * @module
 */
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { errno, libc } from "../ffi/mod.ts";
import { decodeMetricsPayload, parseUserEventsWrite } from "../src/decode.ts";
import { edgeResourceMetrics } from "../tests/edge_cases.ts";
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

/**
 * `stats` without the counters `baseline` does not have while they are zero (counters added
 * since, such as `attributeValuesDropped.cyclic`, must stay zero on this data).
 */
function withoutNewZeros(stats: unknown, baseline: unknown): unknown {
  if (typeof stats !== "object" || stats === null) return stats;
  const base = (baseline ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const top = stats as Record<string, unknown>;
  for (const [k, v] of Object.entries(stats)) {
    if (!(k in base) && allZero(v)) continue;
    // one point per event (no packing here): pointsWritten, added since, equals eventsWritten
    if (!(k in base) && k === "pointsWritten" && v === top.eventsWritten) continue;
    out[k] = typeof v === "object" ? withoutNewZeros(v, base[k]) : v;
  }
  return out;
}

function allZero(v: unknown): boolean {
  if (v === 0) return true;
  return typeof v === "object" && v !== null && Object.values(v).every(allZero);
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
  const sa = JSON.stringify(p.old.exporter.stats);
  const sb = JSON.stringify(withoutNewZeros(p.cur.exporter.stats, p.old.exporter.stats));
  if (sa !== sb) fail(p, `stats\n  ${sa}\n  ${sb}`);
  // Every event must also decode (a sanity check of the comparison itself).
  for (const e of b.slice(0, 50)) {
    decodeMetricsPayload(p.cur.sink.headroom ? parseUserEventsWrite(e).payload : e);
  }
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
