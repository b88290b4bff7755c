/**
 * The real-kernel tier: runs as root inside the QEMU VM (Linux 6.12, CONFIG_USER_EVENTS=y)
 * started by tests/kernel/run.sh, under `deno test` and `bun test`. Not part of the host suite.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fromBinary } from "@bufbuild/protobuf";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { AggregationTemporality, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { cString, errno, libc, NativeBlock, readSmallFile } from "../../ffi/mod.ts";
import {
  EventDefinitionConflictError,
  MemorySink,
  NativeMetricsExporter,
  UserEventsSink,
} from "../../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../../src/decode.ts";
import { type CapturedEvent, TracefsListener } from "../../src/listener/mod.ts";
import { ExportMetricsServiceRequestSchema } from "../../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { registerOtlpMetrics, unregisterOtlpMetrics } from "../../src/sinks/user_events/sink.ts";
import { openUserEventsData } from "../../src/sinks/user_events/discovery.ts";
import { WRITE_NOT_LISTENING, WRITE_OK } from "../../src/sinks/sink.ts";
import { runtimeName, testUnless } from "../harness.ts";
import { deleteEvent, EVENT_DIR, NO_KERNEL, sleep, TRACING, until } from "./helpers/kernel.ts";
import { hex } from "../hex.ts";
import {
  collectWorkload,
  ManualReader,
  paddedPoint,
  recordWorkload,
  WORKLOAD_POINTS,
  workloadProvider,
} from "../workload.ts";

const test = (name: string, fn: () => void | Promise<void>) => testUnless(NO_KERNEL, name, fn);

/** Raw registration of any definition, for the conflict test. */
function rawRegister(fd: number, definition: string): { arena: NativeBlock; rc: number } {
  const arena = NativeBlock.allocate(640);
  arena.bytes.set(cString(definition), 80);
  const v = arena.view;
  v.setUint32(8, 28, true);
  v.setUint8(13, 4);
  v.setBigUint64(16, arena.at(0), true);
  v.setBigUint64(24, arena.at(80), true);
  const rc = libc().ioctl(fd, 0xc0082a00n, arena.at(8));
  return { arena, rc: rc === 0 ? 0 : errno() };
}

function capture(listener: TracefsListener): CapturedEvent[] {
  return listener.poll();
}

async function exportAndCapture(
  exporter: NativeMetricsExporter,
  listener: TracefsListener,
  rm: ResourceMetrics,
) {
  let code = -1;
  exporter.export(rm, (r) => (code = r.code));
  await sleep(20);
  return { code, events: capture(listener) };
}

test(`[${runtimeName}] an existing otlp_metrics with another definition: EventDefinitionConflictError`, async () => {
  await deleteEvent();
  const { fd } = openUserEventsData();
  const other = rawRegister(fd, "otlp_metrics u32 something_else");
  assert.equal(other.rc, 0);
  try {
    // Where the message points for the existing fields
    assert.match(
      readSmallFile(`${TRACING}/dynamic_events`).text!,
      /^u:otlp_metrics u32 something_else$/m,
    );
    assert.throws(
      () => new UserEventsSink(),
      (e: Error) =>
        e instanceof EventDefinitionConflictError && /with other fields exists/.test(e.message) &&
        /user_events_status/.test(e.message) && /dynamic_events/.test(e.message) &&
        /before 6\.10/.test(e.message),
    );
  } finally {
    assert.equal(unregisterOtlpMetrics(fd, other.arena), 0);
    libc().close(fd);
    other.arena.free();
  }
  await deleteEvent();
});

test(`[${runtimeName}] registration creates user_events:otlp_metrics with the exact format`, () => {
  const sink = new UserEventsSink();
  try {
    const format = readSmallFile(`${EVENT_DIR}/format`).text!;
    assert.match(format, /^name: otlp_metrics$/m);
    // Parse offset and size only: the kernel prints garbage in the array length of `version`.
    const field = (name: string) => {
      const line = format.split("\n").find((l) =>
        new RegExp(`field:[^;]*\\b${name}(\\[\\d*\\])?;`).test(l)
      );
      assert.ok(line, `field ${name} in:\n${format}`);
      return [
        Number(/offset:(\d+);/.exec(line)![1]),
        Number(/size:(\d+);/.exec(line)![1]),
        line.split(";")[0]!.replace(/\[\d+\]/, "[]").trim(),
      ];
    };
    assert.deepEqual(field("protocol"), [8, 4, "field:u32 protocol"]);
    assert.deepEqual(field("version"), [12, 8, "field:char version[]"]);
    assert.deepEqual(field("buffer"), [20, 4, "field:__rel_loc u8 buffer[]"]);
    assert.match(readSmallFile(`${TRACING}/user_events_status`).text!, /otlp_metrics/);
    assert.ok(sink.writeIndex >= 0);
  } finally {
    sink.shutdown();
  }
});

