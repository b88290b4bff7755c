// Faults injected at the FFI boundary of the user_events sink: a test double of its native
// calls (UserEventsSyscalls) over the real libc, real native memory and a real file
// (/dev/null), scripted to fail the way the kernel does.
import assert from "node:assert/strict";
import { cString, Errno, errno, ffi, libc, NativeBlock, O_CLOEXEC, O_WRONLY } from "../ffi/mod.ts";
import { NativeMetricsExporter, UserEventsSink } from "../mod.ts";
import {
  DIAG_IOCSREG,
  DIAG_IOCSUNREG,
  OTLP_METRICS_DEFINITION,
} from "../src/sinks/user_events/abi.ts";
import type { UserEventsSyscalls } from "../src/sinks/user_events/syscalls.ts";
import { test } from "./harness.ts";
import { collectWorkload, WORKLOAD_POINTS } from "./workload.ts";

const POINTS = WORKLOAD_POINTS;
const { EBADF, EFAULT, EINVAL, ENOSPC, EINTR, EACCES, EADDRINUSE, ENOMEM, ENOENT } = Errno;

/** What the double does with the next calls: a queue of errnos (0 = succeed), then `rest`. */
class Script {
  constructor(public queue: number[] = [], public rest = 0) {}
  next(): number {
    return this.queue.length > 0 ? this.queue.shift()! : this.rest;
  }
}

/**
 * A user_events "kernel" for the sink: tracefs at /fake/tracing, user_events_data is
 * /dev/null, DIAG_IOCSREG writes a write index and sets the enable word as the kernel does.
 */
class FakeUserEvents implements UserEventsSyscalls {
  register = new Script();
  unregister = new Script();
  writes = new Script();
  openResult = new Script();
  written = 0;
  registered = 0;
  /** The definitions DIAG_IOCSREG received, as the kernel reads them (name_args, NUL-terminated). */
  definitions: string[] = [];
  fds = new Set<number>();
  #errno = 0;
  #faked = false;

  #fail(code: number): number {
    this.#errno = code;
    this.#faked = true;
    return -1;
  }

  open(path: string, flags: number): number {
    this.#faked = false;
    if (path !== "/fake/tracing/user_events_data") return this.#fail(ENOENT);
    const code = this.openResult.next();
    if (code !== 0) return this.#fail(code);
    const fd = libc().open(cString("/dev/null"), flags);
    if (fd >= 0) this.fds.add(fd);
    return fd;
  }
  ioctl(_fd: number, request: bigint, arg: bigint): number {
    this.#faked = false;
    if (request === DIAG_IOCSREG) {
      const code = this.register.next();
      if (code !== 0) return this.#fail(code);
      const reg = new DataView(ffi().view(arg, 28));
      const enableAddress = reg.getBigUint64(8, true);
      const text = new Uint8Array(ffi().view(reg.getBigUint64(16, true), 512));
      this.definitions.push(new TextDecoder().decode(text.subarray(0, text.indexOf(0))));
      reg.setUint32(24, 3, true); // write_index
      new Uint32Array(ffi().view(enableAddress, 4))[0] = 1; // a listener is attached
      this.registered++;
      return 0;
    }
    if (request === DIAG_IOCSUNREG) {
      const code = this.unregister.next();
      if (code !== 0) return this.#fail(code);
      this.registered--;
      return 0;
    }
    return this.#fail(EINVAL);
  }
  writev(fd: number, iov: bigint, count: number): number {
    this.#faked = false;
    const code = this.writes.next();
    if (code !== 0) return this.#fail(code);
    const n = libc().writev(fd, iov, count);
    if (n > 0) this.written++;
    return n;
  }
  close(fd: number): number {
    this.fds.delete(fd);
    return libc().close(fd);
  }
  errno(): number {
    return this.#faked ? this.#errno : errno();
  }
  readFile(path: string): { text?: string; errno: number } {
    if (path === "/proc/mounts") {
      return { text: "tracefs /fake/tracing tracefs rw 0 0\n", errno: 0 };
    }
    return { errno: ENOENT };
  }
}

