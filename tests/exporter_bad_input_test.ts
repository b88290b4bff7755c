// Careless or hostile input through the public API: every point lands in exactly one stats
// bucket, nothing escapes, nothing throws into the caller.
import assert from "node:assert/strict";
import { diag } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InstrumentType,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { MemorySink, NativeMetricsExporter, type NativeSink, WRITE_OK } from "../mod.ts";
import { customSink } from "./custom_sink.ts";
import { captureDiag } from "./diag.ts";
import { test } from "./harness.ts";
import { collectWorkload, WORKLOAD_POINTS } from "./workload.ts";

const POINTS = WORKLOAD_POINTS;

function accounted(e: NativeMetricsExporter): number {
  const s = e.stats;
  let n = s.eventsWritten + s.pointsSkippedNoListener;
  for (const v of Object.values(s.pointsDropped)) n += v;
  return n;
}

/** Collects unhandled rejections while `fn` runs and a little after. */
async function unhandledRejections(fn: () => void | Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (e: unknown) => void seen.push(e);
  const g = globalThis as unknown as {
    process: {
      on(e: string, f: (r: unknown) => void): void;
      off(e: string, f: (r: unknown) => void): void;
    };
    addEventListener?: (
      e: string,
      f: (ev: { reason: unknown; preventDefault(): void }) => void,
    ) => void;
    removeEventListener?: (
      e: string,
      f: (ev: { reason: unknown; preventDefault(): void }) => void,
    ) => void;
  };
  const onEvent = (ev: { reason: unknown; preventDefault(): void }) => {
    ev.preventDefault();
    seen.push(ev.reason);
  };
  g.process.on("unhandledRejection", onRejection);
  g.addEventListener?.("unhandledrejection", onEvent);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    g.process.off("unhandledRejection", onRejection);
    g.removeEventListener?.("unhandledrejection", onEvent);
  }
  return seen;
}

test("export() without a callback neither throws nor loses the count", async () => {
  const exporter = new NativeMetricsExporter({ sink: new MemorySink() });
  const rm = await collectWorkload();
  // deno-lint-ignore no-explicit-any
  (exporter.export as any)(rm);
  // deno-lint-ignore no-explicit-any
  (exporter.export as any)(rm, "not a function");
  assert.equal(exporter.stats.eventsWritten, 2 * POINTS);
});

for (
  const [name, overrides, bucket] of [
    ["isEnabled() throws", {
      isEnabled: () => {
        throw new Error("boom");
      },
    }, "sinkError"],
    [
      "isEnabled() returns a promise",
      { isEnabled: () => Promise.resolve(true) as never },
      "sinkError",
    ],
    ["isEnabled() returns a rejecting promise", {
      isEnabled: () => Promise.reject(new Error("no")) as never,
    }, "sinkError"],
    ["write() throws", {
      write: () => {
        throw new Error("boom");
      },
    }, "sinkError"],
    ["write() returns a rejecting promise", {
      write: () => Promise.reject(new Error("async sink")) as never,
    }, "sinkError"],
    ["write() returns a string", { write: () => "ok" as never }, "sinkError"],
    ["write() returns a negative number", { write: () => -7 }, "sinkError"],
    ["write() fails and describeError() throws", {
      write: () => 5,
      describeError: () => {
        throw new Error("no name");
      },
    }, "writeError"],
  ] as const
) {
  test(`a custom sink whose ${name}: every point counted once, nothing escapes`, async () => {
    const rm = await collectWorkload();
    const rejections = await unhandledRejections(() => {
      const exporter = new NativeMetricsExporter({
        sink: customSink(overrides as Partial<NativeSink>),
      });
      let code = -1;
      assert.doesNotThrow(() => exporter.export(rm, (r) => (code = r.code)));
      assert.equal(code, 1, "FAILED: points were dropped");
      assert.equal(exporter.stats.pointsDropped[bucket], POINTS);
      assert.equal(accounted(exporter), POINTS);
      assert.doesNotThrow(() => exporter.isEnabled());
    });
    assert.deepEqual(rejections, []);
  });
}

test("a custom sink whose shutdown() throws or rejects: shutdown resolves, nothing escapes", async () => {
  const rejections = await unhandledRejections(async () => {
    await new NativeMetricsExporter({
      sink: customSink({
        shutdown: () => {
          throw new Error("x");
        },
      }),
    }).shutdown();
    await new NativeMetricsExporter({
      sink: customSink({ shutdown: () => Promise.reject(new Error("y")) as never }),
    }).shutdown();
  });
  assert.deepEqual(rejections, []);
});