test(`[${runtimeName}] the enable word follows listeners; nothing is encoded while nobody listens`, async () => {
  const sink = new UserEventsSink();
  const exporter = new NativeMetricsExporter({ sink });
  try {
    assert.equal(sink.enableWord, 0);
    let code = -1;
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0);
    assert.equal(exporter.stats.pointsSkippedNoListener, WORKLOAD_POINTS);
    assert.equal(exporter.stats.eventsWritten, 0);
    assert.ok(sink.staging.every((b) => b === 0), "the staging memory was never written");
    const listener = TracefsListener.open();
    await until("enable bit set", () => sink.enableWord === 1);
    assert.equal(exporter.isEnabled(), true);
    listener.close();
    await until("enable bit cleared", () => sink.enableWord === 0);
    // Also with the kernel's own switch, as a user would do it
    const root = `${EVENT_DIR}/enable`;
    spawnSync("sh", ["-c", `echo 1 > ${root}`]);
    await until("enable bit set by events/.../enable", () => sink.enableWord === 1);
    spawnSync("sh", ["-c", `echo 0 > ${root}`]);
    await until("enable bit cleared by events/.../enable", () => sink.enableWord === 0);
  } finally {
    await exporter.shutdown();
  }
});

test(`[${runtimeName}] a known workload: every point arrives exactly once, decoding to the SDK's values`, async () => {
  const exporter = new NativeMetricsExporter({ sink: new UserEventsSink() });
  const listener = TracefsListener.open();
  try {
    for (const temporality of [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]) {
      const rm = await collectWorkload(temporality);
      const memory = new MemorySink();
      new NativeMetricsExporter({ sink: memory }).export(rm, () => {});
      const { code, events } = await exportAndCapture(exporter, listener, rm);
      assert.equal(code, 0);
      assert.equal(events.length, WORKLOAD_POINTS);
      for (const e of events) {
        assert.equal(e.protocol, 0);
        assert.equal(e.version, "v0.19.00");
      }
      // byte-identical to what the encoder produced, each exactly once
      assert.deepEqual(events.map((e) => hex(e.payload)).sort(), memory.events.map(hex).sort());
      // and the same points as the official serializer's whole request
      const official = flattenRequest(
        fromBinary(
          ExportMetricsServiceRequestSchema,
          ProtobufMetricsSerializer.serializeRequest(rm)!,
        ),
      );
      const key = (p: unknown) =>
        JSON.stringify(
          p,
          (_k, v) => typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? hex(v) : v,
        );
      const ours = events.map((e) => flattenRequest(decodeMetricsPayload(e.payload))).map((f) => {
        assert.equal(f.length, 1);
        return key(f[0]);
      });
      assert.deepEqual(ours.sort(), official.map(key).sort());
    }
    assert.equal(listener.lostPages, 0);
  } finally {
    listener.close();
    await exporter.shutdown();
  }
});

test(`[${runtimeName}] a point of exactly 4048 bytes arrives; 4049 is dropped and reported, not lost silently`, async () => {
  const probe = new MemorySink();
  new NativeMetricsExporter({ sink: probe }).export(paddedPoint(3000), () => {});
  const pad = 3000 + 4048 - probe.events[0]!.length;
  const exporter = new NativeMetricsExporter({ sink: new UserEventsSink() });
  const listener = TracefsListener.open();
  try {
    const at = await exportAndCapture(exporter, listener, paddedPoint(pad));
    assert.equal(at.code, 0);
    assert.deepEqual(at.events.map((e) => e.payload.length), [4048]);
    const over = await exportAndCapture(exporter, listener, paddedPoint(pad + 1));
    assert.equal(over.code, 1);
    assert.equal(over.events.length, 0);
    assert.deepEqual(exporter.stats.lastOversize, { metric: "big", size: 4049, limit: 4048 });
    assert.equal(exporter.stats.pointsDropped.oversize, 1);
  } finally {
    listener.close();
    await exporter.shutdown();
  }
});

