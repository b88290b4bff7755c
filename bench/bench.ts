/**
 * The benchmark. One command per runtime; it prints a summary of the targets. Only a full run
 * (`--save`, which `bash bench/run.sh` / `npm run bench` passes when it runs both runtimes)
 * writes `bench/results/<runtime>.json` and regenerates `bench/RESULTS.md`, so iterating on one
 * runtime leaves the committed results alone:
 *
 *     bun bench/bench.ts                                   # one runtime, summary only
 *     deno run -A --v8-flags=--expose-gc bench/bench.ts
 *     bash bench/run.sh                                    # both, saved; = npm run bench
 *
 * What it measures, all on `ResourceMetrics` collected from the real SDK (see workload.ts):
 * 1. encode only: our per-point events (exporter over a sink that writes nothing) vs
 *    `ProtobufMetricsSerializer.serializeRequest` of @opentelemetry/otlp-transformer;
 * 2. encode + write: the exporter over /dev/null through the real FFI `writev` path, vs a C loop
 *    (floor.c, built here with gcc) writing the very same events with the same iovecs;
 * 3. nobody listens: the cost of an export call while the enable word is 0;
 * 4. heap and RSS over 1,000 export cycles (record, collect, export);
 * 5. packing: the exporter with `pointsPerEvent: "max"` vs one point per event, encode + writev
 *    to /dev/null; events, events/s and ftrace ring-buffer pages (ring_buffer.ts) per 10,000
 *    points; the packed events checked to decode to exactly the per-point events' points;
 * 6. what a user would pick instead: `@opentelemetry/exporter-metrics-otlp-proto` exporting to
 *    a loopback OTLP/HTTP receiver in another process (otlp_receiver.ts), in-process CPU per
 *    point (`process.cpuUsage()`), ours (encode + writev) ÷ theirs.
 * Three attribute modes (see workload.ts): the same objects (`steady`), new objects with
 * repeating values (`fresh`) and new objects with never-seen string values (`unique`). Timed sections alternate within each repetition, so the
 * ratios compare numbers taken seconds apart; reported values are medians over repetitions.
 *
 * Environment knobs: BENCH_REPS (default 21), BENCH_HEAP_CYCLES (default 1000),
 * BENCH_HEAP_POINTS (default 1000), BENCH_SETTLE_GC=1 (force a collection before each timed
 * section; off by default, see stats.ts), BENCH_SECTIONS (comma-separated subset of
 * heap,modes,types,silent,otlp; default all; a partial run is never saved).
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { NativeMetricsExporter } from "../src/exporter.ts";
import { decodeMetricsPayload, flattenRequest, parseUserEventsWrite } from "../src/decode.ts";
import { EVENT_HEADER_SIZE, FTRACE_PAYLOAD_LIMIT } from "../src/sinks/user_events/abi.ts";
import { RESULTS_FORMAT, summaryLines, writeReport } from "./report.ts";
import { PAGE_DATA_SIZE, pagesFor, ringEventSize } from "./ring_buffer.ts";
import { CaptureSink, DiscardSink, NullSink } from "./sinks.ts";
import {
  environment,
  gcAvailable,
  memoryAfterGc,
  robustFit,
  runtimeName,
  settleGc,
  summarize,
  type Summary,
} from "./stats.ts";
import { type AttributeMode, Workload } from "./workload.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPS = Number(process.env.BENCH_REPS ?? 21);
const WARMUP = 6; // repetitions before measuring: JIT tiers settle after about five
const HEAP_CYCLES = Number(process.env.BENCH_HEAP_CYCLES ?? 1000);
const HEAP_POINTS = Number(process.env.BENCH_HEAP_POINTS ?? 1000);
const POINTS = 10_000;
const SAVE = process.argv.includes("--save") ||
  ((globalThis as { Deno?: { args: string[] } }).Deno?.args ?? []).includes("--save");
const ALL_SECTIONS = ["heap", "modes", "types", "silent", "otlp"] as const;
const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? ALL_SECTIONS.join(",")).split(",").map((x) => x.trim()),
);
const FULL = ALL_SECTIONS.every((x) => SECTIONS.has(x));

const log = (message: string) => process.stderr.write(`[${runtimeName}] ${message}\n`);

const okCallback = (result: { code: number; error?: Error }) => {
  if (result.code !== 0) throw new Error(`export failed: ${result.error?.message}`);
};

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------
// The C floor

const BUILD_DIR = join(os.tmpdir(), "otel-native-metrics-bench");

function buildFloor(): string {
  mkdirSync(BUILD_DIR, { recursive: true });
  const source = join(BENCH_DIR, "floor.c");
  const binary = join(BUILD_DIR, "floor");
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    execFileSync("gcc", ["-O2", "-Wall", "-o", binary, source]);
  }
  return binary;
}

function writeEventsFile(events: Uint8Array[]): string {
  let total = 0;
  for (const e of events) total += 4 + e.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of events) {
    view.setUint32(at, e.length, true);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  const file = join(BUILD_DIR, `events-${runtimeName}.bin`);
  writeFileSync(file, out);
  return file;
}

function runFloor(binary: string, file: string, passes: number): number[] {
  const out = execFileSync(binary, [file, String(passes)], { encoding: "utf8" });
  return (JSON.parse(out) as { wall_ns: number[] }).wall_ns;
}

// ---------------------------------------------------------------------------------------
// 1 + 2 + 5: encode only, encode + write, packing

interface ModeResult {
  attributes: AttributeMode;
  points: number;
  official: Summary; // ms per collection
  encode: Summary; // ms per collection, ours, nothing written
  encodeRatio: Summary; // ours / official, per repetition
  write: Summary; // ns per point, ours, encode + writev to /dev/null
  writevOnly?: Summary; // ns per event, JS writev of ready events (no encoding)
  floor?: Summary; // ns per event, C
  writeRatio?: Summary; // ours / C, per repetition
  packed?: Summary; // ns per point, exporter with pointsPerEvent "max", encode + writev
  packing?: PackingResult; // steady only
  perPointEvents: number; // events of one export, one point per event
  perPointBytes: number;
  officialBytes: number;
}

/** One way of writing a collection: its events, their cost in the ring buffer, its speed. */
interface PackingShape {
  /** Events of one export of the collection. */
  events: number;
  /** Payload bytes per event, mean. */
  payloadBytes: number;
  /** ftrace ring-buffer bytes of all its events (see ring_buffer.ts). */
  ringBytes: number;
  /** 4,096-byte ring-buffer pages its events fill, from an empty page (see ring_buffer.ts). */
  pages: number;
  /** Per 10,000 points: events and pages. */
  eventsPer10k: number;
  pagesPer10k: number;
  /** Median ns per point of the export (encode + writev), and what it makes per second. */
  nsPerPoint: number;
  eventsPerSecond: number;
  pointsPerSecond: number;
}

