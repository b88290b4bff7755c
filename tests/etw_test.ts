import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cString, ffi, platform } from "../ffi/mod.ts";
import { EtwError, EtwSink, MemorySink, NativeMetricsExporter } from "../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { env, test, testUnless } from "./harness.ts";
import { collectWorkload, paddedPoint } from "./workload.ts";

// The recording advapi32 stand-in (tests/etw/standin): built with gcc here; under Wine
// (tests/wine/test.sh) the mingw DLL's Windows path arrives in ETW_STANDIN_DLL.
function standinPath(): string {
  const dll = env("ETW_STANDIN_DLL");
  if (dll) return dll;
  const script = new URL("./etw/build-standin.sh", import.meta.url).pathname;
  const build = spawnSync("bash", [script], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`building the ETW stand-in failed: ${build.stderr}`);
  return build.stdout.split("\n").find((l) => l.endsWith(".so"))!;
}
const STANDIN = standinPath();

const control = ffi().open(STANDIN, {
  standin_reset: { parameters: [], result: "void" },
  standin_set_enabled: { parameters: ["u8"], result: "void" },
  standin_set_result: { parameters: ["buffer", "u32"], result: "i32" },
  standin_log_size: { parameters: [], result: "u64" },
  standin_log_copy: { parameters: ["buffer", "u64"], result: "u64" },
}).symbols;

interface Blob {
  size: number;
  type: number;
  reserved1: number;
  reserved2: number;
  hex: string;
}
interface Call {
  fn: string;
  [k: string]: unknown;
}

