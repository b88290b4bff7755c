import assert from "node:assert/strict";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { ADVAPI32_SYMBOLS, ffi, NativeBlock, platform } from "../ffi/mod.ts";
import { EtwError, EtwSink, MemorySink, NativeMetricsExporter } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { type DataBlob, Standin, standinPath } from "./etw/standin.ts";
import { test, testUnless } from "./harness.ts";
import { hex, unhex } from "./hex.ts";
import { collectWorkload, paddedPoint, WORKLOAD_POINTS } from "./workload.ts";

// The recording advapi32 stand-in: the .so built with gcc here; under Wine (tests/wine/test.sh)
// the mingw DLL, whose Windows path arrives in ETW_STANDIN_DLL.
const STANDIN = standinPath();
const standin = new Standin(STANDIN);

const TRAITS_HEX = "22004e61746976654d657472696373457874656e73696f6e5f50726f766964657200";
const METADATA_HEX = "1000006f746c705f6d65747269637300";
const DESCRIPTOR_HEX = "5100000b040000000100000000000000";
const GUID_HEX = "2049c2ed04e0f640a8e10e6e48f39d84";

/** A fresh log and fault table, and an exporter over a new sink on the stand-in. */
function fresh(enabled: boolean) {
  standin.reset(enabled);
  return new NativeMetricsExporter({ sink: new EtwSink({ library: STANDIN }) });
}

/** Exports `metrics` and returns the result code (0 SUCCESS, 1 FAILED). */
function exportCode(exporter: NativeMetricsExporter, metrics: ResourceMetrics): number {
  let code = -1;
  exporter.export(metrics, (result) => code = result.code);
  return code;
}

/** Every point handed to `export()` is in exactly one bucket. */
function assertAccounted(exporter: NativeMetricsExporter, handed: number): void {
  const s = exporter.stats;
  const dropped = Object.values(s.pointsDropped).reduce((a, b) => a + b, 0);
  assert.equal(s.eventsWritten + s.pointsSkippedNoListener + dropped, handed, "points accounted");
}

test("ETW: registers the Rust crate's provider with its TraceLogging traits", async () => {
  const exporter = fresh(false);
  const [register, traits] = standin.calls();
  assert.equal(register!.fn, "EventRegister");
  assert.equal(register!.guid, GUID_HEX);
  assert.equal(register!.callback, null, "no enable callback: the sink polls");
  assert.equal(register!.context, null);
  assert.equal(traits!.fn, "EventSetInformation");
  assert.equal(traits!.class, 2);
  assert.equal(traits!.length, 34);
  assert.equal(traits!.info, TRAITS_HEX);
  assert.equal(traits!.handle, register!.handle);
  await exporter.shutdown();
  const last = standin.calls().at(-1)!;
  assert.equal(last.fn, "EventUnregister");
  assert.equal(last.handle, register!.handle);
});