/** Packed (`pointsPerEvent: "max"`) against one point per event, on one collection. */
interface PackingResult {
  points: number;
  /** The sink's `maxPayloadSize`. */
  limit: number;
  perPoint: PackingShape;
  packed: PackingShape;
  /** The packed events decode to exactly the per-point events' points, in order. */
  samePoints: boolean;
  /** Packed events over `limit` (must be 0). */
  overLimit: number;
  /** The exporter's stats agree with what the sink received (events, points). */
  statsAgree: boolean;
  /** All three. */
  identical: boolean;
}

async function measureMode(
  attributes: AttributeMode,
  floor: { binary: string; file: string } | undefined,
): Promise<ModeResult> {
  const workload = new Workload({ points: POINTS, attributes });
  const discard = new DiscardSink();
  const encodeExporter = new NativeMetricsExporter({ sink: discard });
  const nullSink = new NullSink();
  const writeExporter = new NativeMetricsExporter({ sink: nullSink });
  const packSink = new NullSink();
  const packExporter = new NativeMetricsExporter({ sink: packSink, pointsPerEvent: "max" });
  const writer = new NullSink();
  const official: number[] = [], encode: number[] = [], encodeRatio: number[] = [];
  const write: number[] = [], writevOnly: number[] = [], floorNs: number[] = [];
  const writeRatio: number[] = [], packed: number[] = [];
  let officialBytes = 0;
  let perPointEvents = 0;
  let eventLengths: number[] = [];
  let last: ResourceMetrics | undefined;
  for (let rep = -WARMUP; rep < REPS; rep++) {
    const rm = await workload.cycle();
    last = rm;
    const points = Workload.countPoints(rm);
    if (points !== POINTS) throw new Error(`collected ${points} points, expected ${POINTS}`);
    let tOfficial = 0, tEncode = 0;
    const runOfficial = () => {
      settleGc();
      tOfficial = time(() => {
        officialBytes = ProtobufMetricsSerializer.serializeRequest(rm)!.length;
      });
    };
    const runOurs = () => {
      settleGc();
      const before = encodeExporter.stats.eventsWritten;
      tEncode = time(() => encodeExporter.export(rm, okCallback));
      if (encodeExporter.stats.eventsWritten - before !== points) throw new Error("points lost");
    };
    if (rep % 2 === 0) {
      runOfficial();
      runOurs();
    } else {
      runOurs();
      runOfficial();
    }
    let tWrite = 0, tPack = NaN;
    const runWrite = () => {
      settleGc();
      const before = writeExporter.stats.eventsWritten;
      tWrite = time(() => writeExporter.export(rm, okCallback));
      perPointEvents = writeExporter.stats.eventsWritten - before;
      if (perPointEvents !== points) throw new Error("not written");
    };
    const runPacked = () => {
      settleGc();
      const before = packExporter.stats.pointsWritten;
      tPack = time(() => packExporter.export(rm, okCallback));
      if (packExporter.stats.pointsWritten - before !== points) throw new Error("packed: lost");
    };
    // Packing is measured on the default (steady) attributes; the two alternate like §1's.
    if (attributes !== "steady") runWrite();
    else if (rep % 2 === 0) {
      runWrite();
      runPacked();
    } else {
      runPacked();
      runWrite();
    }
    if (rep < 0) continue;
    official.push(tOfficial);
    encode.push(tEncode);
    encodeRatio.push(tEncode / tOfficial);
    const writeNs = tWrite * 1e6 / points;
    write.push(writeNs);
    if (attributes === "steady") packed.push(tPack * 1e6 / points);
    if (floor) {
      if (eventLengths.length === 0) eventLengths = captureLengths(rm);
      // The same number of writev calls with the same lengths from JS, nothing encoded.
      const w = writer.writer;
      const start = EVENT_HEADER_SIZE + 512;
      settleGc();
      const tWritev = time(() => {
        for (let i = 0; i < eventLengths.length; i++) {
          w.writeEvent(start, start + eventLengths[i]! - EVENT_HEADER_SIZE);
        }
      });
      writevOnly.push(tWritev * 1e6 / eventLengths.length);
      const f = runFloor(floor.binary, floor.file, 1)[0]!;
      floorNs.push(f);
      writeRatio.push(writeNs / f);
    }
  }
  const result: ModeResult = {
    attributes,
    points: POINTS,
    official: summarize(official),
    encode: summarize(encode),
    encodeRatio: summarize(encodeRatio),
    write: summarize(write),
    perPointEvents,
    perPointBytes: Math.round(writeExporter.stats.bytesWritten / writeExporter.stats.eventsWritten),
    officialBytes,
  };
  if (floor) {
    result.writevOnly = summarize(writevOnly);
    result.floor = summarize(floorNs);
    result.writeRatio = summarize(writeRatio);
  }
  if (attributes === "steady") {
    result.packed = summarize(packed);
    // The events of the last timed collection, captured outside the timed sections.
    result.packing = checkPacking(last!, result.write.median, result.packed.median);
  }
  await workload.shutdown();
  for (const s of [discard, nullSink, packSink, writer]) s.shutdown();
  return result;
}

