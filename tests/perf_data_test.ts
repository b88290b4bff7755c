/**
 * The perf.data reader: hand-built files of every layout it claims (seekable and pipe mode,
 * names or none, several events told apart by IDENTIFIER or ID, READ and CALLCHAIN fields
 * before RAW), a recording made by Debian's `perf record` in the kernel VM
 * (tests/fixtures/otlp_metrics.perf.data, when present), real `perf record` output of a
 * tracepoint on this host (when perf may record here), and cut or corrupt files.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { otlpMetricsFromPerfData, PerfDataError, readPerfData } from "../src/perf/mod.ts";
import { test, testUnless } from "./harness.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { pointToJson, toJsonText } from "../src/cli/output.ts";
import { buildPerfData, otlpRecord, SAMPLE } from "./fixtures/perf_data_builder.ts";
import { workloadPayloads } from "./fixtures/payloads.ts";

const ID = 1234;
const otlp = { type: 2, config: ID, name: "user_events:otlp_metrics", ids: [101n, 102n] };
const other = { type: 2, config: 99, name: "sched:sched_switch", ids: [201n] };

async function samples() {
  const payloads = await workloadPayloads();
  return {
    payloads,
    samples: payloads.map((p, i) => ({
      raw: otlpRecord(p, ID, 500 + i),
      id: i % 2 ? 101n : 102n,
      tid: 500 + i,
      time: 1000n + BigInt(i),
      cpu: i % 2,
    })),
  };
}

for (const pipe of [false, true]) {
  test(`perf.data (${pipe ? "pipe mode" : "file"}): every otlp_metrics payload, in order`, async () => {
    const { payloads, samples: s } = await samples();
    const file = buildPerfData({ pipe, attrs: [otlp], samples: s });
    const result = otlpMetricsFromPerfData(file);
    assert.equal(result.data.pipe, pipe);
    assert.equal(result.data.attrs[0]!.name, "user_events:otlp_metrics");
    assert.deepEqual(result.events.map((e) => [...e.payload]), payloads.map((p) => [...p]));
    assert.deepEqual(result.events.map((e) => e.tid), payloads.map((_, i) => 500 + i));
    assert.deepEqual(result.events.map((e) => e.cpu), payloads.map((_, i) => i % 2));
    assert.equal(result.events[3]!.time, 1003n);
    assert.equal(result.events[0]!.version, "v0.19.00");
    assert.equal(result.badRecords, 0);
  });
}

for (
  const [label, sampleType] of [
    [
      "IDENTIFIER",
      SAMPLE.IDENTIFIER | SAMPLE.IP | SAMPLE.TID | SAMPLE.TIME | SAMPLE.CPU | SAMPLE.RAW,
    ],
    [
      "ID",
      SAMPLE.IP | SAMPLE.TID | SAMPLE.TIME | SAMPLE.ID | SAMPLE.CPU | SAMPLE.PERIOD | SAMPLE.RAW,
    ],
  ] as const
) {
  test(`perf.data: two events told apart by ${label}; only otlp_metrics is returned`, async () => {
    const { payloads, samples: s } = await samples();
    const mixed = s.flatMap((
      x,
    ) => [x, { raw: new Uint8Array([99, 0, 1, 2, 3, 4, 5, 6]), id: 201n }]);
    const file = buildPerfData({ attrs: [otlp, other], samples: mixed, sampleType });
    const result = otlpMetricsFromPerfData(file);
    assert.equal(result.events.length, payloads.length);
    assert.equal(result.data.samples.length, 2 * payloads.length);
    assert.equal(result.badRecords, 0);
  });
}

test("perf.data: READ (group) and CALLCHAIN fields before RAW are skipped exactly", async () => {
  const { payloads, samples: s } = await samples();
  const st = SAMPLE.IDENTIFIER | SAMPLE.TID | SAMPLE.TIME | SAMPLE.ADDR | SAMPLE.STREAM_ID |
    SAMPLE.CPU | SAMPLE.PERIOD | SAMPLE.READ | SAMPLE.CALLCHAIN | SAMPLE.RAW;
  for (const readFormat of [0n, 1n | 2n | 4n, 8n | 4n | 16n, 8n | 1n]) {
    const file = buildPerfData({ attrs: [otlp, other], samples: s, sampleType: st, readFormat });
    const result = otlpMetricsFromPerfData(file);
    assert.deepEqual(result.events.map((e) => [...e.payload]), payloads.map((p) => [...p]));
  }
});

test("perf.data without names: every tracepoint sample that is an otlp_metrics record", async () => {
  const { payloads, samples: s } = await samples();
  const file = buildPerfData({ attrs: [otlp], samples: s, names: false });
  const result = otlpMetricsFromPerfData(file);
  assert.equal(result.data.attrs[0]!.name, undefined);
  assert.equal(result.events.length, payloads.length);
});

test("perf.data: another event name, lost records counted, compressed records reported", async () => {
  const { samples: s } = await samples();
  const lost = new Uint8Array(16);
  new DataView(lost.buffer).setBigUint64(8, 7n, true); // PERF_RECORD_LOST { id, lost }
  const file = buildPerfData({
    attrs: [otlp],
    samples: s,
    extraRecords: [{ type: 2, body: lost }],
  });
  assert.equal(otlpMetricsFromPerfData(file).lost, 7n);
  assert.equal(otlpMetricsFromPerfData(file, { event: "other" }).events.length, 0);
  const compressed = buildPerfData({
    attrs: [otlp],
    samples: [],
    extraRecords: [{ type: 81, body: new Uint8Array(8) }],
  });
  assert.throws(() => otlpMetricsFromPerfData(compressed), /perf record -z/);
});

test("perf.data: truncated at every length gives PerfDataError or a prefix of the events", async () => {
  const { samples: s } = await samples();
  const file = buildPerfData({ attrs: [otlp], samples: s.slice(0, 3) });
  const pipe = buildPerfData({ pipe: true, attrs: [otlp], samples: s.slice(0, 3) });
  for (const whole of [file, pipe]) {
    for (let n = 0; n < whole.length; n++) {
      // A copy of exactly n bytes: any read past it would throw a RangeError, not PerfDataError.
      const cut = whole.slice(0, n);
      try {
        const r = otlpMetricsFromPerfData(cut);
        assert.ok(r.events.length <= 3);
      } catch (error) {
        assert.ok(error instanceof PerfDataError, `${n}: ${(error as Error).stack}`);
      }
    }
  }
  assert.throws(() => readPerfData(new TextEncoder().encode("PERFFILE")), PerfDataError);
  const swapped = file.slice();
  swapped.set(new TextEncoder().encode("2ELIFREP"), 0);
  assert.throws(() => readPerfData(swapped), /big-endian/);
});

const vmFixture = new URL("./fixtures/otlp_metrics.perf.data", import.meta.url);
testUnless(
  existsSync(vmFixture) ? undefined : "tests/fixtures/otlp_metrics.perf.data is missing",
  "perf.data from Debian's perf record (kernel VM) = what the listener captured at the same time",
  () => {
    // Recorded in the QEMU tier (cli_kernel_test.ts, Bun): `perf record -e
    // user_events:otlp_metrics -a` and `otel-native-metrics listen` on one run of
    // examples/basic.ts; otlp_metrics.listen.jsonl is listen's output (the ring-buffer path).
    const result = otlpMetricsFromPerfData(readFileSync(vmFixture));
    assert.equal(result.data.attrs.find((a) => a.name === "user_events:otlp_metrics")?.type, 2);
    assert.equal(result.badRecords, 0);
    assert.equal(result.lost, 0n);
    const lines = result.events.flatMap((e) =>
      flattenRequest(decodeMetricsPayload(e.payload)).map((p) => toJsonText(pointToJson(p)))
    );
    const listened = readFileSync(
      new URL("./fixtures/otlp_metrics.listen.jsonl", import.meta.url),
      "utf8",
    ).trim().split("\n");
    assert.equal(lines.length, 25);
    assert.deepEqual(lines.sort(), listened.sort());
  },
);

/** Whether `perf record` can record a tracepoint here (root, perf installed, tracefs). */
function perfUnavailable(): string | undefined {
  const probe = spawnSync("perf", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) return "perf is not installed";
  return undefined;
}