function newSink(fake: FakeUserEvents): UserEventsSink {
  return new UserEventsSink({ syscalls: fake, tracefs: "/fake/tracing" });
}

function accounted(e: NativeMetricsExporter): number {
  const s = e.stats;
  let n = s.eventsWritten + s.pointsSkippedNoListener;
  for (const v of Object.values(s.pointsDropped)) n += v;
  return n;
}

test("faults: the double is a working user_events for the real sink (control)", async () => {
  const fake = new FakeUserEvents();
  const exporter = new NativeMetricsExporter({ sink: newSink(fake) });
  assert.deepEqual(exporter.status, { state: "ready", sink: "user_events" });
  exporter.export(await collectWorkload(), () => {});
  assert.equal(exporter.stats.eventsWritten, POINTS);
  assert.equal(fake.written, POINTS);
  await exporter.shutdown();
  assert.equal(fake.registered, 0, "unregistered");
  assert.equal(fake.fds.size, 0, "closed");
});

for (
  const [code, name] of [[EFAULT, "EFAULT (14)"], [EINVAL, "EINVAL (22)"], [
    ENOSPC,
    "ENOSPC (28)",
  ]] as [
    number,
    string,
  ][]
) {
  test(`faults: writev fails with ${name} for 3 points: counted by name, the rest written`, async () => {
    const fake = new FakeUserEvents();
    const exporter = new NativeMetricsExporter({ sink: newSink(fake) });
    fake.writes.queue = [0, code, code, 0, code];
    let result = -1;
    exporter.export(await collectWorkload(), (r) => (result = r.code));
    assert.equal(result, 1, "FAILED: points were dropped");
    const s = exporter.stats;
    assert.equal(s.pointsDropped.writeError, 3);
    assert.deepEqual(s.writeErrors, { [name]: 3 });
    assert.equal(s.eventsWritten, POINTS - 3);
    assert.equal(accounted(exporter), POINTS);
    exporter.export(await collectWorkload(), (r) => (result = r.code));
    assert.equal(result, 0, "recovered: the next export is clean");
    assert.equal(exporter.stats.eventsWritten, 2 * POINTS - 3);
    await exporter.shutdown();
  });
}

test("faults: EBADF (the last listener left mid-export) is skipped, not dropped", async () => {
  const fake = new FakeUserEvents();
  const exporter = new NativeMetricsExporter({ sink: newSink(fake) });
  fake.writes.queue = [0, 0, EBADF, EBADF];
  let result = -1;
  exporter.export(await collectWorkload(), (r) => (result = r.code));
  assert.equal(result, 0);
  assert.equal(exporter.stats.pointsSkippedNoListener, 2);
  assert.equal(exporter.stats.eventsWritten, POINTS - 2);
  assert.deepEqual(exporter.stats.writeErrors, {});
  await exporter.shutdown();
});

test("faults: EINTR is retried (written once); EINTR every time is a counted write error", async () => {
  const fake = new FakeUserEvents();
  const exporter = new NativeMetricsExporter({ sink: newSink(fake) });
  fake.writes.queue = [EINTR, EINTR, 0];
  exporter.export(await collectWorkload(), () => {});
  assert.equal(exporter.stats.eventsWritten, POINTS);
  assert.equal(fake.written, POINTS, "no point written twice");
  fake.writes.queue = [EINTR, EINTR, EINTR];
  exporter.export(await collectWorkload(), () => {});
  assert.deepEqual(exporter.stats.writeErrors, { "EINTR (4)": 1 });
  assert.equal(exporter.stats.eventsWritten, 2 * POINTS - 1);
  await exporter.shutdown();
});

