/**
 * Packing (`pointsPerEvent: "max"`) against the real kernel (QEMU tier, root, under `deno test`
 * and `bun test`): 10,000 points of the real SDK (2,500 series over a counter, a gauge, a
 * histogram and an exponential histogram) exported through the real UserEventsSink while a
 * TracefsListener is attached arrive whole: every event at most 4048 bytes and byte for byte
 * the encoder's, the decoded points exactly those of one point per event and of the official
 * serializer, the exporter's eventsWritten / pointsWritten equal to what arrived. The CLI's
 * `listen` prints every point of the packed export. Printed for the record (not asserted):
 * events, points and ring-buffer pages per 10,000 points, packed against one point per event.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { ValueType } from "@opentelemetry/api";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { AggregationType, MeterProvider, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { readSmallFile } from "../../ffi/mod.ts";
import { MemorySink, NativeMetricsExporter, UserEventsSink } from "../../mod.ts";
import { decodeMetricsPayload, type FlatPoint, flattenRequest } from "../../src/decode.ts";
import { type CapturedEvent, TracefsListener } from "../../src/listener/mod.ts";
import { pointToJson, toJsonText } from "../../src/cli/output.ts";
import { ExportMetricsServiceRequestSchema } from "../../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { runtimeName, testUnless } from "../harness.ts";
import { cliCommand } from "../fixtures/cli_run.ts";
import { hex } from "../hex.ts";
import { ManualReader } from "../workload.ts";
import { Child } from "./helpers/child.ts";
import { KERNEL_RELEASE, NO_KERNEL, sleep, TRACING, until } from "./helpers/kernel.ts";

const test = (name: string, fn: () => void | Promise<void>) => testUnless(NO_KERNEL, name, fn);

const proc = (globalThis as unknown as {
  process: { pid: number; env: Record<string, string | undefined> };
}).process;

/** ftrace's limit for a whole payload on 4 KiB pages (UserEventsSink's default maxPayloadSize). */
const LIMIT = 4048;
const SERIES = 2500;
const INSTRUMENTS = 4;
/**
 * Per-CPU buffer of the test's own listeners: the whole one-point-per-event export (about 3 MB
 * of events) stays in the buffer until it is read after the export, and the export may run on
 * either CPU.
 */
const BUFFER_KB = 16384;

/** 2,500 series per instrument: a counter, a gauge, a histogram and an exponential histogram. */
async function manySeries(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    readers: [reader],
    // Above the SDK's default cardinality limit (2,000 series, the rest folded into one
    // overflow series), as a service with this many series configures it.
    views: [
      { instrumentName: "requests", aggregationCardinalityLimit: 2 * SERIES },
      { instrumentName: "queue_depth", aggregationCardinalityLimit: 2 * SERIES },
      { instrumentName: "latency", aggregationCardinalityLimit: 2 * SERIES },
      {
        instrumentName: "payload_size",
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
        aggregationCardinalityLimit: 2 * SERIES,
      },
    ],
  });
  const meter = provider.getMeter("packing-kernel", "1.0.0");
  const counter = meter.createCounter("requests", { valueType: ValueType.INT, unit: "{request}" });
  const gauge = meter.createGauge("queue_depth");
  const histogram = meter.createHistogram("latency", { unit: "ms" });
  const exponential = meter.createHistogram("payload_size", { unit: "By" });
  for (let i = 0; i < SERIES; i++) {
    const attributes = {
      route: `/api/v1/items/${i}`,
      method: i % 2 ? "GET" : "POST",
      shard: i % 7,
    };
    counter.add(i + 1, attributes);
    gauge.record(i / 3, attributes);
    for (const v of [i % 1000, (i * 7) % 5000, 0.25 + i / 10]) histogram.record(v, attributes);
    for (const v of [i + 0.5, (i + 1) * 3.7, 1 / (i + 1)]) exponential.record(v, attributes);
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}

let workload: Promise<ResourceMetrics> | undefined;
/** One collection shared by the tests (the SDK is slow under TCG). */
const collected = () => (workload ??= manySeries());

function countPoints(rm: ResourceMetrics): number {
  let n = 0;
  for (const s of rm.scopeMetrics) for (const m of s.metrics) n += m.dataPoints.length;
  return n;
}

/** A point as a comparable string (bigints and bytes made printable). */
const pointKey = (p: FlatPoint) =>
  JSON.stringify(
    p,
    (_k, v) => typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? hex(v) : v,
  );

const flatten = (payloads: Uint8Array[]) =>
  payloads.flatMap((p) => flattenRequest(decodeMetricsPayload(p)));

/** The events a MemorySink receives from the exporter with these options. */
function encodeInMemory(rm: ResourceMetrics, pointsPerEvent: number | "max"): Uint8Array[] {
  const sink = new MemorySink();
  let code = -1;
  new NativeMetricsExporter({ sink, pointsPerEvent }).export(rm, (r) => (code = r.code));
  assert.equal(code, 0);
  return sink.take();
}