/** The payload lengths (with header) of one export of `rm`, through a capturing sink. */
function captureLengths(rm: ResourceMetrics): number[] {
  const sink = new CaptureSink();
  new NativeMetricsExporter({ sink }).export(rm, okCallback);
  sink.shutdown();
  return sink.events.map((e) => e.length);
}

// ---------------------------------------------------------------------------------------
// Per point type, encode only

interface TypeResult {
  type: string;
  metric: string;
  points: number;
  officialNsPerPoint: number;
  oursNsPerPoint: number;
  ratio: number;
  oursBytesPerEvent: number;
}

const TYPE_NAMES = ["histogram", "exponential histogram", "gauge", "sum"];

async function measureTypes(): Promise<TypeResult[]> {
  const workload = new Workload({ points: POINTS, attributes: "steady" });
  await workload.cycle();
  const rm = await workload.cycle();
  const results: TypeResult[] = [];
  const sink = new CaptureSink();
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      const sub: ResourceMetrics = {
        resource: rm.resource,
        scopeMetrics: [{ scope: scope.scope, metrics: [metric] }],
      };
      const exporter = new NativeMetricsExporter({ sink: new DiscardSink() });
      const official: number[] = [], ours: number[] = [];
      for (let rep = -2; rep < Math.max(5, Math.round(REPS / 2)); rep++) {
        settleGc();
        const a = time(() => ProtobufMetricsSerializer.serializeRequest(sub));
        settleGc();
        const b = time(() => exporter.export(sub, okCallback));
        if (rep >= 0) {
          official.push(a);
          ours.push(b);
        }
      }
      exporter.sink!.shutdown();
      sink.events.length = 0;
      new NativeMetricsExporter({ sink }).export(sub, okCallback);
      let bytes = 0;
      for (const e of sink.events) bytes += e.length - EVENT_HEADER_SIZE;
      const n = metric.dataPoints.length;
      const o = summarize(official).median, u = summarize(ours).median;
      results.push({
        type: TYPE_NAMES[metric.dataPointType] ?? String(metric.dataPointType),
        metric: metric.descriptor.name,
        points: n,
        officialNsPerPoint: o * 1e6 / n,
        oursNsPerPoint: u * 1e6 / n,
        ratio: u / o,
        oursBytesPerEvent: Math.round(bytes / n),
      });
    }
  }
  sink.shutdown();
  await workload.shutdown();
  return results;
}