test("faults: registration failing, then succeeding: unavailable, counted, then written", async () => {
  const fake = new FakeUserEvents();
  fake.register.queue = [EACCES, EADDRINUSE, ENOMEM];
  const exporter = new NativeMetricsExporter({
    sink: () => newSink(fake),
    retry: { initialDelayMs: 0, maxDelayMs: 0 },
    onUnavailable: "silent",
  });
  const reasons: string[] = [];
  const rm = await collectWorkload();
  for (let i = 0; i < 3; i++) {
    const s = exporter.status;
    reasons.push(s.state === "unavailable" ? s.reason : s.state);
    exporter.export(rm, () => {});
  }
  assert.deepEqual(reasons, ["permission", "definition-conflict", "registration-failed"]);
  assert.deepEqual(exporter.status, { state: "ready", sink: "user_events" });
  assert.equal(exporter.stats.pointsDropped.unavailable, 2 * POINTS);
  assert.equal(exporter.stats.eventsWritten, POINTS);
  assert.equal(fake.fds.size, 1, "the failed attempts closed their descriptors");
  await exporter.shutdown();
  assert.equal(fake.fds.size, 0);
});

test("faults: a failed open (EACCES) then success", async () => {
  const fake = new FakeUserEvents();
  fake.openResult.queue = [EACCES];
  const exporter = new NativeMetricsExporter({
    sink: () => newSink(fake),
    retry: { initialDelayMs: 0 },
    onUnavailable: "silent",
  });
  const s = exporter.status;
  assert.ok(s.state === "unavailable" && s.reason === "permission");
  exporter.export(await collectWorkload(), () => {});
  assert.equal(exporter.stats.eventsWritten, POINTS);
  await exporter.shutdown();
});

test("faults: a failed DIAG_IOCSUNREG leaks the arena on purpose (the kernel may write to it)", () => {
  const fake = new FakeUserEvents();
  const before = NativeBlock.live.blocks;
  const sink = newSink(fake);
  assert.equal(NativeBlock.live.blocks, before + 1);
  fake.unregister.queue = [EINVAL];
  sink.shutdown();
  assert.equal(sink.leaked, true);
  assert.equal(NativeBlock.live.blocks, before + 1, "not freed");
  assert.equal(fake.fds.size, 0, "the descriptor is closed all the same");
  const ok = newSink(fake);
  ok.shutdown();
  assert.equal(ok.leaked, false);
  assert.equal(NativeBlock.live.blocks, before + 1);
});

test("faults: open(user_events_data) is close-on-exec and write-only", () => {
  let flags = -1;
  const fake = new FakeUserEvents();
  const open = fake.open.bind(fake);
  fake.open = (path, f) => {
    flags = f;
    return open(path, f);
  };
  newSink(fake).shutdown();
  assert.equal(flags, O_WRONLY | O_CLOEXEC);
});

test("eventName: the same fields registered under another tracepoint name", () => {
  const fake = new FakeUserEvents();
  const plain = newSink(fake);
  assert.equal(plain.eventName, "otlp_metrics");
  const named = new UserEventsSink({
    syscalls: fake,
    tracefs: "/fake/tracing",
    eventName: "checkout_metrics",
  });
  assert.equal(named.eventName, "checkout_metrics");
  assert.deepEqual(fake.definitions, [
    "otlp_metrics u32 protocol; char[8] version; __rel_loc u8[] buffer",
    "checkout_metrics u32 protocol; char[8] version; __rel_loc u8[] buffer",
  ]);
  assert.equal(fake.definitions[0], OTLP_METRICS_DEFINITION);
  plain.shutdown();
  named.shutdown();
});

test("eventName: names the kernel or tracefs would mangle are refused at construction", () => {
  for (const eventName of ["", "has space", "with:flag", "1digit", "slash/name", "x".repeat(600)]) {
    assert.throws(
      () =>
        new UserEventsSink({ syscalls: new FakeUserEvents(), tracefs: "/fake/tracing", eventName }),
      RangeError,
      eventName,
    );
    assert.throws(
      () => new NativeMetricsExporter({ sink: "user_events", userEvents: { eventName } }),
      RangeError,
      "a programming error: not an unavailable facility",
    );
  }
});