test(`[${runtimeName}] the kernel would have lost it: a 4049-byte write is accepted and never delivered`, async () => {
  // Why the limit exists: with maxPayloadSize raised to perf's 8168, ftrace listeners lose the event.
  const probe = new MemorySink({ maxPayloadSize: 8168 });
  new NativeMetricsExporter({ sink: probe }).export(paddedPoint(3000), () => {});
  const pad = 3000 + 4049 - probe.events[0]!.length;
  const exporter = new NativeMetricsExporter({
    sink: new UserEventsSink({ maxPayloadSize: 8168 }),
  });
  const listener = TracefsListener.open();
  try {
    const r = await exportAndCapture(exporter, listener, paddedPoint(pad));
    assert.equal(r.code, 0);
    assert.equal(exporter.stats.eventsWritten, 1, "the kernel reported success");
    assert.equal(r.events.length, 0, "yet ftrace received nothing");
  } finally {
    listener.close();
    await exporter.shutdown();
  }
});

test(`[${runtimeName}] listeners detaching during an export (EBADF): UserEventsSink.write reports "not listening", the exporter stays healthy and counting`, async () => {
  const sink = new UserEventsSink();
  const exporter = new NativeMetricsExporter({ sink });
  let listener: TracefsListener | undefined;
  try {
    // UserEventsSink.write itself, on both sides of a listener leaving.
    const start = sink.headroom;
    sink.staging.set([1, 2, 3], start);
    listener = TracefsListener.open();
    await until("enable bit set", () => sink.isEnabled());
    assert.equal(sink.write(start, start + 3), WRITE_OK);
    assert.deepEqual(listener.poll().map((e) => hex(e.payload)), ["010203"]);
    listener.close();
    await until("enable bit cleared", () => !sink.isEnabled());
    // The write that lost the race: the kernel answers EBADF (no probe attached).
    assert.equal(sink.write(start, start + 3), WRITE_NOT_LISTENING);

    // The same race inside an export: the exporter saw "enabled", the listener leaves before
    // the sixth write. Only this instance's isEnabled/write are wrapped, to hold the window open
    // and to close the listener at that point; every write is the real UserEventsSink.write.
    const realWrite = UserEventsSink.prototype.write;
    let writes = 0;
    sink.isEnabled = () => true;
    sink.write = function (this: UserEventsSink, s: number, e: number) {
      if (++writes === 6) listener!.close();
      return realWrite.call(this, s, e);
    };
    listener = TracefsListener.open();
    let code = -1;
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0);
    assert.equal(writes, WORKLOAD_POINTS, "every point reached UserEventsSink.write");
    const s = exporter.stats;
    assert.equal(s.eventsWritten, 5);
    assert.equal(s.pointsSkippedNoListener, 9, "EBADF writes count as 'nobody listened'");
    assert.deepEqual(s.writeErrors, {});
    // Healthy afterwards: a new listener receives the next export whole.
    listener = TracefsListener.open();
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0);
    assert.equal(listener.poll().length, WORKLOAD_POINTS);
    assert.equal(exporter.stats.eventsWritten, 5 + WORKLOAD_POINTS);
  } finally {
    listener?.close();
    await exporter.shutdown();
  }
});

test(`[${runtimeName}] two exporters in one process; after shutdown no registration remains`, async () => {
  const a = new NativeMetricsExporter({ sink: new UserEventsSink() });
  const b = new NativeMetricsExporter({ sink: new UserEventsSink() });
  const listener = TracefsListener.open();
  try {
    await until("both enabled", () => a.isEnabled() && b.isEnabled());
    const rm = await collectWorkload();
    a.export(rm, () => {});
    b.export(rm, () => {});
    assert.equal(listener.poll().length, 28);
    await a.shutdown();
    b.export(rm, () => {});
    assert.equal(listener.poll().length, WORKLOAD_POINTS, "the second exporter is unaffected");
  } finally {
    listener.close();
    await b.shutdown();
  }
  // Unreferenced, the event is deleted by the kernel.
  await until(
    "otlp_metrics gone from user_events_status",
    () => !/otlp_metrics/.test(readSmallFile(`${TRACING}/user_events_status`).text ?? ""),
  );
});

test(`[${runtimeName}] after DIAG_IOCSUNREG the kernel no longer writes the old enable address`, async () => {
  const { fd, tracefs } = openUserEventsData();
  const old = NativeBlock.allocate(640);
  const keeper = new UserEventsSink(); // keeps the event alive for the listener
  try {
    registerOtlpMetrics(fd, old, tracefs);
    const word = new Uint32Array(old.bytes.buffer, 0, 1);
    let listener = TracefsListener.open();
    await until("old word set", () => word[0] === 1);
    listener.close();
    await until("old word cleared", () => word[0] === 0);
    assert.equal(unregisterOtlpMetrics(fd, old), 0);
    assert.equal(unregisterOtlpMetrics(fd, old), 2, "a second unregister: ENOENT");
    word[0] = 0xabcd0000; // a value the kernel would disturb if it still owned bit 0
    listener = TracefsListener.open();
    await until("the live registration is enabled", () => keeper.enableWord === 1);
    await sleep(50);
    assert.equal(word[0], 0xabcd0000, "the unregistered word is never written again");
    listener.close();
  } finally {
    keeper.shutdown();
    libc().close(fd);
    old.free();
  }
});