// ---------------------------------------------------------------------------------------
// 3: nobody listens

interface SilentResult {
  points: number;
  nsPerCall: Summary;
}

async function measureSilent(): Promise<SilentResult[]> {
  const results: SilentResult[] = [];
  for (const points of [10, POINTS]) {
    const workload = new Workload({ points });
    const rm = await workload.cycle();
    const sink = new NullSink();
    sink.setEnabled(false);
    const exporter = new NativeMetricsExporter({ sink });
    const calls = 20_000;
    const samples: number[] = [];
    for (let rep = -WARMUP; rep < REPS; rep++) {
      settleGc();
      const t = time(() => {
        for (let i = 0; i < calls; i++) exporter.export(rm, okCallback);
      });
      if (rep >= 0) samples.push(t * 1e6 / calls);
    }
    const stats = exporter.stats;
    if (stats.eventsWritten !== 0) throw new Error("wrote while nobody listened");
    if (stats.pointsSkippedNoListener !== (REPS + WARMUP) * calls * points) {
      throw new Error("skipped points not counted");
    }
    results.push({ points: Workload.countPoints(rm), nsPerCall: summarize(samples) });
    sink.shutdown();
    await workload.shutdown();
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// 4: heap and RSS across export cycles

interface HeapSample {
  cycle: number;
  heapUsed: number;
  rss: number;
}

interface HeapRun {
  samples: HeapSample[];
  slope: number; // bytes per cycle, least squares
  residualStd: number;
  msPerCycle: number;
}

interface HeapResult {
  attributes: AttributeMode;
  cycles: number;
  pointsPerCycle: number;
  /** With the exporter: record, collect, export. */
  exported: HeapRun;
  /** The control: the same cycles without export (the SDK's own heap behaviour). */
  control: HeapRun;
  heapStart: number;
  heapEnd: number;
  heapGrowth: number;
  heapSlopePerCycle: number;
  /** Slope with the exporter minus the control's: what the exporter adds per cycle. */
  exporterSlopePerCycle: number;
  heapNoise: number;
  heapAllowed: number;
  rssStart: number;
  rssEnd: number;
  rssGrowth: number;
  flat: boolean;
  msPerCycle: number;
}

async function heapRun(attributes: AttributeMode, exporting: boolean): Promise<HeapRun> {
  const workload = new Workload({ points: HEAP_POINTS, attributes });
  const sink = new NullSink();
  const exporter = new NativeMetricsExporter({ sink });
  const cycle = async () => {
    const rm = await workload.cycle();
    if (exporting) exporter.export(rm, okCallback);
  };
  for (let i = 0; i < 20; i++) await cycle(); // warm-up: JIT, caches, SDK state
  const every = Math.max(1, Math.round(HEAP_CYCLES / 20));
  const samples: HeapSample[] = [];
  const take = (c: number) => samples.push({ cycle: c, ...memoryAfterGc() });
  take(0);
  let busy = 0;
  for (let c = 1; c <= HEAP_CYCLES; c++) {
    const t = performance.now();
    await cycle();
    busy += performance.now() - t;
    if (c % every === 0) take(c);
  }
  if (exporter.stats.eventsWritten !== (exporting ? (HEAP_CYCLES + 20) * HEAP_POINTS : 0)) {
    throw new Error("heap run lost points");
  }
  sink.shutdown();
  await workload.shutdown();
  const fit = robustFit(samples.map((s) => s.cycle), samples.map((s) => s.heapUsed));
  return {
    samples,
    slope: fit.slope,
    residualStd: fit.residualStd,
    msPerCycle: busy / HEAP_CYCLES,
  };
}

async function measureHeap(attributes: AttributeMode): Promise<HeapResult> {
  const control = await heapRun(attributes, false);
  const exported = await heapRun(attributes, true);
  // Flat: the heap of the exported run does not grow (its Theil–Sen slope, projected over the
  // run), or grows no more than the control's does (the SDK's or the engine's own drift). Within
  // the noise (twice the combined robust spread of both runs' samples around their lines), 1%
  // of the heap, or 64 KiB, whichever is largest: a leak of 100 bytes per cycle would project
  // past that over 1,000 cycles.
  const samples = exported.samples;
  const first = samples[0]!, last = samples[samples.length - 1]!;
  const heapNoise = 2 * Math.hypot(exported.residualStd, control.residualStd);
  const allowed = Math.max(heapNoise, 0.01 * first.heapUsed, 64 * 1024);
  const exporterSlope = exported.slope - control.slope;
  return {
    attributes,
    cycles: HEAP_CYCLES,
    pointsPerCycle: HEAP_POINTS,
    exported,
    control,
    heapStart: first.heapUsed,
    heapEnd: last.heapUsed,
    heapGrowth: last.heapUsed - first.heapUsed,
    heapSlopePerCycle: exported.slope,
    exporterSlopePerCycle: exporterSlope,
    heapNoise,
    heapAllowed: allowed,
    rssStart: first.rss,
    rssEnd: last.rss,
    rssGrowth: last.rss - first.rss,
    flat: Math.min(exported.slope, exporterSlope) * HEAP_CYCLES <= allowed,
    msPerCycle: exported.msPerCycle,
  };
}

// ---------------------------------------------------------------------------------------
// 5, packing: what the events of one collection are, packed and one point per event, and that
// the packed events carry exactly the points of the per-point events.

// The page rule against the kernel's measured limit (user-events.md §6: a 4,048-byte payload
// is delivered, 4,049 lost): the largest event fills a page exactly, one byte more fits none.
if (
  ringEventSize(FTRACE_PAYLOAD_LIMIT) !== PAGE_DATA_SIZE ||
  ringEventSize(FTRACE_PAYLOAD_LIMIT + 1) <= PAGE_DATA_SIZE
) throw new Error("ring_buffer.ts disagrees with the ftrace payload limit");

function checkPacking(rm: ResourceMetrics, perPointNs: number, packedNs: number): PackingResult {
  const points = Workload.countPoints(rm);
  const capture = (pointsPerEvent: number | "max") => {
    const sink = new CaptureSink();
    const exporter = new NativeMetricsExporter({ sink, pointsPerEvent });
    exporter.export(rm, okCallback);
    sink.shutdown();
    return { sink, stats: exporter.stats };
  };
  const single = capture(1), packedRun = capture("max");
  const limit = packedRun.sink.maxPayloadSize;
  const shape = (events: Uint8Array[], nsPerPoint: number): PackingShape => {
    const payloads = events.map((e) => e.length - EVENT_HEADER_SIZE);
    let bytes = 0, ringBytes = 0;
    for (const n of payloads) {
      bytes += n;
      ringBytes += ringEventSize(n);
    }
    const pages = pagesFor(payloads);
    const exportSeconds = nsPerPoint * points / 1e9;
    return {
      events: events.length,
      payloadBytes: Math.round(bytes / events.length),
      ringBytes,
      pages,
      eventsPer10k: events.length * 10_000 / points,
      pagesPer10k: pages * 10_000 / points,
      nsPerPoint,
      eventsPerSecond: events.length / exportSeconds,
      pointsPerSecond: points / exportSeconds,
    };
  };
  const flat = (events: Uint8Array[]) =>
    events.flatMap((e) => flattenRequest(decodeMetricsPayload(parseUserEventsWrite(e).payload)));
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x);
  const a = flat(single.sink.events), b = flat(packedRun.sink.events);
  const samePoints = a.length === points && json(a) === json(b);
  const overLimit = packedRun.sink.events.filter((e) => e.length - EVENT_HEADER_SIZE > limit)
    .length;
  const agree = (run: typeof single) =>
    run.stats.eventsWritten === run.sink.events.length && run.stats.pointsWritten === points;
  const statsAgree = agree(single) && agree(packedRun);
  return {
    points,
    limit,
    perPoint: shape(single.sink.events, perPointNs),
    packed: shape(packedRun.sink.events, packedNs),
    samePoints,
    overLimit,
    statsAgree,
    identical: samePoints && overLimit === 0 && statsAgree,
  };
}

// ---------------------------------------------------------------------------------------
// 6: what a user would pick instead: OTLP/protobuf over HTTP to a receiver in another process

interface OtlpResult {
  attributes: AttributeMode;
  points: number;
  /** In-process CPU (user + system) per point, ns: ours, encode + writev to /dev/null. */
  oursCpu: Summary;
  /** The same for `OTLPMetricExporter` (protobuf over HTTP to 127.0.0.1), until its callback. */
  theirsCpu: Summary;
  /** ours ÷ theirs, per repetition. */
  cpuRatio: Summary;
  /** Wall time per point, ns, theirs (until the callback: serialize, send, response). */
  theirsWall: Summary;
  requestBytes: number;
}

/** Starts otlp_receiver.ts in another process of the same runtime; resolves with its port. */
function startReceiver(): Promise<{ port: number; stop: () => void }> {
  const script = join(BENCH_DIR, "otlp_receiver.ts");
  const args = runtimeName === "deno" ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`otlp_receiver exited with ${code}`)));
    child.stdout!.on("data", (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      const line = out.split("\n")[0]!;
      if (!out.includes("\n")) return;
      const { port } = JSON.parse(line) as { port: number };
      child.removeAllListeners("exit");
      resolve({ port, stop: () => child.stdin!.end() });
    });
  });
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measureOtlp(attributes: AttributeMode): Promise<OtlpResult> {
  const receiver = await startReceiver();
  const theirs = new OTLPMetricExporter({
    url: `http://127.0.0.1:${receiver.port}/v1/metrics`,
    temporalityPreference: AggregationTemporality.DELTA,
    timeoutMillis: 30_000,
  });
  const sink = new NullSink();
  const ours = new NativeMetricsExporter({ sink });
  const workload = new Workload({ points: POINTS, attributes });
  const oursCpu: number[] = [], theirsCpu: number[] = [], ratio: number[] = [];
  const theirsWall: number[] = [];
  let requestBytes = 0;
  const reps = Math.max(5, Math.round(REPS / 2));
  for (let rep = -2; rep < reps; rep++) {
    const rm = await workload.cycle();
    const points = Workload.countPoints(rm);
    settleGc();
    let c0 = cpuMicros();
    ours.export(rm, okCallback);
    const oursNs = (cpuMicros() - c0) * 1000 / points;
    settleGc();
    const t0 = performance.now();
    c0 = cpuMicros();
    await new Promise<void>((resolve, reject) =>
      theirs.export(rm, (r) => r.code === 0 ? resolve() : reject(r.error))
    );
    const theirsNs = (cpuMicros() - c0) * 1000 / points;
    const wall = (performance.now() - t0) * 1e6 / points;
    if (rep < 0) continue;
    if (requestBytes === 0) requestBytes = ProtobufMetricsSerializer.serializeRequest(rm)!.length;
    oursCpu.push(oursNs);
    theirsCpu.push(theirsNs);
    ratio.push(oursNs / theirsNs);
    theirsWall.push(wall);
  }
  await theirs.shutdown();
  sink.shutdown();
  await workload.shutdown();
  receiver.stop();
  return {
    attributes,
    points: POINTS,
    oursCpu: summarize(oursCpu),
    theirsCpu: summarize(theirsCpu),
    cpuRatio: summarize(ratio),
    theirsWall: summarize(theirsWall),
    requestBytes,
  };
}

