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
 * 5. packing several points per event (bench-local, see packing.ts) vs one point per event;
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
import { EVENT_HEADER_SIZE } from "../src/sinks/user_events/abi.ts";
import { PackingExporter } from "./packing.ts";
import { RESULTS_FORMAT, summaryLines, writeReport } from "./report.ts";
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
  packed?: Summary; // ns per point, packing encoder + writev
  packedEvents?: number;
  packedBytes?: number;
  perPointEvents: number;
  perPointBytes: number;
  officialBytes: number;
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
  const packer = new PackingExporter(packSink);
  const writer = new NullSink();
  const official: number[] = [], encode: number[] = [], encodeRatio: number[] = [];
  const write: number[] = [], writevOnly: number[] = [], floorNs: number[] = [];
  const writeRatio: number[] = [], packed: number[] = [];
  let officialBytes = 0;
  let eventLengths: number[] = [];
  for (let rep = -WARMUP; rep < REPS; rep++) {
    const rm = await workload.cycle();
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
    settleGc();
    const beforeWrite = writeExporter.stats.eventsWritten;
    const tWrite = time(() => writeExporter.export(rm, okCallback));
    if (writeExporter.stats.eventsWritten - beforeWrite !== points) throw new Error("not written");
    let tPack = NaN;
    if (attributes === "steady") {
      settleGc();
      tPack = time(() => packer.export(rm));
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
  const packStats = packer.stats;
  const result: ModeResult = {
    attributes,
    points: POINTS,
    official: summarize(official),
    encode: summarize(encode),
    encodeRatio: summarize(encodeRatio),
    write: summarize(write),
    perPointEvents: POINTS,
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
    const exports = REPS + WARMUP;
    result.packedEvents = Math.round(packStats.events / exports);
    result.packedBytes = Math.round(packStats.bytes / packStats.events);
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
// Packing correctness: the packed events carry exactly the points of the per-point events.

async function checkPacking(): Promise<{ points: number; events: number; identical: boolean }> {
  const workload = new Workload({ points: 2_000 });
  const rm = await workload.cycle();
  const single = new CaptureSink();
  new NativeMetricsExporter({ sink: single }).export(rm, okCallback);
  const packedSink = new CaptureSink();
  const packer = new PackingExporter(packedSink);
  packer.export(rm);
  const flat = (events: Uint8Array[]) =>
    events.flatMap((e) => flattenRequest(decodeMetricsPayload(parseUserEventsWrite(e).payload)));
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x);
  const a = flat(single.events), b = flat(packedSink.events);
  const over = packedSink.events.some((e) => e.length - EVENT_HEADER_SIZE > 4048);
  single.shutdown();
  packedSink.shutdown();
  await workload.shutdown();
  return {
    points: b.length,
    events: packedSink.events.length,
    identical: !over && json(a) === json(b),
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
  packing: { points: number; events: number; identical: boolean };
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
  let packing = { points: 0, events: 0, identical: false };
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
    log("packing check");
    packing = await checkPacking();
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
    packing,
    otlp,
    floorEvents,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  for (const line of summaryLines(results)) log(line);
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