function calls(): Call[] {
  const size = Number(control.standin_log_size());
  const buf = new Uint8Array(new ArrayBuffer(size + 1));
  control.standin_log_copy(buf, BigInt(buf.length));
  return new TextDecoder().decode(buf.subarray(0, size)).split("\n").filter(Boolean).map((l) =>
    JSON.parse(l)
  );
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

const TRAITS_HEX = "22004e61746976654d657472696373457874656e73696f6e5f50726f766964657200";
const METADATA_HEX = "1000006f746c705f6d65747269637300";
const DESCRIPTOR_HEX = "5100000b040000000100000000000000";
const GUID_HEX = "2049c2ed04e0f640a8e10e6e48f39d84";

function fresh(enabled: boolean) {
  control.standin_reset();
  control.standin_set_enabled(enabled ? 1 : 0);
  return new NativeMetricsExporter({ sink: new EtwSink({ library: STANDIN }) });
}

test("ETW: registers the Rust crate's provider with its TraceLogging traits", async () => {
  const exporter = fresh(false);
  const [register, traits] = calls();
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
  const last = calls().at(-1)!;
  assert.equal(last.fn, "EventUnregister");
  assert.equal(last.handle, register!.handle);
});

test("ETW: provider not enabled → nothing encoded, no write", async () => {
  const exporter = fresh(false);
  exporter.export(await collectWorkload(), (r) => assert.equal(r.code, 0));
  const log = calls();
  assert.equal(log.filter((c) => c.fn === "EventWriteTransfer").length, 0);
  const checks = log.filter((c) => c.fn === "EventProviderEnabled");
  assert.equal(checks.length, 1, "one check skips the whole export");
  assert.equal(checks[0]!.level, 4);
  assert.equal(checks[0]!.keyword, "0x1");
  assert.ok(exporter.sink.staging.every((b) => b === 0), "nothing was encoded");
  assert.equal(exporter.stats.pointsSkippedNoListener, 14);
  await exporter.shutdown();
});

test("ETW: every point is one EventWriteTransfer with the exact descriptors and an OTLP payload", async () => {
  const exporter = fresh(true);
  const rm = await collectWorkload();
  exporter.export(rm, (r) => assert.equal(r.code, 0));
  const memory = new MemorySink({ maxPayloadSize: 65360 });
  new NativeMetricsExporter({ sink: memory }).export(rm, () => {});
  const writes = calls().filter((c) => c.fn === "EventWriteTransfer");
  assert.equal(writes.length, 14);
  writes.forEach((w, i) => {
    assert.equal(w.descriptor, DESCRIPTOR_HEX);
    assert.deepEqual([w.id, w.version, w.channel, w.level, w.opcode, w.task, w.keyword], [
      81,
      0,
      11,
      4,
      0,
      0,
      "0x1",
    ]);
    assert.equal(w.activity, null);
    assert.equal(w.related, null);
    assert.equal(w.count, 3);
    const [traits, metadata, payload] = w.data as Blob[];
    assert.deepEqual(traits, {
      ...traits,
      size: 34,
      type: 2,
      reserved1: 0,
      reserved2: 0,
      hex: TRAITS_HEX,
    });
    assert.deepEqual(metadata, {
      ...metadata,
      size: 16,
      type: 1,
      reserved1: 0,
      reserved2: 0,
      hex: METADATA_HEX,
    });
    assert.equal(payload!.type, 0);
    assert.equal(payload!.reserved1 + payload!.reserved2, 0);
    assert.equal(
      payload!.hex,
      hex(memory.events[i]!),
      `payload ${i} is the OTLP request, unframed`,
    );
    assert.equal(flattenRequest(decodeMetricsPayload(unhex(payload!.hex))).length, 1);
  });
  assert.equal(exporter.stats.eventsWritten, 14);
  await exporter.shutdown();
});

test("ETW: write failures (534 too big, 8 buffers full) are counted by Win32 name", async () => {
  const exporter = fresh(true);
  control.standin_set_result(cString("EventWriteTransfer"), 534);
  exporter.export(await collectWorkload(), (r) => assert.equal(r.code, 1));
  control.standin_set_result(cString("EventWriteTransfer"), 8);
  exporter.export(await collectWorkload(), () => {});
  control.standin_set_result(cString("EventWriteTransfer"), 0);
  exporter.export(await collectWorkload(), (r) => assert.equal(r.code, 0));
  assert.deepEqual(exporter.stats.writeErrors, {
    "ERROR_ARITHMETIC_OVERFLOW (534)": 14,
    "ERROR_NOT_ENOUGH_MEMORY (8)": 14,
  });
  assert.equal(exporter.stats.pointsDropped.writeError, 28);
  assert.equal(exporter.stats.eventsWritten, 14);
  await exporter.shutdown();
});

test("ETW: a failing EventRegister or EventSetInformation is a clear EtwError", () => {
  control.standin_reset();
  control.standin_set_result(cString("EventRegister"), 5);
  assert.throws(
    () => new EtwSink({ library: STANDIN }),
    (e: Error) =>
      e instanceof EtwError &&
      /EventRegister failed with ERROR_ACCESS_DENIED \(5\)/.test(e.message),
  );
  control.standin_reset();
  control.standin_set_result(cString("EventSetInformation"), 50);
  assert.throws(
    () => new EtwSink({ library: STANDIN }),
    (e: Error) => e instanceof EtwError && /ERROR_NOT_SUPPORTED \(50\)/.test(e.message),
  );
  assert.equal(calls().at(-1)!.fn, "EventUnregister", "a half-registered provider is released");
});

test("ETW: 65360 bytes are written, 65361 dropped and reported", () => {
  const exporter = fresh(true);
  const make = paddedPoint;
  const probe = new MemorySink({ maxPayloadSize: 65360 });
  new NativeMetricsExporter({ sink: probe }).export(make(60000), () => {});
  const pad = 60000 + 65360 - probe.events[0]!.length;
  exporter.export(make(pad), (r) => assert.equal(r.code, 0));
  exporter.export(make(pad + 1), (r) => assert.equal(r.code, 1));
  const writes = calls().filter((c) => c.fn === "EventWriteTransfer");
  assert.equal(writes.length, 1);
  assert.equal((writes[0]!.data as Blob[])[2]!.size, 65360);
  assert.deepEqual(exporter.stats.lastOversize, { metric: "big", size: 65361, limit: 65360 });
  assert.throws(() => new EtwSink({ library: STANDIN, maxPayloadSize: 65361 }), RangeError);
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
    exporter.export(await collectWorkload(), (r) => assert.equal(r.code, 0));
    const s = exporter.stats;
    assert.equal(s.eventsWritten + s.pointsSkippedNoListener, 14);
    if (!listening) assert.equal(s.pointsSkippedNoListener, 14);
    await exporter.shutdown();
  },
);