testUnless(
  perfUnavailable(),
  "real perf record output (file and pipe mode) of a tracepoint",
  () => {
    const dir = mkdtempSync(
      `${
        (globalThis as unknown as { process: { env: Record<string, string> } }).process.env
          .TMPDIR ?? "/tmp"
      }/perf-`,
    );
    try {
      const file = `${dir}/perf.data`;
      const rec = spawnSync("perf", [
        "record",
        "-q",
        "-e",
        "sched:sched_switch",
        "-a",
        "-o",
        file,
        "--",
        "sleep",
        "0.2",
      ], { encoding: "utf8" });
      if (rec.status !== 0) {
        console.log(`SKIP real perf record: perf record failed here: ${rec.stderr.trim()}`);
        return;
      }
      const script = spawnSync("perf", ["script", "-i", file, "-F", "tid,time"], {
        encoding: "utf8",
      });
      const expected = script.stdout.split("\n").filter((l) => l.trim()).length;
      const data = readPerfData(readFileSync(file));
      const switches = data.attrs.findIndex((a) => a.name === "sched:sched_switch");
      assert.ok(switches >= 0, JSON.stringify(data.attrs.map((a) => a.name)));
      const ours = data.samples.filter((s) => s.attr === switches);
      assert.ok(expected > 0);
      assert.equal(ours.length, expected, "as many samples as perf script prints");
      const id = Number(data.attrs[switches]!.config);
      assert.ok(ours.every((s) => s.raw && (s.raw[0]! | (s.raw[1]! << 8)) === id), "raw = record");
      const tids = script.stdout.split("\n").filter((l) => l.trim()).map((l) =>
        Number(l.trim().split(/\s+/)[0])
      );
      // perf script sorts by time; the file is in per-CPU flush order.
      const byTime = [...ours].sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : 0));
      const mine = byTime.map((s) => s.tid!).sort(), theirs = tids.sort();
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
        console.log(
          script.stdout.slice(0, 3000),
          JSON.stringify(byTime.slice(0, 40).map((s) => [s.tid, String(s.time)])),
        );
      }
      assert.deepEqual(mine, theirs);
      // Pipe mode.
      const piped = spawnSync("sh", [
        "-c",
        `perf record -q -e sched:sched_switch -a -o - -- sleep 0.1 > ${dir}/pipe.data`,
      ]);
      assert.equal(piped.status, 0);
      const p = readPerfData(readFileSync(`${dir}/pipe.data`));
      assert.equal(p.pipe, true);
      assert.ok(p.attrs.some((a) => a.name === "sched:sched_switch"));
      assert.ok(p.samples.length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