/** Size of a ring-buffer sub-buffer's data area (`events/header_page`: `char data`). */
function pageDataSize(): number {
  const text = readSmallFile(`${TRACING}/events/header_page`).text ?? "";
  const size = /field: char data;\s*offset:\d+;\s*size:(\d+);/.exec(text)?.[1];
  assert.ok(size, `no data field in events/header_page:\n${text}`);
  return Number(size);
}

/**
 * The instance's unread contents, per CPU, from the kernel's `per_cpu/cpuN/stats`: `entries`
 * (events) and `bytes`. `bytes` counts each event's length and, when an event moved on to the
 * next page, the rest of the page it left (`kernel/trace/ring_buffer.c`, `entries_bytes`), so
 * a CPU's pages in use are `ceil(bytes / pageDataSize)`. Read before anything is consumed.
 */
function unreadRing(listener: TracefsListener): { entries: number; bytes: number; pages: number } {
  const dataSize = pageDataSize();
  let entries = 0, bytes = 0, pages = 0;
  for (let cpu = 0; cpu < listener.cpus; cpu++) {
    const path = `${listener.directory}/per_cpu/cpu${cpu}/stats`;
    const text = readSmallFile(path).text;
    assert.ok(text !== undefined, `cannot read ${path}`);
    const e = Number(/^entries: (\d+)$/m.exec(text)?.[1]);
    const b = Number(/^bytes: (\d+)$/m.exec(text)?.[1]);
    assert.ok(Number.isInteger(e) && Number.isInteger(b), `unexpected ${path}:\n${text}`);
    entries += e;
    bytes += b;
    pages += Math.ceil(b / dataSize);
  }
  return { entries, bytes, pages };
}

/**
 * Exports `rm` through a fresh UserEventsSink with `pointsPerEvent`, a listener of its own
 * attached; reads the buffer's figures, then everything the listener receives.
 */
async function exportThroughKernel(rm: ResourceMetrics, pointsPerEvent: number | "max") {
  const exporter = new NativeMetricsExporter({ sink: new UserEventsSink(), pointsPerEvent });
  const listener = TracefsListener.open({
    instance: `otel_native_packing_${proc.pid}`,
    bufferSizeKb: BUFFER_KB,
  });
  try {
    await until("the listener enables the exporter", () => exporter.isEnabled());
    let code = -1;
    exporter.export(rm, (r) => (code = r.code));
    const stats = exporter.stats;
    const ring = unreadRing(listener);
    const events: CapturedEvent[] = [];
    // Bounded: whatever has not arrived after 10 s is missing, and the assertions say so.
    const end = Date.now() + 10_000;
    do {
      events.push(...listener.poll());
      if (events.length >= stats.eventsWritten) break;
      await sleep(50);
    } while (Date.now() < end);
    await sleep(50);
    events.push(...listener.poll()); // anything extra (a duplicate) would fail the comparisons
    return {
      code,
      stats,
      ring,
      events,
      lostPages: listener.lostPages,
      kernel: listener.bufferStats(),
    };
  } finally {
    listener.close();
    await exporter.shutdown();
  }
}