test(`[${runtimeName}] soak: 1000 export cycles under a listener, every point delivered, memory flat`, async () => {
  const reader = new ManualReader();
  const provider = workloadProvider(reader);
  const exporter = new NativeMetricsExporter({ sink: new UserEventsSink() });
  const listener = TracefsListener.open({ bufferSizeKb: 8192 });
  const gc = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  const collectGarbage = () => gc.Bun ? gc.Bun.gc(true) : gc.gc?.();
  const memory =
    (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number; rss: number } } })
      .process;
  let delivered = 0, expected = 0, heapAt200 = 0, rssAt200 = 0;
  try {
    for (let cycle = 1; cycle <= 1000; cycle++) {
      expected += recordWorkload(provider);
      const { resourceMetrics } = await reader.collect();
      exporter.export(resourceMetrics, () => {});
      if (cycle % 25 === 0) delivered += listener.poll().length;
      if (cycle === 200) {
        collectGarbage();
        heapAt200 = memory.memoryUsage().heapUsed;
        rssAt200 = memory.memoryUsage().rss;
      }
    }
    delivered += listener.poll().length;
    collectGarbage();
    const heapGrowth = memory.memoryUsage().heapUsed - heapAt200;
    const rssGrowth = memory.memoryUsage().rss - rssAt200;
    console.log(
      `soak (${runtimeName}): heap +${(heapGrowth / 1024).toFixed(0)} KiB, rss +${
        (rssGrowth / 1024).toFixed(0)
      } KiB over cycles 200..1000; ${delivered} events`,
    );
    assert.equal(
      exporter.stats.eventsWritten,
      exporter.stats.pointsSkippedNoListener === 0 ? delivered : -1,
    );
    assert.ok(delivered >= expected, `${delivered} delivered of ${expected} recorded`);
    assert.equal(listener.lostPages, 0);
    assert.ok(heapGrowth < 4 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
    assert.ok(rssGrowth < 32 * 1024 * 1024, `rss grew ${rssGrowth} bytes`);
  } finally {
    listener.close();
    await exporter.shutdown();
    await provider.shutdown();
  }
});

function childRun(args: string[], extraEnv: Record<string, string> = {}) {
  const exe = runtimeName === "deno"
    ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath()
    : (globalThis as unknown as { process: { execPath: string } }).process.execPath;
  const script = new URL("./fixtures/expect_sink_error.ts", import.meta.url).pathname;
  const runtimeArgs = runtimeName === "deno"
    ? [exe, "run", "--allow-ffi", "--allow-env", "--no-lock", script]
    : [exe, script];
  const result = spawnSync(args[0]!, [...args.slice(1), ...runtimeArgs], {
    encoding: "utf8",
    env: {
      ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env,
      ...extraEnv,
    },
  });
  return `${result.stdout}${result.stderr}`;
}

test(`[${runtimeName}] a non-root user: UserEventsPermissionError naming the permission`, () => {
  spawnSync("sh", ["-c", "mkdir -p /run/nobody && chmod 777 /run/nobody"]);
  const out = childRun(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], {
    HOME: "/run/nobody",
    DENO_DIR: "/run/nobody/deno",
    TMPDIR: "/run/nobody",
  });
  assert.match(
    out,
    /UserEventsPermissionError: Permission denied opening \/sys\/kernel\/tracing\/user_events_data/,
    out,
  );
  assert.match(out, /needs root, or write permission on user_events_data/, out);
});

test(`[${runtimeName}] tracefs not mounted: TracefsNotFoundError saying how to mount it`, () => {
  assert.equal(spawnSync("umount", [TRACING]).status, 0);
  try {
    const out = childRun(["env"]);
    assert.match(
      out,
      /TracefsNotFoundError: tracefs is not mounted .*mount -t tracefs nodev \/sys\/kernel\/tracing/,
      out,
    );
  } finally {
    assert.equal(spawnSync("mount", ["-t", "tracefs", "tracefs", TRACING]).status, 0);
  }
});