// ---------------------------------------------------------------------------------------

export interface RuntimeResults {
  format: number;
  environment: ReturnType<typeof environment>;
  settings: {
    reps: number;
    warmup: number;
    points: number;
    heapCycles: number;
    heapPoints: number;
  };
  modes: ModeResult[];
  types: TypeResult[];
  silent: SilentResult[];
  heap: HeapResult[];
  otlp: OtlpResult[];
  floorEvents: number;
  durationSeconds: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  if (!gcAvailable) log("warning: no forced GC (run Deno with --v8-flags=--expose-gc)");
  const env = environment();
  log(`${env.runtime} ${env.runtimeVersion} on ${env.cpu}, load ${env.loadAverage.join(" ")}`);
  const want = (section: string) => SECTIONS.has(section);

  // Memory first, while the process holds nothing else.
  const heap: HeapResult[] = [];
  if (want("heap")) {
    for (const mode of ["steady", "fresh"] as const) {
      log(`heap over ${HEAP_CYCLES} cycles, ${mode}`);
      heap.push(await measureHeap(mode));
    }
  }

  const modes: ModeResult[] = [];
  let floorEvents = 0;
  if (want("modes")) {
    const binary = buildFloor();
    // The floor's events: one export of a steady collection, captured with their headers.
    const workload = new Workload({ points: POINTS });
    await workload.cycle();
    const rm = await workload.cycle();
    const capture = new CaptureSink();
    new NativeMetricsExporter({ sink: capture }).export(rm, okCallback);
    const file = writeEventsFile(capture.events);
    floorEvents = capture.events.length;
    capture.shutdown();
    await workload.shutdown();
    for (const mode of ["steady", "fresh", "unique"] as const) {
      log(`encode / write, ${mode} attributes`);
      modes.push(await measureMode(mode, { binary, file }));
    }
  }
  let types: TypeResult[] = [];
  if (want("types")) {
    log("per point type");
    types = await measureTypes();
  }
  let silent: SilentResult[] = [];
  if (want("silent")) {
    log("nobody listens");
    silent = await measureSilent();
  }
  const otlp: OtlpResult[] = [];
  if (want("otlp")) {
    for (const mode of ["steady", "fresh"] as const) {
      log(`OTLP/HTTP exporter to a receiver in another process, ${mode} attributes`);
      otlp.push(await measureOtlp(mode));
    }
  }

  const results: RuntimeResults = {
    format: RESULTS_FORMAT,
    environment: env,
    settings: {
      reps: REPS,
      warmup: WARMUP,
      points: POINTS,
      heapCycles: HEAP_CYCLES,
      heapPoints: HEAP_POINTS,
    },
    modes,
    types,
    silent,
    heap,
    otlp,
    floorEvents,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  for (const line of summaryLines(results)) log(line);
  const packing = modes.find((m) => m.packing)?.packing;
  if (packing && !packing.identical) {
    log("FAILED: the packed events are not the per-point events' points (see RESULTS.md §5)");
    process.exitCode = 1;
  }
  if (SAVE && FULL) {
    const dir = join(BENCH_DIR, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${runtimeName}.json`), JSON.stringify(results, null, 2) + "\n");
    const report = writeReport(BENCH_DIR);
    log(`done in ${results.durationSeconds} s; wrote results/${runtimeName}.json and ${report}`);
  } else {
    log(
      `done in ${results.durationSeconds} s; not saved (${
        SAVE ? "partial run" : "no --save"
      }: bench/results and RESULTS.md unchanged)`,
    );
  }
}

await main();