test(`[${runtimeName}] packed ("max") through the kernel: every event arrives, ≤ ${LIMIT} bytes, with exactly the points of one point per event`, async () => {
  const rm = await collected();
  const total = countPoints(rm);
  assert.equal(total, SERIES * INSTRUMENTS);
  const official = flattenRequest(
    fromBinary(ExportMetricsServiceRequestSchema, ProtobufMetricsSerializer.serializeRequest(rm)!),
  ).map(pointKey).sort();
  assert.equal(official.length, total);

  const packed = await exportThroughKernel(rm, "max");
  assert.equal(packed.code, 0);
  assert.equal(packed.lostPages, 0, "no ring-buffer overrun");
  assert.deepEqual(packed.kernel, { overrun: 0, dropped: 0 });
  const received = packed.events.map((e) => e.payload);
  assert.equal(
    packed.stats.eventsWritten,
    received.length,
    "stats.eventsWritten == events received",
  );
  for (const e of packed.events) {
    assert.equal(e.protocol, 0);
    assert.equal(e.version, "v0.19.00");
    assert.ok(e.payload.length <= LIMIT, `an event of ${e.payload.length} bytes`);
    const request = decodeMetricsPayload(e.payload);
    assert.equal(request.resourceMetrics.length, 1);
    assert.equal(request.resourceMetrics[0]!.scopeMetrics.length, 1);
    assert.equal(request.resourceMetrics[0]!.scopeMetrics[0]!.metrics.length, 1, "one metric");
  }
  // Byte for byte what the encoder writes into a MemorySink, each event exactly once.
  assert.deepEqual(received.map(hex).sort(), encodeInMemory(rm, "max").map(hex).sort());
  const points = flatten(received);
  assert.equal(packed.stats.pointsWritten, points.length, "stats.pointsWritten == points received");
  assert.equal(points.length, total);
  assert.ok(received.length * 10 < total, `${received.length} events for ${total} points`);
  const packedKeys = points.map(pointKey).sort();
  assert.deepEqual(packedKeys, official, "the official serializer's points");

  // The same export, one point per event, through the kernel: the same points, and the
  // figures to compare.
  const single = await exportThroughKernel(rm, 1);
  assert.equal(single.code, 0);
  assert.equal(single.lostPages, 0, "no ring-buffer overrun");
  assert.equal(single.events.length, total);
  assert.equal(single.stats.eventsWritten, total);
  assert.deepEqual(
    flatten(single.events.map((e) => e.payload)).map(pointKey).sort(),
    packedKeys,
    "one point per event delivers the same points as packed",
  );

  const per10k = (n: number) => Math.round((n * 10_000) / total);
  const line = (name: string, r: typeof packed) =>
    `${name}: ${per10k(r.stats.eventsWritten)} events, ${per10k(r.stats.pointsWritten)} points, ` +
    `${per10k(r.stats.bytesWritten)} payload bytes, ${per10k(r.ring.bytes)} ring-buffer bytes ` +
    `(${per10k(r.ring.entries)} entries), ${per10k(r.ring.pages)} ring-buffer pages`;
  const report = [
    `packing (${runtimeName}, Linux ${KERNEL_RELEASE}, ${pageDataSize()}-byte page data), per 10,000 points (${total} exported, ${SERIES} series x ${INSTRUMENTS} instruments):`,
    `  ${line('pointsPerEvent "max"', packed)}`,
    `  ${line("pointsPerEvent 1", single)}`,
    `  packed / one per event: events ${
      (packed.stats.eventsWritten / single.stats.eventsWritten).toFixed(4)
    }, ` +
    `pages ${(packed.ring.pages / single.ring.pages).toFixed(3)}`,
  ].join("\n");
  console.log(report);
  if (proc.env.OTEL_NATIVE_VM_OUT) {
    mkdirSync(`${proc.env.OTEL_NATIVE_VM_OUT}/packing`, { recursive: true });
    writeFileSync(`${proc.env.OTEL_NATIVE_VM_OUT}/packing/${runtimeName}.txt`, report + "\n");
  }
});

test(`[${runtimeName}] otel-native-metrics listen prints every point of a packed export, once`, async () => {
  const rm = await collected();
  const total = countPoints(rm);
  // What `listen` prints for each point, from the one-point-per-event encoding.
  const expected = flatten(encodeInMemory(rm, 1)).map((p) => toJsonText(pointToJson(p))).sort();
  assert.equal(expected.length, total);
  // Registered first, so `listen` finds the event and neither creates nor removes it.
  const exporter = new NativeMetricsExporter({
    sink: new UserEventsSink(),
    pointsPerEvent: "max",
  });
  const [cmd, ...pre] = cliCommand();
  const listen = new Child(cmd!, [...pre, "listen", "--buffer-size-kb", String(BUFFER_KB)]);
  let stopped = false;
  try {
    const ready = Date.now() + 120_000;
    while (!/listening to user_events:otlp_metrics/.test(listen.stderr)) {
      if (Date.now() > ready) throw new Error(`listen did not start: ${listen.stderr}`);
      await sleep(50);
    }
    await until("listen enables the exporter", () => exporter.isEnabled());
    let code = -1;
    exporter.export(rm, (r) => (code = r.code));
    assert.equal(code, 0);
    const { eventsWritten, pointsWritten } = exporter.stats;
    assert.equal(pointsWritten, total);
    assert.ok(eventsWritten * 10 < total, `${eventsWritten} events for ${total} points`);
    const end = Date.now() + 120_000;
    while (listen.lines < pointsWritten && Date.now() < end) await sleep(200);
    await sleep(300); // room for anything extra, which the comparison below would catch
    const status = await listen.stop();
    stopped = true;
    assert.equal(status, 0, listen.stderr);
    const lines = listen.stdout.split("\n").filter((l) => l).sort();
    assert.equal(lines.length, pointsWritten, "one JSON line per point");
    assert.deepEqual(lines, expected);
    assert.match(
      listen.stderr,
      new RegExp(
        `listen: ${eventsWritten} events, ${pointsWritten} points decoded, ${pointsWritten} ` +
          `printed, 0 undecodable, 0 lost in the ring buffer, kernel counters: overrun 0, dropped 0`,
      ),
    );
  } finally {
    if (!stopped) await listen.stop();
    await exporter.shutdown();
  }
});