test("a sink whose staging memory is too small: the drop says so", async () => {
  const messages = captureDiag();
  try {
    const small = customSink({ staging: new Uint8Array(new ArrayBuffer(64)) });
    const exporter = new NativeMetricsExporter({ sink: small });
    const rm = await collectWorkload();
    exporter.export(rm, () => {});
    const s = exporter.stats;
    assert.equal(s.pointsDropped.oversize, 0, "not reported as over the limit");
    assert.ok(s.pointsDropped.sinkError > 0);
    assert.equal(accounted(exporter), POINTS);
    assert.ok(messages.some((m) => /staging memory \(64 bytes/.test(m)), messages.join("\n"));
  } finally {
    diag.disable();
  }
});

test("a hand-built point of an unknown dataPointType is counted as dropped, the rest written", async () => {
  const rm = await collectWorkload();
  const bad = {
    ...rm,
    scopeMetrics: [...rm.scopeMetrics, {
      scope: { name: "hand-built" },
      metrics: [{
        descriptor: { name: "mystery", description: "", unit: "", valueType: 1 },
        aggregationTemporality: AggregationTemporality.DELTA,
        dataPointType: 7,
        dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: {}, value: 1 }],
      }],
    }],
  } as unknown as ResourceMetrics;
  const sink = new MemorySink();
  const exporter = new NativeMetricsExporter({ sink });
  let code = -1;
  exporter.export(bad, (r) => (code = r.code));
  assert.equal(code, 1);
  assert.equal(exporter.stats.pointsDropped.unknownType, 1);
  assert.equal(sink.events.length, POINTS);
  assert.equal(accounted(exporter), POINTS + 1);
});

test("malformed export data (no scopeMetrics, null metric) fails the export, never throws", () => {
  const exporter = new NativeMetricsExporter({ sink: new MemorySink() });
  for (const rm of [{}, { resource: {}, scopeMetrics: [{ scope: {}, metrics: [null] }] }, null]) {
    let code = -1;
    assert.doesNotThrow(() =>
      exporter.export(rm as unknown as ResourceMetrics, (r) => (code = r.code))
    );
    assert.equal(code, 1);
  }
});

test("MemorySink validates its options like UserEventsSink", () => {
  for (const maxPayloadSize of [0, -1, NaN, Infinity, 1.5, "100" as unknown as number, 65361]) {
    assert.throws(() => new MemorySink({ maxPayloadSize }), RangeError, String(maxPayloadSize));
  }
  for (const capacity of [0, -1, NaN, 2.5, "3" as unknown as number]) {
    assert.throws(() => new MemorySink({ capacity }), RangeError, String(capacity));
  }
  assert.throws(() => new MemorySink({ enabled: "yes" as unknown as boolean }), TypeError);
  assert.equal(new MemorySink({ capacity: Infinity, maxPayloadSize: 1 }).maxPayloadSize, 1);
});

test("temporalityPreference: the JS exporters' spellings, any case; unknown ones throw", () => {
  const pick = (p: unknown, t: InstrumentType) =>
    new NativeMetricsExporter({ sink: new MemorySink(), temporalityPreference: p as never })
      .selectAggregationTemporality(t);
  const { DELTA, CUMULATIVE } = AggregationTemporality;
  for (const p of [0, "delta", "DELTA", " Delta "]) {
    assert.equal(pick(p, InstrumentType.UP_DOWN_COUNTER), DELTA, String(p));
  }
  for (const p of [1, "cumulative", "Cumulative"]) {
    assert.equal(pick(p, InstrumentType.COUNTER), CUMULATIVE);
  }
  for (const p of [2, "lowmemory", "LowMemory"]) {
    assert.equal(pick(p, InstrumentType.COUNTER), DELTA);
    assert.equal(pick(p, InstrumentType.HISTOGRAM), DELTA);
    assert.equal(pick(p, InstrumentType.OBSERVABLE_COUNTER), CUMULATIVE);
  }
  assert.equal(pick(undefined, InstrumentType.UP_DOWN_COUNTER), DELTA, "default: delta for all");
  for (const p of [3, "weekly", {}]) {
    assert.throws(() => pick(p, InstrumentType.COUNTER), RangeError);
  }
  const exporter = new NativeMetricsExporter({ sink: new MemorySink() });
  assert.deepEqual(exporter.selectAggregation(InstrumentType.HISTOGRAM), { type: 0 });
});

test("a write racing the last listener (WRITE_NOT_LISTENING) is skipped, not dropped", async () => {
  let n = 0;
  const exporter = new NativeMetricsExporter({
    sink: customSink({ write: () => (n++ < 5 ? WRITE_OK : -1) }),
  });
  exporter.export(await collectWorkload(), () => {});
  assert.equal(exporter.stats.eventsWritten, 5);
  assert.equal(exporter.stats.pointsSkippedNoListener, POINTS - 5);
});

test("a sink that could not be released cleanly at shutdown: logged with its reason", async () => {
  const messages = captureDiag();
  try {
    const sink = customSink({});
    const leaky = Object.assign(sink, {
      leaked: true,
      shutdownError: new Error("EventUnregister failed with ERROR_INVALID_HANDLE (6)"),
    });
    await new NativeMetricsExporter({ sink: leaky }).shutdown();
    assert.ok(
      messages.some((m) =>
        /could not be released cleanly: EventUnregister failed.*kept on purpose/.test(m)
      ),
      messages.join("\n"),
    );
  } finally {
    diag.disable();
  }
});
