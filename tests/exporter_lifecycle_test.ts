// The exporter when the facility is missing, and when it comes back: status, counting,
// one warning, retries, probe, onUnavailable.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  MemorySink,
  NativeMetricsExporter,
  type NativeSink,
  TracefsNotFoundError,
  UserEventsPermissionError,
} from "../mod.ts";
import { readSmallFile } from "../ffi/mod.ts";
import { runtimeName, test, testUnless } from "./harness.ts";
import { collectWorkload, WORKLOAD_POINTS } from "./workload.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasUserEvents = readSmallFile("/sys/kernel/tracing/user_events_data").errno !== 2;

/** Runs `fn` with console.warn captured; returns what it printed. */
function captureWarnings(fn: () => void): string[] {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.join(" "));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

function exportOnce(
  exporter: NativeMetricsExporter,
  rm: Parameters<NativeMetricsExporter["export"]>[0],
) {
  let code = -1, calls = 0;
  exporter.export(rm, (r) => {
    calls++;
    code = r.code;
  });
  assert.equal(calls, 1);
  return code;
}

/** A factory that fails with `error()` until `ok` is set, then returns `sink`. */
function flakyFactory(sink: NativeSink, error: () => Error) {
  const state = { ok: false, calls: 0 };
  const factory = () => {
    state.calls++;
    if (!state.ok) throw error();
    return sink;
  };
  return { state, factory };
}

testUnless(
  hasUserEvents ? "this host has user_events (the kernel tier covers it)" : undefined,
  "no user_events here: the default exporter starts, warns once, counts, and says why",
  async () => {
    let exporter: NativeMetricsExporter | undefined;
    const warnings = captureWarnings(() => {
      exporter = new NativeMetricsExporter();
    });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /unavailable \((no-tracefs|no-user-events|permission)\)/);
    const status = exporter!.status;
    assert.equal(status.state, "unavailable");
    if (status.state !== "unavailable") return;
    assert.ok(status.fix.length > 10, "a fix is given");
    assert.equal(exporter!.sink, undefined);
    assert.equal(exporter!.isEnabled(), false);
    const rm = await collectWorkload();
    const more = captureWarnings(() => {
      assert.equal(exportOnce(exporter!, rm), 0, "SUCCESS: a state, not a failed export");
      assert.equal(exportOnce(exporter!, rm), 0);
    });
    assert.deepEqual(more, [], "reported once, not per export");
    const stats = exporter!.stats;
    assert.equal(stats.pointsDropped.unavailable, 2 * WORKLOAD_POINTS);
    assert.equal(stats.eventsWritten, 0);
    const probe = NativeMetricsExporter.probe();
    assert.equal(probe.available, false);
    if (!probe.available) assert.equal(probe.reason, status.reason);
    await exporter!.shutdown();
    assert.deepEqual(exporter!.status, { state: "shutdown" });
  },
);

testUnless(
  hasUserEvents ? "this host has user_events" : undefined,
  'onUnavailable: "throw" restores the fail-fast constructor; "silent" only counts',
  () => {
    assert.throws(
      () => new NativeMetricsExporter({ onUnavailable: "throw" }),
      /tracefs|user_events/,
    );
    const warnings = captureWarnings(() => {
      const e = new NativeMetricsExporter({ onUnavailable: "silent" });
      assert.equal(e.status.state, "unavailable");
    });
    assert.deepEqual(warnings, []);
    assert.throws(
      () => new NativeMetricsExporter({ onUnavailable: "loud" as "warn" }),
      RangeError,
    );
  },
);