test("ETW: provider not enabled → nothing encoded, no write", async () => {
  const exporter = fresh(false);
  assert.equal(exportCode(exporter, await collectWorkload()), 0);
  assert.equal(standin.callCount("EventWriteTransfer"), 0);
  const checks = standin.calls("EventProviderEnabled");
  assert.equal(checks.length, 1, "one check skips the whole export");
  assert.equal(checks[0]!.level, 4);
  assert.equal(checks[0]!.keyword, "0x1");
  assert.ok(exporter.sink!.staging.every((b) => b === 0), "nothing was encoded");
  assert.equal(exporter.stats.pointsSkippedNoListener, WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: every point is one EventWriteTransfer with the exact descriptors and an OTLP payload", async () => {
  const exporter = fresh(true);
  const rm = await collectWorkload();
  assert.equal(exportCode(exporter, rm), 0);
  const memory = new MemorySink({ maxPayloadSize: 65360 });
  new NativeMetricsExporter({ sink: memory }).export(rm, () => {});
  const writes = standin.calls("EventWriteTransfer");
  assert.equal(writes.length, WORKLOAD_POINTS);
  assert.equal(memory.events.length, WORKLOAD_POINTS);
  writes.forEach((w, i) => {
    assert.equal(w.descriptor, DESCRIPTOR_HEX);
    assert.deepEqual(
      [w.id, w.version, w.channel, w.level, w.opcode, w.task, w.keyword],
      [81, 0, 11, 4, 0, 0, "0x1"],
    );
    assert.equal(w.activity, null);
    assert.equal(w.related, null);
    assert.equal(w.count, 3);
    const [traits, metadata, payload] = w.data as DataBlob[];
    assert.deepEqual(
      [traits!.size, traits!.type, traits!.reserved1, traits!.reserved2, traits!.hex],
      [34, 2, 0, 0, TRAITS_HEX],
    );
    assert.deepEqual(
      [metadata!.size, metadata!.type, metadata!.reserved1, metadata!.reserved2, metadata!.hex],
      [16, 1, 0, 0, METADATA_HEX],
    );
    assert.deepEqual([payload!.type, payload!.reserved1, payload!.reserved2], [0, 0, 0]);
    assert.equal(
      payload!.hex,
      hex(memory.events[i]!),
      `payload ${i} is the OTLP request, unframed`,
    );
    assert.equal(flattenRequest(decodeMetricsPayload(unhex(payload!.hex!))).length, 1);
  });
  assert.equal(exporter.stats.eventsWritten, WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: a handle above 2^53 reaches every call intact", async () => {
  standin.reset(true);
  const handle = 0xfedc_ba98_7654_3210n;
  standin.setHandle(handle);
  const sink = new EtwSink({ library: STANDIN });
  assert.equal(sink.handle, handle);
  const exporter = new NativeMetricsExporter({ sink });
  exportCode(exporter, await collectWorkload());
  await exporter.shutdown();
  const calls = standin.calls().slice(1);
  assert.ok(calls.length > WORKLOAD_POINTS);
  for (const call of calls) assert.equal(call.handle, "0xfedcba9876543210", call.fn);
});

test("the stand-in: a fault hits exactly the calls it names, then clears", () => {
  // The fault tests below are only as good as this double: check it on its own first.
  standin.reset(false);
  const etw = ffi().open(STANDIN, ADVAPI32_SYMBOLS).symbols;
  const write = () => etw.EventWriteTransfer(0x1234n, 0n, 0n, 0n, 0, 0n);
  const results = (n: number) => Array.from({ length: n }, write);
  standin.fail("EventWriteTransfer", 534, { after: 2, times: 3 });
  assert.deepEqual(results(7), [0, 0, 534, 534, 534, 0, 0]);
  standin.fail("EventWriteTransfer", 8);
  assert.deepEqual(results(4), [8, 8, 8, 8], "times 0: every call");
  standin.fail("EventWriteTransfer", 0);
  assert.deepEqual(results(2), [0, 0], "code 0 clears");
  assert.equal(standin.callCount("EventWriteTransfer"), 13);
  assert.deepEqual(standin.writeResults(), [0, 0, 534, 534, 534, 0, 0, 8, 8, 8, 8, 0, 0]);

  const slot = NativeBlock.allocate(32); // GUID, then the handle
  try {
    standin.fail("EventRegister", 5, { times: 1 });
    assert.equal(etw.EventRegister(slot.at(0), 0n, 0n, slot.at(16)), 5);
    assert.equal(slot.view.getBigUint64(16, true), 0n, "a failed EventRegister writes handle 0");
    assert.equal(etw.EventRegister(slot.at(0), 0n, 0n, slot.at(16)), 0);
    assert.equal(slot.view.getBigUint64(16, true), 0x1234n);
  } finally {
    slot.free();
  }
  assert.throws(() => standin.fail("EventProviderEnabled", 5), RangeError);
  assert.deepEqual(standin.calls().map((c) => c.seq), [...Array(15).keys()]);
  standin.reset(false);
  assert.deepEqual(standin.calls(), []);
});

test("ETW: writes failing always with 534: every point tried, dropped and counted", async () => {
  const exporter = fresh(true);
  standin.fail("EventWriteTransfer", 534);
  assert.equal(exportCode(exporter, await collectWorkload()), 1);
  assert.equal(exportCode(exporter, await collectWorkload()), 1);
  assert.equal(
    standin.callCount("EventWriteTransfer"),
    2 * WORKLOAD_POINTS,
    "the exporter kept going",
  );
  assert.deepEqual(exporter.stats.writeErrors, {
    "ERROR_ARITHMETIC_OVERFLOW (534)": 2 * WORKLOAD_POINTS,
  });
  assert.equal(exporter.stats.pointsDropped.writeError, 2 * WORKLOAD_POINTS);
  assert.equal(exporter.stats.eventsWritten, 0);
  assertAccounted(exporter, 2 * WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: writes failing N times with 8 (buffers full): those dropped, then writing resumes", async () => {
  const exporter = fresh(true);
  standin.fail("EventWriteTransfer", 8, { times: WORKLOAD_POINTS + 6 });
  assert.equal(exportCode(exporter, await collectWorkload()), 1);
  assert.equal(exportCode(exporter, await collectWorkload()), 1);
  assert.equal(exportCode(exporter, await collectWorkload()), 0, "recovered");
  assert.deepEqual(standin.writeResults(), [
    ...Array(WORKLOAD_POINTS + 6).fill(8),
    ...Array(2 * WORKLOAD_POINTS - 6).fill(0),
  ]);
  const s = exporter.stats;
  assert.deepEqual(s.writeErrors, { "ERROR_NOT_ENOUGH_MEMORY (8)": WORKLOAD_POINTS + 6 });
  assert.equal(s.pointsDropped.writeError, WORKLOAD_POINTS + 6);
  assert.equal(s.eventsWritten, 2 * WORKLOAD_POINTS - 6);
  assertAccounted(exporter, 3 * WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: a write failing once (6, invalid handle) then succeeding: one point dropped", async () => {
  const exporter = fresh(true);
  const rm = await collectWorkload();
  standin.fail("EventWriteTransfer", 6, { after: 5, times: 1 });
  assert.equal(exportCode(exporter, rm), 1);
  const first = standin.calls("EventWriteTransfer");
  assert.deepEqual(first.map((w) => w.result), [0, 0, 0, 0, 0, 6, ...Array(8).fill(0)]);
  assert.deepEqual(exporter.stats.writeErrors, { "ERROR_INVALID_HANDLE (6)": 1 });
  assert.equal(exporter.stats.pointsDropped.writeError, 1);
  assert.equal(exporter.stats.eventsWritten, WORKLOAD_POINTS - 1);
  // The same point goes out whole in the next export: the failure left nothing behind.
  standin.clearLog();
  assert.equal(exportCode(exporter, rm), 0);
  const second = standin.calls("EventWriteTransfer");
  assert.equal(second.length, WORKLOAD_POINTS);
  assert.equal((second[5]!.data as DataBlob[])[2]!.hex, (first[5]!.data as DataBlob[])[2]!.hex);
  assert.equal(exporter.stats.eventsWritten, 2 * WORKLOAD_POINTS - 1);
  assertAccounted(exporter, 2 * WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: a failing EventRegister or EventSetInformation is a clear EtwError", () => {
  standin.reset(false);
  standin.fail("EventRegister", 5);
  assert.throws(
    () => new EtwSink({ library: STANDIN }),
    (e: Error) =>
      e instanceof EtwError && e.code === 5 &&
      /EventRegister failed with ERROR_ACCESS_DENIED \(5\)/.test(e.message),
  );
  standin.reset(false);
  standin.fail("EventSetInformation", 50);
  assert.throws(
    () => new EtwSink({ library: STANDIN }),
    (e: Error) => e instanceof EtwError && /ERROR_NOT_SUPPORTED \(50\)/.test(e.message),
  );
  assert.equal(
    standin.calls().at(-1)!.fn,
    "EventUnregister",
    "a half-registered provider is released",
  );
});

test("ETW: a failing EventUnregister: shutdown does not throw, keeps the memory, says why", async () => {
  standin.reset(true);
  const sink = new EtwSink({ library: STANDIN });
  standin.fail("EventUnregister", 6, { times: 1 });
  assert.doesNotThrow(() => sink.shutdown());
  assert.equal(sink.leaked, true);
  assert.ok(sink.shutdownError instanceof EtwError);
  assert.equal(sink.shutdownError.code, 6);
  assert.match(
    sink.shutdownError.message,
    /EventUnregister failed with ERROR_INVALID_HANDLE \(6\)/,
  );
  // Kept, not freed: the staging memory is still ours to use.
  sink.staging.fill(0x5a, 0, 64);
  assert.ok(sink.staging.subarray(0, 64).every((b) => b === 0x5a));
  // Done with ETW: nothing more reaches it.
  sink.shutdown();
  assert.equal(sink.isEnabled(), false);
  assert.equal(sink.write(0, 10), 6);
  assert.equal(standin.callCount("EventUnregister"), 1);
  assert.equal(standin.callCount("EventWriteTransfer"), 0);
  assert.equal(standin.callCount("EventProviderEnabled"), 0);
  // Through the exporter: shutdown resolves, and a clean one reports nothing.
  const clean = new EtwSink({ library: STANDIN });
  await new NativeMetricsExporter({ sink: clean }).shutdown();
  assert.equal(standin.callCount("EventUnregister"), 2);
  assert.deepEqual([clean.leaked, clean.shutdownError], [false, undefined]);
  const failing = new EtwSink({ library: STANDIN });
  standin.fail("EventUnregister", 87, { times: 1 });
  await new NativeMetricsExporter({ sink: failing }).shutdown();
  assert.equal(failing.shutdownError?.code, 87);
});

test("ETW: native memory: none left by failed registrations or shutdown; a kept arena counted", () => {
  standin.reset(true);
  const live = () => NativeBlock.live.blocks;
  const before = live();
  standin.fail("EventRegister", 5, { times: 3 });
  for (let i = 0; i < 3; i++) assert.throws(() => new EtwSink({ library: STANDIN }), EtwError);
  standin.fail("EventSetInformation", 50, { times: 1 });
  assert.throws(() => new EtwSink({ library: STANDIN }), EtwError);
  assert.equal(live(), before, "a failed registration frees its arena");
  const sink = new EtwSink({ library: STANDIN });
  assert.equal(live(), before + 1, "one arena per registered sink");
  sink.shutdown();
  assert.equal(live(), before, "a clean shutdown frees it");
  // When ETW may still hold the registration, the arena stays (and stays counted).
  const kept = new EtwSink({ library: STANDIN });
  standin.fail("EventUnregister", 6, { times: 1 });
  kept.shutdown();
  assert.equal(live(), before + 1);
  standin.fail("EventSetInformation", 50, { times: 1 });
  standin.fail("EventUnregister", 6, { times: 1 });
  assert.throws(() => new EtwSink({ library: STANDIN }), EtwError);
  assert.equal(live(), before + 2, "half-registered and not released: kept too");
});

test("ETW: 65360 bytes are written, 65361 dropped and reported", () => {
  const exporter = fresh(true);
  const probe = new MemorySink({ maxPayloadSize: 65360 });
  new NativeMetricsExporter({ sink: probe }).export(paddedPoint(60000), () => {});
  const pad = 60000 + 65360 - probe.events[0]!.length;
  assert.equal(exportCode(exporter, paddedPoint(pad)), 0);
  assert.equal(exportCode(exporter, paddedPoint(pad + 1)), 1);
  const writes = standin.calls("EventWriteTransfer");
  assert.equal(writes.length, 1);
  assert.equal((writes[0]!.data as DataBlob[])[2]!.size, 65360);
  assert.deepEqual(exporter.stats.lastOversize, { metric: "big", size: 65361, limit: 65360 });
  assert.throws(() => new EtwSink({ library: STANDIN, maxPayloadSize: 65361 }), RangeError);
});

// Unavailable at start, available later (the exporter's retry), with faults at EventRegister.
const RETRY = { initialDelayMs: 10, maxDelayMs: 20 };
const etwFactory = () => new EtwSink({ library: STANDIN });
const sleepUntil = (epochMs: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now()) + 1));

/** The status, which must be "unavailable". */
function unavailable(exporter: NativeMetricsExporter) {
  const status = exporter.status;
  assert.equal(status.state, "unavailable", JSON.stringify(status));
  return status as Extract<typeof status, { state: "unavailable" }>;
}

test("ETW: EventRegister failing twice: unavailable, points counted, then ready and writing", async () => {
  standin.reset(true);
  standin.fail("EventRegister", 5, { times: 2 });
  const rm = await collectWorkload();
  const exporter = new NativeMetricsExporter({ sink: etwFactory, retry: RETRY });
  let status = unavailable(exporter);
  assert.equal(status.reason, "registration-failed");
  assert.equal(status.retryable, true);
  assert.match(status.message, /EventRegister failed with ERROR_ACCESS_DENIED \(5\)/);
  assert.equal(status.attempts, 0);
  assert.equal(exporter.sink, undefined);
  assert.equal(standin.callCount("EventRegister"), 1);

  // Exports until registered: each one before is counted, none is written.
  let delay = RETRY.initialDelayMs;
  let exportsUnavailable = 0;
  for (let attempt = 1; exporter.status.state === "unavailable"; attempt++) {
    assert.ok(attempt <= 2, "registered at the third EventRegister");
    await sleepUntil(status.nextRetryAt!);
    const before = Date.now();
    assert.equal(exportCode(exporter, rm), 0, "an unavailable facility is not an export failure");
    const after = Date.now();
    assert.equal(standin.callCount("EventRegister"), 1 + attempt, "one retry per due export");
    if (exporter.status.state !== "unavailable") break;
    exportsUnavailable++;
    status = unavailable(exporter);
    assert.equal(status.attempts, attempt);
    delay = Math.min(2 * delay, RETRY.maxDelayMs);
    assert.ok(
      status.nextRetryAt! >= before + delay && status.nextRetryAt! <= after + delay,
      `next retry ${delay} ms after the failed one`,
    );
    assert.equal(standin.callCount("EventWriteTransfer"), 0);
  }
  assert.equal(exportsUnavailable, 1);
  assert.deepEqual(exporter.status, { state: "ready", sink: "etw" });
  assert.equal(standin.callCount("EventRegister"), 3);
  // The export that registered wrote its points, exactly as a healthy one does.
  assert.deepEqual(standin.writeResults(), Array(WORKLOAD_POINTS).fill(0));
  const s = exporter.stats;
  assert.equal(s.pointsDropped.unavailable, WORKLOAD_POINTS);
  assert.equal(s.eventsWritten, WORKLOAD_POINTS);
  assertAccounted(exporter, 2 * WORKLOAD_POINTS);
  assert.equal(exportCode(exporter, rm), 0);
  assert.equal(exporter.stats.eventsWritten, 2 * WORKLOAD_POINTS);
  await exporter.shutdown();
  assert.deepEqual(exporter.status, { state: "shutdown" });
  assert.equal(standin.calls().at(-1)!.fn, "EventUnregister");
});

test("ETW: EventSetInformation failing once: unavailable, then isEnabled() registers", async () => {
  standin.reset(true);
  standin.fail("EventSetInformation", 50, { times: 1 });
  const exporter = new NativeMetricsExporter({ sink: etwFactory, retry: RETRY });
  const status = unavailable(exporter);
  assert.equal(status.reason, "registration-failed");
  assert.match(status.message, /EventSetInformation.*ERROR_NOT_SUPPORTED \(50\)/);
  assert.equal(standin.callCount("EventUnregister"), 1, "the half-registered provider released");
  await sleepUntil(status.nextRetryAt!);
  assert.equal(exporter.isEnabled(), true, "the retry runs in isEnabled() too");
  assert.deepEqual(exporter.status, { state: "ready", sink: "etw" });
  assert.equal(standin.callCount("EventRegister"), 2);
  await exporter.shutdown();
});

test("ETW: created by name with etw options, retried the same way", async () => {
  standin.reset(true);
  standin.fail("EventRegister", 8, { times: 1 });
  const exporter = new NativeMetricsExporter({
    sink: "etw",
    etw: { library: STANDIN },
    retry: RETRY,
  });
  const status = unavailable(exporter);
  assert.match(status.message, /ERROR_NOT_ENOUGH_MEMORY \(8\)/);
  await sleepUntil(status.nextRetryAt!);
  assert.equal(exportCode(exporter, await collectWorkload()), 0);
  assert.deepEqual(exporter.status, { state: "ready", sink: "etw" });
  assert.equal(exporter.stats.eventsWritten, WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: retry: false: a failed EventRegister stays unavailable, every point counted", async () => {
  standin.reset(true);
  standin.fail("EventRegister", 5, { times: 1 });
  const exporter = new NativeMetricsExporter({ sink: etwFactory, retry: false });
  assert.equal(unavailable(exporter).nextRetryAt, undefined);
  const rm = await collectWorkload();
  await sleepUntil(Date.now() + 3 * RETRY.maxDelayMs);
  assert.equal(exportCode(exporter, rm), 0);
  assert.equal(exporter.isEnabled(), false);
  assert.equal(standin.callCount("EventRegister"), 1, "never retried");
  assert.equal(exporter.stats.pointsDropped.unavailable, WORKLOAD_POINTS);
  assertAccounted(exporter, WORKLOAD_POINTS);
  await exporter.shutdown();
});

test("ETW: a missing library is not retried", async () => {
  const missing = platform === "win32" ? "Z:\\no\\such\\advapi32.dll" : "/no/such/advapi32.so";
  const exporter = new NativeMetricsExporter({
    sink: () => new EtwSink({ library: missing }),
    retry: RETRY,
  });
  const status = unavailable(exporter);
  assert.equal(status.reason, "library-missing");
  assert.equal(status.retryable, false);
  assert.equal(status.nextRetryAt, undefined);
  assert.equal(exportCode(exporter, await collectWorkload()), 0);
  assert.equal(exporter.stats.pointsDropped.unavailable, WORKLOAD_POINTS);
  await exporter.shutdown();
});

testUnless(
  platform === "win32"
    ? undefined
    : "advapi32.dll exists only on Windows (tests/wine/test.sh runs this under Wine)",
  "ETW: the system's advapi32.dll registers, polls and unregisters",
  async () => {
    const exporter = new NativeMetricsExporter({ sink: "etw" });
    const sink = exporter.sink as EtwSink;
    assert.equal(sink.kind, "etw");
    assert.notEqual(sink.handle, 0n);
    const listening = sink.isEnabled(); // Wine's ETW is a stub: never enabled
    assert.equal(exportCode(exporter, await collectWorkload()), 0);
    const s = exporter.stats;
    assert.equal(s.eventsWritten + s.pointsSkippedNoListener, WORKLOAD_POINTS);
    if (!listening) assert.equal(s.pointsSkippedNoListener, WORKLOAD_POINTS);
    // The write path itself, listener or not: ETW returns 0 when nobody records the event.
    const memory = new MemorySink({ maxPayloadSize: 65360 });
    new NativeMetricsExporter({ sink: memory }).export(paddedPoint(10), () => {});
    sink.staging.set(memory.events[0]!, 0);
    assert.equal(sink.write(0, memory.events[0]!.length), 0);
    await exporter.shutdown();
    assert.equal(sink.leaked, false, sink.shutdownError?.message ?? "");
  },
);

test("ETW: packing, prepopulated dimensions and the Geneva account go through the same encoder", async () => {
  standin.reset(true);
  const options = {
    pointsPerEvent: "max" as const,
    prepopulatedDimensions: { "deployment.ring": "canary" },
    account: "ProdAccount",
    namespace: "Checkout",
  };
  const exporter = new NativeMetricsExporter({
    ...options,
    sink: new EtwSink({ library: STANDIN }),
  });
  const rm = await collectWorkload();
  assert.equal(exportCode(exporter, rm), 0);
  const memory = new MemorySink({ maxPayloadSize: 65360 });
  new NativeMetricsExporter({ ...options, sink: memory }).export(rm, () => {});
  const payloads = standin.calls("EventWriteTransfer").map((w) => (w.data as DataBlob[])[2]!.hex!);
  assert.deepEqual(payloads, memory.events.map(hex), "the payloads the memory sink gets");
  const metrics = rm.scopeMetrics.reduce((n, s) => n + s.metrics.length, 0);
  assert.equal(payloads.length, metrics, "one event per metric: every point of a metric packed");
  const points = payloads.flatMap((p) => flattenRequest(decodeMetricsPayload(unhex(p))));
  assert.equal(points.length, WORKLOAD_POINTS);
  for (const p of points) {
    assert.equal(p.attributes["deployment.ring"], "canary");
    assert.equal(p.resource._microsoft_metrics_account, "ProdAccount");
    assert.equal(p.resource._microsoft_metrics_namespace, "Checkout");
  }
  const s = exporter.stats;
  assert.equal(s.eventsWritten, metrics);
  assert.equal(s.pointsWritten, WORKLOAD_POINTS);
  await exporter.shutdown();
});
