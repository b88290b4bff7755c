import assert from "node:assert/strict";
import { cString, errno, libc } from "../ffi/mod.ts";
import {
  MemorySink,
  NativeMetricsExporter,
  type NativeSink,
  OTLP_METRICS_DEFINITION,
  TracefsNotFoundError,
  UserEventsSink,
  UserEventsUnavailableError,
  WRITE_NOT_LISTENING,
  WRITE_OK,
} from "../mod.ts";
import { parseUserEventsWrite } from "../src/decode.ts";
import { UserEventsWriter } from "../src/sinks/user_events/sink.ts";
import { tracefsFromMounts } from "../src/sinks/user_events/discovery.ts";
import { readSmallFile } from "../ffi/libc.ts";
import { test } from "./harness.ts";
import { hex } from "./hex.ts";
import { collectWorkload } from "./workload.ts";

function makePipe(): [number, number] {
  const fds = new Int32Array(new ArrayBuffer(8));
  assert.equal(libc().pipe(fds), 0);
  return [fds[0]!, fds[1]!];
}

function drain(fd: number, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  const chunk = new Uint8Array(new ArrayBuffer(65536));
  let got = 0;
  while (got < expected) {
    const n = libc().read(fd, chunk, BigInt(Math.min(chunk.length, expected - got)));
    assert.ok(n > 0, `read gave ${n}, errno ${errno()}`);
    out.set(chunk.subarray(0, n), got);
    got += n;
  }
  return out;
}

test("the definition: the Rust crate's fields, a space after each ';' (kernels before 6.10)", () => {
  assert.equal(
    OTLP_METRICS_DEFINITION,
    "otlp_metrics u32 protocol; char[8] version; __rel_loc u8[] buffer",
  );
  // The kernel parses fields by splitting on ';': the same fields as Rust's and .NET's strings.
  const fields = (d: string) => d.split(";").map((f) => f.trim()).filter((f) => f !== "");
  assert.deepEqual(
    fields(OTLP_METRICS_DEFINITION),
    fields("otlp_metrics u32 protocol;char[8] version;__rel_loc u8[] buffer;"),
  );
});

test("writev through the real FFI path writes the exact user_events layout", () => {
  const [r, w] = makePipe();
  const writer = new UserEventsWriter(w, 0, 4048);
  try {
    writer.staging.set([1, 2, 3, 0xfe, 0xff], 20);
    assert.equal(writer.writeEvent(20, 25), 0);
    // [index 0][protocol 0]["v0.19.00"][rel_loc 5<<16][payload], as measured on a 6.12 kernel
    assert.equal(
      hex(drain(r, 25)),
      "00000000" + "00000000" + "76302e31392e3030" + "00000500" + "010203feff",
    );
  } finally {
    libc().close(r);
    libc().close(w);
    writer.arena.free();
  }
});

test("an exporter over the user_events writer: every event's bytes decode to the memory sink's payload", async () => {
  const [r, w] = makePipe();
  const writer = new UserEventsWriter(w, 3, 4048);
  const pipeSink: NativeSink = {
    kind: "pipe",
    maxPayloadSize: 4048,
    headroom: 20,
    staging: writer.staging,
    isEnabled: () => true,
    write: (s, e) => (writer.writeEvent(s, e) === 0 ? WRITE_OK : 5),
    describeError: String,
    shutdown: () => {},
  };
  try {
    const rm = await collectWorkload();
    const viaPipe = new NativeMetricsExporter({ sink: pipeSink });
    viaPipe.export(rm, (res) => assert.equal(res.code, 0));
    const memory = new MemorySink();
    new NativeMetricsExporter({ sink: memory }).export(rm, () => {});
    const total = memory.events.reduce((n, e) => n + e.length + 20, 0);
    assert.equal(viaPipe.stats.bytesWritten + 20 * viaPipe.stats.eventsWritten, total);
    const bytes = drain(r, total);
    let at = 0;
    for (const expected of memory.events) {
      const length = bytes[at + 18]! | (bytes[at + 19]! << 8);
      const event = parseUserEventsWrite(bytes.subarray(at, at + 20 + length));
      assert.equal(event.writeIndex, 3);
      assert.equal(event.protocol, 0);
      assert.equal(event.version, "v0.19.00");
      assert.deepEqual(event.payload, expected);
      at += 20 + length;
    }
    assert.equal(at, total);
  } finally {
    libc().close(r);
    libc().close(w);
    writer.arena.free();
  }
});

test("a write to a closed descriptor reports EBADF, which the sink maps to 'not listening'", () => {
  const [r, w] = makePipe();
  libc().close(r);
  libc().close(w);
  const writer = new UserEventsWriter(w, 0, 64);
  try {
    assert.equal(writer.writeEvent(20, 21), 9);
    assert.equal(WRITE_NOT_LISTENING, -1);
  } finally {
    writer.arena.free();
  }
});

test("tracefs discovery reads /proc/mounts: tracefs first, then debugfs/tracing", () => {
  const mounts = [
    "proc /proc proc rw 0 0",
    "debugfs /sys/kernel/debug debugfs rw 0 0",
    "tracefs /mnt/my\\040trace tracefs rw 0 0",
    "tracefs /sys/kernel/tracing tracefs rw 0 0",
  ].join("\n");
  assert.deepEqual(tracefsFromMounts(mounts), [
    "/mnt/my trace",
    "/sys/kernel/tracing",
    "/sys/kernel/debug/tracing",
  ]);
});

test("no tracefs at the given directory: a clear TracefsNotFoundError", () => {
  assert.throws(
    () => new UserEventsSink({ tracefs: "/nonexistent/tracing" }),
    (e: Error) => e instanceof TracefsNotFoundError && /not a mounted tracefs/.test(e.message),
  );
});

test("on this machine's kernel: a working sink or an error naming what is missing", () => {
  const mounts = readSmallFile("/proc/mounts").text ?? "";
  let sink: UserEventsSink | undefined;
  try {
    sink = new UserEventsSink();
  } catch (e) {
    if (tracefsFromMounts(mounts).length === 0) {
      assert.ok(e instanceof TracefsNotFoundError, String(e));
      assert.match((e as Error).message, /mount -t tracefs/);
    } else {
      assert.ok(
        e instanceof UserEventsUnavailableError || e instanceof TracefsNotFoundError,
        String(e),
      );
      assert.match((e as Error).message, /CONFIG_USER_EVENTS|tracefs/);
    }
    return;
  }
  // A user_events kernel (the QEMU tier): registered and unregistered cleanly.
  assert.ok(sink.writeIndex >= 0);
  sink.shutdown();
});

test("maxPayloadSize is bounded by the perf limit", () => {
  assert.throws(() => new UserEventsSink({ maxPayloadSize: 8169 }), RangeError);
  assert.throws(() => new UserEventsSink({ maxPayloadSize: 0 }), RangeError);
  assert.equal(new MemorySink().maxPayloadSize, 4048);
  assert.ok(cString("a").length === 2);
});
