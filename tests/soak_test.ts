// Soak: 1,000 exports of 10,000 points each through the real UserEventsSink with a listener
// attached, every event written by the real writev (to /dev/null, through the test double of
// the kernel in user_events_faults_test.ts' style). Heap, RSS, open file descriptors and native
// allocations must stay flat. Resources are counted, never timed.
import assert from "node:assert/strict";
import { cString, errno, ffi, libc, NativeBlock } from "../ffi/mod.ts";
import { NativeMetricsExporter, UserEventsSink } from "../mod.ts";
import { DIAG_IOCSREG } from "../src/sinks/user_events/abi.ts";
import type { UserEventsSyscalls } from "../src/sinks/user_events/syscalls.ts";
import { Workload } from "../bench/workload.ts";
import { env, test } from "./harness.ts";

const CYCLES = Number(env("OTEL_NATIVE_SOAK_CYCLES") ?? 1000);
const POINTS = 10_000;
const DISTINCT = 8; // different collections cycled through (fresh attribute objects in each)

/** A user_events "kernel" that accepts the registration and a listener, writing to /dev/null. */
function devNullUserEvents(): UserEventsSyscalls {
  const c = libc();
  return {
    open: (path, flags) =>
      path.endsWith("/user_events_data") ? c.open(cString("/dev/null"), flags) : -1,
    ioctl: (_fd, request, arg) => {
      if (request !== DIAG_IOCSREG) return 0;
      const reg = new DataView(ffi().view(arg, 28));
      new Uint32Array(ffi().view(reg.getBigUint64(8, true), 4))[0] = 1;
      reg.setUint32(24, 0, true);
      return 0;
    },
    writev: c.writev,
    close: c.close,
    errno,
    readFile: (path) =>
      path === "/proc/mounts" ? { text: "tracefs /soak tracefs rw 0 0\n", errno: 0 } : { errno: 2 },
  };
}

const fcntl = ffi().open("libc.so.6", {
  /** int fcntl(int fd, int cmd, ...); F_GETFD takes no argument. */
  fcntl: { parameters: ["i32", "i32"], result: "i32" },
}).symbols.fcntl;
const F_GETFD = 1;

/** Open descriptors among the first 4096 (through libc: Deno's readdir of /proc needs -A). */
function openFds(): number {
  let n = 0;
  for (let fd = 0; fd < 4096; fd++) if (fcntl(fd, F_GETFD) >= 0) n++;
  return n;
}

function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

function memory(): { heap: number; rss: number } {
  const m = (globalThis as unknown as {
    process: { memoryUsage(): { heapUsed: number; rss: number } };
  }).process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

test(`soak: ${CYCLES} exports × ${POINTS} points, active sink: heap, RSS, fds, native memory flat`, async () => {
  const workload = new Workload({ points: POINTS, attributes: "fresh" });
  const collections = [];
  for (let i = 0; i < DISTINCT; i++) collections.push(await workload.cycle());
  await workload.shutdown();
  const points = Workload.countPoints(collections[0]!);
  assert.equal(points, POINTS);

  const fdsBefore = openFds();
  const nativeBefore = NativeBlock.live;
  const sink = new UserEventsSink({ syscalls: devNullUserEvents(), tracefs: "/soak" });
  const exporter = new NativeMetricsExporter({ sink });
  assert.equal(NativeBlock.live.blocks, nativeBefore.blocks + 1, "one arena for the sink");
  assert.equal(openFds(), fdsBefore + 1, "one descriptor for the sink");

  const checkpoint = Math.floor(CYCLES / 5);
  let baseline: { heap: number; rss: number } | undefined;
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    let code = -1;
    exporter.export(collections[cycle % DISTINCT]!, (r) => (code = r.code));
    if (code !== 0) assert.fail(`export ${cycle} failed: ${JSON.stringify(exporter.stats)}`);
    if (cycle === checkpoint) {
      gc();
      baseline = memory();
    }
  }
  gc();
  const end = memory();
  const stats = exporter.stats;
  assert.equal(stats.eventsWritten, CYCLES * POINTS, "every point written");
  assert.equal(openFds(), fdsBefore + 1, "no descriptor leaked");
  assert.equal(NativeBlock.live.blocks, nativeBefore.blocks + 1, "no native block leaked");
  const heapGrowth = (end.heap - baseline!.heap) / 2 ** 20;
  const rssGrowth = (end.rss - baseline!.rss) / 2 ** 20;
  console.log(
    `soak: ${CYCLES} × ${POINTS} points; cycles ${checkpoint}→${CYCLES}: heap ` +
      `${heapGrowth >= 0 ? "+" : ""}${heapGrowth.toFixed(2)} MiB, RSS ` +
      `${rssGrowth >= 0 ? "+" : ""}${rssGrowth.toFixed(2)} MiB; fds ${openFds()}; ` +
      `native blocks ${NativeBlock.live.blocks}`,
  );
  assert.ok(heapGrowth < 8, `heap grew ${heapGrowth.toFixed(2)} MiB`);
  assert.ok(rssGrowth < 48, `RSS grew ${rssGrowth.toFixed(2)} MiB`);
  await exporter.shutdown();
  assert.equal(openFds(), fdsBefore, "shutdown closed the descriptor");
  assert.deepEqual(NativeBlock.live, nativeBefore, "shutdown freed the arena");
});