test("unavailable at start, available later: retried on schedule, writes without a restart", async () => {
  const memory = new MemorySink();
  const { state, factory } = flakyFactory(
    memory,
    () => new TracefsNotFoundError("tracefs is not mounted"),
  );
  const rm = await collectWorkload(); // before the clock starts: collecting may take a while
  let exporter: NativeMetricsExporter | undefined;
  const warnings = captureWarnings(() => {
    exporter = new NativeMetricsExporter({
      sink: factory,
      retry: { initialDelayMs: 100, maxDelayMs: 200 },
    });
  });
  assert.equal(warnings.length, 1);
  const e = exporter!;
  let s = e.status;
  assert.equal(s.state, "unavailable");
  if (s.state === "unavailable") {
    assert.equal(s.reason, "no-tracefs");
    assert.equal(s.retryable, true);
    assert.equal(s.attempts, 0);
    assert.ok(s.nextRetryAt! > Date.now() - 5);
  }
  exportOnce(e, rm); // not due yet: no retry
  assert.equal(state.calls, 1);
  // Delays of 100 and 200 ms and sleeps with tens of ms of slack: a loaded CI machine may
  // stall the test between the steps, and each check must still mean what it says.
  await sleep(130);
  exportOnce(e, rm); // due: retried, still failing; the delay doubles
  assert.equal(state.calls, 2);
  s = e.status;
  if (s.state === "unavailable") {
    assert.equal(s.attempts, 1);
    assert.ok(s.nextRetryAt! - Date.now() > 130, "the second delay is longer");
  } else assert.fail("still unavailable");
  state.ok = true;
  await sleep(230);
  assert.equal(exportOnce(e, rm), 0);
  assert.equal(state.calls, 3);
  assert.deepEqual(e.status, { state: "ready", sink: "memory" });
  assert.equal(
    memory.events.length,
    WORKLOAD_POINTS,
    "written from the export that found it available",
  );
  const st = e.stats;
  assert.equal(st.pointsDropped.unavailable, 2 * WORKLOAD_POINTS);
  assert.equal(st.eventsWritten, WORKLOAD_POINTS);
});

test("the reason follows the failure; a permanent reason is not retried; retry: false never retries", async () => {
  const memory = new MemorySink();
  let error: Error = new TracefsNotFoundError("no tracefs");
  const { state, factory } = flakyFactory(memory, () => error);
  const e = new NativeMetricsExporter({
    sink: factory,
    retry: { initialDelayMs: 0 },
    onUnavailable: "silent",
  });
  const rm = await collectWorkload();
  error = new UserEventsPermissionError("EACCES");
  exportOnce(e, rm);
  assert.equal(e.status.state === "unavailable" && e.status.reason, "permission");
  const noRetry = new NativeMetricsExporter({
    sink: factory,
    retry: false,
    onUnavailable: "silent",
  });
  const before = state.calls;
  exportOnce(noRetry, rm);
  exportOnce(noRetry, rm);
  assert.equal(state.calls, before, "retry: false");
  assert.equal(noRetry.status.state === "unavailable" && noRetry.status.nextRetryAt, undefined);
  const gaveUp = new NativeMetricsExporter({
    sink: factory,
    retry: { initialDelayMs: 0, maxAttempts: 2 },
    onUnavailable: "silent",
  });
  for (let i = 0; i < 5; i++) exportOnce(gaveUp, rm);
  const st = gaveUp.status;
  assert.ok(st.state === "unavailable" && st.attempts === 2 && st.nextRetryAt === undefined);
});

test("an invalid sink object or invalid options throw at construction (programming errors)", () => {
  assert.throws(() => new NativeMetricsExporter({ sink: {} as NativeSink }), TypeError);
  assert.throws(() => new NativeMetricsExporter({ sink: "zfs" as "auto" }), RangeError);
  for (const bad of [-1, NaN, Infinity, "1" as unknown as number]) {
    assert.throws(
      () => new NativeMetricsExporter({ sink: new MemorySink(), retry: { initialDelayMs: bad } }),
      RangeError,
    );
  }
});

testUnless(
  runtimeName === "deno" ? undefined : "Deno's permission model (Bun has none)",
  "Deno without --allow-ffi: the exporter starts unavailable (ffi-permission), not retried",
  () => {
    const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
    const script = new URL("./fixtures/unavailable.ts", import.meta.url).pathname;
    const result = spawnSync(deno, ["run", "--no-prompt", script], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^unavailable ffi-permission retryable=false/m);
    assert.match(result.stderr, /--allow-ffi/, "the warning names the flag");
  },
);
